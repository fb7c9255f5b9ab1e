//! The live side of a lesson, worked out by hand: parcours statuses that change with time
//! alone, the session's live board, QCM statistics and time on task, also *as of* earlier
//! instants of the lesson.

mod common;
mod lesson;

use common::*;
use lesson::*;
use suivi_domain::ids::*;
use suivi_projections::parcours::{self, Cohort, PupilProgress, StallReason};
use suivi_projections::time_on_task::Activity;
use suivi_projections::{Bucket, ParcoursConfig, ParcoursStatus as S, Ratio, TimeQuery};

#[test]
fn the_board_turns_stalled_with_time_alone() {
    let config = ParcoursConfig::default();
    let m = live();
    // As it stood at 10:05: P1 progressed at 10:03, P2 at 10:04 (one failure since, at
    // 10:05), P3 at 10:02: all progressing; P4 has not logged in; the late comer is not on
    // the roster yet.
    let at5 = m.as_of_class(id(CLASS), ten(5));
    assert_eq!(
        statuses(&at5, ten(5)),
        vec![
            (id(P1), S::Progressing),
            (id(P2), S::Progressing),
            (id(P3), S::Progressing),
            (id(P4), S::NotStarted)
        ]
    );
    let board = at5
        .parcours_board(id(PARCOURS), ten(5), &config)
        .expect("board");
    // P3 is the first to go 5 minutes without progress: 10:02 + 5 min.
    assert_eq!(board.next_change, Some(ten(7)));
    let p1 = &board.rows[0];
    assert_eq!(
        (
            p1.steps_done,
            p1.steps_total,
            p1.current_step,
            p1.seconds_since_progress
        ),
        (1, 3, Some(id(S2)), Some(120))
    );
    // The same view a second before 10:07, and at 10:07, with no new event: P3 turns stalled.
    let view = m.as_of_class(id(CLASS), ten(6));
    assert_eq!(
        statuses(&view, ten(7) - chrono::Duration::seconds(1))[2],
        (id(P3), S::Progressing)
    );
    assert_eq!(statuses(&view, ten(7))[2], (id(P3), S::Stalled));

    // At 10:07: P2 has failed the quiz step three times (stalled though active 3 min ago),
    // P3 made no progress for 5 minutes.
    let at7 = m.as_of_class(id(CLASS), ten(7));
    let board = at7
        .parcours_board(id(PARCOURS), ten(7), &config)
        .expect("board");
    let reasons: Vec<_> = board
        .rows
        .iter()
        .map(|r| (r.status, r.stall_reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (S::Progressing, None),
            (S::Stalled, Some(StallReason::RepeatedFailures)),
            (S::Stalled, Some(StallReason::NoProgress)),
            (S::NotStarted, None)
        ]
    );
    assert_eq!(board.rows[1].failures_on_current, 3);
    // P1 progressed at 10:06 (S3 started): stalls at 10:11 unless they move on.
    assert_eq!(board.next_change, Some(ten(11)));
    assert_eq!(
        (
            board.counts.progressing,
            board.counts.stalled,
            board.counts.not_started
        ),
        (1, 2, 1)
    );

    // 10:08: P1 finished while 1 of 4 has: fewer than half → FINISHED_EARLY.
    let at8 = m.as_of_class(id(CLASS), ten(8));
    assert_eq!(statuses(&at8, ten(8))[0], (id(P1), S::FinishedEarly));
    // 10:12: P3 has finished too, 2 of 4: no longer "early".
    let at12 = m.as_of_class(id(CLASS), ten(12));
    assert_eq!(
        statuses(&at12, ten(12)),
        vec![
            (id(P1), S::Finished),
            (id(P2), S::Stalled),
            (id(P3), S::Finished),
            (id(P4), S::NotStarted)
        ]
    );

    // Stall time is configurable: with 10 minutes, P3 is still progressing at 10:07.
    let patient = ParcoursConfig {
        stall_after: chrono::Duration::minutes(10),
        ..config
    };
    let board = at7
        .parcours_board(id(PARCOURS), ten(7), &patient)
        .expect("board");
    assert_eq!(board.rows[2].status, S::Progressing);
}

