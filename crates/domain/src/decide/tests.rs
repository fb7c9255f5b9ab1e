//! Given events, when a command, then events or an error.

use super::*;
use crate::identity::Sealed;
use crate::reference::{PeriodKind, SubjectKind, SOCLE_COMMUN_ID};
use crate::values::{Coefficient, Grade, Hundredths, MasteryLevel};
use crate::Role;
use chrono::{NaiveDate, TimeZone};
use uuid::Uuid;

fn id<T: From<Uuid>>(n: u128) -> T {
    T::from(Uuid::from_u128(n))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

const SCHOOL: u128 = 1;
const YEAR: u128 = 2;
const T1: u128 = 3;
const MATHS: u128 = 10;
const C2A: u128 = 20;
const C2B: u128 = 21;
const PROF: u128 = 30;
const LEA: u128 = 40;
const TOM: u128 = 41;
const DS1: u128 = 50;
const QUIZ: u128 = 60;
const Q1: u128 = 61;
const Q2: u128 = 62;
const PARCOURS: u128 = 70;
const STEP1: u128 = 71;
const STEP2: u128 = 72;
const HW: u128 = 80;

/// A school with one year (2025-09-01..2026-07-04), trimestre 1, maths, classes 2A and 2B,
/// a teacher, Léa enrolled in 2A on 1 September, Tom registered but not enrolled, a /20
/// test in 2A on 10 October, a 2-question quiz allowing 2 attempts, a 2-step parcours and
/// a homework due 15 October 18:00.
fn school() -> Vec<Event> {
    let sealed = || Sealed {
        nonce: "00".repeat(24),
        ciphertext: "ab".repeat(20),
    };
    vec![
        Event::SchoolRegistered(SchoolRegistered {
            school_id: id(SCHOOL),
            name: "Lycée Jean Moulin".into(),
            nr_counts_as_zero: true,
        }),
        Event::SchoolYearDefined(SchoolYearDefined {
            year_id: id(YEAR),
            label: "2025-2026".into(),
            starts_on: date(2025, 9, 1),
            ends_on: date(2026, 7, 4),
        }),
        Event::PeriodDefined(PeriodDefined {
            period_id: id(T1),
            year_id: id(YEAR),
            name: "T1".into(),
            kind: PeriodKind::Trimestre,
            starts_on: date(2025, 9, 1),
            ends_on: date(2025, 11, 30),
        }),
        Event::SubjectDefined(SubjectDefined {
            subject_id: id(MATHS),
            name: "Mathématiques".into(),
            kind: SubjectKind::General,
            coefficient: Coefficient(Hundredths(300)),
        }),
        Event::ClassOpened(ClassOpened {
            class_id: id(C2A),
            year_id: id(YEAR),
            name: "2nde A".into(),
        }),
        Event::ClassOpened(ClassOpened {
            class_id: id(C2B),
            year_id: id(YEAR),
            name: "2nde B".into(),
        }),
        Event::TeacherRegistered(TeacherRegistered {
            teacher_id: id(PROF),
            display_name: "M. Durand".into(),
            email: None,
        }),
        Event::PupilRegistered(PupilRegistered {
            pupil_id: id(LEA),
            external_id: "E-001".into(),
            identity: sealed(),
        }),
        Event::PupilRegistered(PupilRegistered {
            pupil_id: id(TOM),
            external_id: "E-002".into(),
            identity: sealed(),
        }),
        Event::PupilEnrolled(PupilEnrolled {
            pupil_id: id(LEA),
            class_id: id(C2A),
            on: date(2025, 9, 1),
        }),
        Event::AssessmentScheduled(AssessmentScheduled {
            assessment_id: id(DS1),
            class_id: id(C2A),
            subject_id: id(MATHS),
            period_id: id(T1),
            title: "DS 1".into(),
            date: date(2025, 10, 10),
            scale: 20,
            coefficient: Coefficient::ONE,
        }),
        Event::QuizPublished(QuizPublished {
            quiz_id: id(QUIZ),
            class_id: id(C2A),
            subject_id: id(MATHS),
            title: "Fractions".into(),
            max_attempts: 2,
            questions: vec![
                QuizQuestion {
                    question_id: id(Q1),
                    prompt: "1/2 + 1/4 ?".into(),
                    choices: vec!["3/4".into(), "2/6".into()],
                    correct_choice: 0,
                },
                QuizQuestion {
                    question_id: id(Q2),
                    prompt: "2/3 × 3 ?".into(),
                    choices: vec!["6/9".into(), "2".into(), "5/3".into()],
                    correct_choice: 1,
                },
            ],
        }),
        Event::ParcoursPublished(ParcoursPublished {
            parcours_id: id(PARCOURS),
            class_id: id(C2A),
            title: "Fractions pas à pas".into(),
            steps: vec![
                ParcoursStep {
                    step_id: id(STEP1),
                    title: "Cours".into(),
                    kind: StepKind::Resource,
                },
                ParcoursStep {
                    step_id: id(STEP2),
                    title: "QCM".into(),
                    kind: StepKind::Quiz { quiz_id: id(QUIZ) },
                },
            ],
        }),
        Event::HomeworkAssigned(HomeworkAssigned {
            homework_id: id(HW),
            class_id: id(C2A),
            subject_id: id(MATHS),
            title: "Exercices p. 42".into(),
            assigned_on: date(2025, 10, 8),
            due_at: at(2025, 10, 15, 18, 0),
        }),
    ]
}

/// Folds `history` (each event checked, as the log would have it), then decides `command`.
fn given(history: Vec<Event>) -> SchoolState {
    let mut state = SchoolState::new(id(SCHOOL));
    for event in history {
        check(&state, &event).unwrap_or_else(|e| panic!("given {event:?}: {e}"));
        state.evolve(&event);
    }
    state
}

fn with(mut history: Vec<Event>, more: impl IntoIterator<Item = Event>) -> Vec<Event> {
    history.extend(more);
    history
}

fn grade(pupil: u128, g: Grade) -> Command {
    Command::RecordGrade(GradeRecorded {
        assessment_id: id(DS1),
        pupil_id: id(pupil),
        grade: g,
    })
}

fn recorded(pupil: u128, g: Grade) -> Event {
    Event::GradeRecorded(GradeRecorded {
        assessment_id: id(DS1),
        pupil_id: id(pupil),
        grade: g,
    })
}

fn start(attempt: u128, minute: u32) -> Command {
    Command::StartAttempt(StartAttempt {
        quiz_id: id(QUIZ),
        pupil_id: id(LEA),
        attempt_id: id(attempt),
        started_at: at(2025, 10, 12, 10, minute),
        session_id: None,
    })
}

fn answer(attempt: u128, question: u128, choice: u16) -> Command {
    Command::AnswerQuestion(AnswerQuestion {
        quiz_id: id(QUIZ),
        pupil_id: id(LEA),
        attempt_id: id(attempt),
        question_id: id(question),
        answer: choice,
        time_spent_ms: 12_000,
        answered_at: at(2025, 10, 12, 10, 30),
    })
}

fn submit(attempt: u128) -> Command {
    Command::SubmitAttempt(SubmitAttempt {
        quiz_id: id(QUIZ),
        pupil_id: id(LEA),
        attempt_id: id(attempt),
        submitted_at: at(2025, 10, 12, 10, 40),
    })
}

/// Runs commands in order against `state`, folding what each decides.
fn run(state: &mut SchoolState, commands: Vec<Command>) -> Result<Vec<Event>, DomainError> {
    let mut all = vec![];
    for c in commands {
        for e in decide(state, c)? {
            state.evolve(&e);
            all.push(e);
        }
    }
    Ok(all)
}

#[test]
fn a_score_within_the_scale_is_recorded() {
    let events = decide(&given(school()), grade(LEA, Grade::Score(Hundredths(2000)))).unwrap();
    assert_eq!(events, vec![recorded(LEA, Grade::Score(Hundredths(2000)))]);
}

#[test]
fn a_score_above_the_scale_is_refused_naming_it() {
    let err = decide(&given(school()), grade(LEA, Grade::Score(Hundredths(2300)))).unwrap_err();
    assert_eq!(
        err,
        DomainError::ScoreOutOfScale {
            score: Hundredths(2300),
            scale: 20,
            assessment: id(DS1)
        }
    );
    assert_eq!(
        err.to_string(),
        "grade 23 exceeds the scale /20 of assessment 00000000-0000-0000-0000-000000000032"
    );
}

#[test]
fn a_second_grade_is_refused_but_a_correction_is_accepted() {
    let history = with(school(), [recorded(LEA, Grade::Absent)]);
    assert_eq!(
        decide(
            &given(history.clone()),
            grade(LEA, Grade::Score(Hundredths(1200)))
        ),
        Err(DomainError::AlreadyGraded {
            pupil: id(LEA),
            assessment: id(DS1)
        })
    );
    let correction = Command::CorrectGrade(GradeCorrected {
        assessment_id: id(DS1),
        pupil_id: id(LEA),
        grade: Grade::Score(Hundredths(1200)),
        reason: Some("rattrapage".into()),
    });
    assert_eq!(decide(&given(history), correction).unwrap().len(), 1);
}

#[test]
fn a_correction_needs_a_grade_to_correct() {
    let correction = Command::CorrectGrade(GradeCorrected {
        assessment_id: id(DS1),
        pupil_id: id(LEA),
        grade: Grade::NotHandedIn,
        reason: None,
    });
    assert_eq!(
        decide(&given(school()), correction),
        Err(DomainError::NotGraded {
            pupil: id(LEA),
            assessment: id(DS1)
        })
    );
}

#[test]
fn only_pupils_enrolled_in_the_class_on_the_date_are_graded() {
    assert_eq!(
        decide(&given(school()), grade(TOM, Grade::Absent)),
        Err(DomainError::NotEnrolled {
            pupil: id(TOM),
            class: id(C2A),
            date: date(2025, 10, 10)
        })
    );
    // Léa moves to 2B on 6 October: the 10 October test in 2A is no longer hers.
    let moved = with(
        school(),
        [Event::PupilTransferred(PupilTransferred {
            pupil_id: id(LEA),
            from_class_id: id(C2A),
            to_class_id: id(C2B),
            on: date(2025, 10, 6),
        })],
    );
    assert!(matches!(
        decide(&given(moved), grade(LEA, Grade::Absent)),
        Err(DomainError::NotEnrolled { .. })
    ));
}

#[test]
fn unknown_ids_are_refused_with_the_id() {
    let err = decide(
        &given(school()),
        Command::RecordGrade(GradeRecorded {
            assessment_id: id(999),
            pupil_id: id(LEA),
            grade: Grade::Absent,
        }),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown assessment 00000000-0000-0000-0000-0000000003e7"
    );
    assert_eq!(err.code(), "NOT_FOUND");
    assert!(matches!(
        decide(&given(school()), grade(998, Grade::Absent)),
        Err(DomainError::Unknown { kind: "pupil", .. })
    ));
}

#[test]
fn nothing_is_accepted_before_the_school_is_registered() {
    assert_eq!(
        decide(&SchoolState::new(id(SCHOOL)), grade(LEA, Grade::Absent)),
        Err(DomainError::SchoolNotRegistered(id(SCHOOL)))
    );
}

#[test]
fn dates_outside_the_school_year_are_refused() {
    let lateness = Command::RecordLateness(LatenessRecorded {
        lateness_id: id(500),
        pupil_id: id(LEA),
        at: at(2026, 8, 2, 8, 10),
        minutes: 10,
    });
    assert_eq!(
        decide(&given(school()), lateness),
        Err(DomainError::OutsideSchoolYear {
            date: date(2026, 8, 2)
        })
    );
    let test_in_december = Command::ScheduleAssessment(AssessmentScheduled {
        assessment_id: id(51),
        class_id: id(C2A),
        subject_id: id(MATHS),
        period_id: id(T1),
        title: "DS 2".into(),
        date: date(2025, 12, 12),
        scale: 20,
        coefficient: Coefficient::ONE,
    });
    assert!(matches!(
        decide(&given(school()), test_in_december),
        Err(DomainError::OutsidePeriod { date, .. }) if date == self::date(2025, 12, 12)
    ));
}

#[test]
fn attempts_beyond_the_allowed_number_are_refused() {
    let mut state = given(school());
    let events = run(
        &mut state,
        vec![start(100, 0), submit(100), start(101, 20), submit(101)],
    )
    .unwrap();
    let numbers: Vec<u16> = events
        .iter()
        .filter_map(|e| match e {
            Event::AttemptStarted(a) => Some(a.attempt_no),
            _ => None,
        })
        .collect();
    assert_eq!(numbers, vec![1, 2]);
    assert_eq!(
        decide(&state, start(102, 50)),
        Err(DomainError::AttemptsExhausted {
            pupil: id(LEA),
            quiz: id(QUIZ),
            max: 2
        })
    );
}

#[test]
fn an_attempt_cannot_start_while_another_is_open() {
    let mut state = given(school());
    run(&mut state, vec![start(100, 0)]).unwrap();
    assert_eq!(
        decide(&state, start(101, 5)),
        Err(DomainError::AttemptStillOpen {
            pupil: id(LEA),
            quiz: id(QUIZ),
            attempt: id(100)
        })
    );
}

#[test]
fn answers_need_an_open_attempt_and_correctness_comes_from_the_key() {
    let mut state = given(school());
    assert_eq!(
        decide(&state, answer(100, Q1, 0)),
        Err(DomainError::NoOpenAttempt {
            pupil: id(LEA),
            quiz: id(QUIZ),
            attempt: id(100)
        })
    );
    let events = run(
        &mut state,
        vec![
            start(100, 0),
            answer(100, Q1, 1),
            answer(100, Q1, 0),
            answer(100, Q2, 2),
            submit(100),
        ],
    )
    .unwrap();
    let correctness: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            Event::QuestionAnswered(a) => Some(a.correct),
            _ => None,
        })
        .collect();
    assert_eq!(correctness, vec![false, true, false]);
    // Last answer per question counts: Q1 right (second try), Q2 wrong → 1/2.
    match events.last() {
        Some(Event::AttemptSubmitted(s)) => assert_eq!((s.correct_count, s.question_count), (1, 2)),
        other => panic!("expected a submission, got {other:?}"),
    }
    assert!(matches!(
        decide(&state, answer(100, Q1, 0)),
        Err(DomainError::NoOpenAttempt { .. })
    ));
}

