//! QCM: publishing a quiz, and a pupil's attempts and answers.

use super::{run, Affected, CommandResult};
use crate::errors::{id_or_keyed, narrow, parse_id, parse_opt_id};
use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use suivi_domain::decide::{AnswerQuestion, StartAttempt, SubmitAttempt};
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::Command;

#[derive(InputObject)]
pub struct QuestionInput {
    pub id: Option<ID>,
    pub prompt: String,
    pub choices: Vec<String>,
    /// Index (from 0) of the right choice.
    pub correct_choice: i64,
}

#[derive(InputObject)]
pub struct PublishQuizInput {
    pub id: Option<ID>,
    pub class_id: ID,
    pub subject_id: ID,
    pub title: String,
    #[graphql(default = 1)]
    pub max_attempts: i64,
    pub questions: Vec<QuestionInput>,
}

#[derive(InputObject)]
pub struct StartAttemptInput {
    pub quiz_id: ID,
    pub pupil_id: ID,
    pub attempt_id: Option<ID>,
    pub started_at: Option<DateTime<Utc>>,
    pub session_id: Option<ID>,
}

#[derive(InputObject)]
pub struct AnswerQuestionInput {
    pub quiz_id: ID,
    pub pupil_id: ID,
    pub attempt_id: ID,
    pub question_id: ID,
    /// Index (from 0) of the chosen answer.
    pub answer: i64,
    pub time_spent_ms: i64,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct SubmitAttemptInput {
    pub quiz_id: ID,
    pub pupil_id: ID,
    pub attempt_id: ID,
    pub submitted_at: Option<DateTime<Utc>>,
}
#[derive(Default)]
pub struct QcmMutations;

#[Object]
impl QcmMutations {
    async fn publish_quiz(
        &self,
        ctx: &Context<'_>,
        input: PublishQuizInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let quiz_id: QuizId = id_or_keyed("id", input.id.as_ref(), idempotency_key.as_ref())?;
        let questions = input
            .questions
            .into_iter()
            .enumerate()
            .map(|(i, q)| {
                Ok(QuizQuestion {
                    question_id: id_or_keyed(
                        &format!("question id {i}"),
                        q.id.as_ref(),
                        idempotency_key.as_ref(),
                    )?,
                    prompt: q.prompt,
                    choices: q.choices,
                    correct_choice: narrow("correctChoice", q.correct_choice, u16::MAX)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let event = QuizPublished {
            quiz_id,
            class_id: parse_id("classId", &input.class_id)?,
            subject_id: parse_id("subjectId", &input.subject_id)?,
            title: input.title,
            max_attempts: narrow("maxAttempts", input.max_attempts, u16::MAX)?,
            questions,
        };
        run(
            ctx,
            None,
            Command::PublishQuiz(event),
            idempotency_key,
            vec![Affected::Quiz(quiz_id)],
        )
        .await
    }

    async fn start_attempt(
        &self,
        ctx: &Context<'_>,
        input: StartAttemptInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let attempt_id: AttemptId = id_or_keyed(
            "attemptId",
            input.attempt_id.as_ref(),
            idempotency_key.as_ref(),
        )?;
        let started_at = input.started_at.unwrap_or_else(Utc::now);
        let session_id: Option<SessionId> = parse_opt_id("sessionId", input.session_id.as_ref())?;
        let command = StartAttempt {
            quiz_id: parse_id("quizId", &input.quiz_id)?,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            attempt_id,
            started_at,
            session_id,
        };
        let mut affected = vec![
            Affected::Quiz(command.quiz_id),
            Affected::Pupil(command.pupil_id),
        ];
        affected.extend(session_id.map(Affected::Session));
        run(
            ctx,
            Some(started_at),
            Command::StartAttempt(command),
            idempotency_key,
            affected,
        )
        .await
        .map(|r| r.with_id(attempt_id))
    }

    async fn answer_question(
        &self,
        ctx: &Context<'_>,
        input: AnswerQuestionInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let answered_at = input.answered_at.unwrap_or_else(Utc::now);
        let command = AnswerQuestion {
            quiz_id: parse_id("quizId", &input.quiz_id)?,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            attempt_id: parse_id("attemptId", &input.attempt_id)?,
            question_id: parse_id("questionId", &input.question_id)?,
            answer: narrow("answer", input.answer, u16::MAX)?,
            time_spent_ms: narrow("timeSpentMs", input.time_spent_ms, u32::MAX)?,
            answered_at,
        };
        let affected = vec![
            Affected::Quiz(command.quiz_id),
            Affected::Pupil(command.pupil_id),
        ];
        run(
            ctx,
            Some(answered_at),
            Command::AnswerQuestion(command),
            idempotency_key,
            affected,
        )
        .await
    }

    async fn submit_attempt(
        &self,
        ctx: &Context<'_>,
        input: SubmitAttemptInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let submitted_at = input.submitted_at.unwrap_or_else(Utc::now);
        let command = SubmitAttempt {
            quiz_id: parse_id("quizId", &input.quiz_id)?,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            attempt_id: parse_id("attemptId", &input.attempt_id)?,
            submitted_at,
        };
        let affected = vec![
            Affected::Quiz(command.quiz_id),
            Affected::Pupil(command.pupil_id),
        ];
        run(
            ctx,
            Some(submitted_at),
            Command::SubmitAttempt(command),
            idempotency_key,
            affected,
        )
        .await
    }
}
