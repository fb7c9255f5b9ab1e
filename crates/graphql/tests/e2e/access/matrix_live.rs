//! Every subscription path and every path of what a mutation returns × every role, as
//! `matrix` decides them. Subscriptions are proven live with a probe before anything
//! is said not to arrive.

use super::matrix::*;
use super::matrix_queries::{check_below, figures, request};
use super::paths::{Path, Schema};
use super::world::{assert_refused, run, world, World};
use crate::harness::{Server, Subscription};
use crate::seed::{self, id};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A subscription message as a GraphQL answer (`data`, `errors`).
fn answer(msg: &Value) -> Value {
    match msg["type"].as_str() {
        Some("next") => msg["payload"].clone(),
        Some("error") => json!({"data": null, "errors": msg["payload"]}),
        _ => panic!("not an answer: {msg}"),
    }
}

async fn subscribe(server: &Server, token: &str, query: &str, target: &str) -> Subscription {
    server
        .subscribe_as(token, query, json!({"t": target}))
        .await
}

#[tokio::test]
async fn every_subscription_path_as_every_role_in_and_out_of_scope() {
    let server = Server::start().await;
    let w = world(&server).await;
    activity(&server, &w).await;
    let schema = Schema::served();
    let paths = schema_paths(&schema);
    let mut checked = BTreeSet::new();
    let mut asked = 0;
    for root in ROOTS.iter().filter(|r| r.0 == "SubscriptionRoot") {
        let (_, field, args, _, target, who) = *root;
        let mine: Vec<Option<&Path>> = match paths
            .iter()
            .filter(|p| p.root_type == "SubscriptionRoot" && p.root == field)
            .map(Some)
            .collect::<Vec<_>>()
        {
            found if !found.is_empty() => found,
            _ => vec![None],
        };
        for role in ROLES {
            let token = token(&server, &w, role);
            let (inside, outside, guess) = targets(&w, role, target);
            for path in &mine {
                let query = request(&schema, root, *path);
                let dotted = path.map(Path::dotted).unwrap_or_else(|| field.to_owned());
                let key = format!("{field}{args}{}", &dotted[field.len()..]);
                let what = format!("{role} subscription {key}");
                let pupil_file = target == Target::Pupil;
                asked += 1;
                if let Some(code) = at_root(who, role) {
                    let t = if field == "events" {
                        json!(0)
                    } else {
                        json!(inside)
                    };
                    let mut sub = server.subscribe_as(&token, &query, json!({"t": t})).await;
                    let refused = answer(&sub.message().await);
                    assert_refused(&refused, code, "", None, &what);
                    continue;
                }
                let allowed = match field {
                    "liveBoard" => answer(
                        &subscribe(&server, &token, &query, &inside)
                            .await
                            .message()
                            .await,
                    ),
                    "gradeRecorded" => grades(&server, &w, role, &token, &query, &what).await,
                    "changes" => changes(&server, &w, role, &token, &query, &what).await,
                    "events" => events(&server, &w, &query, &what).await,
                    other => panic!("no run for subscription {other}"),
                };
                check_below(role, *path, &allowed, &what);
                assert_nothing_of(&allowed, &foreign(&w, role, pupil_file), "", &what);
                if allowed["data"].is_object()
                    && figures(&w, role, &key, &allowed["data"][field], *path)
                {
                    checked.insert(key.clone());
                }
                if target == Target::None {
                    continue;
                }
                let guessed = answer(
                    &subscribe(&server, &token, &query, &guess)
                        .await
                        .message()
                        .await,
                );
                assert_refused(
                    &guessed,
                    "NOT_FOUND",
                    &guess,
                    None,
                    &format!("{what} made up"),
                );
                for out in &outside {
                    let refused = answer(
                        &subscribe(&server, &token, &query, out)
                            .await
                            .message()
                            .await,
                    );
                    asked += 1;
                    let what = format!("{what} {out}");
                    assert_refused(&refused, "NOT_FOUND", out, Some((&guessed, &guess)), &what);
                    assert_nothing_of(&refused, &foreign(&w, role, true), out, &what);
                }
            }
        }
    }
    assert_eq!(
        checked,
        BTreeSet::from(["liveBoard(sessionId: $t).rows.pupil".to_owned()])
    );
    eprintln!("subscription matrix: {asked} subscriptions");
    server.stop().await;
}