#[test]
fn a_forged_correct_flag_is_refused() {
    let mut state = given(school());
    run(&mut state, vec![start(100, 0)]).unwrap();
    let forged = Event::QuestionAnswered(QuestionAnswered {
        quiz_id: id(QUIZ),
        pupil_id: id(LEA),
        attempt_id: id(100),
        question_id: id(Q1),
        answer: 1,
        correct: true,
        time_spent_ms: 1_000,
        answered_at: at(2025, 10, 12, 10, 1),
    });
    assert_eq!(
        check(&state, &forged),
        Err(DomainError::Inconsistent {
            field: "correct",
            recorded: "true".into(),
            derived: "false".into()
        })
    );
}

#[test]
fn an_answer_outside_the_choices_is_refused() {
    let mut state = given(school());
    run(&mut state, vec![start(100, 0)]).unwrap();
    let err = decide(&state, answer(100, Q1, 7)).unwrap_err();
    assert!(err.to_string().contains("choice 7"), "{err}");
}

#[test]
fn no_deposit_for_an_unknown_homework() {
    let deposit = |homework: u128| {
        Command::DepositHomework(HomeworkDeposited {
            homework_id: id(homework),
            pupil_id: id(LEA),
            deposited_at: at(2025, 10, 14, 20, 0),
            file_name: "exercices.pdf".into(),
            size_bytes: 48_213,
            sha256: "a".repeat(64),
        })
    };
    assert_eq!(
        decide(&given(school()), deposit(81)),
        Err(DomainError::Unknown {
            kind: "homework",
            id: id::<HomeworkId>(81).to_string()
        })
    );
    assert!(decide(&given(school()), deposit(HW)).is_ok());
}

