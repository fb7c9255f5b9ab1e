//! Competencies: a level assessed on a component, a component validated.

use super::{run, Affected, CommandResult};
use crate::errors::{narrow, parse_id, parse_opt_id};
use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::reference::SOCLE_COMMUN_ID;
use suivi_domain::values::MasteryLevel;
use suivi_domain::Command;

#[derive(InputObject)]
pub struct AssessCompetencyInput {
    pub pupil_id: ID,
    /// The socle commun when absent.
    pub framework_id: Option<ID>,
    /// The component's code, e.g. "D1.3".
    pub component: String,
    /// 1 (maîtrise insuffisante) to 4 (très bonne maîtrise) for the socle commun.
    pub level: i64,
    pub on: NaiveDate,
    pub teacher_id: Option<ID>,
}

#[derive(InputObject)]
pub struct ValidateCompetencyInput {
    pub pupil_id: ID,
    /// The socle commun when absent.
    pub framework_id: Option<ID>,
    pub component: String,
    pub level: i64,
    pub on: NaiveDate,
}

type CompetencyFields = (PupilId, FrameworkId, MasteryLevel);

fn competency(pupil: &ID, framework: Option<&ID>, level: i64) -> Result<CompetencyFields> {
    Ok((
        parse_id("pupilId", pupil)?,
        parse_opt_id("frameworkId", framework)?.unwrap_or(SOCLE_COMMUN_ID),
        MasteryLevel(narrow("level", level, u8::MAX)?),
    ))
}

#[derive(Default)]
pub struct CompetencyMutations;

#[Object]
impl CompetencyMutations {
    async fn assess_competency(
        &self,
        ctx: &Context<'_>,
        input: AssessCompetencyInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let (pupil_id, framework_id, level) =
            competency(&input.pupil_id, input.framework_id.as_ref(), input.level)?;
        let event = CompetencyAssessed {
            pupil_id,
            framework_id,
            component: input.component,
            level,
            on: input.on,
            teacher_id: parse_opt_id("teacherId", input.teacher_id.as_ref())?,
        };
        run(
            ctx,
            None,
            Command::AssessCompetency(event),
            idempotency_key,
            vec![Affected::Pupil(pupil_id)],
        )
        .await
    }

    async fn validate_competency(
        &self,
        ctx: &Context<'_>,
        input: ValidateCompetencyInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let (pupil_id, framework_id, level) =
            competency(&input.pupil_id, input.framework_id.as_ref(), input.level)?;
        let event = CompetencyValidated {
            pupil_id,
            framework_id,
            component: input.component,
            level,
            on: input.on,
        };
        run(
            ctx,
            None,
            Command::ValidateCompetency(event),
            idempotency_key,
            vec![Affected::Pupil(pupil_id)],
        )
        .await
    }
}
