//! QCM: per question statistics and per pupil results (attempts, answers, time).

use super::common::*;
use crate::context::{services, ClassTarget};
use crate::identity::identity;
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use suivi_domain::ids::*;
use suivi_projections::qcm::{AttemptProgress, PupilQuizResult, QuizReport, Score};
use suivi_projections::ReadModels;

#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "QuizScore")]
pub struct ScoreView {
    pub correct: u16,
    pub out_of: u16,
    /// The score brought to /20, two decimals.
    pub on_twenty: f64,
}

impl From<Score> for ScoreView {
    fn from(s: Score) -> Self {
        ScoreView {
            correct: s.correct,
            out_of: s.out_of,
            on_twenty: round(s.on_twenty()),
        }
    }
}

/// The attempt a pupil is on (open) or made last.
#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "AttemptProgress")]
pub struct AttemptView {
    pub attempt_no: u16,
    pub open: bool,
    /// Distinct questions answered in this attempt.
    pub answered: u16,
    /// Of them, answered rightly (last answer).
    pub correct: u16,
    pub question_count: u16,
}

impl From<AttemptProgress> for AttemptView {
    fn from(a: AttemptProgress) -> Self {
        AttemptView {
            attempt_no: a.attempt_no,
            open: a.open,
            answered: a.answered,
            correct: a.correct,
            question_count: a.question_count,
        }
    }
}

#[derive(SimpleObject)]
pub struct PupilQuestionView {
    pub question_id: ID,
    /// Answers given to the question, all attempts.
    pub times_answered: u32,
    pub time_ms: u64,
    pub last_correct: Option<bool>,
}

pub struct PupilQuizView {
    pub models: Arc<ReadModels>,
    pub result: PupilQuizResult,
}

#[Object(name = "PupilQuiz")]
impl PupilQuizView {
    async fn quiz_id(&self) -> ID {
        ID(self.result.quiz_id.to_string())
    }
    async fn title(&self) -> Option<String> {
        self.models
            .quiz(self.result.quiz_id)
            .map(|q| q.title.clone())
    }
    async fn pupil(&self) -> PupilRef {
        PupilRef {
            models: self.models.clone(),
            pupil_id: self.result.pupil_id,
        }
    }
    async fn attempts_used(&self) -> u16 {
        self.result.attempts_used
    }
    async fn attempts_allowed(&self) -> u16 {
        self.result.attempts_allowed
    }
    async fn best(&self) -> Option<ScoreView> {
        self.result.best.map(Into::into)
    }
    async fn last(&self) -> Option<ScoreView> {
        self.result.last.map(Into::into)
    }
    async fn time_ms(&self) -> u64 {
        self.result.time_ms
    }
    async fn current(&self) -> Option<AttemptView> {
        self.result.current.map(Into::into)
    }
    async fn questions(&self) -> Vec<PupilQuestionView> {
        self.result
            .questions
            .iter()
            .map(|q| PupilQuestionView {
                question_id: ID(q.question_id.to_string()),
                times_answered: q.times_answered,
                time_ms: q.time_ms,
                last_correct: q.last_correct,
            })
            .collect()
    }
}

/// One question of a quiz across the class.
#[derive(SimpleObject)]
pub struct QuestionStatsView {
    pub question_id: ID,
    /// Position in the quiz, from 1.
    pub number: u32,
    pub pupils_answered: u32,
    pub answers: u32,
    pub correct_answers: u32,
    /// Correct answers over all answers, 0 to 1, two decimals.
    pub correct_rate: Option<f64>,
    /// Pupils whose latest answer is right.
    pub pupils_correct: u32,
    pub median_time_ms: Option<u64>,
    /// Pupils who answered more than once.
    pub pupils_retrying: u32,
}

pub struct QuizView {
    models: Arc<ReadModels>,
    report: QuizReport,
}

impl QuizView {
    pub fn new(models: Arc<ReadModels>, quiz: QuizId) -> Option<QuizView> {
        let report = models.quiz_report(quiz)?;
        Some(QuizView { models, report })
    }

    pub async fn load(
        ctx: &Context<'_>,
        id: QuizId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<QuizView>> {
        let (_, models) =
            services(ctx)?.class_view(identity(ctx)?, ClassTarget::Quiz(id), as_of)?;
        Ok(QuizView::new(models, id))
    }
}

#[Object(name = "Quiz")]
impl QuizView {
    async fn id(&self) -> ID {
        ID(self.report.quiz_id.to_string())
    }
    async fn title(&self) -> Option<String> {
        self.models
            .quiz(self.report.quiz_id)
            .map(|q| q.title.clone())
    }
    async fn subject(&self) -> Option<SubjectRef> {
        self.models
            .quiz(self.report.quiz_id)
            .map(|q| SubjectRef::of(&self.models, q.subject_id))
    }
    async fn class(&self) -> ClassRef {
        ClassRef::of(&self.models, self.report.class_id)
    }
    async fn max_attempts(&self) -> u16 {
        self.report.max_attempts
    }
    async fn question_count(&self) -> usize {
        self.report.questions.len()
    }
    /// Per question, in quiz order.
    async fn questions(&self) -> Vec<QuestionStatsView> {
        self.report
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| QuestionStatsView {
                question_id: ID(q.question_id.to_string()),
                number: i as u32 + 1,
                pupils_answered: q.pupils_answered,
                answers: q.answers,
                correct_answers: q.correct_answers,
                correct_rate: round_opt(q.correct_rate),
                pupils_correct: q.pupils_correct,
                median_time_ms: q.median_time_ms,
                pupils_retrying: q.answers_per_pupil.values().filter(|n| **n > 1).count() as u32,
            })
            .collect()
    }
    /// Pupils who started an attempt.
    async fn pupils(&self, ctx: &Context<'_>) -> Result<Vec<PupilQuizView>> {
        let pupils: Vec<PupilId> = self.report.pupils.iter().map(|r| r.pupil_id).collect();
        journal_rows(ctx, &pupils).await?;
        Ok(self
            .report
            .pupils
            .iter()
            .map(|result| PupilQuizView {
                models: self.models.clone(),
                result: result.clone(),
            })
            .collect())
    }
}
