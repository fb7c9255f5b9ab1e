//! Queries: one per read model, by id (and a class by name). Every query that shows figures
//! accepts `asOf`: the dashboard is then re-folded from the events that had occurred by that
//! instant, and time-dependent statuses are evaluated at it.

mod assessments;
mod attendance;
mod class;
pub(crate) mod common;
mod homework;
mod live;
mod pupil;
mod qcm;
mod risk;
mod spider;
mod time;

pub use assessments::AssessmentView;
pub use class::ClassView;
pub use common::PupilRef;
pub use homework::HomeworkView;
pub use live::LiveBoardView;
pub use pupil::PupilView;
pub use qcm::QuizView;

use crate::context::{scope, services, ClassTarget};
use crate::errors::{coded, parse_id, NOT_FOUND};
use crate::identity::identity;
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use common::*;
use live::{ParcoursBoardView, SessionView};
use pupil::{competency_views, CompetencyView};
use suivi_domain::ids::*;
use time::{time_query, BucketGql, TimeOnTaskView};

/// One read of a pupil's file by the staff.
#[derive(SimpleObject)]
#[graphql(name = "AccessRecord")]
pub struct AccessRecordView {
    pub at: DateTime<Utc>,
    /// `role:uuid` of who read it.
    pub actor: String,
    pub pupil_id: ID,
}

#[derive(SimpleObject)]
pub struct SchoolView {
    pub id: ID,
    pub name: Option<String>,
    pub registered: bool,
    pub nr_counts_as_zero: bool,
    pub periods: Vec<PeriodRef>,
    pub subjects: Vec<SubjectRef>,
    pub teachers: Vec<TeacherRef>,
}

