//! For random logs of valid events (made by `decide` from random commands): the
//! incremental fold, the rebuild from scratch and a naive recomputation agree on every
//! dashboard, for every prefix of the log; an *as of* view agrees with the naive
//! recomputation over the events that had occurred by then; and a published snapshot is
//! never changed by later events.

mod common;
mod generator;
mod naive;

use chrono::{DateTime, Duration, Utc};
use common::*;
use generator::*;
use naive::{mean, min_max, Naive, Q};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use suivi_domain::ids::*;
use suivi_domain::reference::SOCLE_COMMUN_ID;
use suivi_projections::homework::HomeworkStatus;
use suivi_projections::{ParcoursConfig, ParcoursStatus, ReadModels, TimeQuery};

fn same(q: Option<Q>, r: Option<suivi_projections::Ratio>) -> bool {
    match (q, r) {
        (Some(q), Some(r)) => q.same(r),
        (None, None) => true,
        _ => false,
    }
}

fn status_name(s: ParcoursStatus) -> &'static str {
    match s {
        ParcoursStatus::NotStarted => "NOT_STARTED",
        ParcoursStatus::Progressing => "PROGRESSING",
        ParcoursStatus::Stalled => "STALLED",
        ParcoursStatus::Finished => "FINISHED",
        ParcoursStatus::FinishedEarly => "FINISHED_EARLY",
    }
}

