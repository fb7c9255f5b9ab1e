//! Folds a synthetic school of about a million events and times it: the fold alone
//! (events decoded beforehand), decoding included, and *as of* views of one class.
//!
//! `cargo run --release -p suivi-projections --example fold_bench [classes]`
//!
//! The school: `classes` classes (30 by default) of 30 pupils; per class 10 subjects with 24
//! assessments each over 3 trimestres, 30 quizzes of 10 questions, 10 parcours of 6 steps,
//! 60 homework; per pupil 40 absences or latenesses and 30 competency assessments. Events
//! are generated directly (not through `decide`), in time order.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use suivi_domain::envelope::{raw, Actor};
use suivi_domain::events::*;
use suivi_domain::identity::Sealed;
use suivi_domain::ids::*;
use suivi_domain::reference::{PeriodKind, SubjectKind, SOCLE_COMMUN_ID};
use suivi_domain::values::{Coefficient, Grade, Hundredths, MasteryLevel};
use suivi_domain::RecordedEvent;
use suivi_projections::{Logged, ReadModels};
use uuid::Uuid;

fn uid<T: From<Uuid>>(kind: u128, n: u128) -> T {
    T::from(Uuid::from_u128((kind << 96) | n))
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

struct School {
    rng: StdRng,
    events: Vec<(DateTime<Utc>, Event)>,
}

impl School {
    fn push(&mut self, at: DateTime<Utc>, event: Event) {
        self.events.push((at, event));
    }

    fn during_year(&mut self) -> DateTime<Utc> {
        start() + Duration::minutes(self.rng.gen_range(0..(280 * 24 * 60)))
    }
}

fn generate(classes: u128) -> Vec<Logged> {
    let mut s = School {
        rng: StdRng::seed_from_u64(42),
        events: Vec::new(),
    };
    let school: SchoolId = uid(1, 1);
    let year: SchoolYearId = uid(2, 1);
    let t0 = start() - Duration::days(1);
    let d = |m, day| {
        NaiveDate::from_ymd_opt(if m >= 9 { 2025 } else { 2026 }, m, day).unwrap_or_default()
    };
    s.push(
        t0,
        Event::SchoolRegistered(SchoolRegistered {
            school_id: school,
            name: "Lycée".into(),
            nr_counts_as_zero: true,
        }),
    );
    s.push(
        t0,
        Event::SchoolYearDefined(SchoolYearDefined {
            year_id: year,
            label: "2025-2026".into(),
            starts_on: d(9, 1),
            ends_on: d(7, 4),
        }),
    );
    let periods = [
        (d(9, 1), d(11, 30)),
        (d(12, 1), d(3, 15)),
        (d(3, 16), d(7, 4)),
    ];
    for (i, (from, to)) in periods.iter().enumerate() {
        s.push(
            t0,
            Event::PeriodDefined(PeriodDefined {
                period_id: uid(3, i as u128),
                year_id: year,
                name: format!("T{i}"),
                kind: PeriodKind::Trimestre,
                starts_on: *from,
                ends_on: *to,
            }),
        );
    }
    for j in 0..10u128 {
        let kind = if j < 7 {
            SubjectKind::General
        } else {
            SubjectKind::Vocational
        };
        s.push(
            t0,
            Event::SubjectDefined(SubjectDefined {
                subject_id: uid(4, j),
                name: format!("Matière {j}"),
                kind,
                coefficient: Coefficient(Hundredths(100 + 50 * (j as u32 % 3))),
            }),
        );
    }
    for c in 0..classes {
        let class: ClassId = uid(5, c);
        s.push(
            t0,
            Event::ClassOpened(ClassOpened {
                class_id: class,
                year_id: year,
                name: format!("Classe {c}"),
            }),
        );
        let pupils: Vec<PupilId> = (0..30).map(|p| uid(6, c * 100 + p)).collect();
        for (p, pupil) in pupils.iter().enumerate() {
            s.push(
                t0,
                Event::PupilRegistered(PupilRegistered {
                    pupil_id: *pupil,
                    external_id: format!("E{c}-{p}"),
                    identity: Sealed {
                        nonce: "00".repeat(24),
                        ciphertext: "ab".repeat(60),
                    },
                }),
            );
            s.push(
                t0,
                Event::PupilEnrolled(PupilEnrolled {
                    pupil_id: *pupil,
                    class_id: class,
                    on: d(9, 1),
                }),
            );
        }
        // Grades: 10 subjects × 24 assessments.
        for j in 0..10u128 {
            for a in 0..24u128 {
                let period = (a / 8) as usize;
                let date = periods[period].0 + Duration::days(s.rng.gen_range(0..80));
                let at = date.and_hms_opt(17, 0, 0).unwrap_or_default().and_utc();
                let assessment: AssessmentId = uid(7, (c * 1000 + j) * 100 + a);
                let scale = [20, 10, 20, 40][a as usize % 4];
                s.push(
                    at,
                    Event::AssessmentScheduled(AssessmentScheduled {
                        assessment_id: assessment,
                        class_id: class,
                        subject_id: uid(4, j),
                        period_id: uid(3, period as u128),
                        title: "Devoir".into(),
                        date,
                        scale,
                        coefficient: Coefficient(Hundredths(100)),
                    }),
                );
                for pupil in &pupils {
                    let grade = match s.rng.gen_range(0..40) {
                        0 => Grade::Absent,
                        1 => Grade::NotHandedIn,
                        _ => Grade::Score(Hundredths(s.rng.gen_range(0..=u32::from(scale) * 100))),
                    };
                    s.push(
                        at + Duration::minutes(1),
                        Event::GradeRecorded(GradeRecorded {
                            assessment_id: assessment,
                            pupil_id: *pupil,
                            grade,
                        }),
                    );
                }
            }
        }
        // QCM: 30 quizzes × 10 questions, 1 or 2 attempts each.
        for q in 0..30u128 {
            let quiz: QuizId = uid(8, c * 100 + q);
            let at = s.during_year();
            let questions: Vec<QuestionId> =
                (0..10).map(|n| uid(9, (c * 100 + q) * 100 + n)).collect();
            s.push(
                at,
                Event::QuizPublished(QuizPublished {
                    quiz_id: quiz,
                    class_id: class,
                    subject_id: uid(4, q % 10),
                    title: "QCM".into(),
                    max_attempts: 2,
                    questions: questions
                        .iter()
                        .map(|id| QuizQuestion {
                            question_id: *id,
                            prompt: "?".into(),
                            choices: vec!["a".into(), "b".into(), "c".into()],
                            correct_choice: 0,
                        })
                        .collect(),
                }),
            );
            for (p, pupil) in pupils.iter().enumerate() {
                let attempts = 1 + u16::from(s.rng.gen_bool(0.3));
                for n in 1..=attempts {
                    let attempt: AttemptId =
                        uid(10, ((c * 100 + q) * 100 + p as u128) * 10 + u128::from(n));
                    let mut t = at + Duration::minutes(i64::from(n) * 20 + p as i64);
                    s.push(
                        t,
                        Event::AttemptStarted(AttemptStarted {
                            quiz_id: quiz,
                            pupil_id: *pupil,
                            attempt_id: attempt,
                            attempt_no: n,
                            started_at: t,
                            session_id: None,
                        }),
                    );
                    let mut correct = 0;
                    for question in &questions {
                        let answer = s.rng.gen_range(0..3u16);
                        let ms = s.rng.gen_range(5_000..90_000);
                        correct += u16::from(answer == 0);
                        t += Duration::seconds(30);
                        s.push(
                            t,
                            Event::QuestionAnswered(QuestionAnswered {
                                quiz_id: quiz,
                                pupil_id: *pupil,
                                attempt_id: attempt,
                                question_id: *question,
                                answer,
                                correct: answer == 0,
                                time_spent_ms: ms,
                                answered_at: t,
                            }),
                        );
                    }
                    s.push(
                        t,
                        Event::AttemptSubmitted(AttemptSubmitted {
                            quiz_id: quiz,
                            pupil_id: *pupil,
                            attempt_id: attempt,
                            submitted_at: t,
                            correct_count: correct,
                            question_count: 10,
                        }),
                    );
                }
            }
        }
        // Parcours: 10 × 6 steps.
        for r in 0..10u128 {
            let parcours: ParcoursId = uid(11, c * 100 + r);
            let at = s.during_year();
            let steps: Vec<StepId> = (0..6).map(|n| uid(12, (c * 100 + r) * 10 + n)).collect();
            s.push(
                at,
                Event::ParcoursPublished(ParcoursPublished {
                    parcours_id: parcours,
                    class_id: class,
                    title: "Parcours".into(),
                    steps: steps
                        .iter()
                        .map(|id| ParcoursStep {
                            step_id: *id,
                            title: "Étape".into(),
                            kind: StepKind::Resource,
                        })
                        .collect(),
                }),
            );
            for pupil in &pupils {
                let mut t = at + Duration::minutes(s.rng.gen_range(1..30));
                for step in steps.iter().take(s.rng.gen_range(0..=6)) {
                    s.push(
                        t,
                        Event::StepStarted(StepStarted {
                            parcours_id: parcours,
                            pupil_id: *pupil,
                            step_id: *step,
                            at: t,
                            session_id: None,
                        }),
                    );
                    t += Duration::minutes(s.rng.gen_range(1..12));
                    if s.rng.gen_bool(0.2) {
                        s.push(
                            t,
                            Event::StepFailed(StepFailed {
                                parcours_id: parcours,
                                pupil_id: *pupil,
                                step_id: *step,
                                at: t,
                            }),
                        );
                    }
                    s.push(
                        t,
                        Event::StepCompleted(StepCompleted {
                            parcours_id: parcours,
                            pupil_id: *pupil,
                            step_id: *step,
                            at: t,
                        }),
                    );
                }
            }
        }
        // Homework: 60, most pupils deposit.
        for h in 0..60u128 {
            let homework: HomeworkId = uid(13, c * 100 + h);
            let at = s.during_year();
            let due_at = at + Duration::days(7);
            s.push(
                at,
                Event::HomeworkAssigned(HomeworkAssigned {
                    homework_id: homework,
                    class_id: class,
                    subject_id: uid(4, h % 10),
                    title: "Exercices".into(),
                    assigned_on: at.date_naive(),
                    due_at,
                }),
            );
            for pupil in &pupils {
                if s.rng.gen_bool(0.9) {
                    let when = due_at - Duration::hours(s.rng.gen_range(-24..72));
                    s.push(
                        when,
                        Event::HomeworkDeposited(HomeworkDeposited {
                            homework_id: homework,
                            pupil_id: *pupil,
                            deposited_at: when,
                            file_name: "copie.pdf".into(),
                            size_bytes: 10_000,
                            sha256: "0".repeat(64),
                        }),
                    );
                }
            }
        }
        // Attendance and competencies.
        for (p, pupil) in pupils.iter().enumerate() {
            for n in 0..40u128 {
                let at = s.during_year();
                let record: AttendanceId = uid(14, (c * 100 + p as u128) * 100 + n);
                if n % 2 == 0 {
                    s.push(
                        at,
                        Event::AbsenceRecorded(AbsenceRecorded {
                            absence_id: record,
                            pupil_id: *pupil,
                            starts_at: at,
                            ends_at: at + Duration::hours(4),
                            half_days: 1,
                            lessons: 4,
                        }),
                    );
                } else {
                    s.push(
                        at,
                        Event::LatenessRecorded(LatenessRecorded {
                            lateness_id: record,
                            pupil_id: *pupil,
                            at,
                            minutes: 5,
                        }),
                    );
                }
                if n % 5 == 0 {
                    s.push(
                        at + Duration::days(1),
                        Event::AbsenceJustified(AbsenceJustified {
                            record_id: record,
                            pupil_id: *pupil,
                            reason: "malade".into(),
                        }),
                    );
                }
            }
            for n in 0..30u8 {
                let at = s.during_year();
                let component = ["D1.1", "D1.2", "D2", "D3", "D4", "D5"][usize::from(n) % 6];
                s.push(
                    at,
                    Event::CompetencyAssessed(CompetencyAssessed {
                        pupil_id: *pupil,
                        framework_id: SOCLE_COMMUN_ID,
                        component: component.into(),
                        level: MasteryLevel(1 + n % 4),
                        on: at.date_naive(),
                        teacher_id: None,
                    }),
                );
            }
        }
    }
    s.events.sort_by_key(|(at, _)| *at);
    s.events
        .into_iter()
        .enumerate()
        .map(|(i, (occurred_at, event))| Logged {
            position: i as u64 + 1,
            occurred_at,
            school_id: school,
            event,
        })
        .collect()
}

fn to_recorded(logged: &Logged) -> RecordedEvent {
    RecordedEvent {
        global_position: logged.position,
        stream: logged.event.stream(logged.school_id),
        stream_version: 1,
        event_id: EventId(Uuid::from_u128(u128::from(logged.position))),
        event_type: logged.event.event_type().to_owned(),
        schema_version: logged.event.schema_version(),
        occurred_at: logged.occurred_at,
        recorded_at: logged.occurred_at,
        school_id: logged.school_id,
        actor: Actor::System("bench".into()),
        correlation_id: None,
        causation_id: None,
        payload: raw(logged.event.payload_json()),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

fn main() {
    let classes: u128 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    let t = Instant::now();
    let events = generate(classes);
    let n = events.len();
    println!(
        "generated {n} events for {classes} classes in {:.2?}",
        t.elapsed()
    );

    for round in 0..3 {
        let copy = events.clone();
        let t = Instant::now();
        let models = ReadModels::rebuild_decoded(copy);
        let elapsed = t.elapsed();
        println!(
            "fold (decoded, journaled) round {round}: {elapsed:.2?} = {:.2} M events/s ({} journaled)",
            n as f64 / elapsed.as_secs_f64() / 1e6,
            models.journaled_events()
        );
    }

    let recorded: Vec<RecordedEvent> = events.iter().map(to_recorded).collect();
    let t = Instant::now();
    let models = ReadModels::rebuild(&recorded);
    let elapsed = t.elapsed();
    println!(
        "rebuild with JSON decoding: {elapsed:.2?} = {:.2} M events/s",
        n as f64 / elapsed.as_secs_f64() / 1e6
    );
    drop(recorded);

    let mid_year = Utc
        .with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
        .single()
        .unwrap_or_default();
    let mut times = Vec::new();
    for round in 0..100u128 {
        let class: ClassId = uid(5, round % classes);
        let t = Instant::now();
        let view = models.as_of_class(class, mid_year);
        let report = view.class_report(class, uid(3, 1));
        let elapsed = t.elapsed().as_secs_f64() * 1000.0;
        assert!(!report.subjects.is_empty());
        times.push(elapsed);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "as of 15 January, one class + its report: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0)
    );

    let class: ClassId = uid(5, 0);
    let now = mid_year;
    let t = Instant::now();
    let mut total = 0;
    for _ in 0..100 {
        // A clone starts with an empty memo: each round computes the report, as the first
        // reader of a new snapshot does.
        let models = models.clone();
        total += models.class_report(class, uid(3, 1)).subjects.len();
        total += models.class_homework(class, now).len();
        total += models.quizzes_of(class).len();
    }
    println!(
        "live class report + homework, per read: {:.2?} ({total})",
        t.elapsed() / 100
    );
}
