//! The world the access matrix reads, beyond `world`: tokens, work in both classes
//! with figures to find again, and what must never show in an answer.

use super::matrix::family;
use super::world::{run, World};
use crate::harness::Server;
use crate::seed::id;
use serde_json::{json, Value};
use suivi_domain::Role;

/// The tokens of the five roles and of pupil d (class B), as `world::tokens`.
pub fn token(server: &Server, w: &World, role: &str) -> String {
    match role {
        "admin" => server.admin.clone(),
        "pp" => server.token(Role::HeadTeacher, &w.s.teacher),
        "teacher" => server.token(Role::Teacher, &w.french_teacher),
        "guardian" => server.token(Role::Guardian, &w.guardian_a),
        "pupil" => server.token(Role::Pupil, &w.s.pupils[0]),
        "d" => server.token(Role::Pupil, &w.d),
        other => panic!("no role {other}"),
    }
}

/// Times on the quizzes, in ms, that mark each pupil's work: a's is a figure a's
/// readers must see, b's and d's must never show in a's file.
pub const A_MS: i64 = 1234;
pub const B_MS: i64 = 2345;
pub const D_MS: i64 = 4321;

/// Work in both classes, on top of the world: a and b answer class A's quiz (a right,
/// b wrong), d class B's; a and d hand in their homework; the head teacher assesses a's
/// D1.1 at 3.
pub async fn activity(server: &Server, w: &World) {
    let [a, b, _] = &w.s.pupils;
    for (who, pupil, i, answer, ms) in [
        ("pupil", a, 0, 1, A_MS),
        ("b", b, 0, 0, B_MS),
        ("d", &w.d, 1, 1, D_MS),
    ] {
        let token = match who {
            "b" => server.token(Role::Pupil, b),
            other => token(server, w, other),
        };
        let attempt = id();
        let base = json!({"quizId": w.quiz[i], "pupilId": pupil, "attemptId": attempt});
        let mut answered = base.clone();
        answered["questionId"] = json!(w.question[i]);
        answered["answer"] = json!(answer);
        answered["timeSpentMs"] = json!(ms);
        for (name, input) in [
            ("startAttempt", &base),
            ("answerQuestion", &answered),
            ("submitAttempt", &base),
        ] {
            write(server, &token, name, input.clone()).await;
        }
        if who != "b" {
            let deposit = json!({"homeworkId": w.homework[i], "pupilId": pupil, "fileName": "dm.pdf", "sizeBytes": 10, "sha256": "0".repeat(64)});
            write(server, &token, "depositHomework", deposit).await;
        }
    }
    run(
        server,
        "assessCompetency",
        json!({"pupilId": a, "component": "D1.1", "level": 3, "on": w.s.today}),
    )
    .await;
}

async fn write(server: &Server, token: &str, name: &str, input: Value) {
    let ty = format!("{}Input", crate::seed::capitalise(name));
    let mutation = format!("mutation($i: {ty}!) {{ {name}(input: $i) {{ position }} }}");
    let answer = server.gql_as(token, &mutation, json!({"i": input})).await;
    assert!(answer.get("errors").is_none(), "{name}: {answer}");
}

/// What must never show in an answer: (what, id or name fragments, an exact string, a
/// figure).
pub struct Marks {
    pub what: &'static str,
    pub texts: Vec<String>,
    pub exact: Option<&'static str>,
    pub figure: Option<i64>,
}

/// The marks of everyone and everything out of `role`'s reach; with `pupil_file`,
/// of every pupil but a (a's file holds nothing of a classmate).
pub fn foreign(w: &World, role: &str, pupil_file: bool) -> Vec<Marks> {
    let [_, b, c] = &w.s.pupils;
    let mark = |what, texts: &[&str], exact, figure| Marks {
        what,
        texts: texts.iter().map(|t| t.to_string()).collect(),
        exact,
        figure,
    };
    let mut out = vec![
        mark(
            "the other school's pupil",
            &[&w.other_pupil, "Voisin", "Paul"],
            None,
            None,
        ),
        mark("the other school's class", &[&w.other_class], None, None),
    ];
    if role != "admin" || pupil_file {
        out.push(mark(
            "pupil d",
            &[&w.d, "Moreau", "Inès"],
            Some("E4"),
            Some(D_MS),
        ));
        out.push(mark("class B", &[&w.s.other_class, "2nde B"], None, None));
    }
    if family(role) || pupil_file {
        out.push(mark(
            "pupil b",
            &[b, "Bernard", "Hugo"],
            Some("E2"),
            Some(B_MS),
        ));
        out.push(mark("pupil c", &[c, "Dubois", "Chloé"], Some("E3"), None));
    }
    out
}

/// Panics naming the first mark of `marks` found in `answer` (after `asked`, the
/// target as the request named it, is blanked out of error messages that echo it).
pub fn assert_nothing_of(answer: &Value, marks: &[Marks], asked: &str, what: &str) {
    let mut answer = answer.clone();
    if !asked.is_empty() {
        if let Some(errors) = answer.get_mut("errors").and_then(Value::as_array_mut) {
            for error in errors {
                if let Some(m) = error["message"].as_str() {
                    error["message"] = json!(m.replace(asked, "<asked>"));
                }
            }
        }
    }
    fn walk(value: &Value, mark: &Marks) -> bool {
        match value {
            Value::String(s) => {
                mark.texts.iter().any(|t| s.contains(t.as_str())) || mark.exact == Some(s.as_str())
            }
            Value::Number(n) => {
                mark.figure.is_some() && n.as_f64() == mark.figure.map(|f| f as f64)
            }
            Value::Array(items) => items.iter().any(|i| walk(i, mark)),
            Value::Object(map) => map.values().any(|v| walk(v, mark)),
            _ => false,
        }
    }
    for mark in marks {
        assert!(
            !walk(&answer, mark),
            "{what}: {} shows in {answer}",
            mark.what
        );
    }
}
