//! `suivi token` issues bearer tokens; `suivi serve` refuses to start without a key and,
//! with `--demo`, prints a ready token per role that the running server accepts.

mod common;
use common::*;
use std::process::Command;
use suivi_domain::Role;
use suivi_graphql::jwt::JwtVerifier;

const SECRET: &str = "cli tests: a secret of at least 32 bytes";

fn suivi_env(args: &[&str], secret: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_suivi"));
    command
        .args(args)
        .env_remove("SUIVI_STORE")
        .env_remove("RUST_LOG")
        .env_remove("SUIVI_JWT_SECRET")
        .env_remove("SUIVI_JWT_PUBLIC_KEY");
    if let Some(secret) = secret {
        command.env("SUIVI_JWT_SECRET", secret);
    }
    command.output().expect("the suivi binary runs").into()
}

#[test]
fn token_issues_a_token_the_server_accepts() {
    let subject = uuid::Uuid::now_v7();
    let school = uuid::Uuid::now_v7();
    let run = suivi_env(
        &[
            "token",
            "--role",
            "professeur_principal",
            "--subject",
            &subject.to_string(),
            "--school",
            &school.to_string(),
            "--ttl",
            "2h",
        ],
        Some(SECRET),
    );
    assert!(run.ok(), "{}", run.stderr);
    let token = run.stdout.trim();
    let verifier = JwtVerifier::hs256(SECRET.as_bytes()).expect("verifier");
    let identity = verifier.verify(token).expect("a valid token");
    assert_eq!(identity.role, Role::HeadTeacher);
    assert_eq!(identity.subject_id, subject);
    assert_eq!(identity.school_id.0, school);

    let (c1, c2) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let classes = format!("{c1},{c2}");
    let run = suivi_env(
        &[
            "token",
            "--role",
            "teacher",
            "--subject",
            &subject.to_string(),
            "--school",
            &school.to_string(),
            "--classes",
            &classes,
        ],
        Some(SECRET),
    );
    assert!(run.ok(), "{}", run.stderr);
    let narrowed = verifier.verify(run.stdout.trim()).expect("a valid token");
    assert_eq!(
        narrowed.within.classes,
        Some(vec![
            suivi_domain::ids::ClassId(c1),
            suivi_domain::ids::ClassId(c2)
        ])
    );
    assert_eq!(identity.within.classes, None);

    let no_secret = suivi_env(
        &[
            "token",
            "--role",
            "pupil",
            "--subject",
            &subject.to_string(),
            "--school",
            &school.to_string(),
        ],
        None,
    );
    assert!(!no_secret.ok());
    assert!(
        no_secret.stderr.contains("SUIVI_JWT_SECRET"),
        "{}",
        no_secret.stderr
    );
    let bad_role = suivi_env(
        &[
            "token",
            "--role",
            "janitor",
            "--subject",
            &subject.to_string(),
            "--school",
            &school.to_string(),
        ],
        Some(SECRET),
    );
    assert!(!bad_role.ok());
    assert!(
        bad_role.stderr.contains("professeur_principal"),
        "{}",
        bad_role.stderr
    );
    let no_school = suivi_env(
        &[
            "token",
            "--role",
            "pupil",
            "--subject",
            &subject.to_string(),
        ],
        Some(SECRET),
    );
    assert!(!no_school.ok());
    assert!(
        no_school.stderr.contains("--school"),
        "{}",
        no_school.stderr
    );
}

#[test]
fn token_finds_the_school_of_a_store() {
    let s = Scratch::new();
    let store = s.store("demo.db");
    let run = suivi(&["demo", "--store", &store]);
    assert!(run.ok(), "{}", run.stderr);
    let subject = uuid::Uuid::now_v7().to_string();
    let run = suivi_env(
        &[
            "token",
            "--role",
            "administrator",
            "--subject",
            &subject,
            "--store",
            &store,
        ],
        Some(SECRET),
    );
    assert!(run.ok(), "{}", run.stderr);
    let identity = JwtVerifier::hs256(SECRET.as_bytes())
        .expect("verifier")
        .verify(run.stdout.trim())
        .expect("valid");
    assert_eq!(identity.role, Role::Admin);
    let empty = s.store("empty.db");
    let run = suivi_env(
        &[
            "token",
            "--role",
            "administrator",
            "--subject",
            &subject,
            "--store",
            &empty,
        ],
        Some(SECRET),
    );
    assert!(!run.ok());
    assert!(run.stderr.contains("no school"), "{}", run.stderr);
}

