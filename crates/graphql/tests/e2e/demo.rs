//! The `--demo` simulation: on a school whose only year is over (as the committed demo
//! school's 2025-2026 is), it defines the current year, moves a class into it, starts a
//! session and the live board moves within seconds. The demo's family follows a child
//! with a year of results (grades in each period) and a second child in the live class.

use async_graphql::Request;
use chrono::{Duration as Days, Utc};
use serde_json::Value;
use std::time::{Duration, Instant};
use suivi_domain::events::*;
use suivi_domain::identity::{seal, GuardianContact, PupilIdentity, NONCE_LEN};
use suivi_domain::ids::*;
use suivi_domain::reference::{PeriodKind, SubjectKind};
use suivi_domain::values::{Coefficient, Grade, Hundredths};
use suivi_domain::{Actor, Command, Metadata, Role};
use suivi_graphql::{App, Identity, IdentitySource};
use uuid::Uuid;

fn new<T: From<Uuid>>() -> T {
    T::from(Uuid::now_v7())
}

/// The past year: 2nde MELEC (8 pupils, no grade: the class the demo moves into today)
/// and 2nde B (3 pupils, two trimesters, a teacher): R0 scores in both trimesters, with
/// an absence and a QCM attempt, R1 in the first only, R2 never; each of R0 and R1 has a
/// guardian.
struct Past {
    moved: Vec<PupilId>,
    with_results: PupilId,
    their_guardian: GuardianId,
}

async fn past_school(app: &App, school: SchoolId) -> Past {
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
    let middle = start + Days::days(180);
    let (t1, t2, maths, class_b): (PeriodId, PeriodId, SubjectId, ClassId) =
        (new(), new(), new(), new());
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
            period_id: t1,
            year_id: year,
            name: "Trimestre 1".into(),
            kind: PeriodKind::Trimestre,
            starts_on: start,
            ends_on: middle,
        }),
        Command::DefinePeriod(PeriodDefined {
            period_id: t2,
            year_id: year,
            name: "Trimestre 2".into(),
            kind: PeriodKind::Trimestre,
            starts_on: middle + Days::days(1),
            ends_on: end,
        }),
        Command::DefineSubject(SubjectDefined {
            subject_id: maths,
            name: "Mathématiques".into(),
            kind: SubjectKind::General,
            coefficient: Coefficient::ONE,
        }),
        Command::OpenClass(ClassOpened {
            class_id: class,
            year_id: year,
            name: "2nde MELEC".into(),
        }),
        Command::OpenClass(ClassOpened {
            class_id: class_b,
            year_id: year,
            name: "2nde B".into(),
        }),
        Command::RegisterTeacher(TeacherRegistered {
            teacher_id: new(),
            display_name: "M. Prof".into(),
            email: None,
        }),
    ];
    for command in commands {
        gateway
            .execute(&meta, command)
            .await
            .expect("reference data");
    }
    let mut pupils = Vec::new();
    for i in 0..11 {
        let pupil: PupilId = new();
        let identity = PupilIdentity {
            last_name: format!("Nom{i}"),
            first_name: "Prénom".into(),
            birth_date: None,
        };
        let external = if i < 8 {
            format!("P{i}")
        } else {
            format!("R{}", i - 8)
        };
        gateway
            .register_pupil(&meta, pupil, external, &identity)
            .await
            .expect("pupil");
        gateway
            .execute(
                &meta,
                Command::EnrolPupil(PupilEnrolled {
                    pupil_id: pupil,
                    class_id: if i < 8 { class } else { class_b },
                    on: start,
                }),
            )
            .await
            .expect("enrolment");
        pupils.push(pupil);
    }
    let (moved, b) = pupils.split_at(8);
    let guardians: [GuardianId; 2] = [new(), new()];
    // 2nde B's maths teacher, who leads no class: the demo's teacher.
    let teacher_b: TeacherId = new();
    let mut commands = vec![
        Command::RegisterTeacher(TeacherRegistered {
            teacher_id: teacher_b,
            display_name: "Mme Prof".into(),
            email: None,
        }),
        Command::AssignTeaching(TeachingAssigned {
            teacher_id: teacher_b,
            class_id: class_b,
            subject_id: maths,
        }),
    ];
    for (i, (period, date)) in [(t1, start + Days::days(30)), (t2, middle + Days::days(30))]
        .into_iter()
        .enumerate()
    {
        let assessment: AssessmentId = new();
        commands.push(Command::ScheduleAssessment(AssessmentScheduled {
            assessment_id: assessment,
            class_id: class_b,
            subject_id: maths,
            period_id: period,
            title: format!("Contrôle {}", i + 1),
            date,
            scale: 20,
            coefficient: Coefficient::ONE,
        }));
        // R0 scores each time, R1 in the first trimester only, R2 never (every pupil
        // has a grade or a mark, so the results reach families).
        let graded: &[(PupilId, Grade)] = if i == 0 {
            &[
                (b[0], Grade::Score(Hundredths(1200))),
                (b[1], Grade::Score(Hundredths(900))),
                (b[2], Grade::Absent),
            ]
        } else {
            &[
                (b[0], Grade::Score(Hundredths(1400))),
                (b[1], Grade::Absent),
                (b[2], Grade::Absent),
            ]
        };
        for (pupil, grade) in graded {
            commands.push(Command::RecordGrade(GradeRecorded {
                assessment_id: assessment,
                pupil_id: *pupil,
                grade: *grade,
            }));
        }
    }
    let absent = (start + Days::days(40))
        .and_hms_opt(8, 0, 0)
        .expect("a time")
        .and_utc();
    commands.push(Command::RecordAbsence(AbsenceRecorded {
        absence_id: new(),
        pupil_id: b[0],
        starts_at: absent,
        ends_at: absent + Days::hours(4),
        half_days: 1,
        lessons: 4,
    }));
    let (quiz, question): (QuizId, QuestionId) = (new(), new());
    commands.push(Command::PublishQuiz(QuizPublished {
        quiz_id: quiz,
        class_id: class_b,
        subject_id: maths,
        title: "QCM".into(),
        max_attempts: 2,
        questions: vec![QuizQuestion {
            question_id: question,
            prompt: "1 + 1 ?".into(),
            choices: vec!["1".into(), "2".into()],
            correct_choice: 1,
        }],
    }));
    commands.push(Command::StartAttempt(suivi_domain::decide::StartAttempt {
        quiz_id: quiz,
        pupil_id: b[0],
        attempt_id: new(),
        started_at: absent + Days::days(1),
        session_id: None,
    }));
    for command in commands {
        gateway
            .execute(&meta, command)
            .await
            .expect("the year's work");
    }
    for (guardian, pupil) in guardians.iter().zip(&b[..2]) {
        let key = gateway
            .store()
            .get_key(*pupil)
            .await
            .expect("the key table")
            .expect("a key");
        let contact = GuardianContact {
            name: "Parent".into(),
            email: None,
            phone: None,
            relation: None,
        };
        gateway
            .execute(
                &meta,
                Command::LinkGuardian(GuardianLinked {
                    guardian_id: *guardian,
                    pupil_id: *pupil,
                    contact: seal(&key, [7; NONCE_LEN], *pupil, &contact),
                }),
            )
            .await
            .expect("a guardian");
    }
    Past {
        moved: moved.to_vec(),
        with_results: b[0],
        their_guardian: guardians[0],
    }
}