#[test]
fn steps_are_completed_only_after_they_are_started_and_in_order() {
    let step = |step: u128, minute: u32| StepStarted {
        parcours_id: id(PARCOURS),
        pupil_id: id(LEA),
        step_id: id(step),
        at: at(2025, 10, 12, 9, minute),
        session_id: None,
    };
    let complete = |s: u128, minute: u32| {
        Command::CompleteStep(StepCompleted {
            parcours_id: id(PARCOURS),
            pupil_id: id(LEA),
            step_id: id(s),
            at: at(2025, 10, 12, 9, minute),
        })
    };
    let mut state = given(school());
    assert_eq!(
        decide(&state, complete(STEP1, 5)),
        Err(DomainError::StepNotStarted {
            pupil: id(LEA),
            parcours: id(PARCOURS),
            step: id(STEP1)
        })
    );
    assert_eq!(
        decide(&state, Command::StartStep(step(STEP2, 0))),
        Err(DomainError::StepOutOfOrder {
            pupil: id(LEA),
            parcours: id(PARCOURS),
            step: id(STEP2),
            previous: id(STEP1)
        })
    );
    run(
        &mut state,
        vec![Command::StartStep(step(STEP1, 0)), complete(STEP1, 5)],
    )
    .unwrap();
    assert!(matches!(
        decide(&state, complete(STEP1, 6)),
        Err(DomainError::StepAlreadyCompleted { .. })
    ));
    assert!(decide(&state, Command::StartStep(step(STEP2, 6))).is_ok());
}