#[test]
fn serve_refuses_to_start_without_a_key() {
    let s = Scratch::new();
    let store = s.store("s.db");
    let run = suivi_env(&["serve", "--store", &store, "--addr", "127.0.0.1:0"], None);
    assert!(!run.ok());
    assert!(
        run.stderr.contains("SUIVI_JWT_SECRET") && run.stderr.contains("--demo"),
        "{}",
        run.stderr
    );
    let run = suivi_env(
        &["serve", "--store", &store, "--addr", "127.0.0.1:0"],
        Some("short"),
    );
    assert!(!run.ok());
    assert!(run.stderr.contains("at least 32"), "{}", run.stderr);
}

fn post(addr: &str, token: &str, query: &str) -> (u16, serde_json::Value) {
    demo_server::post(addr, token, query, serde_json::json!({}))
}

#[test]
fn serve_demo_prints_a_working_token_per_role() {
    let s = Scratch::new();
    let store = s.store("demo.db");
    let demo = demo_server::DemoServer::start(&store, None, None);
    let users: Vec<(String, String, String, String)> = demo
        .users
        .iter()
        .map(|u| {
            (
                u.role.clone(),
                u.subject.clone(),
                u.token.clone(),
                u.sees.clone(),
            )
        })
        .collect();
    let addr = demo.addr.clone();
    let roles: Vec<&str> = users.iter().map(|(r, _, _, _)| r.as_str()).collect();
    assert_eq!(
        roles,
        [
            "administrator",
            "professeur_principal",
            "teacher",
            "guardian",
            "pupil"
        ]
    );
    for (role, subject, token, sees) in &users {
        let (status, body) = post(&addr, token, "{ school { name } }");
        assert_eq!(status, 200, "{role}: {body}");
        assert!(body["data"]["school"]["name"].is_string(), "{role}: {body}");
        let classes = post(&addr, token, "{ classes { name } }").1;
        let pupil = users
            .last()
            .map(|(_, p, _, _)| p.clone())
            .unwrap_or_default();
        let file = post(
            &addr,
            token,
            &format!("{{ pupil(id: \"{pupil}\") {{ id }} }}"),
        )
        .1;
        match role.as_str() {
            "administrator" => {
                assert!(
                    classes["data"]["classes"].as_array().map_or(0, Vec::len) >= 3,
                    "{classes}"
                )
            }
            "professeur_principal" | "teacher" => {
                // Exactly the classes the printed line says they lead or teach in.
                let names = classes["data"]["classes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert!(!names.is_empty(), "{role}: {classes}");
                for name in names {
                    let name = name["name"].as_str().unwrap_or("?");
                    assert!(sees.contains(name), "{role} sees {name}, not in {sees:?}");
                }
            }
            _ => {
                assert_eq!(
                    classes["errors"][0]["extensions"]["code"], "FORBIDDEN",
                    "{classes}"
                );
                assert_eq!(
                    file["data"]["pupil"]["id"],
                    serde_json::json!(pupil),
                    "{role}: {file}"
                );
            }
        }
        if role == "pupil" {
            assert_eq!(subject, &pupil);
        }
    }
    // The guardian follows two children; the pupil user is the one with a year of
    // results: as the guardian reads them, a grade in every period of the child's class.
    let (_, _, guardian, sees) = &users[3];
    assert_eq!(sees.matches("pupil ").count(), 2, "{sees}");
    let child = &users[4].1;
    let admin = &users[0].2;
    let class = post(
        &addr,
        admin,
        &format!("{{ pupil(id: \"{child}\") {{ class {{ id }} }} }}"),
    )
    .1;
    let class = class["data"]["pupil"]["class"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the child's class: {class}"))
        .to_owned();
    let periods = post(
        &addr,
        admin,
        &format!("{{ class(name: \"{class}\") {{ periods {{ name }} }} }}"),
    )
    .1;
    let periods: Vec<String> = periods["data"]["class"]["periods"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|x| x["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        periods.len() >= 3,
        "a school year of trimesters: {periods:?}"
    );
    for period in &periods {
        let file = post(
            &addr,
            guardian,
            &format!(
                "{{ pupil(id: \"{child}\") {{ grades(period: \"{period}\") {{ grades {{ score mark }} }} }} }}"
            ),
        )
        .1;
        let grades: usize = file["data"]["pupil"]["grades"]
            .as_array()
            .map_or(0, |lines| {
                lines
                    .iter()
                    .map(|l| l["grades"].as_array().map_or(0, Vec::len))
                    .sum()
            });
        assert!(grades > 0, "no grade in {period} for the guardian: {file}");
    }
    // Without a token: 401.
    let (status, _) = post(&addr, "nope", "{ position }");
    assert_eq!(status, 401);
    drop(demo);
}
