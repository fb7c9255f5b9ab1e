//! Mutations answered with read-your-writes, the conseil de classe figures against values
//! worked out by hand, and `asOf`.

use super::harness::Server;
use super::seed::{self, grade};
use serde_json::{json, Value};

const CLASS_QUERY: &str = r#"query($name: String!, $period: String, $asOf: DateTime) {
  class(name: $name, period: $period, asOf: $asOf) {
    id name
    period { name }
    subjects { name kind mean min max gradedCount }
    pupils { id externalId displayName average
      spider { axes { subject value classMean classMin classMax } profile } }
  }
}"#;

fn subject<'a>(class: &'a Value, name: &str) -> &'a Value {
    class["subjects"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("no subject {name} in {class}"))
}

fn pupil<'a>(class: &'a Value, external_id: &str) -> &'a Value {
    class["pupils"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["externalId"] == external_id))
        .unwrap_or_else(|| panic!("no pupil {external_id} in {class}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_is_answered_after_the_commit_and_shows_the_write() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let before = server.head().await;
    let answer = server
        .ok(
            r#"mutation($input: RecordGradeInput!) {
                recordGrade(input: $input) {
                  eventIds eventTypes position id
                  assessment { stats { count mean min max median } }
                  pupil { id displayName }
                }
              }"#,
            json!({"input": {"assessmentId": s.f1, "pupilId": s.pupils[2], "score": "14.25"}}),
        )
        .await;
    let result = &answer["recordGrade"];
    assert_eq!(result["eventTypes"], json!(["GradeRecorded"]));
    assert_eq!(result["eventIds"].as_array().map(Vec::len), Some(1));
    // Acknowledged only once committed: the store's head is the answered position.
    let head = server.head().await;
    assert_eq!(head, before + 1);
    assert_eq!(result["position"], json!(head));
    assert_eq!(result["id"], json!(s.f1));
    // Read your write: F1 now has 9, 0 (NR counts as 0) and 14.25.
    let stats = &result["assessment"]["stats"];
    assert_eq!(stats["count"], 3);
    assert_eq!(stats["mean"], 7.75);
    assert_eq!(stats["min"], 0.0);
    assert_eq!(stats["max"], 14.25);
    assert_eq!(stats["median"], 9.0);
    assert_eq!(result["pupil"]["displayName"], "DUBOIS Chloé");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_dashboard_matches_figures_worked_out_by_hand() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    grade(&server, &s.f1, &s.pupils[2], Some("14.25"), None).await;
    let data = server
        .ok(CLASS_QUERY, json!({"name": "2nde A", "period": "Année"}))
        .await;
    let class = &data["class"];
    assert_eq!(class["id"], json!(s.class));
    assert_eq!(class["period"]["name"], "Année");

    // Mathématiques: A (12×1 + 16×2)/3 = 14.666…, B (15.5 + 10×2)/3 = 11.833…,
    // C ABS left out: 14×2/2 = 14. Class mean (44/3 + 35.5/3 + 14)/3 = 13.5.
    let maths = subject(class, "Mathématiques");
    assert_eq!(maths["kind"], "GENERAL");
    assert_eq!(maths["mean"], 13.5);
    assert_eq!(maths["min"], 11.83);
    assert_eq!(maths["max"], 14.67);
    assert_eq!(maths["gradedCount"], 3);
    // Français: 9, NR → 0, 14.25: mean 7.75.
    let french = subject(class, "Français");
    assert_eq!(
        (
            french["mean"].clone(),
            french["min"].clone(),
            french["max"].clone()
        ),
        (json!(7.75), json!(0.0), json!(14.25))
    );
    // Atelier: 16, 11, 15: mean 14.
    let workshop = subject(class, "Atelier");
    assert_eq!(workshop["kind"], "VOCATIONAL");
    assert_eq!(
        (
            workshop["mean"].clone(),
            workshop["min"].clone(),
            workshop["max"].clone()
        ),
        (json!(14.0), json!(11.0), json!(16.0))
    );
    assert_eq!(
        class["subjects"].as_array().map(|s| s
            .iter()
            .map(|x| x["name"].as_str().unwrap_or(""))
            .collect::<Vec<_>>()),
        Some(vec!["Atelier", "Français", "Mathématiques"])
    );

    // General averages, subjects weighted Maths 2, Français 1, Atelier 1:
    // A (2×44/3 + 9 + 16)/4 = 163/12 = 13.583… → 13.58
    // B (2×35.5/3 + 0 + 11)/4 = 104/12 = 8.666… → 8.67
    // C (2×14 + 14.25 + 15)/4 = 57.25/4 = 14.3125 → 14.31
    let a = pupil(class, "E1");
    assert_eq!(a["displayName"], "MARTIN Léa");
    assert_eq!(a["average"], 13.58);
    assert_eq!(pupil(class, "E2")["average"], 8.67);
    assert_eq!(pupil(class, "E3")["average"], 14.31);

    // A's spider: Atelier 16 vs 14 (11–16), Français 9 vs 7.75, Maths 14.67 vs 13.5.
    // Profile: general mean (14.667 + 9)/2 = 11.83, vocational 16: gap 4.17 ≥ 3.
    let axes = &a["spider"]["axes"];
    assert_eq!(
        axes[0],
        json!({"subject": "Atelier", "value": 16.0, "classMean": 14.0, "classMin": 11.0, "classMax": 16.0})
    );
    assert_eq!(
        axes[1],
        json!({"subject": "Français", "value": 9.0, "classMean": 7.75, "classMin": 0.0, "classMax": 14.25})
    );
    assert_eq!(
        axes[2],
        json!({"subject": "Mathématiques", "value": 14.67, "classMean": 13.5, "classMin": 11.83, "classMax": 14.67})
    );
    assert_eq!(a["spider"]["profile"], "VOCATIONAL_STRONG");
    // C: general (14 + 14.25)/2 = 14.125, vocational 15: gap 0.875 → balanced.
    assert_eq!(pupil(class, "E3")["spider"]["profile"], "BALANCED");

    // The pupil's own view agrees.
    let data = server
        .ok(
            r#"query($id: ID!) { pupil(id: $id) { displayName average grades { subject { name } average class { mean } grades { score mark } } } }"#,
            json!({"id": s.pupils[0]}),
        )
        .await;
    assert_eq!(data["pupil"]["average"], 13.58);
    let lines = data["pupil"]["grades"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let maths_line = lines
        .iter()
        .find(|l| l["subject"]["name"] == "Mathématiques")
        .expect("maths line");
    assert_eq!(maths_line["average"], 14.67);
    assert_eq!(maths_line["class"]["mean"], 13.5);
    assert_eq!(
        maths_line["grades"],
        json!([{"score": "12", "mark": null}, {"score": "8", "mark": null}])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_before_an_event_does_not_show_it() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let before_last = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    grade(&server, &s.f1, &s.pupils[2], Some("14.25"), None).await;

    let live = server
        .ok(CLASS_QUERY, json!({"name": "2nde A", "period": "Année"}))
        .await;
    assert_eq!(subject(&live["class"], "Français")["gradedCount"], 3);

    let then = server
        .ok(
            CLASS_QUERY,
            json!({"name": "2nde A", "period": "Année", "asOf": before_last}),
        )
        .await;
    let french = subject(&then["class"], "Français");
    // Only A's 9 and B's NR (0) had been recorded.
    assert_eq!(french["gradedCount"], 2);
    assert_eq!(french["mean"], 4.5);
    assert_eq!(
        pupil(&then["class"], "E3")["spider"]["axes"][1]["value"],
        Value::Null
    );

    let assessment = server
        .ok(
            r#"query($id: ID!, $asOf: DateTime) { assessment(id: $id, asOf: $asOf) { stats { count } grades { pupil { externalId } score } } }"#,
            json!({"id": s.f1, "asOf": before_last}),
        )
        .await;
    assert_eq!(assessment["assessment"]["stats"]["count"], 2);
    assert!(!assessment["assessment"]["grades"]
        .to_string()
        .contains("E3"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_reference_queries_answer() {
    let server = Server::start().await;
    let s = seed::school(&server).await;
    let data = server
        .ok(
            r#"{ school { name periods { name } subjects { name kind coefficient } teachers { displayName } }
                 classes { name pupils { externalId } }
                 sessions { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["school"]["name"], "Lycée Jean Moulin");
    assert_eq!(data["school"]["subjects"][2]["coefficient"], 2.0);
    assert_eq!(data["classes"][0]["name"], "2nde A");
    assert_eq!(
        data["classes"][0]["pupils"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(data["classes"][1]["pupils"], json!([]));
    assert_eq!(data["sessions"], json!([]));
    let by_id = server
        .ok(
            r#"query($n: String!) { class(name: $n) { name } }"#,
            json!({"n": s.class}),
        )
        .await;
    assert_eq!(by_id["class"]["name"], "2nde A");
    server.stop().await;
}
