//! Every query path of the schema × every role × in scope, out of scope and a made-up
//! target, as `matrix` decides them.

use super::matrix::*;
use super::paths::{nodes, Path, Schema};
use super::world::{assert_refused, world, World};
use crate::harness::Server;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The request for one path of one root: (query, variables for a target).
pub fn request(schema: &Schema, root: &Root, path: Option<&Path>) -> String {
    let (root_type, field, args, ty, target, _) = *root;
    let selection = path.map(|p| schema.selection(p)).unwrap_or_default();
    let keyword = if root_type == "SubscriptionRoot" {
        "subscription"
    } else {
        "query"
    };
    if target == Target::None && ty.is_empty() {
        format!("{keyword} {{ {field} {selection} }}")
    } else {
        format!("{keyword}($t: {ty}) {{ {field}{args} {selection} }}")
    }
}

/// The key figures of a path by hand: (key, check). `key` is the root with its
/// arguments, then the path below it.
pub fn figures(w: &World, role: &str, key: &str, value: &Value, path: Option<&Path>) -> bool {
    let s = &w.s;
    let [a, b, c] = &s.pupils;
    let at = |path: Option<&Path>| -> Vec<Value> {
        match path {
            Some(p) => nodes(value, p).into_iter().cloned().collect(),
            None => vec![value.clone()],
        }
    };
    let list = |field: &str| -> Vec<Value> { at(path).iter().map(|n| n[field].clone()).collect() };
    let set = |field: &str| -> BTreeSet<String> {
        list(field)
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let ids = |ids: &[&String]| -> BTreeSet<String> { ids.iter().map(|i| i.to_string()).collect() };
    let what = format!("{role} {key}");
    match key {
        "pupil(id: $t)" | "pupilByExternalId(externalId: $t)" => {
            assert_eq!(list("id"), [json!(a)], "{what}");
            assert_eq!(list("externalId"), [json!("E1")], "{what}");
            assert!(
                list("displayName")[0]
                    .as_str()
                    .is_some_and(|n| n.contains("Léa")),
                "{what}"
            );
        }
        "pupil(id: $t).timeOnTask"
        | "pupilByExternalId(externalId: $t).timeOnTask"
        | "timeOnTask(pupilId: $t)" => {
            assert_eq!(list("totalMs"), [json!(A_MS)], "{what}: a's one answer")
        }
        "pupil(id: $t).quizzes" | "pupilByExternalId(externalId: $t).quizzes" => {
            assert_eq!(list("quizId"), [json!(w.quiz[0])], "{what}");
            assert_eq!(list("attemptsUsed"), [json!(1)], "{what}");
            assert_eq!(list("timeMs"), [json!(A_MS)], "{what}");
        }
        "pupil(id: $t).quizzes.best" => {
            assert_eq!(list("correct"), [json!(1)], "{what}: a answered right")
        }
        "pupil(id: $t).homework" => {
            assert_eq!(list("homeworkId"), [json!(w.homework[0])], "{what}")
        }
        "pupil(id: $t).homework.status" => assert_eq!(list("status"), [json!("ON_TIME")], "{what}"),
        "pupil(id: $t).grades" => {
            // By subject name: Atelier 16; Français 9; maths (12/20 ×1, 8/10 → 16 ×2) =
            // 44/3 = 14.67. The French teacher sees French only; families do not see the
            // dissertation yet (C has no grade in it).
            let expected = match role {
                "admin" | "pp" => json!([16.0, 9.0, 14.67]),
                "teacher" => json!([9.0]),
                _ => json!([16.0, 14.67]),
            };
            assert_eq!(Value::from(list("average")), expected, "{what}");
        }
        "pupil(id: $t).competencies.latest" => assert_eq!(list("level"), [json!(3)], "{what}"),
        "competencies(pupilId: $t)" => assert_eq!(
            set("component"),
            BTreeSet::from(["D1.1".to_owned()]),
            "{what}"
        ),
        "class(name: $t)" => assert_eq!(
            list("id"),
            [json!(s.class)],
            "{what}: ours, not the other school's"
        ),
        "class(name: $t).pupils" => {
            assert_eq!(list("id"), [json!(a), json!(b), json!(c)], "{what}")
        }
        "classes" => {
            let expected = if role == "admin" {
                json!(["2nde A", "2nde B"])
            } else {
                json!(["2nde A"])
            };
            assert_eq!(Value::from(list("name")), expected, "{what}");
        }
        "timeOnTask(classId: $t)" => {
            assert_eq!(list("totalMs"), [json!(A_MS + B_MS)], "{what}: a and b")
        }
        "timeOnTask(classId: $t).perPupil.pupil" => assert_eq!(set("id"), ids(&[a, b]), "{what}"),
        "assessment(id: $t)" => assert_eq!(list("id"), [json!(s.f1)], "{what}"),
        "assessment(id: $t).grades" => assert_eq!(
            Value::from(list("score")),
            json!(["9", null]),
            "{what}: a 9, b NR"
        ),
        "assessment(id: $t).grades.pupil" => assert_eq!(list("id"), [json!(a), json!(b)], "{what}"),
        "homework(id: $t).pupils" => {
            assert_eq!(
                Value::from(list("status")),
                json!(["ON_TIME", "PENDING", "PENDING"]),
                "{what}"
            )
        }
        "homework(id: $t).pupils.pupil" => {
            assert_eq!(list("id"), [json!(a), json!(b), json!(c)], "{what}")
        }
        "quiz(id: $t).pupils.pupil" => assert_eq!(set("id"), ids(&[a, b]), "{what}"),
        "liveBoard(sessionId: $t).rows.pupil" | "parcoursBoard(id: $t).rows.pupil" => {
            assert_eq!(list("id"), [json!(a), json!(b), json!(c)], "{what}")
        }
        "sessions" | "sessions(classId: $t)" => {
            let mut expected = vec![&w.french_session];
            if role != "teacher" {
                expected.push(&w.session[0]);
            }
            if role == "admin" && key == "sessions" {
                expected.push(&w.session[1]);
            }
            assert_eq!(set("id"), ids(&expected), "{what}");
        }
        "school" => assert_eq!(list("name"), [json!("Lycée Jean Moulin")], "{what}"),
        "accessJournal(pupilId: $t)" => {
            let pupils = set("pupilId");
            assert_eq!(
                pupils,
                ids(&[a]),
                "{what}: staff read a's file, and only a's is asked"
            );
        }
        _ => return false,
    }
    true
}

/// The figure keys the run must have checked (a typo in a key would skip it).
pub const FIGURES: usize = 30;

#[tokio::test]
async fn every_query_path_as_every_role_in_and_out_of_scope() {
    let server = Server::start().await;
    let w = world(&server).await;
    activity(&server, &w).await;
    let schema = Schema::served();
    let paths = schema_paths(&schema);
    let mut checked = BTreeSet::new();
    let mut asked = 0;
    for root in ROOTS.iter().filter(|r| r.0 == "QueryRoot") {
        let (_, field, args, _, target, who) = *root;
        let mine: Vec<Option<&Path>> = match schema
            .field("QueryRoot", field)
            .map(|f| schema.objects.contains_key(&f.ty))
        {
            Some(true) => paths
                .iter()
                .filter(|p| p.root_type == "QueryRoot" && p.root == field)
                .map(Some)
                .collect(),
            _ => vec![None],
        };
        for role in ROLES {
            let token = token(&server, &w, role);
            let (inside, outside, guess) = targets(&w, role, target);
            for path in &mine {
                let query = request(&schema, root, *path);
                let dotted = path.map(Path::dotted).unwrap_or_else(|| field.to_owned());
                let key = format!("{field}{args}{}", &dotted[field.len()..]);
                let what = format!("{role} {key}");
                let vars = |t: &str| {
                    if target == Target::None {
                        json!({})
                    } else {
                        json!({"t": t})
                    }
                };
                let answer = server.gql_as(&token, &query, vars(&inside)).await;
                asked += 1;
                let pupil_file = matches!(target, Target::Pupil | Target::ExternalId)
                    || path.is_some_and(|p| p.through(&schema, &["Pupil"]));
                match at_root(who, role) {
                    Some(code) => assert_refused(&answer, code, "", None, &what),
                    None => {
                        check_below(role, *path, &answer, &what);
                        assert_nothing_of(&answer, &foreign(&w, role, pupil_file), "", &what);
                        if answer["data"].is_object()
                            && figures(&w, role, &key, &answer["data"][field], *path)
                        {
                            checked.insert(key.clone());
                        }
                    }
                }
                // A made-up target first: what an unknown one gets, the refusals' model.
                let guessed = if target == Target::None {
                    continue;
                } else {
                    server.gql_as(&token, &query, vars(&guess)).await
                };
                // The journal names who read a pupil: of one never read (unknown, or
                // another school's), there is nothing to name.
                if who == Who::Admin && role == "admin" {
                    for t in outside.iter().chain([&guess]) {
                        let empty = server.gql_as(&token, &query, vars(t)).await;
                        assert_eq!(empty["data"][field], json!([]), "{what} {t}: {empty}");
                    }
                    continue;
                }
                let expected = at_root(who, role).unwrap_or("NOT_FOUND");
                assert_refused(&guessed, expected, &guess, None, &format!("{what} made up"));
                for out in &outside {
                    let refused = server.gql_as(&token, &query, vars(out)).await;
                    asked += 2;
                    let same = (expected == "NOT_FOUND").then_some((&guessed, guess.as_str()));
                    assert_refused(&refused, expected, out, same, &format!("{what} {out}"));
                    assert_nothing_of(
                        &refused,
                        &foreign(&w, role, true),
                        out,
                        &format!("{what} {out}"),
                    );
                }
            }
        }
    }
    assert_eq!(checked.len(), FIGURES, "figures checked: {checked:#?}");
    eprintln!("query matrix: {asked} requests");
    server.stop().await;
}

/// An answer allowed at its root: what the fields below it give `role`.
pub fn check_below(role: &str, path: Option<&Path>, answer: &Value, what: &str) {
    let below = path
        .map(|p| {
            p.edges
                .iter()
                .map(|(t, f, _)| access(&format!("{t}.{f}")))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let family = family(role);
    if family && below.contains(&Some(Access::Staff)) {
        let codes: Vec<&str> = answer["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["extensions"]["code"].as_str())
            .collect();
        assert!(
            !codes.is_empty() && codes.iter().all(|c| *c == "FORBIDDEN"),
            "{what}: staff only: {answer}"
        );
        return;
    }
    assert!(answer.get("errors").is_none(), "{what}: {answer}");
    assert!(answer["data"].is_object(), "{what}: {answer}");
    if let (Some(path), Some(Some(Access::StaffElseNull))) = (path, below.last()) {
        let root = &answer["data"][&path.root];
        let parent = Path {
            edges: path.edges[..path.edges.len() - 1].to_vec(),
            ..path.clone()
        };
        let field = &path.edges.last().expect("an edge").1;
        for node in nodes(root, &parent) {
            assert_eq!(
                node[field].is_null(),
                family,
                "{what}: null for families only: {answer}"
            );
        }
    }
}
