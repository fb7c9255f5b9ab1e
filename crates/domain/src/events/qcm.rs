//! QCM (multiple-choice quizzes). The quiz definition has its stream (`quiz-{id}`); a
//! pupil's attempts on a quiz have theirs (`qcm-{quiz}-{pupil}`), which protects "no more
//! attempts than allowed" and "no answer outside an open attempt".

use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizQuestion {
    pub question_id: QuestionId,
    pub prompt: String,
    pub choices: Vec<String>,
    /// Index of the right choice.
    pub correct_choice: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizPublished {
    pub quiz_id: QuizId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
    pub title: String,
    pub max_attempts: u16,
    pub questions: Vec<QuizQuestion>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptStarted {
    pub quiz_id: QuizId,
    pub pupil_id: PupilId,
    pub attempt_id: AttemptId,
    /// 1 for the first attempt.
    pub attempt_no: u16,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionAnswered {
    pub quiz_id: QuizId,
    pub pupil_id: PupilId,
    pub attempt_id: AttemptId,
    pub question_id: QuestionId,
    pub answer: u16,
    /// Derived from the quiz's answer key; checked against it when the event is appended.
    pub correct: bool,
    pub time_spent_ms: u32,
    pub answered_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptSubmitted {
    pub quiz_id: QuizId,
    pub pupil_id: PupilId,
    pub attempt_id: AttemptId,
    pub submitted_at: DateTime<Utc>,
    /// Questions answered correctly in this attempt (the last answer to each counts).
    pub correct_count: u16,
    pub question_count: u16,
}