async fn ask(app: &App, school: SchoolId, query: &str) -> Value {
    ask_as(app, Identity::admin(school), query).await
}

async fn ask_as(app: &App, identity: Identity, query: &str) -> Value {
    let response = app
        .state
        .schema
        .execute(Request::new(query).data(identity))
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
    let year_before = past_school(&app, school).await;
    let pupils = &year_before.moved;

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

    family(&app, school, &year_before).await;

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

/// The demo's users: one per role; the guardian is R0's, who now follows a child of the
/// live class too; the pupil is R0, whose file shows grades in each trimester to them.
async fn family(app: &App, school: SchoolId, past: &Past) {
    app.services()
        .projections
        .caught_up()
        .await
        .expect("caught up");
    let users = suivi_graphql::demo::tokens::demo_users(&app.services().snapshot(), school, None);
    let roles: Vec<Role> = users.iter().map(|u| u.role).collect();
    assert_eq!(
        roles,
        [
            Role::Admin,
            Role::HeadTeacher,
            Role::Teacher,
            Role::Guardian,
            Role::Pupil
        ],
        "{users:?}"
    );
    assert_eq!(users[3].subject, past.their_guardian.0, "{users:?}");
    assert_eq!(users[4].subject, past.with_results.0, "{users:?}");
    let guardian = Identity {
        role: Role::Guardian,
        subject_id: users[3].subject,
        school_id: school,
        within: Default::default(),
    };
    // R0's file, as their guardian: a grade in each trimester (12, then 14).
    for (period, score) in [("Trimestre 1", "12"), ("Trimestre 2", "14")] {
        let file = ask_as(
            app,
            guardian.clone(),
            &format!(
                r#"{{ pupil(id: "{}") {{ class {{ name }} grades(period: "{period}") {{ grades {{ score }} }} }} }}"#,
                past.with_results
            ),
        )
        .await;
        assert_eq!(file["pupil"]["class"]["name"], "2nde B", "{file}");
        assert_eq!(
            file["pupil"]["grades"][0]["grades"][0]["score"], score,
            "{period}: {file}"
        );
    }
    // And the second child, in the live class.
    let second = past
        .moved
        .iter()
        .copied()
        .min()
        .expect("a live class pupil");
    let file = ask_as(
        app,
        guardian,
        &format!(r#"{{ pupil(id: "{second}") {{ class {{ name }} }} }}"#),
    )
    .await;
    assert_eq!(
        file["pupil"]["class"]["name"], "2nde MELEC (en direct)",
        "{file}"
    );
}