#[test]
fn an_absence_is_justified_once() {
    let mut state = given(school());
    let justify = Command::JustifyAbsence(AbsenceJustified {
        record_id: id(600),
        pupil_id: id(LEA),
        reason: "certificat médical".into(),
    });
    assert!(matches!(
        decide(&state, justify.clone()),
        Err(DomainError::Unknown {
            kind: "absence or lateness",
            ..
        })
    ));
    run(
        &mut state,
        vec![
            Command::RecordAbsence(AbsenceRecorded {
                absence_id: id(600),
                pupil_id: id(LEA),
                starts_at: at(2025, 11, 3, 8, 0),
                ends_at: at(2025, 11, 3, 17, 0),
                half_days: 2,
                lessons: 7,
            }),
            justify.clone(),
        ],
    )
    .unwrap();
    assert_eq!(
        decide(&state, justify),
        Err(DomainError::AlreadyJustified {
            kind: "absence",
            id: id(600)
        })
    );
}

#[test]
fn competencies_use_the_built_in_socle_commun() {
    let assess = |component: &str, level: u8| {
        Command::AssessCompetency(CompetencyAssessed {
            pupil_id: id(LEA),
            framework_id: SOCLE_COMMUN_ID,
            component: component.into(),
            level: MasteryLevel(level),
            on: date(2025, 11, 20),
            teacher_id: Some(id(PROF)),
        })
    };
    let state = given(school());
    assert!(decide(&state, assess("D1.3", 4)).is_ok());
    assert_eq!(
        decide(&state, assess("D9", 2)),
        Err(DomainError::Unknown {
            kind: "component",
            id: "D9".into()
        })
    );
    assert!(decide(&state, assess("D2", 5))
        .unwrap_err()
        .to_string()
        .contains("5 is not between 1 and 4"));
}

