//! Parcours, live: per pupil, steps done of the total, the current step, the time since the
//! last progress, and a status.
//!
//! The fold keeps facts only (when each step was started, failed, completed). The status
//! depends on the time, so it is a pure function evaluated when read,
//! `status(progress, now, config, cohort)`, with `now` passed in: a board asked again a
//! minute later shows a pupil turning `STALLED` without any new event, and
//! `next_change` tells a live subscription when to ask again. The rules:
//!
//! - `NOT_STARTED`: no step started;
//! - `FINISHED`: every step completed; `FINISHED_EARLY` when, besides, fewer than half of
//!   the roster has finished (`finished × 2 < roster`, the pupil included) — they need more
//!   to do while most of the class still works. The label reverts to `FINISHED` as the
//!   others finish;
//! - `STALLED`: started, not finished, and either no progress (a step started or
//!   completed; a failure is not progress) for `config.stall_after` (5 minutes by default),
//!   or at least `config.stall_failures` (3) `StepFailed` on the current step;
//! - `PROGRESSING` otherwise.
//!
//! The roster is the class's pupils enrolled on `now`'s (UTC) date, whether or not they
//! have logged in.

use crate::model::{Map, ReadModels};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use suivi_domain::events::{Event, ParcoursStep};
use suivi_domain::ids::*;

