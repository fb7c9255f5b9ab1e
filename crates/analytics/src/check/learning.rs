//! QCM attempts and time, parcours progress and status, competencies.

use super::{Ctx, Diffs};
use crate::error::Result;
use crate::figures::competencies::by_component;
use crate::figures::parcours::{self, ProgressFig};
use crate::figures::qcm;
use crate::log::epoch_days;
use std::collections::BTreeSet;
use suivi_domain::ids::*;
use suivi_projections::{ParcoursConfig, ParcoursStatus};

pub(super) fn compare(ctx: &Ctx, d: &mut Diffs) -> Result<()> {
    let quizzes = d.batch(|| qcm::by_pupil_quiz(ctx.log))?;
    let questions = d.batch(|| qcm::by_question(ctx.log))?;
    let progress = d.batch(|| parcours::by_pupil(ctx.log))?;
    let components = d.batch(|| by_component(ctx.log))?;
    let reference = ctx.models.reference();
    let mut pupils: BTreeSet<PupilId> = BTreeSet::new();
    for school in reference.schools() {
        for class in reference.classes_of(school.school_id) {
            pupils.extend(reference.members(class.class_id).iter().copied());
            compare_quizzes(ctx, d, class.class_id, &quizzes, &questions);
            compare_parcours(ctx, d, class.class_id, &progress);
        }
    }
    for pupil in pupils {
        let u = ctx.key(&pupil.0);
        let views = ctx.models.competencies(pupil);
        let mut batch_count = components.keys().filter(|(p, _, _)| *p == u).count();
        for view in views {
            let key = (u, ctx.key(&view.framework_id.0), view.component.clone());
            let b = components.get(&key);
            batch_count = batch_count.saturating_sub(usize::from(b.is_some()));
            let at = || format!("pupil {pupil} · {}", view.component);
            d.same(
                "competency latest level",
                at,
                view.latest.map(|m| u32::from(m.level)),
                b.and_then(|b| b.latest),
            );
            d.same(
                "competency assessments",
                at,
                Some(view.history.len() as u32),
                b.map(|b| b.assessed),
            );
            d.same(
                "competency validations",
                at,
                Some(view.validations.len() as u32),
                b.map(|b| b.validated),
            );
        }
        d.same(
            "competency components only in the batch",
            || format!("pupil {pupil}"),
            Some(0),
            Some(batch_count),
        );
    }
    Ok(())
}

fn compare_quizzes(
    ctx: &Ctx,
    d: &mut Diffs,
    class: ClassId,
    quizzes: &std::collections::HashMap<(u32, u32), qcm::PupilQuizFig>,
    questions: &std::collections::HashMap<(u32, u32), qcm::QuestionFig>,
) {
    for quiz in ctx.models.quizzes_of(class) {
        let Some(report) = ctx.models.quiz_report(quiz.quiz_id) else {
            continue;
        };
        let q = ctx.key(&quiz.quiz_id.0);
        let batch_pupils = quizzes.keys().filter(|(k, _)| *k == q).count();
        d.same(
            "quiz pupils",
            || format!("quiz {}", quiz.quiz_id),
            Some(report.pupils.len()),
            Some(batch_pupils),
        );
        for r in &report.pupils {
            let b = quizzes.get(&(q, ctx.key(&r.pupil_id.0)));
            let at = || format!("quiz {} · pupil {}", quiz.quiz_id, r.pupil_id);
            d.same(
                "quiz attempts used",
                at,
                Some(u32::from(r.attempts_used)),
                b.map(|b| b.attempts_used),
            );
            d.same(
                "quiz best score",
                at,
                r.best.map(|s| u32::from(s.correct)),
                b.and_then(|b| b.best),
            );
            d.same(
                "quiz last score",
                at,
                r.last.map(|s| u32::from(s.correct)),
                b.and_then(|b| b.last),
            );
            d.same(
                "quiz time ms",
                at,
                Some(r.time_ms as i64),
                b.map(|b| b.time_ms),
            );
        }
        for s in &report.questions {
            let b = questions
                .get(&(q, ctx.key(&s.question_id.0)))
                .copied()
                .unwrap_or_default();
            let at = || format!("quiz {} · question {}", quiz.quiz_id, s.question_id);
            d.same(
                "question pupils answered",
                at,
                Some(s.pupils_answered),
                Some(b.pupils_answered),
            );
            d.same("question answers", at, Some(s.answers), Some(b.answers));
            d.same(
                "question correct answers",
                at,
                Some(s.correct_answers),
                Some(b.correct_answers),
            );
            d.same(
                "question pupils correct",
                at,
                Some(s.pupils_correct),
                Some(b.pupils_correct),
            );
            d.same(
                "question median time ms",
                at,
                s.median_time_ms,
                b.median_time_ms,
            );
        }
    }
}