#[test]
fn a_pupil_is_enrolled_once_then_transferred() {
    let state = given(school());
    assert_eq!(
        decide(
            &state,
            Command::EnrolPupil(PupilEnrolled {
                pupil_id: id(LEA),
                class_id: id(C2B),
                on: date(2025, 10, 1)
            })
        ),
        Err(DomainError::AlreadyEnrolled {
            pupil: id(LEA),
            class: id(C2A)
        })
    );
}

#[test]
fn reference_names_are_unique() {
    let state = given(school());
    assert_eq!(
        decide(
            &state,
            Command::OpenClass(ClassOpened {
                class_id: id(22),
                year_id: id(YEAR),
                name: "2nde A".into()
            })
        ),
        Err(DomainError::DuplicateName {
            kind: "class",
            name: "2nde A".into()
        })
    );
}

#[test]
fn results_are_withheld_and_published_once_each_and_only_for_a_known_assessment() {
    let withhold = |n: u128| {
        Command::WithholdResults(ResultsWithheld {
            assessment_id: id(n),
        })
    };
    let publish = |n: u128| {
        Command::PublishResults(ResultsPublished {
            assessment_id: id(n),
        })
    };
    let mut state = given(school());
    // Published by default: publishing again says so.
    let err = decide(&state, publish(DS1)).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("already published"), "{err}");
    let events = run(&mut state, vec![withhold(DS1)]).unwrap();
    assert_eq!(
        events,
        vec![Event::ResultsWithheld(ResultsWithheld {
            assessment_id: id(DS1)
        })]
    );
    let err = decide(&state, withhold(DS1)).unwrap_err();
    assert!(err.to_string().contains("already withheld"), "{err}");
    // Grades are still recorded while withheld.
    assert_eq!(
        run(&mut state, vec![grade(LEA, Grade::Absent), publish(DS1)])
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        decide(&state, withhold(999)),
        Err(DomainError::unknown("assessment", id::<AssessmentId>(999)))
    );
}

