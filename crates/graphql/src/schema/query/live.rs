//! The live board of a class session and the parcours boards: who has not started, who
//! progresses, who is stalled, who finished (early), with QCM attempts, answers and time.
//! Statuses depend on the time: they are evaluated at `now` (or `asOf`).

use super::common::*;
use super::qcm::{AttemptView, PupilQuestionView, QuizView, ScoreView};
use crate::context::{services, ClassTarget, Services};
use crate::identity::{identity, Identity};
use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use suivi_domain::events::StepKind;
use suivi_domain::ids::*;
use suivi_projections::live::{LiveBoard, LiveRow, QcmLive};
use suivi_projections::parcours::{
    ParcoursBoard, ParcoursRow, SessionInfo, StallReason, StatusCounts,
};
use suivi_projections::{ParcoursConfig, ParcoursStatus, ReadModels};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ParcoursStatus")]
pub enum ParcoursStatusGql {
    NotStarted,
    Progressing,
    Stalled,
    Finished,
    /// Finished while most of the class still works: needs more to do.
    FinishedEarly,
}

impl From<ParcoursStatus> for ParcoursStatusGql {
    fn from(s: ParcoursStatus) -> Self {
        match s {
            ParcoursStatus::NotStarted => ParcoursStatusGql::NotStarted,
            ParcoursStatus::Progressing => ParcoursStatusGql::Progressing,
            ParcoursStatus::Stalled => ParcoursStatusGql::Stalled,
            ParcoursStatus::Finished => ParcoursStatusGql::Finished,
            ParcoursStatus::FinishedEarly => ParcoursStatusGql::FinishedEarly,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "StallReason")]
pub enum StallReasonGql {
    /// No step started or completed for 5 minutes.
    NoProgress,
    /// Three failures on the current step.
    RepeatedFailures,
}

impl From<StallReason> for StallReasonGql {
    fn from(s: StallReason) -> Self {
        match s {
            StallReason::NoProgress => StallReasonGql::NoProgress,
            StallReason::RepeatedFailures => StallReasonGql::RepeatedFailures,
        }
    }
}

#[derive(SimpleObject, Clone, Copy, Default)]
#[graphql(name = "StatusCounts")]
pub struct StatusCountsView {
    pub not_started: u32,
    pub progressing: u32,
    pub stalled: u32,
    pub finished: u32,
    pub finished_early: u32,
}

impl From<StatusCounts> for StatusCountsView {
    fn from(c: StatusCounts) -> Self {
        StatusCountsView {
            not_started: c.not_started,
            progressing: c.progressing,
            stalled: c.stalled,
            finished: c.finished,
            finished_early: c.finished_early,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum StepKindGql {
    Resource,
    Quiz,
    Homework,
}

#[derive(SimpleObject, Clone)]
pub struct StepView {
    pub id: ID,
    pub title: String,
    pub kind: StepKindGql,
}

fn step_view(models: &ReadModels, parcours: ParcoursId, step: StepId) -> Option<StepView> {
    let p = models.parcours(parcours)?;
    p.steps
        .iter()
        .find(|s| s.step_id == step)
        .map(|s| StepView {
            id: ID(s.step_id.to_string()),
            title: s.title.clone(),
            kind: match s.kind {
                StepKind::Resource => StepKindGql::Resource,
                StepKind::Quiz { .. } => StepKindGql::Quiz,
                StepKind::Homework { .. } => StepKindGql::Homework,
            },
        })
}

/// A pupil's progress through a parcours, at the board's instant.
pub struct ParcoursRowView {
    models: Arc<ReadModels>,
    parcours_id: ParcoursId,
    row: ParcoursRow,
}

#[Object(name = "ParcoursRow")]
impl ParcoursRowView {
    async fn pupil(&self) -> PupilRef {
        PupilRef {
            models: self.models.clone(),
            pupil_id: self.row.pupil_id,
        }
    }
    async fn status(&self) -> ParcoursStatusGql {
        self.row.status.into()
    }
    async fn stall_reason(&self) -> Option<StallReasonGql> {
        self.row.stall_reason.map(Into::into)
    }
    async fn steps_done(&self) -> u16 {
        self.row.steps_done
    }
    async fn steps_total(&self) -> u16 {
        self.row.steps_total
    }
    /// stepsDone / stepsTotal, 0 to 1, two decimals.
    async fn progress(&self) -> f64 {
        if self.row.steps_total == 0 {
            return 0.0;
        }
        let ratio = f64::from(self.row.steps_done) / f64::from(self.row.steps_total);
        (ratio * 100.0).round() / 100.0
    }
    async fn current_step(&self) -> Option<StepView> {
        step_view(&self.models, self.parcours_id, self.row.current_step?)
    }
    async fn failures_on_current(&self) -> u16 {
        self.row.failures_on_current
    }
    async fn last_progress_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_progress_at
    }
    async fn seconds_since_progress(&self) -> Option<i64> {
        self.row.seconds_since_progress
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.row.finished_at
    }
    /// Time on completed steps.
    async fn time_ms(&self) -> u64 {
        self.row.time_ms
    }
}

pub struct ParcoursBoardView {
    models: Arc<ReadModels>,
    board: ParcoursBoard,
}

impl ParcoursBoardView {
    pub fn new(
        models: Arc<ReadModels>,
        parcours: ParcoursId,
        now: DateTime<Utc>,
        config: &ParcoursConfig,
    ) -> Option<ParcoursBoardView> {
        let board = models.parcours_board(parcours, now, config)?;
        Some(ParcoursBoardView { models, board })
    }
}

#[Object(name = "ParcoursBoard")]
impl ParcoursBoardView {
    async fn id(&self) -> ID {
        ID(self.board.parcours_id.to_string())
    }
    async fn title(&self) -> Option<String> {
        self.models
            .parcours(self.board.parcours_id)
            .map(|p| p.title.clone())
    }
    async fn class(&self) -> ClassRef {
        ClassRef::of(&self.models, self.board.class_id)
    }
    async fn steps(&self) -> Vec<StepView> {
        let Some(p) = self.models.parcours(self.board.parcours_id) else {
            return Vec::new();
        };
        p.steps
            .iter()
            .filter_map(|s| step_view(&self.models, p.parcours_id, s.step_id))
            .collect()
    }
    async fn now(&self) -> DateTime<Utc> {
        self.board.now
    }
    async fn counts(&self) -> StatusCountsView {
        self.board.counts.into()
    }
    /// When a status next changes with the passing of time alone.
    async fn next_change(&self) -> Option<DateTime<Utc>> {
        self.board.next_change
    }
    async fn rows(&self, ctx: &Context<'_>) -> Result<Vec<ParcoursRowView>> {
        let pupils: Vec<PupilId> = self.board.rows.iter().map(|r| r.pupil_id).collect();
        journal_rows(ctx, &pupils).await?;
        Ok(self
            .board
            .rows
            .iter()
            .map(|row| ParcoursRowView {
                models: self.models.clone(),
                parcours_id: self.board.parcours_id,
                row: row.clone(),
            })
            .collect())
    }
}

#[derive(Clone)]
pub struct SessionView {
    models: Arc<ReadModels>,
    info: SessionInfo,
}

impl SessionView {
    pub fn new(models: Arc<ReadModels>, info: SessionInfo) -> SessionView {
        SessionView { models, info }
    }
}

#[Object(name = "Session")]
impl SessionView {
    async fn id(&self) -> ID {
        ID(self.info.session_id.to_string())
    }
    async fn class(&self) -> ClassRef {
        ClassRef::of(&self.models, self.info.class_id)
    }
    async fn teacher(&self) -> TeacherRef {
        TeacherRef::of(&self.models, self.info.teacher_id)
    }
    async fn quiz_id(&self) -> Option<ID> {
        self.info.quiz_id.map(|q| ID(q.to_string()))
    }
    async fn quiz_title(&self) -> Option<String> {
        self.models
            .quiz(self.info.quiz_id?)
            .map(|q| q.title.clone())
    }
    async fn parcours_id(&self) -> Option<ID> {
        self.info.parcours_id.map(|p| ID(p.to_string()))
    }
    async fn parcours_title(&self) -> Option<String> {
        self.models
            .parcours(self.info.parcours_id?)
            .map(|p| p.title.clone())
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.info.started_at
    }
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.info.ended_at
    }
    async fn active(&self) -> bool {
        self.info.ended_at.is_none()
    }
}

/// A pupil's QCM progress in the session's quiz.
pub struct QcmLiveView {
    models: Arc<ReadModels>,
    quiz_id: QuizId,
    pupil_id: PupilId,
    qcm: QcmLive,
}

#[Object(name = "QcmLive")]
impl QcmLiveView {
    async fn attempts_used(&self) -> u16 {
        self.qcm.attempts_used
    }
    async fn attempts_allowed(&self) -> u16 {
        self.qcm.attempts_allowed
    }
    async fn current(&self) -> Option<AttemptView> {
        self.qcm.current.map(Into::into)
    }
    async fn questions_answered(&self) -> u16 {
        self.qcm.questions_answered
    }
    async fn questions_correct(&self) -> u16 {
        self.qcm.questions_correct
    }
    async fn question_count(&self) -> u16 {
        self.qcm.question_count
    }
    /// Answers given, all attempts and questions.
    async fn answers(&self) -> u32 {
        self.qcm.answers
    }
    async fn best(&self) -> Option<ScoreView> {
        self.qcm.best.map(Into::into)
    }
    async fn time_ms(&self) -> u64 {
        self.qcm.time_ms
    }
    /// Per question: how many answers, the time, the latest answer right or not.
    async fn questions(&self) -> Vec<PupilQuestionView> {
        self.models
            .pupil_quiz(self.quiz_id, self.pupil_id)
            .map(|r| {
                r.questions
                    .iter()
                    .map(|q| PupilQuestionView {
                        question_id: ID(q.question_id.to_string()),
                        times_answered: q.times_answered,
                        time_ms: q.time_ms,
                        last_correct: q.last_correct,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub struct LiveRowView {
    models: Arc<ReadModels>,
    session: SessionInfo,
    row: LiveRow,
}

#[Object(name = "LiveRow")]
impl LiveRowView {
    async fn pupil(&self) -> PupilRef {
        PupilRef {
            models: self.models.clone(),
            pupil_id: self.row.pupil_id,
        }
    }
    /// The parcours status (NOT_STARTED without a parcours in the session).
    async fn status(&self) -> ParcoursStatusGql {
        self.row
            .parcours
            .as_ref()
            .map_or(ParcoursStatusGql::NotStarted, |p| p.status.into())
    }
    async fn parcours(&self) -> Option<ParcoursRowView> {
        Some(ParcoursRowView {
            models: self.models.clone(),
            parcours_id: self.session.parcours_id?,
            row: self.row.parcours.clone()?,
        })
    }
    async fn qcm(&self) -> Option<QcmLiveView> {
        Some(QcmLiveView {
            models: self.models.clone(),
            quiz_id: self.session.quiz_id?,
            pupil_id: self.row.pupil_id,
            qcm: self.row.qcm?,
        })
    }
}

pub struct LiveBoardView {
    models: Arc<ReadModels>,
    pub(crate) board: LiveBoard,
}

impl LiveBoardView {
    /// The board of a session of the request's school at `now`.
    pub async fn load(ctx: &Context<'_>, session: SessionId) -> Result<Option<LiveBoardView>> {
        Self::compute(services(ctx)?, identity(ctx)?, session, None).map(Some)
    }

    /// The board of a session in the identity's scope (`NOT_FOUND` otherwise).
    pub fn compute(
        services: &Services,
        identity: &Identity,
        session: SessionId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<LiveBoardView> {
        let (_, models) = services.class_view(identity, ClassTarget::Session(session), as_of)?;
        let board = models
            .live_board(session, Now::of(as_of).instant(), &services.parcours)
            .ok_or_else(|| crate::errors::not_found("session", session))?;
        Ok(LiveBoardView { models, board })
    }

    /// The rows whose status `keep` accepts (journaled for staff, as every row read).
    async fn rows_where(
        &self,
        ctx: &Context<'_>,
        keep: impl Fn(ParcoursStatus) -> bool,
    ) -> Result<Vec<LiveRowView>> {
        let rows: Vec<LiveRowView> = self
            .board
            .rows
            .iter()
            .filter(|r| r.parcours.as_ref().is_some_and(|p| keep(p.status)))
            .map(|row| LiveRowView {
                models: self.models.clone(),
                session: self.board.session,
                row: row.clone(),
            })
            .collect();
        let pupils: Vec<PupilId> = rows.iter().map(|r| r.row.pupil_id).collect();
        journal_rows(ctx, &pupils).await?;
        Ok(rows)
    }
}

#[Object(name = "LiveBoard")]
impl LiveBoardView {
    async fn session(&self) -> SessionView {
        SessionView::new(self.models.clone(), self.board.session)
    }
    /// The instant statuses are evaluated at.
    async fn now(&self) -> DateTime<Utc> {
        self.board.now
    }
    /// When a status next changes with no new event (a pupil turning STALLED).
    async fn next_change(&self) -> Option<DateTime<Utc>> {
        self.board.next_change
    }
    async fn counts(&self) -> StatusCountsView {
        self.board
            .parcours_counts
            .map(Into::into)
            .unwrap_or_default()
    }
    /// The whole roster, pupils who have not logged in included, in enrolment order.
    async fn rows(&self, ctx: &Context<'_>) -> Result<Vec<LiveRowView>> {
        let pupils: Vec<PupilId> = self.board.rows.iter().map(|r| r.pupil_id).collect();
        journal_rows(ctx, &pupils).await?;
        Ok(self
            .board
            .rows
            .iter()
            .map(|row| LiveRowView {
                models: self.models.clone(),
                session: self.board.session,
                row: row.clone(),
            })
            .collect())
    }
    async fn stalled(&self, ctx: &Context<'_>) -> Result<Vec<LiveRowView>> {
        self.rows_where(ctx, |s| s == ParcoursStatus::Stalled).await
    }
    async fn finished_early(&self, ctx: &Context<'_>) -> Result<Vec<LiveRowView>> {
        self.rows_where(ctx, |s| s == ParcoursStatus::FinishedEarly)
            .await
    }
    /// The session's quiz, question by question.
    async fn quiz(&self) -> Option<QuizView> {
        QuizView::new(self.models.clone(), self.board.session.quiz_id?)
    }
    async fn parcours(&self, ctx: &Context<'_>) -> Result<Option<ParcoursBoardView>> {
        let config = services(ctx)?.parcours;
        Ok(self
            .board
            .session
            .parcours_id
            .and_then(|p| ParcoursBoardView::new(self.models.clone(), p, self.board.now, &config)))
    }
}