/// The live board's status, from the batch's facts: the same rules, restated.
fn batch_status(
    fig: Option<&ProgressFig>,
    now_ms: i64,
    config: &ParcoursConfig,
    roster: usize,
    finished: usize,
) -> ParcoursStatus {
    let Some(f) = fig.filter(|f| f.started) else {
        return ParcoursStatus::NotStarted;
    };
    if f.finished_at_ms.is_some() {
        return if finished * 2 < roster {
            ParcoursStatus::FinishedEarly
        } else {
            ParcoursStatus::Finished
        };
    }
    let stalled = f.failures_on_current >= u32::from(config.stall_failures)
        || f.last_progress_ms
            .is_some_and(|t| now_ms - t >= config.stall_after.num_milliseconds());
    if stalled {
        ParcoursStatus::Stalled
    } else {
        ParcoursStatus::Progressing
    }
}

fn compare_parcours(
    ctx: &Ctx,
    d: &mut Diffs,
    class: ClassId,
    progress: &std::collections::HashMap<(u32, u32), ProgressFig>,
) {
    let config = ParcoursConfig::default();
    let today = i64::from(epoch_days(ctx.now.date_naive()));
    let roster = ctx
        .enrolments
        .members_during(ctx.key(&class.0), today, today);
    let now_ms = ctx.now.timestamp_millis();
    for model in ctx.models.parcours_of(class) {
        let k = ctx.key(&model.parcours_id.0);
        let Some(board) = ctx
            .models
            .parcours_board(model.parcours_id, ctx.now, &config)
        else {
            continue;
        };
        let finished = roster
            .iter()
            .filter(|u| {
                progress
                    .get(&(k, **u))
                    .is_some_and(|f| f.finished_at_ms.is_some())
            })
            .count();
        d.same(
            "parcours roster",
            || format!("parcours {}", model.parcours_id),
            Some(board.rows.len()),
            Some(roster.len()),
        );
        for row in &board.rows {
            let u = ctx.key(&row.pupil_id.0);
            let b = progress.get(&(k, u));
            let at = || format!("parcours {} · pupil {}", model.parcours_id, row.pupil_id);
            d.same(
                "parcours steps done",
                at,
                Some(u32::from(row.steps_done)),
                Some(b.map_or(0, |b| b.steps_done)),
            );
            d.same(
                "parcours time ms",
                at,
                Some(row.time_ms as i64),
                Some(b.map_or(0, |b| b.time_ms)),
            );
            d.same(
                "parcours finished at",
                at,
                row.finished_at.map(|t| t.timestamp_millis()),
                b.and_then(|b| b.finished_at_ms),
            );
            d.same(
                "parcours last progress",
                at,
                row.last_progress_at.map(|t| t.timestamp_millis()),
                b.and_then(|b| b.last_progress_ms),
            );
            d.same(
                "parcours failures on current step",
                at,
                Some(u32::from(row.failures_on_current)),
                Some(b.map_or(0, |b| b.failures_on_current)),
            );
            let status = batch_status(b, now_ms, &config, roster.len(), finished);
            d.same(
                "parcours status",
                at,
                Some(format!("{:?}", row.status)),
                Some(format!("{status:?}")),
            );
        }
    }
}