#[test]
fn an_enrolment_ends_once_after_it_began_and_frees_the_pupil() {
    let leaves = |class: u128, on: NaiveDate| {
        Command::EndEnrolment(EnrolmentEnded {
            pupil_id: id(LEA),
            class_id: id(class),
            on,
        })
    };
    let mut state = given(school());
    // Léa is in 2A, not 2B; she cannot leave on the day she arrived.
    assert_eq!(
        decide(&state, leaves(C2B, date(2025, 11, 3))),
        Err(DomainError::NotEnrolled {
            pupil: id(LEA),
            class: id(C2B),
            date: date(2025, 11, 3)
        })
    );
    assert!(decide(&state, leaves(C2A, date(2025, 9, 1)))
        .unwrap_err()
        .to_string()
        .contains("is not after the enrolment of 2025-09-01"));
    assert_eq!(
        decide(&state, leaves(C2A, date(2026, 8, 1))),
        Err(DomainError::OutsideSchoolYear {
            date: date(2026, 8, 1)
        })
    );
    let events = run(&mut state, vec![leaves(C2A, date(2025, 11, 3))]).unwrap();
    assert_eq!(
        events,
        vec![Event::EnrolmentEnded(EnrolmentEnded {
            pupil_id: id(LEA),
            class_id: id(C2A),
            on: date(2025, 11, 3)
        })]
    );
    // Then: in 2A until 2 November only, no current class, and leaving twice is refused.
    let lea = &state.pupils[&id(LEA)];
    assert_eq!(lea.class_on(date(2025, 11, 2)), Some(id(C2A)));
    assert_eq!(lea.class_on(date(2025, 11, 3)), None);
    assert_eq!(lea.current_class(), None);
    assert!(matches!(
        decide(&state, leaves(C2A, date(2025, 11, 10))),
        Err(DomainError::NotEnrolled { .. })
    ));
    // She may enrol again later.
    assert!(run(
        &mut state,
        vec![Command::EnrolPupil(PupilEnrolled {
            pupil_id: id(LEA),
            class_id: id(C2B),
            on: date(2026, 1, 5)
        })]
    )
    .is_ok());
}

fn link(subject: &str, role: Role, person: u128) -> Command {
    Command::LinkIdentity(IdentityLinked {
        provider: "https://ent.example".into(),
        subject: subject.into(),
        role,
        person_id: Uuid::from_u128(person),
    })
}

fn unlink(subject: &str) -> Command {
    Command::UnlinkIdentity(IdentityUnlinked {
        provider: "https://ent.example".into(),
        subject: subject.into(),
    })
}

