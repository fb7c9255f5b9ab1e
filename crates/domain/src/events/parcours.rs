//! Parcours (teacher-built learning paths) and class sessions. The parcours definition has
//! its stream (`parcours-{id}`); a pupil's progress through it has theirs
//! (`progress-{parcours}-{pupil}`), which protects "no step completed before it was started".
//! A class session (`session-{id}`) is the lesson during which a class works live.

use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepKind {
    Resource,
    Quiz { quiz_id: QuizId },
    Homework { homework_id: HomeworkId },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParcoursStep {
    pub step_id: StepId,
    pub title: String,
    #[serde(flatten)]
    pub kind: StepKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParcoursPublished {
    pub parcours_id: ParcoursId,
    pub class_id: ClassId,
    pub title: String,
    pub steps: Vec<ParcoursStep>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepStarted {
    pub parcours_id: ParcoursId,
    pub pupil_id: PupilId,
    pub step_id: StepId,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

/// A failed try at a step (a wrong answer to its check): repeated failures mark a pupil stalled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepFailed {
    pub parcours_id: ParcoursId,
    pub pupil_id: PupilId,
    pub step_id: StepId,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepCompleted {
    pub parcours_id: ParcoursId,
    pub pupil_id: PupilId,
    pub step_id: StepId,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub session_id: SessionId,
    pub class_id: ClassId,
    pub teacher_id: TeacherId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiz_id: Option<QuizId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcours_id: Option<ParcoursId>,
    pub started_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub session_id: SessionId,
    pub ended_at: DateTime<Utc>,
}
