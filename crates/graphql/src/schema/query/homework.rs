//! Homework from the cahier de textes: who handed it in on time, late, or not at all.

use super::common::*;
use crate::context::{services, ClassTarget};
use crate::identity::identity;
use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use suivi_domain::ids::*;
use suivi_projections::homework::{
    HomeworkReport, HomeworkStatus, HomeworkSummary, PupilHomeworkLine,
};
use suivi_projections::ReadModels;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "HomeworkStatus")]
pub enum HomeworkStatusGql {
    OnTime,
    Late,
    /// Past due, not handed in.
    Missing,
    /// Not due yet, not handed in.
    Pending,
}

/// A homework status with its details.
#[derive(SimpleObject, Clone, Copy)]
pub struct HomeworkState {
    pub status: HomeworkStatusGql,
    pub deposited_at: Option<DateTime<Utc>>,
    pub late_by_seconds: Option<i64>,
}

impl From<HomeworkStatus> for HomeworkState {
    fn from(s: HomeworkStatus) -> Self {
        match s {
            HomeworkStatus::OnTime { deposited_at } => HomeworkState {
                status: HomeworkStatusGql::OnTime,
                deposited_at: Some(deposited_at),
                late_by_seconds: None,
            },
            HomeworkStatus::Late {
                deposited_at,
                late_by_seconds,
            } => HomeworkState {
                status: HomeworkStatusGql::Late,
                deposited_at: Some(deposited_at),
                late_by_seconds: Some(late_by_seconds),
            },
            HomeworkStatus::Missing => HomeworkState {
                status: HomeworkStatusGql::Missing,
                deposited_at: None,
                late_by_seconds: None,
            },
            HomeworkStatus::Pending => HomeworkState {
                status: HomeworkStatusGql::Pending,
                deposited_at: None,
                late_by_seconds: None,
            },
        }
    }
}

#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "HomeworkSummary")]
pub struct HomeworkSummaryView {
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    pub pending: u32,
}

impl From<HomeworkSummary> for HomeworkSummaryView {
    fn from(s: HomeworkSummary) -> Self {
        HomeworkSummaryView {
            on_time: s.on_time,
            late: s.late,
            missing: s.missing,
            pending: s.pending,
        }
    }
}

pub struct PupilHomeworkView {
    models: Arc<ReadModels>,
    pupil_id: PupilId,
    state: HomeworkState,
    deposits: u32,
}

#[Object(name = "PupilHomework")]
impl PupilHomeworkView {
    async fn pupil(&self) -> PupilRef {
        PupilRef {
            models: self.models.clone(),
            pupil_id: self.pupil_id,
        }
    }
    async fn status(&self) -> HomeworkStatusGql {
        self.state.status
    }
    async fn deposited_at(&self) -> Option<DateTime<Utc>> {
        self.state.deposited_at
    }
    async fn late_by_seconds(&self) -> Option<i64> {
        self.state.late_by_seconds
    }
    async fn deposits(&self) -> u32 {
        self.deposits
    }
}

pub struct HomeworkView {
    models: Arc<ReadModels>,
    report: HomeworkReport,
}

impl HomeworkView {
    pub fn new(models: Arc<ReadModels>, report: HomeworkReport) -> HomeworkView {
        HomeworkView { models, report }
    }

    pub async fn load(
        ctx: &Context<'_>,
        id: HomeworkId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<HomeworkView>> {
        let (_, models) =
            services(ctx)?.class_view(identity(ctx)?, ClassTarget::Homework(id), as_of)?;
        Ok(models
            .homework_report(id, Now::of(as_of).instant())
            .map(|report| HomeworkView::new(models.clone(), report)))
    }
}

#[Object(name = "Homework")]
impl HomeworkView {
    async fn id(&self) -> ID {
        ID(self.report.homework_id.to_string())
    }
    async fn title(&self) -> Option<String> {
        self.models
            .homework(self.report.homework_id)
            .map(|h| h.title.clone())
    }
    async fn assigned_on(&self) -> Option<NaiveDate> {
        self.models
            .homework(self.report.homework_id)
            .map(|h| h.assigned_on)
    }
    async fn due_at(&self) -> DateTime<Utc> {
        self.report.due_at
    }
    async fn subject(&self) -> SubjectRef {
        SubjectRef::of(&self.models, self.report.subject_id)
    }
    async fn class(&self) -> ClassRef {
        ClassRef::of(&self.models, self.report.class_id)
    }
    async fn on_time(&self) -> u32 {
        self.report.on_time
    }
    async fn late(&self) -> u32 {
        self.report.late
    }
    async fn missing(&self) -> u32 {
        self.report.missing
    }
    async fn pending(&self) -> u32 {
        self.report.pending
    }
    /// Expected pupils in roster order, then others who deposited.
    async fn pupils(&self, ctx: &Context<'_>) -> Result<Vec<PupilHomeworkView>> {
        let pupils: Vec<PupilId> = self.report.pupils.iter().map(|p| p.pupil_id).collect();
        journal_rows(ctx, &pupils).await?;
        Ok(self
            .report
            .pupils
            .iter()
            .map(|p| PupilHomeworkView {
                models: self.models.clone(),
                pupil_id: p.pupil_id,
                state: p.status.into(),
                deposits: p.deposits,
            })
            .collect())
    }
}

/// One homework in a pupil's list.
pub struct PupilHomeworkLineView {
    pub models: Arc<ReadModels>,
    pub line: PupilHomeworkLine,
}

#[Object(name = "PupilHomeworkLine")]
impl PupilHomeworkLineView {
    async fn homework_id(&self) -> ID {
        ID(self.line.homework_id.to_string())
    }
    async fn title(&self) -> Option<String> {
        self.models
            .homework(self.line.homework_id)
            .map(|h| h.title.clone())
    }
    async fn subject(&self) -> SubjectRef {
        SubjectRef::of(&self.models, self.line.subject_id)
    }
    async fn class(&self) -> ClassRef {
        ClassRef::of(&self.models, self.line.class_id)
    }
    async fn due_at(&self) -> DateTime<Utc> {
        self.line.due_at
    }
    async fn status(&self) -> HomeworkState {
        self.line.status.into()
    }
}