#[test]
fn status_is_a_pure_function_of_progress_and_now() {
    let config = ParcoursConfig::default();
    let cohort = Cohort {
        roster: 4,
        finished: 0,
    };
    assert_eq!(
        parcours::status(None, ten(0), &config, cohort),
        S::NotStarted
    );
    let m = live();
    let p = m.parcours(id(PARCOURS)).expect("parcours");
    let p3: &PupilProgress = p.progress(id(P3)).expect("P3 progress");
    // P3's facts are final (finished at 10:12): the status no longer depends on now.
    assert_eq!(
        parcours::status(
            Some(p3),
            ten(59),
            &config,
            Cohort {
                roster: 4,
                finished: 2
            }
        ),
        S::Finished
    );
    assert_eq!(
        parcours::status(
            Some(p3),
            ten(59),
            &config,
            Cohort {
                roster: 5,
                finished: 2
            }
        ),
        S::FinishedEarly
    );
    assert_eq!(parcours::next_change(Some(p3), ten(12), &config), None);
    // P2 is stalled by failures whatever the time.
    let p2 = p.progress(id(P2)).expect("P2 progress");
    assert_eq!(
        parcours::status(Some(p2), ten(7), &config, cohort),
        S::Stalled
    );
    assert_eq!(parcours::next_change(Some(p2), ten(7), &config), None);
}

#[test]
fn the_live_board_lists_the_roster_with_qcm_progress() {
    let m = live();
    let view = m.as_of_class(id(CLASS), ten(7));
    let board = view
        .live_board(id(SESSION), ten(7), &ParcoursConfig::default())
        .expect("session");
    let pupils: Vec<PupilId> = board.rows.iter().map(|r| r.pupil_id).collect();
    assert_eq!(pupils, vec![id(P1), id(P2), id(P3), id(P4)]);
    let q = |n: usize| board.rows[n].qcm.expect("the session has a quiz");
    // P1: one attempt of 2, submitted; answered Q1 (right) and Q2 twice (wrong, then right):
    // 2 questions answered, 2 right, 3 answers, 30 + 40 + 20 = 90 s, best 2/2.
    let p1 = q(0);
    let current = p1.current.expect("an attempt");
    assert_eq!(
        (
            p1.attempts_used,
            p1.attempts_allowed,
            current.open,
            current.answered,
            current.correct
        ),
        (1, 2, false, 2, 2)
    );
    assert_eq!(
        (
            p1.questions_answered,
            p1.questions_correct,
            p1.answers,
            p1.time_ms
        ),
        (2, 2, 3, 90_000)
    );
    assert_eq!(p1.best.map(|s| (s.correct, s.out_of)), Some((2, 2)));
    // P2: one open attempt, Q1 answered wrong in 50 s.
    let p2 = q(1);
    let current = p2.current.expect("an attempt");
    assert_eq!(
        (
            current.open,
            current.answered,
            current.correct,
            p2.time_ms,
            p2.best
        ),
        (true, 1, 0, 50_000, None)
    );
    // P3 and P4 have not touched the quiz.
    assert_eq!(
        (q(2).attempts_used, q(3).attempts_used, q(3).current),
        (0, 0, None)
    );
    let parcours = board.rows[3]
        .parcours
        .as_ref()
        .expect("the session has a parcours");
    assert_eq!((parcours.status, parcours.steps_done), (S::NotStarted, 0));
    assert_eq!(board.next_change, Some(ten(11)));
}

