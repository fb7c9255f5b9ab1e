//! Parcours, a pupil's progress through its steps, and class sessions.

use super::{run, Affected, CommandResult};
use crate::errors::{bad_input, id_or_keyed, parse_id, parse_opt_id};
use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::Command;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKindInput {
    Resource,
    Quiz,
    Homework,
}

#[derive(InputObject)]
#[graphql(name = "ParcoursStepInput")]
pub struct StepInput {
    pub id: Option<ID>,
    pub title: String,
    pub kind: StepKindInput,
    /// For a QUIZ step.
    pub quiz_id: Option<ID>,
    /// For a HOMEWORK step.
    pub homework_id: Option<ID>,
}

#[derive(InputObject)]
pub struct PublishParcoursInput {
    pub id: Option<ID>,
    pub class_id: ID,
    pub title: String,
    pub steps: Vec<StepInput>,
}

#[derive(InputObject)]
pub struct StartStepInput {
    pub parcours_id: ID,
    pub pupil_id: ID,
    pub step_id: ID,
    /// Now when absent.
    pub at: Option<DateTime<Utc>>,
    /// The class session the pupil works in.
    pub session_id: Option<ID>,
}

/// A failed try at a step (FailStep) or its completion (CompleteStep).
#[derive(InputObject)]
#[graphql(name = "StepInput")]
pub struct StepOutcomeInput {
    pub parcours_id: ID,
    pub pupil_id: ID,
    pub step_id: ID,
    /// Now when absent.
    pub at: Option<DateTime<Utc>>,
}

impl StepOutcomeInput {
    /// The ids of a failed or completed step, and when (now by default).
    fn parse(&self) -> Result<((ParcoursId, PupilId, StepId), DateTime<Utc>)> {
        Ok((
            (
                parse_id("parcoursId", &self.parcours_id)?,
                parse_id("pupilId", &self.pupil_id)?,
                parse_id("stepId", &self.step_id)?,
            ),
            self.at.unwrap_or_else(Utc::now),
        ))
    }
}

#[derive(InputObject)]
pub struct StartSessionInput {
    pub id: Option<ID>,
    pub class_id: ID,
    pub teacher_id: ID,
    pub quiz_id: Option<ID>,
    pub parcours_id: Option<ID>,
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct EndSessionInput {
    pub session_id: ID,
    pub ended_at: Option<DateTime<Utc>>,
}

/// Step `index` of a parcours published with `idempotency_key`.
fn step(index: usize, input: StepInput, idempotency_key: Option<&ID>) -> Result<ParcoursStep> {
    let step_id: StepId = id_or_keyed(
        &format!("step id {index}"),
        input.id.as_ref(),
        idempotency_key,
    )?;
    let kind = match (input.kind, &input.quiz_id, &input.homework_id) {
        (StepKindInput::Resource, None, None) => StepKind::Resource,
        (StepKindInput::Quiz, Some(quiz), None) => StepKind::Quiz {
            quiz_id: parse_id("quizId", quiz)?,
        },
        (StepKindInput::Homework, None, Some(homework)) => StepKind::Homework {
            homework_id: parse_id("homeworkId", homework)?,
        },
        (kind, _, _) => {
            return Err(bad_input(format!(
                "step {:?}: a {kind:?} step takes {}",
                input.title,
                match kind {
                    StepKindInput::Resource => "neither quizId nor homeworkId",
                    StepKindInput::Quiz => "a quizId and no homeworkId",
                    StepKindInput::Homework => "a homeworkId and no quizId",
                }
            )))
        }
    };
    Ok(ParcoursStep {
        step_id,
        title: input.title,
        kind,
    })
}

#[derive(Default)]
pub struct ParcoursMutations;

#[Object]
impl ParcoursMutations {
    async fn publish_parcours(
        &self,
        ctx: &Context<'_>,
        input: PublishParcoursInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let parcours_id: ParcoursId =
            id_or_keyed("id", input.id.as_ref(), idempotency_key.as_ref())?;
        let event = ParcoursPublished {
            parcours_id,
            class_id: parse_id("classId", &input.class_id)?,
            title: input.title,
            steps: input
                .steps
                .into_iter()
                .enumerate()
                .map(|(i, s)| step(i, s, idempotency_key.as_ref()))
                .collect::<Result<Vec<_>>>()?,
        };
        let class = Affected::Class(event.class_id);
        run(
            ctx,
            None,
            Command::PublishParcours(event),
            idempotency_key,
            vec![class],
        )
        .await
        .map(|r| r.with_id(parcours_id))
    }

    async fn start_step(
        &self,
        ctx: &Context<'_>,
        input: StartStepInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let at = input.at.unwrap_or_else(Utc::now);
        let session_id: Option<SessionId> = parse_opt_id("sessionId", input.session_id.as_ref())?;
        let event = StepStarted {
            parcours_id: parse_id("parcoursId", &input.parcours_id)?,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            step_id: parse_id("stepId", &input.step_id)?,
            at,
            session_id,
        };
        let mut affected = vec![Affected::Pupil(event.pupil_id)];
        affected.extend(session_id.map(Affected::Session));
        run(
            ctx,
            Some(at),
            Command::StartStep(event),
            idempotency_key,
            affected,
        )
        .await
    }

    async fn fail_step(
        &self,
        ctx: &Context<'_>,
        input: StepOutcomeInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let ((parcours_id, pupil_id, step_id), at) = input.parse()?;
        let event = StepFailed {
            parcours_id,
            pupil_id,
            step_id,
            at,
        };
        let pupil = Affected::Pupil(event.pupil_id);
        run(
            ctx,
            Some(at),
            Command::FailStep(event),
            idempotency_key,
            vec![pupil],
        )
        .await
    }

    async fn complete_step(
        &self,
        ctx: &Context<'_>,
        input: StepOutcomeInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let ((parcours_id, pupil_id, step_id), at) = input.parse()?;
        let event = StepCompleted {
            parcours_id,
            pupil_id,
            step_id,
            at,
        };
        let pupil = Affected::Pupil(event.pupil_id);
        run(
            ctx,
            Some(at),
            Command::CompleteStep(event),
            idempotency_key,
            vec![pupil],
        )
        .await
    }

    async fn start_session(
        &self,
        ctx: &Context<'_>,
        input: StartSessionInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let session_id: SessionId = id_or_keyed("id", input.id.as_ref(), idempotency_key.as_ref())?;
        let started_at = input.started_at.unwrap_or_else(Utc::now);
        let event = SessionStarted {
            session_id,
            class_id: parse_id("classId", &input.class_id)?,
            teacher_id: parse_id("teacherId", &input.teacher_id)?,
            quiz_id: parse_opt_id("quizId", input.quiz_id.as_ref())?,
            parcours_id: parse_opt_id("parcoursId", input.parcours_id.as_ref())?,
            started_at,
        };
        run(
            ctx,
            Some(started_at),
            Command::StartSession(event),
            idempotency_key,
            vec![Affected::Session(session_id)],
        )
        .await
    }

    async fn end_session(
        &self,
        ctx: &Context<'_>,
        input: EndSessionInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let ended_at = input.ended_at.unwrap_or_else(Utc::now);
        let session_id: SessionId = parse_id("sessionId", &input.session_id)?;
        let event = SessionEnded {
            session_id,
            ended_at,
        };
        run(
            ctx,
            Some(ended_at),
            Command::EndSession(event),
            idempotency_key,
            vec![Affected::Session(session_id)],
        )
        .await
    }
}
