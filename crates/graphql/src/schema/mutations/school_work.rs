//! Absences, lateness and homework.

use super::{run, Affected, CommandResult};
use crate::errors::{id_or_keyed, narrow, parse_id};
use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, NaiveDate, Utc};
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::Command;

#[derive(InputObject)]
pub struct RecordAbsenceInput {
    pub id: Option<ID>,
    pub pupil_id: ID,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Demi-journées missed.
    pub half_days: i64,
    pub lessons: i64,
}

#[derive(InputObject)]
pub struct RecordLatenessInput {
    pub id: Option<ID>,
    pub pupil_id: ID,
    pub at: DateTime<Utc>,
    pub minutes: i64,
}

#[derive(InputObject)]
pub struct JustifyAbsenceInput {
    /// The absence's or the lateness's id.
    pub record_id: ID,
    pub pupil_id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct AssignHomeworkInput {
    pub id: Option<ID>,
    pub class_id: ID,
    pub subject_id: ID,
    pub title: String,
    pub assigned_on: NaiveDate,
    pub due_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct DepositHomeworkInput {
    pub homework_id: ID,
    pub pupil_id: ID,
    /// Now when absent.
    pub deposited_at: Option<DateTime<Utc>>,
    pub file_name: String,
    pub size_bytes: i64,
    /// SHA-256 of the file, 64 hex digits.
    pub sha256: String,
}

#[derive(Default)]
pub struct SchoolWorkMutations;

#[Object]
impl SchoolWorkMutations {
    async fn record_absence(
        &self,
        ctx: &Context<'_>,
        input: RecordAbsenceInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let absence_id: AttendanceId =
            id_or_keyed("id", input.id.as_ref(), idempotency_key.as_ref())?;
        let event = AbsenceRecorded {
            absence_id,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            half_days: narrow("halfDays", input.half_days, u16::MAX)?,
            lessons: narrow("lessons", input.lessons, u16::MAX)?,
        };
        let pupil = Affected::Pupil(event.pupil_id);
        run(
            ctx,
            Some(input.starts_at),
            Command::RecordAbsence(event),
            idempotency_key,
            vec![pupil],
        )
        .await
        .map(|r| r.with_id(absence_id))
    }

    async fn record_lateness(
        &self,
        ctx: &Context<'_>,
        input: RecordLatenessInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let lateness_id: AttendanceId =
            id_or_keyed("id", input.id.as_ref(), idempotency_key.as_ref())?;
        let event = LatenessRecorded {
            lateness_id,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            at: input.at,
            minutes: narrow("minutes", input.minutes, u16::MAX)?,
        };
        let pupil = Affected::Pupil(event.pupil_id);
        run(
            ctx,
            Some(input.at),
            Command::RecordLateness(event),
            idempotency_key,
            vec![pupil],
        )
        .await
        .map(|r| r.with_id(lateness_id))
    }

    async fn justify_absence(
        &self,
        ctx: &Context<'_>,
        input: JustifyAbsenceInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let event = AbsenceJustified {
            record_id: parse_id("recordId", &input.record_id)?,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            reason: input.reason,
        };
        let pupil = Affected::Pupil(event.pupil_id);
        run(
            ctx,
            None,
            Command::JustifyAbsence(event),
            idempotency_key,
            vec![pupil],
        )
        .await
    }

    async fn assign_homework(
        &self,
        ctx: &Context<'_>,
        input: AssignHomeworkInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let homework_id: HomeworkId =
            id_or_keyed("id", input.id.as_ref(), idempotency_key.as_ref())?;
        let event = HomeworkAssigned {
            homework_id,
            class_id: parse_id("classId", &input.class_id)?,
            subject_id: parse_id("subjectId", &input.subject_id)?,
            title: input.title,
            assigned_on: input.assigned_on,
            due_at: input.due_at,
        };
        let class = Affected::Class(event.class_id);
        run(
            ctx,
            None,
            Command::AssignHomework(event),
            idempotency_key,
            vec![Affected::Homework(homework_id), class],
        )
        .await
    }

    async fn deposit_homework(
        &self,
        ctx: &Context<'_>,
        input: DepositHomeworkInput,
        idempotency_key: Option<ID>,
    ) -> Result<CommandResult> {
        let deposited_at = input.deposited_at.unwrap_or_else(Utc::now);
        let event = HomeworkDeposited {
            homework_id: parse_id("homeworkId", &input.homework_id)?,
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            deposited_at,
            file_name: input.file_name,
            size_bytes: narrow("sizeBytes", input.size_bytes, u64::MAX)?,
            sha256: input.sha256,
        };
        let affected = vec![
            Affected::Homework(event.homework_id),
            Affected::Pupil(event.pupil_id),
        ];
        run(
            ctx,
            Some(deposited_at),
            Command::DepositHomework(event),
            idempotency_key,
            affected,
        )
        .await
    }
}
