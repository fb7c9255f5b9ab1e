//! The `--demo` simulation: on a school whose only year is over (as the committed demo
//! school's 2025-2026 is), it defines the current year, moves a class into it, starts a
//! session and the live board moves within seconds.

use async_graphql::Request;
use chrono::{Duration as Days, Utc};
use serde_json::Value;
use std::time::{Duration, Instant};
use suivi_domain::events::*;
use suivi_domain::identity::PupilIdentity;
use suivi_domain::ids::*;
use suivi_domain::reference::{PeriodKind, SubjectKind};
use suivi_domain::values::Coefficient;
use suivi_domain::{Actor, Command, Metadata};
use suivi_graphql::{App, Identity, IdentitySource};
use uuid::Uuid;

fn new<T: From<Uuid>>() -> T {
    T::from(Uuid::now_v7())
}

async fn past_school(app: &App, school: SchoolId) -> Vec<PupilId> {
    let gateway = &app.services().gateway;
    let meta = Metadata {
        school_id: school,
        actor: Actor::Importer("test".into()),
        occurred_at: Utc::now(),
        correlation_id: None,
        causation_id: None,
    };
    let today = Utc::now().date_naive();
    let (year, class): (SchoolYearId, ClassId) = (new(), new());
    let (start, end) = (today - Days::days(400), today - Days::days(40));
    let commands = vec![
        Command::RegisterSchool(SchoolRegistered {
            school_id: school,
            name: "Lycée démo".into(),
            nr_counts_as_zero: true,
        }),
        Command::DefineSchoolYear(SchoolYearDefined {
            year_id: year,
            label: "passée".into(),
            starts_on: start,
            ends_on: end,
        }),
        Command::DefinePeriod(PeriodDefined {
            period_id: new(),
            year_id: year,
            name: "Trimestre 1".into(),
            kind: PeriodKind::Trimestre,
            starts_on: start,
            ends_on: end,
        }),
        Command::DefineSubject(SubjectDefined {
            subject_id: new(),
            name: "Mathématiques".into(),
            kind: SubjectKind::General,
            coefficient: Coefficient::ONE,
        }),
        Command::OpenClass(ClassOpened {
            class_id: class,
            year_id: year,
            name: "2nde MELEC".into(),
        }),
        Command::RegisterTeacher(TeacherRegistered {
            teacher_id: new(),
            display_name: "M. Prof".into(),
        }),
    ];
    for command in commands {
        gateway
            .execute(&meta, command)
            .await
            .expect("reference data");
    }
    let mut pupils = Vec::new();
    for i in 0..8 {
        let pupil: PupilId = new();
        let identity = PupilIdentity {
            last_name: format!("Nom{i}"),
            first_name: "Prénom".into(),
            birth_date: None,
        };
        gateway
            .register_pupil(&meta, pupil, format!("P{i}"), &identity)
            .await
            .expect("pupil");
        gateway
            .execute(
                &meta,
                Command::EnrolPupil(PupilEnrolled {
                    pupil_id: pupil,
                    class_id: class,
                    on: start,
                }),
            )
            .await
            .expect("enrolment");
        pupils.push(pupil);
    }
    pupils
}

async fn ask(app: &App, school: SchoolId, query: &str) -> Value {
    let response = app
        .state
        .schema
        .execute(Request::new(query).data(Identity::admin(school)))
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    response.data.into_json().expect("JSON data")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_defines_today_and_the_live_board_moves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = suivi_store::open(&format!("sqlite:{}", dir.path().join("demo.db").display()))
        .await
        .expect("store");
    let school = SchoolId(Uuid::now_v7());
    let app = App::new(
        store.clone(),
        IdentitySource::Fixed(Identity::admin(school)),
    )
    .await
    .expect("app");
    let pupils = past_school(&app, school).await;

    let simulation = tokio::spawn(suivi_graphql::demo::run(
        app.services().clone(),
        school,
        app.services().shutdown.clone(),
    ));
    let started = Instant::now();
    let board = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the live board did not move within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let data = ask(&app, school, "{ sessions(active: true) { id } }").await;
        let Some(session) = data["sessions"][0]["id"].as_str() else {
            continue;
        };
        let board = ask(&app, school, &format!(r#"{{ liveBoard(sessionId: "{session}") {{ session {{ class {{ name }} }} counts {{ notStarted progressing stalled finished finishedEarly }} rows {{ pupil {{ externalId }} }} }} }}"#)).await;
        if board["liveBoard"]["counts"]["progressing"]
            .as_u64()
            .unwrap_or(0)
            > 0
        {
            break board;
        }
    };
    // The whole class moved into today's year, as a copy named apart so that
    // `class(name: "2nde MELEC")` keeps meaning the class of the past year.
    assert_eq!(
        board["liveBoard"]["session"]["class"]["name"],
        "2nde MELEC (en direct)"
    );
    assert_eq!(
        board["liveBoard"]["rows"].as_array().map(Vec::len),
        Some(pupils.len())
    );
    let today = Utc::now().date_naive().to_string();
    let year_of = |year: &serde_json::Value| {
        let field = |f: &str| {
            year["class"]["year"][f]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        (field("startsOn"), field("endsOn"))
    };
    let live = ask(
        &app,
        school,
        r#"{ class(name: "2nde MELEC (en direct)") { year { startsOn endsOn } period { name } } }"#,
    )
    .await;
    let (starts, ends) = year_of(&live);
    assert!(starts <= today && today <= ends, "{live}");
    let past = ask(
        &app,
        school,
        r#"{ class(name: "2nde MELEC") { year { startsOn endsOn } } }"#,
    )
    .await;
    let (_, past_ends) = year_of(&past);
    assert!(!past_ends.is_empty() && past_ends < today, "{past}");

    app.shutdown();
    tokio::time::timeout(Duration::from_secs(10), simulation)
        .await
        .expect("the simulation stops")
        .expect("cleanly");
    app.services()
        .projections
        .caught_up()
        .await
        .expect("caught up");
    let data = ask(&app, school, "{ sessions(active: true) { id } }").await;
    assert_eq!(
        data["sessions"],
        serde_json::json!([]),
        "the session is ended on shutdown"
    );
}