/// Every dashboard of the given classes (and their pupils), model against naive.
fn check(
    m: &ReadModels,
    naive: &Naive,
    classes: &[u128],
    pupils: &[PupilId],
    now: DateTime<Utc>,
    context: &str,
) {
    for class in classes.iter().map(|c| id::<ClassId>(*c)) {
        for period in PERIODS.map(id::<PeriodId>) {
            let report = m.class_report(class, period);
            let averages = naive.averages(class, period);
            let got: Vec<SubjectId> = report.subjects.iter().map(|s| s.subject_id).collect();
            let mut want: Vec<SubjectId> = averages.keys().copied().collect();
            want.sort_by_key(|s| naive.subject(*s).map(|x| x.name.clone()));
            assert_eq!(got, want, "{context}: subjects of {class} in {period}");
            for line in &report.subjects {
                let pupils = &averages[&line.subject_id];
                assert_eq!(line.pupils.len(), pupils.len(), "{context}: pupils graded");
                for (p, avg) in pupils {
                    assert!(
                        same(Some(*avg), line.pupils.get(p).copied()),
                        "{context}: average of {p}: {avg:?} vs {:?}",
                        line.pupils.get(p)
                    );
                }
                let values: Vec<Q> = pupils.values().copied().collect();
                let spread = line
                    .class
                    .expect("a subject with averages has class figures");
                let (lo, hi) = min_max(&values).expect("values");
                assert!(
                    same(mean(&values), Some(spread.mean))
                        && lo.same(spread.min)
                        && hi.same(spread.max),
                    "{context}: class spread"
                );
                assert_eq!(spread.count as usize, values.len());
            }
            let general = naive.general(class, period);
            assert_eq!(
                report.general.len(),
                general.len(),
                "{context}: general averages"
            );
            for (p, avg) in &general {
                assert!(
                    same(Some(*avg), report.general.get(p).copied()),
                    "{context}: general average of {p}"
                );
            }
            let values: Vec<Q> = general.values().copied().collect();
            assert_eq!(
                report.general_class.map(|s| s.count as usize).unwrap_or(0),
                values.len()
            );
            assert!(
                same(mean(&values), report.general_class.map(|s| s.mean)),
                "{context}: general class mean"
            );
            for pupil in PUPILS.map(id::<PupilId>) {
                let profile = m.spider(class, pupil, period).profile;
                let (label, g, v, gap) = naive.profile(class, pupil, period);
                let got = match profile.label {
                    suivi_projections::ProfileLabel::Balanced => "BALANCED",
                    suivi_projections::ProfileLabel::VocationalStrong => "VOCATIONAL_STRONG",
                    suivi_projections::ProfileLabel::GeneralStrong => "GENERAL_STRONG",
                };
                assert_eq!(got, label, "{context}: profile of {pupil}");
                assert!(
                    same(g, profile.general_mean)
                        && same(v, profile.vocational_mean)
                        && same(gap, profile.gap),
                    "{context}: profile figures"
                );
            }
            let table = m.class_attendance(class, period);
            let members = naive.members_during(
                class,
                naive
                    .period(period)
                    .map_or(now.date_naive(), |p| p.starts_on),
                naive.period(period).map_or(now.date_naive(), |p| p.ends_on),
            );
            assert_eq!(
                table
                    .keys()
                    .copied()
                    .collect::<std::collections::BTreeSet<_>>(),
                members.iter().copied().collect(),
                "{context}: attendance table"
            );
            for (pupil, s) in &table {
                let got = [
                    s.half_days,
                    s.half_days_justified,
                    s.lessons,
                    s.lessons_justified,
                    s.latenesses,
                    s.lateness_minutes,
                    s.latenesses_justified,
                ];
                assert_eq!(
                    got,
                    naive.attendance(*pupil, period, Some(class)),
                    "{context}: attendance of {pupil} in {class}"
                );
            }
        }
        for a in naive.assessments(class, None) {
            let stats = m
                .assessment_stats(a.assessment_id)
                .expect("assessment known");
            let (count, figures) = naive.assessment_stats(a);
            assert_eq!(stats.count, count, "{context}: assessment count");
            if let Some((lo, hi, avg, median)) = figures {
                assert!(
                    same(Some(lo), stats.min)
                        && same(Some(hi), stats.max)
                        && same(Some(avg), stats.mean)
                        && same(Some(median), stats.median),
                    "{context}: assessment stats"
                );
            }
        }
        let homework = m.class_homework(class, now);
        let want = naive.homework(class, now);
        assert_eq!(homework.len(), want.len(), "{context}: homework count");
        for (report, (hw, statuses)) in homework.iter().zip(want) {
            assert_eq!(report.homework_id, hw);
            let got: Vec<(PupilId, &str)> = report
                .pupils
                .iter()
                .map(|p| {
                    let s = match p.status {
                        HomeworkStatus::OnTime { .. } => "ON_TIME",
                        HomeworkStatus::Late { .. } => "LATE",
                        HomeworkStatus::Missing => "MISSING",
                        HomeworkStatus::Pending => "PENDING",
                    };
                    (p.pupil_id, s)
                })
                .collect();
            assert_eq!(got, statuses, "{context}: homework statuses");
        }
        for quiz in naive.quizzes(class) {
            let report = m.quiz_report(quiz.quiz_id).expect("quiz known");
            let pupils = naive.quiz_pupils(quiz.quiz_id);
            let got: Vec<(PupilId, naive::QuizFigures)> = report
                .pupils
                .iter()
                .map(|p| {
                    (
                        p.pupil_id,
                        (
                            p.attempts_used,
                            p.best.map(|s| s.correct),
                            p.last.map(|s| s.correct),
                            p.time_ms,
                        ),
                    )
                })
                .collect();
            assert_eq!(
                got,
                pupils.into_iter().collect::<Vec<_>>(),
                "{context}: quiz results"
            );
            let questions: Vec<_> = report
                .questions
                .iter()
                .map(|q| {
                    (
                        q.pupils_answered,
                        q.answers,
                        q.correct_answers,
                        q.pupils_correct,
                        q.median_time_ms,
                        q.answers_per_pupil.clone(),
                    )
                })
                .collect();
            assert_eq!(
                questions,
                naive.quiz_questions(quiz),
                "{context}: question statistics"
            );
        }
        for parcours in naive.parcours(class) {
            for later in [3, 6] {
                let at = now + Duration::minutes(later);
                let board = m
                    .parcours_board(parcours.parcours_id, at, &ParcoursConfig::default())
                    .expect("parcours known");
                let got: Vec<(PupilId, &str, u16)> = board
                    .rows
                    .iter()
                    .map(|r| (r.pupil_id, status_name(r.status), r.steps_done))
                    .collect();
                assert_eq!(
                    got,
                    naive.statuses(parcours, at),
                    "{context}: parcours board at +{later} min"
                );
            }
        }
        let time = m.time_on_task(class, &TimeQuery::default()).per_pupil();
        let mut want = naive.time_on_task(class);
        want.retain(|_, ms| *ms > 0);
        let mut time = time;
        time.retain(|_, ms| *ms > 0);
        assert_eq!(time, want, "{context}: time on task");
    }
    for pupil in pupils.iter().copied() {
        for period in PERIODS.map(id::<PeriodId>) {
            let s = m.pupil_attendance(pupil, period);
            let got = [
                s.half_days,
                s.half_days_justified,
                s.lessons,
                s.lessons_justified,
                s.latenesses,
                s.lateness_minutes,
                s.latenesses_justified,
            ];
            assert_eq!(
                got,
                naive.attendance(pupil, period, None),
                "{context}: attendance of {pupil}"
            );
        }
        let views = m.competencies(pupil);
        for component in COMPONENTS {
            let got = views
                .iter()
                .find(|v| v.framework_id == SOCLE_COMMUN_ID && v.component == component)
                .map(|v| {
                    (
                        v.latest.map(|l| l.level),
                        v.history.len(),
                        v.validations.len(),
                    )
                });
            assert_eq!(
                got,
                naive.competency(pupil, component),
                "{context}: competency {component} of {pupil}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_rebuild_equals_naive(nr in any::<bool>(), ops in prop::collection::vec(step_of_log(), 10..130)) {
        let events = generate(nr, &ops);
        let setup_len = setup(nr).events.len();
        let mut incremental = ReadModels::new();
        let mut published = Vec::new();
        for (n, logged) in events.iter().enumerate() {
            // A reader holds the previous snapshot while the fold goes on.
            let snapshot = incremental.clone();
            incremental.apply(logged.clone());
            if n % 11 == 0 {
                published.push((n, snapshot));
            }
            let prefix = &events[..=n];
            if n + 1 < setup_len {
                continue;
            }
            let now = prefix.iter().map(|l| l.occurred_at).max().unwrap_or_default();
            let naive = Naive::new(prefix, None);
            check(&incremental, &naive, &CLASSES, &PUPILS.map(id), now, &format!("incremental, {} events", n + 1));
            if n % 5 == 0 || n + 1 == events.len() {
                let rebuilt = ReadModels::rebuild_decoded(prefix.iter().cloned());
                check(&rebuilt, &naive, &CLASSES, &PUPILS.map(id), now, &format!("rebuilt, {} events", n + 1));
            }
        }
        for (n, snapshot) in published {
            let prefix = &events[..n];
            let now = prefix.iter().map(|l| l.occurred_at).max().unwrap_or_default();
            check(&snapshot, &Naive::new(prefix, None), &CLASSES, &PUPILS.map(id), now, &format!("snapshot kept at {n} events"));
        }
    }

    #[test]
    fn as_of_equals_naive_over_the_events_that_had_occurred(nr in any::<bool>(), ops in prop::collection::vec(step_of_log(), 10..130), pick in any::<prop::sample::Index>()) {
        let events = generate(nr, &ops);
        let live = ReadModels::rebuild_decoded(events.iter().cloned());
        let instant = events[pick.index(events.len())].occurred_at;
        let naive = Naive::new(&events, Some(instant));
        check(&live.as_of_classes(&CLASSES.map(id), instant), &naive, &CLASSES, &PUPILS.map(id), instant, "as of, both classes");
        check(&live.as_of_all(instant), &naive, &CLASSES, &PUPILS.map(id), instant, "as of, everything");
        for class in CLASSES {
            let view = live.as_of_class(id(class), instant);
            let members = live.reference().members(id(class)).to_vec();
            check(&view, &naive, &[class], &members, instant, "as of, one class");
        }
    }
}

#[test]
fn generated_logs_exercise_every_kind_of_event() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let ops = prop::collection::vec(step_of_log(), 500)
        .new_tree(&mut runner)
        .expect("ops")
        .current();
    let events = generate(true, &ops);
    let kinds: std::collections::BTreeSet<&str> =
        events.iter().map(|l| l.event.event_type()).collect();
    for kind in [
        "GradeRecorded",
        "GradeCorrected",
        "AbsenceJustified",
        "HomeworkDeposited",
        "QuestionAnswered",
        "AttemptSubmitted",
        "StepFailed",
        "StepCompleted",
        "PupilTransferred",
        "EnrolmentEnded",
        "CompetencyValidated",
    ] {
        assert!(kinds.contains(kind), "no {kind} in {kinds:?}");
    }
}