/// Time on a step counts at most this long (a pupil who left a step open over lunch did
/// not work on it for an hour). Used for time on task.
pub const STEP_TIME_CAP: Duration = Duration::minutes(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParcoursConfig {
    pub stall_after: Duration,
    pub stall_failures: u16,
}

impl Default for ParcoursConfig {
    fn default() -> Self {
        ParcoursConfig {
            stall_after: Duration::minutes(5),
            stall_failures: 3,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StepProgress {
    /// The latest start.
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub starts: u16,
    pub failures: u16,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PupilProgress {
    /// By step, in parcours order.
    pub steps: Vec<StepProgress>,
    pub completed: u16,
    pub last_progress_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Time on completed steps, each capped at `STEP_TIME_CAP`.
    pub time_ms: u64,
}

impl PupilProgress {
    pub fn started(&self) -> bool {
        self.steps.iter().any(|s| s.starts > 0)
    }

    pub fn finished(&self) -> bool {
        self.finished_at.is_some()
    }

    /// The first step not completed (steps are done in order); `None` when finished.
    pub fn current_step(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.completed_at.is_none())
    }

    pub fn failures_on_current(&self) -> u16 {
        self.current_step()
            .and_then(|i| self.steps.get(i))
            .map_or(0, |s| s.failures)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParcoursModel {
    pub parcours_id: ParcoursId,
    pub class_id: ClassId,
    pub title: String,
    pub steps: Vec<ParcoursStep>,
    step_index: Map<StepId, usize>,
    pub(crate) pupils: Map<PupilId, PupilProgress>,
}

impl ParcoursModel {
    pub fn progress(&self, pupil: PupilId) -> Option<&PupilProgress> {
        self.pupils.get(&pupil)
    }
}

/// A class session: the lesson during which pupils work on a quiz or a parcours live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub session_id: SessionId,
    pub class_id: ClassId,
    pub teacher_id: TeacherId,
    pub quiz_id: Option<QuizId>,
    pub parcours_id: Option<ParcoursId>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

pub(crate) fn apply_session(
    sessions: &mut Map<SessionId, SessionInfo>,
    class: ClassId,
    event: &Event,
) {
    match event {
        Event::SessionStarted(e) => {
            sessions.insert(
                e.session_id,
                SessionInfo {
                    session_id: e.session_id,
                    class_id: class,
                    teacher_id: e.teacher_id,
                    quiz_id: e.quiz_id,
                    parcours_id: e.parcours_id,
                    started_at: e.started_at,
                    ended_at: None,
                },
            );
        }
        Event::SessionEnded(e) => {
            if let Some(s) = sessions.get_mut(&e.session_id) {
                s.ended_at = Some(e.ended_at);
            }
        }
        _ => {}
    }
}

pub(crate) fn apply(parcours: &mut Map<ParcoursId, Arc<ParcoursModel>>, event: &Event) {
    let (id, pupil, step, at) = match event {
        Event::ParcoursPublished(e) => {
            parcours.insert(
                e.parcours_id,
                Arc::new(ParcoursModel {
                    parcours_id: e.parcours_id,
                    class_id: e.class_id,
                    title: e.title.clone(),
                    steps: e.steps.clone(),
                    step_index: e
                        .steps
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (s.step_id, i))
                        .collect(),
                    pupils: Map::default(),
                }),
            );
            return;
        }
        Event::StepStarted(e) => (e.parcours_id, e.pupil_id, e.step_id, e.at),
        Event::StepFailed(e) => (e.parcours_id, e.pupil_id, e.step_id, e.at),
        Event::StepCompleted(e) => (e.parcours_id, e.pupil_id, e.step_id, e.at),
        _ => return,
    };
    let Some(model) = parcours.get_mut(&id) else {
        return;
    };
    let model = Arc::make_mut(model);
    let Some(index) = model.step_index.get(&step).copied() else {
        return;
    };
    let total = model.steps.len();
    let progress = model.pupils.entry(pupil).or_insert_with(|| PupilProgress {
        steps: vec![StepProgress::default(); total],
        ..PupilProgress::default()
    });
    let Some(s) = progress.steps.get_mut(index) else {
        return;
    };
    let progressed = match event {
        Event::StepStarted(_) => {
            s.started_at = Some(at);
            s.starts = s.starts.saturating_add(1);
            true
        }
        Event::StepFailed(_) => {
            s.failures = s.failures.saturating_add(1);
            false
        }
        _ if s.completed_at.is_none() => {
            s.completed_at = Some(at);
            if let Some(started) = s.started_at {
                let spent = (at - started).clamp(Duration::zero(), STEP_TIME_CAP);
                progress.time_ms += spent.num_milliseconds().unsigned_abs();
            }
            progress.completed += 1;
            if usize::from(progress.completed) >= total {
                progress.finished_at = Some(at);
            }
            true
        }
        _ => false,
    };
    if progressed {
        progress.last_progress_at = Some(progress.last_progress_at.map_or(at, |t| t.max(at)));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParcoursStatus {
    NotStarted,
    Progressing,
    Stalled,
    Finished,
    FinishedEarly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StallReason {
    NoProgress,
    RepeatedFailures,
}

/// The class around a pupil, for `FINISHED_EARLY`: the roster's size and how many of it
/// have finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cohort {
    pub roster: usize,
    pub finished: usize,
}

/// Why a started, unfinished pupil is stalled at `now`, if they are.
pub fn stall_reason(
    progress: &PupilProgress,
    now: DateTime<Utc>,
    config: &ParcoursConfig,
) -> Option<StallReason> {
    if progress.failures_on_current() >= config.stall_failures {
        return Some(StallReason::RepeatedFailures);
    }
    let last = progress.last_progress_at?;
    (now - last >= config.stall_after).then_some(StallReason::NoProgress)
}

/// A pupil's status at `now`. Pure: the same arguments always give the same status.
pub fn status(
    progress: Option<&PupilProgress>,
    now: DateTime<Utc>,
    config: &ParcoursConfig,
    cohort: Cohort,
) -> ParcoursStatus {
    let Some(p) = progress.filter(|p| p.started()) else {
        return ParcoursStatus::NotStarted;
    };
    if p.finished() {
        return if cohort.finished * 2 < cohort.roster {
            ParcoursStatus::FinishedEarly
        } else {
            ParcoursStatus::Finished
        };
    }
    match stall_reason(p, now, config) {
        Some(_) => ParcoursStatus::Stalled,
        None => ParcoursStatus::Progressing,
    }
}

/// The first instant after `now` at which this pupil's status changes with the passing of
/// time alone (a progressing pupil turning stalled), if any.
pub fn next_change(
    progress: Option<&PupilProgress>,
    now: DateTime<Utc>,
    config: &ParcoursConfig,
) -> Option<DateTime<Utc>> {
    let p = progress.filter(|p| p.started() && !p.finished())?;
    if stall_reason(p, now, config).is_some() {
        return None;
    }
    let at = p.last_progress_at? + config.stall_after;
    (at > now).then_some(at)
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ParcoursRow {
    pub pupil_id: PupilId,
    pub status: ParcoursStatus,
    pub stall_reason: Option<StallReason>,
    pub steps_done: u16,
    pub steps_total: u16,
    pub current_step: Option<StepId>,
    pub failures_on_current: u16,
    pub last_progress_at: Option<DateTime<Utc>>,
    pub seconds_since_progress: Option<i64>,
    pub finished_at: Option<DateTime<Utc>>,
    pub time_ms: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatusCounts {
    pub not_started: u32,
    pub progressing: u32,
    pub stalled: u32,
    pub finished: u32,
    pub finished_early: u32,
}

impl StatusCounts {
    pub fn add(&mut self, status: ParcoursStatus) {
        match status {
            ParcoursStatus::NotStarted => self.not_started += 1,
            ParcoursStatus::Progressing => self.progressing += 1,
            ParcoursStatus::Stalled => self.stalled += 1,
            ParcoursStatus::Finished => self.finished += 1,
            ParcoursStatus::FinishedEarly => self.finished_early += 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ParcoursBoard {
    pub parcours_id: ParcoursId,
    pub class_id: ClassId,
    pub now: DateTime<Utc>,
    pub steps_total: u16,
    /// The roster on `now`'s date, in enrolment order.
    pub rows: Vec<ParcoursRow>,
    pub counts: StatusCounts,
    /// When some status next changes by the passing of time alone.
    pub next_change: Option<DateTime<Utc>>,
}

pub(crate) fn board(
    model: &ParcoursModel,
    roster: &[PupilId],
    now: DateTime<Utc>,
    config: &ParcoursConfig,
) -> ParcoursBoard {
    let finished = roster
        .iter()
        .filter(|p| model.pupils.get(p).is_some_and(|x| x.finished()))
        .count();
    let cohort = Cohort {
        roster: roster.len(),
        finished,
    };
    let steps_total = model.steps.len().min(usize::from(u16::MAX)) as u16;
    let mut counts = StatusCounts::default();
    let mut next: Option<DateTime<Utc>> = None;
    let rows = roster
        .iter()
        .map(|pupil_id| {
            let p = model.pupils.get(pupil_id);
            let status = status(p, now, config, cohort);
            counts.add(status);
            if let Some(at) = next_change(p, now, config) {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
            let last = p.and_then(|p| p.last_progress_at);
            ParcoursRow {
                pupil_id: *pupil_id,
                status,
                stall_reason: p
                    .filter(|_| status == ParcoursStatus::Stalled)
                    .and_then(|p| stall_reason(p, now, config)),
                steps_done: p.map_or(0, |p| p.completed),
                steps_total,
                current_step: p
                    .filter(|p| p.started())
                    .and_then(|p| p.current_step())
                    .and_then(|i| model.steps.get(i))
                    .map(|s| s.step_id),
                failures_on_current: p.map_or(0, |p| p.failures_on_current()),
                last_progress_at: last,
                seconds_since_progress: last.map(|t| (now - t).num_seconds().max(0)),
                finished_at: p.and_then(|p| p.finished_at),
                time_ms: p.map_or(0, |p| p.time_ms),
            }
        })
        .collect();
    ParcoursBoard {
        parcours_id: model.parcours_id,
        class_id: model.class_id,
        now,
        steps_total,
        rows,
        counts,
        next_change: next,
    }
}

impl ReadModels {
    pub fn parcours(&self, id: ParcoursId) -> Option<&ParcoursModel> {
        let class = self.class_of_parcours(id)?;
        self.class_model(class)?
            .parcours
            .get(&id)
            .map(|p| p.as_ref())
    }

    /// A class's parcours, by title.
    pub fn parcours_of(&self, class: ClassId) -> Vec<&ParcoursModel> {
        let Some(model) = self.class_model(class) else {
            return Vec::new();
        };
        let mut list: Vec<&ParcoursModel> = model.parcours.values().map(|p| p.as_ref()).collect();
        list.sort_by(|a, b| (&a.title, a.parcours_id).cmp(&(&b.title, b.parcours_id)));
        list
    }

    /// The whole roster of the parcours's class at `now`, with each pupil's status.
    pub fn parcours_board(
        &self,
        id: ParcoursId,
        now: DateTime<Utc>,
        config: &ParcoursConfig,
    ) -> Option<ParcoursBoard> {
        let model = self.parcours(id)?;
        let roster = self.reference.roster(model.class_id, now.date_naive());
        Some(board(model, &roster, now, config))
    }

    pub fn session(&self, id: SessionId) -> Option<&SessionInfo> {
        let class = self.class_of_session(id)?;
        self.class_model(class)?.sessions.get(&id)
    }

    /// A class's sessions, latest first.
    pub fn sessions_of(&self, class: ClassId) -> Vec<&SessionInfo> {
        let Some(model) = self.class_model(class) else {
            return Vec::new();
        };
        let mut list: Vec<&SessionInfo> = model.sessions.values().collect();
        list.sort_by_key(|s| (std::cmp::Reverse(s.started_at), s.session_id));
        list
    }
}