/// `gradeRecorded(a)`: live once a French probe (every pupil exempted, so that families
/// see it whole) is pushed; then b's and d's grades change, and the next push is the
/// next probe's: nothing of theirs came. Returns that push.
async fn grades(
    server: &Server,
    w: &World,
    role: &str,
    token: &str,
    query: &str,
    what: &str,
) -> Value {
    let s = &w.s;
    let [a, b, c] = &s.pupils;
    let mut sub = subscribe(server, token, query, a).await;
    // Staff only below: a family gets every push with FORBIDDEN for it, the probe's too.
    let forbidden = query.contains(" assessment ") && family(role);
    let pushed = move |msg: &Value, tag: &Value| {
        let refused = msg["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN";
        seed::probe_pushed(msg, tag) && refused == forbidden
    };
    let everyone = [a, b, c];
    let probe = || seed::probe(server, s, &s.french, everyone.to_vec());
    sub.live(|_| probe(), pushed).await;
    run(
        server,
        "correctGrade",
        json!({"assessmentId": w.assessment_b, "pupilId": w.d, "score": "3"}),
    )
    .await;
    run(
        server,
        "correctGrade",
        json!({"assessmentId": s.m2, "pupilId": b, "score": "6"}),
    )
    .await;
    let last = answer(&sub.quiet(probe(), pushed).await);
    if !forbidden {
        let change = &last["data"]["gradeRecorded"];
        assert_eq!(change["mark"], "DISP", "{what}: {last}");
        assert_eq!(change["corrected"], false, "{what}: {last}");
        if let Some(pupil) = change.get("pupil") {
            assert_eq!(pupil["id"], json!(a), "{what}: {last}");
        }
    }
    last
}

/// `changes`: live once a's lateness is pushed; then d's (and b's) lateness, and the
/// next push is the next probe's. Returns it: it names a, and no class but A.
async fn changes(
    server: &Server,
    w: &World,
    role: &str,
    token: &str,
    query: &str,
    what: &str,
) -> Value {
    let [a, b, _] = &w.s.pupils;
    let mut sub = server.subscribe_as(token, query, json!({})).await;
    let late = |pupil: &String, minutes: usize| {
        let input =
            json!({"pupilId": pupil, "at": chrono::Utc::now(), "minutes": minutes % 50 + 1});
        async move { json!(seed::run(server, "recordLateness", input).await["position"]) }
    };
    let pushed = |msg: &Value, tag: &Value| {
        msg["payload"]["data"]["changes"]["position"].as_u64() >= tag.as_u64()
    };
    sub.live(|i| late(a, i), pushed).await;
    if role != "admin" {
        // Of d alone, and of class B (a grade there).
        late(&w.d, 1).await;
        let score = json!({"assessmentId": w.assessment_b, "pupilId": w.d, "score": "4"});
        seed::run(server, "correctGrade", score).await;
    }
    if family(role) {
        late(b, 1).await;
    }
    let last = answer(&sub.quiet(late(a, 2), pushed).await);
    let notice = &last["data"]["changes"];
    assert_eq!(notice["pupilIds"], json!([a]), "{what}: {last}");
    let classes = notice["classIds"].as_array().cloned().unwrap_or_default();
    assert!(
        classes.iter().all(|c| *c == json!(w.s.class)),
        "{what}: {last}"
    );
    assert_eq!(notice["reference"], false, "{what}: {last}");
    last
}

/// `events` after the log's last event before the other school's: the next is ours,
/// past the other school's whole stretch.
async fn events(server: &Server, _w: &World, query: &str, what: &str) -> Value {
    let log = server.store.read_all(0, 100_000).await.expect("the log");
    let first_other = log
        .iter()
        .position(|e| e.school_id != server.school)
        .expect("the other school's events");
    let ours_next = log[first_other..]
        .iter()
        .find(|e| e.school_id == server.school)
        .expect("ours after");
    let after = log[first_other].global_position - 1;
    let mut sub = server.subscribe(query, json!({"t": after})).await;
    let first = answer(&sub.message().await);
    assert_eq!(
        first["data"]["events"]["position"],
        json!(ours_next.global_position),
        "{what}: {first}"
    );
    first
}

/// The mutations each role sends, to read what they return: (role, mutation, input).
fn mutations(w: &World) -> Vec<(&'static str, &'static str, Value)> {
    let s = &w.s;
    let a = &s.pupils[0];
    let now = chrono::Utc::now();
    // With their ids: a retry answered from the log does not mint the same id again.
    let homework = |subject: &String| json!({"id": id(), "classId": s.class, "subjectId": subject, "title": "DM", "assignedOn": s.today, "dueAt": now + chrono::Duration::days(2)});
    let quiz = |subject: &String| json!({"id": id(), "classId": s.class, "subjectId": subject, "title": "Q", "questions": [{"prompt": "?", "choices": ["a", "b"], "correctChoice": 0}]});
    let grade = |assessment: &String, score: &str| json!({"assessmentId": assessment, "pupilId": a, "score": score});
    let session = |teacher: &String| json!({"id": id(), "classId": s.class, "teacherId": teacher});
    let deposit = json!({"homeworkId": w.homework[0], "pupilId": a, "fileName": "dm2.pdf", "sizeBytes": 12, "sha256": "1".repeat(64)});
    let mut out = Vec::new();
    for (role, subject, assessment, teacher) in [
        ("admin", &s.maths, &s.m1, &s.teacher),
        ("pp", &s.maths, &s.m1, &s.teacher),
        ("teacher", &s.french, &s.f1, &w.french_teacher),
    ] {
        let score = if role == "pp" { "12.5" } else { "12.25" };
        out.push((
            role,
            "correctGrade",
            grade(assessment, if role == "teacher" { "9.5" } else { score }),
        ));
        out.push((role, "assignHomework", homework(subject)));
        out.push((role, "publishQuiz", quiz(subject)));
        out.push((role, "startSession", session(teacher)));
    }
    out.push(("pupil", "depositHomework", deposit.clone()));
    out.push((
        "pupil",
        "startAttempt",
        json!({"quizId": w.quiz[0], "pupilId": a, "sessionId": w.session[0]}),
    ));
    out.push(("guardian", "depositHomework", deposit));
    out
}

/// What the command returns, by the first edge of a path: the id it must carry.
fn result_id(w: &World, mutation: &str, input: &Value, edge: &str) -> Option<Value> {
    match (mutation, edge) {
        (_, "pupil") if input.get("pupilId").is_some() => Some(input["pupilId"].clone()),
        ("correctGrade", "assessment") => Some(input["assessmentId"].clone()),
        ("assignHomework", "class") => Some(json!(w.s.class)),
        ("depositHomework", "homework") => Some(input["homeworkId"].clone()),
        ("startAttempt", "quiz") => Some(input["quizId"].clone()),
        ("assignHomework", "homework")
        | ("publishQuiz", "quiz")
        | ("startSession", "liveBoard") => Some(Value::Null),
        ("startAttempt", "liveBoard") => Some(json!(w.session[0])),
        _ => None,
    }
}

#[tokio::test]
async fn every_path_of_what_a_mutation_returns_as_every_role() {
    let server = Server::start().await;
    let w = world(&server).await;
    activity(&server, &w).await;
    let schema = Schema::served();
    let paths: Vec<Path> = schema_paths(&schema)
        .into_iter()
        .filter(|p| p.root_type == "MutationRoot")
        .collect();
    let mut read = BTreeSet::new();
    for (role, name, input) in mutations(&w) {
        let token = token(&server, &w, role);
        let key = id();
        let ty = format!("{}Input", seed::capitalise(name));
        for path in &paths {
            let edge = path.edges.first().map(|(_, f, _)| f.as_str());
            let Some(expected) = edge.and_then(|e| result_id(&w, name, &input, e)) else {
                continue;
            };
            let mutation = format!(
                "mutation($i: {ty}!, $k: ID) {{ {name}(input: $i, idempotencyKey: $k) {} }}",
                schema.selection(path)
            );
            let answer = server
                .gql_as(&token, &mutation, json!({"i": input, "k": key}))
                .await;
            let what = format!("{role} {name} {}", path.dotted());
            if role == "guardian" {
                assert_refused(&answer, "FORBIDDEN", "", None, &what);
                assert_nothing_of(&answer, &foreign(&w, role, true), "", &what);
                continue;
            }
            let pupil_file = path.through(&schema, &["Pupil"]);
            let below = Path {
                root: name.to_owned(),
                ..path.clone()
            };
            check_below(role, Some(&below), &answer, &what);
            assert_nothing_of(&answer, &foreign(&w, role, pupil_file), "", &what);
            let staff_only = path
                .edges
                .iter()
                .any(|(t, f, _)| access(&format!("{t}.{f}")) == Some(Access::Staff));
            if family(role) && staff_only {
                read.insert(path.dotted()["registerSchool".len()..].to_owned());
                continue;
            }
            let object = &answer["data"][name][edge.expect("an edge")];
            assert!(!object.is_null(), "{what}: {answer}");
            if path.edges.len() == 1 && !expected.is_null() {
                let id = if edge == Some("liveBoard") {
                    &object["session"]["id"]
                } else {
                    &object["id"]
                };
                assert!(id.is_null() || *id == expected, "{what}: {answer}");
            }
            read.insert(path.dotted()["registerSchool".len()..].to_owned());
        }
    }
    // Every path below CommandResult was read by some role.
    let all: BTreeSet<String> = paths
        .iter()
        .map(|p| p.dotted()["registerSchool".len()..].to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let unread: Vec<&String> = all.difference(&read).collect();
    assert!(
        unread.is_empty(),
        "result paths no mutation read: {unread:?}"
    );
    server.stop().await;
}