#[test]
fn an_account_is_linked_to_a_known_person_once_and_unlinked_once() {
    let mut state = given(school());
    run(
        &mut state,
        vec![
            link("prof-1", Role::Teacher, PROF),
            link("eleve-1", Role::Pupil, LEA),
        ],
    )
    .expect("a teacher and a pupil of the school");
    assert_eq!(
        state
            .identity_links
            .get(&("https://ent.example".to_owned(), "prof-1".to_owned())),
        Some(&(Role::Teacher, Uuid::from_u128(PROF)))
    );
    // A subject names one person: linking it again is refused, whoever it names.
    let again = decide(&state, link("prof-1", Role::Pupil, LEA)).unwrap_err();
    assert!(
        matches!(
            again,
            DomainError::AlreadyExists {
                kind: "identity link",
                ..
            }
        ),
        "{again}"
    );
    // The person must exist in the role given: no teacher 999, Léa is no teacher, no guardian yet.
    for (role, person) in [
        (Role::Teacher, 999),
        (Role::HeadTeacher, LEA),
        (Role::Guardian, PROF),
        (Role::Pupil, PROF),
    ] {
        let err = decide(&state, link("x", role, person)).unwrap_err();
        assert!(
            matches!(err, DomainError::Unknown { .. }),
            "{role:?} {person}: {err}"
        );
    }
    // An administrator's link cannot carry a pupil's id, nor the nil id.
    for person in [LEA, 0] {
        let err = decide(&state, link("admin-1", Role::Admin, person)).unwrap_err();
        assert!(
            matches!(
                err,
                DomainError::Invalid {
                    field: "person_id",
                    ..
                }
            ),
            "{err}"
        );
    }
    assert!(decide(&state, link("admin-1", Role::Admin, 999)).is_ok());
    // A provider that is no URL, a subject with a trailing space: refused.
    let mut odd = link("prof-2", Role::Teacher, PROF);
    if let Command::LinkIdentity(e) = &mut odd {
        e.provider = "ent.example".into();
    }
    assert!(matches!(
        decide(&state, odd).unwrap_err(),
        DomainError::Invalid {
            field: "provider",
            ..
        }
    ));
    assert!(matches!(
        decide(&state, link("prof-2 ", Role::Teacher, PROF)).unwrap_err(),
        DomainError::Invalid {
            field: "subject",
            ..
        }
    ));
    // An empty or over-long subject is refused before anything else.
    assert!(matches!(
        decide(&state, link(" ", Role::Admin, 1)).unwrap_err(),
        DomainError::Invalid {
            field: "subject",
            ..
        }
    ));
    assert!(matches!(
        decide(&state, link(&"s".repeat(201), Role::Admin, 1)).unwrap_err(),
        DomainError::Invalid {
            field: "subject",
            ..
        }
    ));
    // Unlinking: once; then the subject may be linked again, to someone else.
    run(&mut state, vec![unlink("prof-1")]).expect("linked");
    let twice = decide(&state, unlink("prof-1")).unwrap_err();
    assert!(
        matches!(
            twice,
            DomainError::Unknown {
                kind: "identity link",
                ..
            }
        ),
        "{twice}"
    );
    run(&mut state, vec![link("prof-1", Role::Pupil, TOM)]).expect("free again");
    assert_eq!(
        state
            .identity_links
            .get(&("https://ent.example".to_owned(), "prof-1".to_owned())),
        Some(&(Role::Pupil, Uuid::from_u128(TOM)))
    );
}

#[test]
fn a_teachers_email_is_one_address_or_none() {
    let state = given(school());
    let register = |email: Option<&str>| {
        crate::decide(
            &state,
            Command::RegisterTeacher(TeacherRegistered {
                teacher_id: id(0x7e57),
                display_name: "Mme Lefèvre".into(),
                email: email.map(str::to_owned),
            }),
        )
    };
    assert!(register(None).is_ok());
    assert!(register(Some("claire.lefevre@ac-lyon.fr")).is_ok());
    for bad in [
        "claire.lefevre",
        "@ac-lyon.fr",
        "claire@lyon",
        "claire@.fr",
        "claire @ac-lyon.fr",
        "a@b@ac-lyon.fr",
    ] {
        let refused = register(Some(bad)).expect_err(bad);
        assert!(refused.to_string().contains("email"), "{bad}: {refused}");
    }
}
