//! QCM, parcours, competencies and time on task, recomputed naively.

use super::{Naive, QuestionFigures, QuizFigures};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};
use suivi_domain::events::*;
use suivi_domain::ids::*;

impl<'a> Naive<'a> {
    pub fn quizzes(&self, class: ClassId) -> Vec<&'a QuizPublished> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::QuizPublished(q) if q.class_id == class => Some(q),
                _ => None,
            })
            .collect()
    }

    /// (attempts used, best correct, last correct, time ms) per pupil who did anything.
    pub fn quiz_pupils(&self, quiz: QuizId) -> BTreeMap<PupilId, QuizFigures> {
        let mut out: BTreeMap<PupilId, QuizFigures> = BTreeMap::new();
        let mut started: BTreeSet<AttemptId> = BTreeSet::new();
        for e in &self.events {
            match e {
                Event::AttemptStarted(a) if a.quiz_id == quiz => {
                    started.insert(a.attempt_id);
                    let slot = out.entry(a.pupil_id).or_insert((0, None, None, 0));
                    slot.0 = slot.0.max(a.attempt_no);
                }
                Event::QuestionAnswered(a) if a.quiz_id == quiz => {
                    out.entry(a.pupil_id).or_insert((0, None, None, 0)).3 +=
                        u64::from(a.time_spent_ms);
                }
                Event::AttemptSubmitted(a) if a.quiz_id == quiz => {
                    let slot = out.entry(a.pupil_id).or_insert((0, None, None, 0));
                    if started.contains(&a.attempt_id) {
                        slot.1 = Some(slot.1.map_or(a.correct_count, |b| b.max(a.correct_count)));
                        slot.2 = Some(a.correct_count);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Per question: (pupils answered, answers, correct answers, pupils whose last answer is
    /// right, median of per-pupil time, answers per pupil).
    pub fn quiz_questions(&self, quiz: &QuizPublished) -> Vec<QuestionFigures> {
        quiz.questions
            .iter()
            .map(|q| {
                let mut per_pupil: BTreeMap<PupilId, (u32, u32, u64, bool)> = BTreeMap::new();
                for e in &self.events {
                    if let Event::QuestionAnswered(a) = e {
                        if a.quiz_id == quiz.quiz_id && a.question_id == q.question_id {
                            let slot = per_pupil.entry(a.pupil_id).or_insert((0, 0, 0, false));
                            slot.0 += 1;
                            slot.1 += u32::from(a.correct);
                            slot.2 += u64::from(a.time_spent_ms);
                            slot.3 = a.correct;
                        }
                    }
                }
                let mut times: Vec<u64> = per_pupil.values().map(|v| v.2).collect();
                times.sort();
                let n = times.len();
                let median = match n {
                    0 => None,
                    _ if n % 2 == 1 => Some(times[n / 2]),
                    _ => Some((times[n / 2 - 1] + times[n / 2]).div_ceil(2)),
                };
                (
                    per_pupil.len() as u32,
                    per_pupil.values().map(|v| v.0).sum(),
                    per_pupil.values().map(|v| v.1).sum(),
                    per_pupil.values().filter(|v| v.3).count() as u32,
                    median,
                    per_pupil.iter().map(|(p, v)| (*p, v.0)).collect(),
                )
            })
            .collect()
    }

    // ----- parcours -----

    pub fn parcours(&self, class: ClassId) -> Vec<&'a ParcoursPublished> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::ParcoursPublished(p) if p.class_id == class => Some(p),
                _ => None,
            })
            .collect()
    }

    /// (steps done, finished, last progress, failures on the current step, started).
    pub fn progress(
        &self,
        parcours: &ParcoursPublished,
        pupil: PupilId,
    ) -> (u16, bool, Option<DateTime<Utc>>, u16, bool) {
        let steps: Vec<StepId> = parcours.steps.iter().map(|s| s.step_id).collect();
        let mut done: BTreeSet<StepId> = BTreeSet::new();
        let mut failures: BTreeMap<StepId, u16> = BTreeMap::new();
        let mut last: Option<DateTime<Utc>> = None;
        let mut started = false;
        for e in &self.events {
            match e {
                Event::StepStarted(s)
                    if s.parcours_id == parcours.parcours_id
                        && s.pupil_id == pupil
                        && steps.contains(&s.step_id) =>
                {
                    started = true;
                    last = Some(last.map_or(s.at, |l| l.max(s.at)));
                }
                Event::StepFailed(s)
                    if s.parcours_id == parcours.parcours_id
                        && s.pupil_id == pupil
                        && steps.contains(&s.step_id) =>
                {
                    *failures.entry(s.step_id).or_insert(0) += 1;
                }
                Event::StepCompleted(s)
                    if s.parcours_id == parcours.parcours_id
                        && s.pupil_id == pupil
                        && steps.contains(&s.step_id)
                        && done.insert(s.step_id) =>
                {
                    last = Some(last.map_or(s.at, |l| l.max(s.at)));
                }
                _ => {}
            }
        }
        let current = steps.iter().find(|s| !done.contains(s));
        let failures_now = current.map_or(0, |s| failures.get(s).copied().unwrap_or(0));
        (
            done.len() as u16,
            done.len() == steps.len(),
            last,
            failures_now,
            started,
        )
    }

    /// Status of each roster pupil at `now` (5 minutes, 3 failures, fewer than half finished).
    pub fn statuses(
        &self,
        parcours: &ParcoursPublished,
        now: DateTime<Utc>,
    ) -> Vec<(PupilId, &'static str, u16)> {
        let roster = self.roster(parcours.class_id, now.date_naive());
        let finished = roster
            .iter()
            .filter(|p| self.progress(parcours, **p).1)
            .count();
        roster
            .iter()
            .map(|p| {
                let (done, fin, last, failures, started) = self.progress(parcours, *p);
                let status = if !started {
                    "NOT_STARTED"
                } else if fin {
                    if finished * 2 < roster.len() {
                        "FINISHED_EARLY"
                    } else {
                        "FINISHED"
                    }
                } else if failures >= 3 || last.is_some_and(|l| now - l >= Duration::minutes(5)) {
                    "STALLED"
                } else {
                    "PROGRESSING"
                };
                (*p, status, done)
            })
            .collect()
    }

    // ----- competencies -----

    /// (latest assessed level, assessments, validations) per (pupil, component).
    pub fn competency(
        &self,
        pupil: PupilId,
        component: &str,
    ) -> Option<(Option<u8>, usize, usize)> {
        let mut latest: Option<(NaiveDate, u8)> = None;
        let (mut assessed, mut validated) = (0, 0);
        for e in &self.events {
            match e {
                Event::CompetencyAssessed(c) if c.pupil_id == pupil && c.component == component => {
                    assessed += 1;
                    if latest.is_none_or(|(on, _)| c.on >= on) {
                        latest = Some((c.on, c.level.0));
                    }
                }
                Event::CompetencyValidated(c)
                    if c.pupil_id == pupil && c.component == component =>
                {
                    validated += 1
                }
                _ => {}
            }
        }
        (assessed + validated > 0).then_some((latest.map(|l| l.1), assessed, validated))
    }

    // ----- time on task -----

    /// ms per pupil in a class's quizzes and parcours (steps capped at 30 minutes).
    pub fn time_on_task(&self, class: ClassId) -> BTreeMap<PupilId, u64> {
        let quizzes: Vec<QuizId> = self.quizzes(class).iter().map(|q| q.quiz_id).collect();
        let parcours: Vec<ParcoursId> =
            self.parcours(class).iter().map(|p| p.parcours_id).collect();
        let mut out: BTreeMap<PupilId, u64> = BTreeMap::new();
        for (i, e) in self.events.iter().enumerate() {
            match e {
                Event::QuestionAnswered(a) if quizzes.contains(&a.quiz_id) => {
                    *out.entry(a.pupil_id).or_insert(0) += u64::from(a.time_spent_ms);
                }
                Event::StepCompleted(c) if parcours.contains(&c.parcours_id) => {
                    let start = self.events[..i].iter().rev().find_map(|e| match e {
                        Event::StepStarted(s)
                            if s.parcours_id == c.parcours_id
                                && s.pupil_id == c.pupil_id
                                && s.step_id == c.step_id =>
                        {
                            Some(s.at)
                        }
                        _ => None,
                    });
                    if let Some(start) = start {
                        let ms = (c.at - start).num_milliseconds().clamp(0, 30 * 60 * 1000);
                        *out.entry(c.pupil_id).or_insert(0) += ms as u64;
                    }
                }
                _ => {}
            }
        }
        out
    }
}
