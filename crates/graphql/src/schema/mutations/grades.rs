//! Assessments and grades.

use super::{run, Affected, CommandResult};
use crate::errors::{bad_input, id_or_keyed, narrow, parse_hundredths, parse_id};
use crate::schema::types::GradeMark;
use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;
use suivi_domain::events::{
    AssessmentScheduled, GradeCorrected, GradeRecorded, ResultsPublished, ResultsWithheld,
};
use suivi_domain::ids::*;
use suivi_domain::values::{Coefficient, Grade};
use suivi_domain::Command;

/// Exactly one of `score` (a decimal string, "12.5" or "12,5", on the assessment's scale) or
/// `mark`.
pub fn grade_of(score: Option<&str>, mark: Option<GradeMark>) -> Result<Grade> {
    match (score, mark) {
        (Some(score), None) => Ok(Grade::Score(parse_hundredths("score", score)?)),
        (None, Some(mark)) => Ok(mark.into()),
        (Some(score), Some(mark)) => Err(bad_input(format!(
            "give either a score or a mark, not both (score {score:?}, mark {mark:?})"
        ))),
        (None, None) => Err(bad_input(
            "give a score (e.g. \"12.5\") or a mark (ABS, DISP, NR)",
        )),
    }
}

pub fn coefficient_of(text: Option<&str>) -> Result<Coefficient> {
    match text {
        None => Ok(Coefficient::ONE),
        Some(text) => Ok(Coefficient(parse_hundredths("coefficient", text)?)),
    }
}

#[derive(InputObject)]
pub struct ScheduleAssessmentInput {
    /// Minted by the server when absent.
    pub id: Option<ID>,
    pub class_id: ID,
    pub subject_id: ID,
    pub period_id: ID,
    pub title: String,
    pub date: NaiveDate,
    /// The barème: 20 for a grade out of 20.
    #[graphql(default = 20)]
    pub scale: i64,
    /// A decimal such as "1", "2" or "0.5"; 1 when absent.
    pub coefficient: Option<String>,
}

#[derive(InputObject)]
pub struct RecordGradeInput {
    pub assessment_id: ID,
    pub pupil_id: ID,
    /// A decimal with at most two decimals on the assessment's scale: "12.5".
    pub score: Option<String>,
    pub mark: Option<GradeMark>,
}

#[derive(InputObject)]
pub struct CorrectGradeInput {
    pub assessment_id: ID,
    pub pupil_id: ID,
    pub score: Option<String>,
    pub mark: Option<GradeMark>,
    pub reason: Option<String>,
}

/// One assessment whose results families see or not.
#[derive(InputObject)]
pub struct WithholdResultsInput {
    pub assessment_id: ID,
}

#[derive(InputObject)]
pub struct PublishResultsInput {
    pub assessment_id: ID,
}

#[derive(Default)]
pub struct GradeMutations;

#[Object]
impl GradeMutations {
    async fn schedule_assessment(
        &self,
        ctx: &Context<'_>,
        input: ScheduleAssessmentInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let assessment_id: AssessmentId =
            id_or_keyed("id", input.id.as_ref(), idempotency_key.as_ref())?;
        let event = AssessmentScheduled {
            assessment_id,
            class_id: parse_id("classId", &input.class_id)?,
            subject_id: parse_id("subjectId", &input.subject_id)?,
            period_id: parse_id("periodId", &input.period_id)?,
            title: input.title,
            date: input.date,
            scale: narrow("scale", input.scale, u16::MAX)?,
            coefficient: coefficient_of(input.coefficient.as_deref())?,
        };
        let class = Affected::Class(event.class_id);
        run(
            ctx,
            None,
            Command::ScheduleAssessment(event),
            idempotency_key,
            vec![Affected::Assessment(assessment_id), class],
        )
        .await
    }

    async fn record_grade(
        &self,
        ctx: &Context<'_>,
        input: RecordGradeInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let event = GradeRecorded {
            assessment_id: parse_id("assessmentId", &input.assessment_id)?,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            grade: grade_of(input.score.as_deref(), input.mark)?,
        };
        let affected = vec![
            Affected::Assessment(event.assessment_id),
            Affected::Pupil(event.pupil_id),
        ];
        run(
            ctx,
            None,
            Command::RecordGrade(event),
            idempotency_key,
            affected,
        )
        .await
    }

    async fn correct_grade(
        &self,
        ctx: &Context<'_>,
        input: CorrectGradeInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let event = GradeCorrected {
            assessment_id: parse_id("assessmentId", &input.assessment_id)?,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            grade: grade_of(input.score.as_deref(), input.mark)?,
            reason: input.reason,
        };
        let affected = vec![
            Affected::Assessment(event.assessment_id),
            Affected::Pupil(event.pupil_id),
        ];
        run(
            ctx,
            None,
            Command::CorrectGrade(event),
            idempotency_key,
            affected,
        )
        .await
    }

    /// Holds an assessment's results back from families (guardians and the pupil) until
    /// `publishResults`: their files, averages and grade feeds leave it out. Staff see it
    /// throughout. Results are published by default.
    async fn withhold_results(
        &self,
        ctx: &Context<'_>,
        input: WithholdResultsInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let withhold = |assessment_id| Command::WithholdResults(ResultsWithheld { assessment_id });
        results(ctx, &input.assessment_id, withhold, idempotency_key).await
    }

    /// Shows withheld results to families again.
    async fn publish_results(
        &self,
        ctx: &Context<'_>,
        input: PublishResultsInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let publish = |assessment_id| Command::PublishResults(ResultsPublished { assessment_id });
        results(ctx, &input.assessment_id, publish, idempotency_key).await
    }
}

/// Withholds or publishes one assessment's results.
async fn results(
    ctx: &Context<'_>,
    assessment_id: &ID,
    command: impl FnOnce(AssessmentId) -> Command,
    idempotency_key: Option<ID>,
) -> Result<CommandResult> {
    let assessment_id = parse_id("assessmentId", assessment_id)?;
    run(
        ctx,
        None,
        command(assessment_id),
        idempotency_key,
        vec![Affected::Assessment(assessment_id)],
    )
    .await
}