#[derive(Default)]
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The request's school and its reference data.
    async fn school(&self, ctx: &Context<'_>) -> Result<SchoolView> {
        let school = school(ctx)?;
        let models = services(ctx)?.snapshot();
        let reference = models.reference();
        let info = reference.school(school);
        let mut teachers: Vec<TeacherRef> = reference
            .classes_of(school)
            .iter()
            .flat_map(|c| c.teaching.iter().map(|(t, _)| *t).chain(c.head_teacher))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|t| TeacherRef::of(&models, t))
            .collect();
        teachers.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(SchoolView {
            id: ID(school.to_string()),
            name: info.map(|s| s.name.clone()),
            registered: info.is_some(),
            nr_counts_as_zero: reference.nr_counts_as_zero(school),
            periods: reference
                .periods_of(school)
                .into_iter()
                .map(PeriodRef::from)
                .collect(),
            subjects: reference
                .subjects_of(school)
                .into_iter()
                .map(|s| SubjectRef::of(&models, s.subject_id))
                .collect(),
            teachers,
        })
    }

    /// The pupils a family follows: a guardian's children (by name), a pupil themself;
    /// empty for the staff. What a family's page starts from.
    async fn family(&self, ctx: &Context<'_>) -> Result<Vec<PupilRef>> {
        let (live, scope) = scope(ctx)?;
        let Some(pupils) = scope.family() else {
            return Ok(Vec::new());
        };
        let mut named = Vec::with_capacity(pupils.len());
        for pupil in pupils {
            let name = services(ctx)?.display_name(&live, *pupil).await?;
            named.push((name, *pupil));
        }
        named.sort();
        Ok(named
            .into_iter()
            .map(|(_, pupil_id)| PupilRef {
                models: live.clone(),
                pupil_id,
            })
            .collect())
    }

    /// The school's classes, by name, with the figures of their current period.
    async fn classes(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<ClassView>> {
        let (live, scope) = scope(ctx)?;
        scope.class_reads()?;
        let ids: Vec<ClassId> = live
            .reference()
            .classes_of(scope.school())
            .iter()
            .map(|c| c.class_id)
            .filter(|c| scope.sees_class(&live, *c))
            .collect();
        let mut views = Vec::with_capacity(ids.len());
        for id in ids {
            views.extend(ClassView::by_id(ctx, id, None, as_of).await?);
        }
        Ok(views)
    }

    /// A class by name (or id), with the figures of a period (a name such as "Trimestre 1"
    /// or an id; the period holding `asOf` or today by default).
    async fn class(
        &self,
        ctx: &Context<'_>,
        name: String,
        period: Option<String>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<ClassView> {
        ClassView::by_name(ctx, &name, period.as_deref(), as_of).await
    }

    /// A pupil's follow-up.
    async fn pupil(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<PupilView> {
        let pupil: PupilId = parse_id("id", &id)?;
        PupilView::load(ctx, pupil, None, as_of)
            .await?
            .ok_or_else(|| crate::errors::not_found("pupil", pupil))
    }

    /// A pupil by the vie scolaire's id.
    async fn pupil_by_external_id(
        &self,
        ctx: &Context<'_>,
        external_id: String,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<PupilView> {
        let (live, scope) = scope(ctx)?;
        // A pupil out of reach is answered like an unknown external id.
        let pupil = live
            .reference()
            .pupil_by_external_id(scope.school(), &external_id)
            .map(|p| p.pupil_id)
            .filter(|p| match as_of {
                Some(at) => scope.sees_pupil_on(&live, *p, at.date_naive()),
                None => scope.sees_pupil(&live, *p),
            })
            .ok_or_else(|| {
                coded(
                    NOT_FOUND,
                    format!("no pupil with external id {external_id:?}"),
                )
            })?;
        PupilView::load(ctx, pupil, None, as_of)
            .await?
            .ok_or_else(|| crate::errors::not_found("pupil", pupil))
    }

    /// The live board of a class session, evaluated now (or at `asOf`).
    async fn live_board(
        &self,
        ctx: &Context<'_>,
        session_id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<LiveBoardView> {
        let session: SessionId = parse_id("sessionId", &session_id)?;
        LiveBoardView::compute(services(ctx)?, identity(ctx)?, session, as_of)
    }

    /// Class sessions, latest first: of one class, or of the whole school.
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        class_id: Option<ID>,
        active: Option<bool>,
    ) -> Result<Vec<SessionView>> {
        let (models, scope) = scope(ctx)?;
        scope.class_reads()?;
        let classes: Vec<ClassId> = match &class_id {
            Some(id) => vec![class_by_id(&models, &scope, id)?.class_id],
            None => models
                .reference()
                .classes_of(scope.school())
                .iter()
                .map(|c| c.class_id)
                .filter(|c| scope.sees_class(&models, *c))
                .collect(),
        };
        let mut sessions: Vec<_> = classes
            .iter()
            .flat_map(|c| models.sessions_of(*c))
            .filter(|s| active.is_none_or(|a| a == s.ended_at.is_none()))
            // A teacher lists the sessions whose board they may open (their own).
            .filter(|s| scope.session(&models, s.session_id).is_ok())
            .copied()
            .collect();
        sessions.sort_by_key(|s| (std::cmp::Reverse(s.started_at), s.session_id));
        Ok(sessions
            .into_iter()
            .map(|s| SessionView::new(models.clone(), s))
            .collect())
    }

    /// An assessment with its grades and statistics.
    async fn assessment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<AssessmentView> {
        let assessment: AssessmentId = parse_id("id", &id)?;
        AssessmentView::load(ctx, assessment, as_of)
            .await?
            .ok_or_else(|| crate::errors::not_found("assessment", assessment))
    }

    /// A class's assessments of a period (all periods without one), by date.
    async fn assessments(
        &self,
        ctx: &Context<'_>,
        class_id: ID,
        period: Option<String>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<AssessmentView>> {
        let (live, scope) = scope(ctx)?;
        let class = class_by_id(&live, &scope, &class_id)?.class_id;
        let (_, models) =
            services(ctx)?.class_view(identity(ctx)?, ClassTarget::Class(class), as_of)?;
        let period = match &period {
            Some(wanted) => {
                let info = models
                    .reference()
                    .class(class)
                    .ok_or_else(|| crate::errors::not_found("class", class))?;
                resolve_period(&models, info, Some(wanted), Now::of(as_of).date())?
            }
            None => None,
        };
        Ok(models
            .assessments_of(class, period)
            .into_iter()
            .map(|a| AssessmentView::new(models.clone(), a.assessment_id))
            .collect())
    }

    /// A homework: who handed it in on time, late, or not at all.
    async fn homework(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<HomeworkView> {
        let homework: HomeworkId = parse_id("id", &id)?;
        HomeworkView::load(ctx, homework, as_of)
            .await?
            .ok_or_else(|| crate::errors::not_found("homework", homework))
    }

    /// A class's homework, by due time.
    async fn class_homework(
        &self,
        ctx: &Context<'_>,
        class_id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<HomeworkView>> {
        let (live, scope) = scope(ctx)?;
        let class = class_by_id(&live, &scope, &class_id)?.class_id;
        let (_, models) =
            services(ctx)?.class_view(identity(ctx)?, ClassTarget::Class(class), as_of)?;
        Ok(models
            .class_homework(class, Now::of(as_of).instant())
            .into_iter()
            .map(|report| HomeworkView::new(models.clone(), report))
            .collect())
    }

    /// A quiz: statistics per question, results per pupil.
    async fn quiz(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<QuizView> {
        let quiz: QuizId = parse_id("id", &id)?;
        QuizView::load(ctx, quiz, as_of)
            .await?
            .ok_or_else(|| crate::errors::not_found("quiz", quiz))
    }

    /// A parcours board: every pupil's status and progress.
    async fn parcours_board(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<ParcoursBoardView> {
        let parcours: ParcoursId = parse_id("id", &id)?;
        let services = services(ctx)?;
        let (_, models) =
            services.class_view(identity(ctx)?, ClassTarget::Parcours(parcours), as_of)?;
        ParcoursBoardView::new(
            models,
            parcours,
            Now::of(as_of).instant(),
            &services.parcours,
        )
        .ok_or_else(|| crate::errors::not_found("parcours", parcours))
    }

    /// Time on quizzes and parcours of a class (or of one pupil), `from <= at < to`, in
    /// total or per day or week.
    #[allow(clippy::too_many_arguments)]
    async fn time_on_task(
        &self,
        ctx: &Context<'_>,
        class_id: Option<ID>,
        pupil_id: Option<ID>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        bucket: Option<BucketGql>,
        quiz_id: Option<ID>,
        parcours_id: Option<ID>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<TimeOnTaskView> {
        let identity = identity(ctx)?;
        let services = services(ctx)?;
        let mut query = time_query(from, to, bucket, quiz_id.as_ref(), parcours_id.as_ref())?;
        let (live, scope) = services.scope(identity);
        match (&class_id, &pupil_id) {
            (Some(class_id), pupil_id) => {
                let class = class_by_id(&live, &scope, class_id)?.class_id;
                query.pupil = pupil_id
                    .as_ref()
                    .map(|p| parse_id("pupilId", p))
                    .transpose()?;
                let (_, models) =
                    services.class_view(identity, ClassTarget::Class(class), as_of)?;
                // One pupil's time in the class is a read of that pupil's data (a pupil
                // of the class: another id reads nothing, and is not journaled).
                if let Some(pupil) = query.pupil {
                    if models.reference().members(class).contains(&pupil) {
                        services.journal_read(identity, pupil).await?;
                    }
                }
                let report = models.time_on_task(class, &query);
                Ok(TimeOnTaskView::new(models, report))
            }
            (None, Some(pupil_id)) => {
                let pupil: PupilId = parse_id("pupilId", pupil_id)?;
                let models = services.pupil_view(identity, pupil, as_of).await?;
                let report = models.pupil_time_on_task(pupil, &query);
                Ok(TimeOnTaskView::new(models, report))
            }
            (None, None) => Err(crate::errors::bad_input(
                "timeOnTask needs a classId or a pupilId",
            )),
        }
    }

    /// A pupil's competencies: latest level, history and validations per component.
    async fn competencies(
        &self,
        ctx: &Context<'_>,
        pupil_id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<CompetencyView>> {
        let pupil: PupilId = parse_id("pupilId", &pupil_id)?;
        let models = services(ctx)?
            .pupil_view(identity(ctx)?, pupil, as_of)
            .await?;
        Ok(competency_views(&models, pupil))
    }

    /// Who on the staff opened a pupil's file (pupil, competencies, time on task, grade
    /// subscription), latest first: of one pupil or of all, since an instant.
    /// Administrators only.
    async fn access_journal(
        &self,
        ctx: &Context<'_>,
        pupil_id: Option<ID>,
        since: Option<DateTime<Utc>>,
        #[graphql(default = 100)] limit: i64,
    ) -> Result<Vec<AccessRecordView>> {
        let identity = identity(ctx)?;
        if identity.role != suivi_domain::Role::Admin {
            return Err(coded(
                crate::errors::FORBIDDEN,
                format!(
                    "only an administrator reads the access journal; a {} may not",
                    identity.role.as_str()
                ),
            ));
        }
        let pupil: Option<PupilId> = crate::errors::parse_opt_id("pupilId", pupil_id.as_ref())?;
        let limit = crate::errors::narrow("limit", limit, 10_000usize)?.min(10_000);
        // The journal is kept beside the snapshot: an answer that read it is never reused.
        crate::answers::outside_snapshot();
        let records = services(ctx)?
            .journal
            .query(pupil, since, limit)
            .await
            .map_err(|error| {
                tracing::error!(%error, "reading the access journal failed");
                coded(
                    crate::errors::UNAVAILABLE,
                    "the access journal could not be read; try again",
                )
            })?;
        Ok(records
            .into_iter()
            .map(|r| AccessRecordView {
                at: r.at,
                actor: r.actor,
                pupil_id: ID(r.pupil_id.to_string()),
            })
            .collect())
    }

    /// The global position the read models have folded up to.
    async fn position(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(services(ctx)?.projections.position())
    }
}