#[test]
fn quiz_statistics_per_question() {
    let report = live().quiz_report(id(QUIZ)).expect("quiz");
    // Q1: P1 right in 30 s, P2 wrong in 50 s → 2 pupils, 2 answers, rate 1/2, median 40 s.
    let q1 = &report.questions[0];
    assert_eq!(
        (
            q1.pupils_answered,
            q1.answers,
            q1.correct_answers,
            q1.correct_rate,
            q1.median_time_ms
        ),
        (2, 2, 1, Some(Ratio::new(1, 2)), Some(40_000))
    );
    // Q2: P1 only, twice (wrong 40 s, right 20 s) → rate 1/2, latest right, 60 s.
    let q2 = &report.questions[1];
    assert_eq!(
        (
            q2.pupils_answered,
            q2.answers,
            q2.pupils_correct,
            q2.median_time_ms
        ),
        (1, 2, 1, Some(60_000))
    );
    assert_eq!(q2.answers_per_pupil.get(&id(P1)), Some(&2));
    let p1 = report
        .pupils
        .iter()
        .find(|p| p.pupil_id == id(P1))
        .expect("P1");
    assert_eq!(
        (
            p1.best.map(|s| s.correct),
            p1.last.map(|s| s.correct),
            p1.time_ms
        ),
        (Some(2), Some(2), 90_000)
    );
    assert_eq!(p1.questions[1].times_answered, 2);
}

#[test]
fn time_on_task_by_pupil_day_and_range() {
    let m = live();
    let all = m.time_on_task(id(CLASS), &TimeQuery::default());
    let per_pupil = all.per_pupil();
    // P1: quiz 90 s; steps S1 10:01→10:03, S2 10:03→10:06, S3 10:06→10:08 = 7 min.
    assert_eq!(per_pupil[&id(P1)], 90_000 + 7 * 60_000);
    // P2: quiz 50 s; S1 10:02→10:04 = 2 min (S2 never completed).
    assert_eq!(per_pupil[&id(P2)], 50_000 + 2 * 60_000);
    // P3: S1 10:02→10:10 = 8 min, S2 1 min, S3 1 min.
    assert_eq!(per_pupil[&id(P3)], 10 * 60_000);
    // P4: S1 open 11:00→12:00, capped at 30 minutes.
    assert_eq!(per_pupil[&id(P4)], 30 * 60_000);
    assert_eq!(all.per_quiz()[&id(QUIZ)], 140_000);
    assert_eq!(all.per_question()[&(id(QUIZ), id(Q2))], 60_000);
    assert_eq!(
        all.per_parcours()[&id(PARCOURS)],
        (7 + 2 + 10 + 30) * 60_000
    );

    let by_day = m.time_on_task(
        id(CLASS),
        &TimeQuery {
            bucket: Bucket::Day,
            ..TimeQuery::default()
        },
    );
    let days = by_day.per_pupil_and_bucket();
    assert_eq!(days[&(id(P4), Some(date(2025, 10, 7)))], 30 * 60_000);
    assert_eq!(days.get(&(id(P4), Some(date(2025, 10, 6)))), None);
    // 6 October 2025 is a Monday: both days fall in its week.
    let by_week = m.time_on_task(
        id(CLASS),
        &TimeQuery {
            bucket: Bucket::Week,
            ..TimeQuery::default()
        },
    );
    assert!(by_week
        .entries
        .iter()
        .all(|e| e.bucket_start == Some(date(2025, 10, 6))));

    let tuesday = TimeQuery {
        from: Some(at(2025, 10, 7, 0, 0)),
        ..TimeQuery::default()
    };
    let only = m.time_on_task(id(CLASS), &tuesday);
    assert_eq!(
        only.per_pupil().into_iter().collect::<Vec<_>>(),
        vec![(id(P4), 30 * 60_000)]
    );
    let p1_quiz = m.pupil_time_on_task(
        id(P1),
        &TimeQuery {
            parcours: Some(id(999)),
            ..TimeQuery::default()
        },
    );
    assert!(p1_quiz
        .entries
        .iter()
        .all(|e| matches!(e.activity, Activity::Question { .. })));
    assert_eq!(p1_quiz.per_pupil()[&id(P1)], 90_000);
    // The same as of 10:05: P1's third answer (10:05) is in, the steps completed after are not.
    let early = m
        .as_of_class(id(CLASS), ten(5))
        .time_on_task(id(CLASS), &TimeQuery::default());
    assert_eq!(early.per_pupil()[&id(P1)], 90_000 + 2 * 60_000);
}
