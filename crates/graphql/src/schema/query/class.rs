//! The conseil de classe view of a class and period: per-subject class figures, each
//! pupil's averages and spider chart, absences and homework, and the class's work.

use super::assessments::AssessmentView;
use super::attendance::AttendanceSummaryView;
use super::common::*;
use super::homework::{HomeworkSummaryView, HomeworkView};
use super::live::{ParcoursBoardView, SessionView};
use super::qcm::QuizView;
use super::risk::RiskView;
use super::spider::SpiderView;
use super::time::{time_query, BucketGql, TimeOnTaskView};
use crate::context::{services, ClassTarget};
use crate::identity::identity;
use crate::schema::types::SubjectKindGql;
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use suivi_domain::ids::*;
use suivi_projections::grades::ClassReport;
use suivi_projections::ReadModels;

#[derive(SimpleObject)]
pub struct YearRef {
    pub id: ID,
    pub label: String,
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
}

/// One subject of the class in the period: the mean, lowest and highest of the pupils'
/// averages (on /20, two decimals) and how many pupils have one.
#[derive(SimpleObject)]
pub struct ClassSubject {
    pub id: ID,
    pub name: String,
    pub kind: Option<SubjectKindGql>,
    pub coefficient: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub graded_count: u32,
}

#[derive(SimpleObject)]
pub struct TeachingView {
    pub teacher: TeacherRef,
    pub subject: SubjectRef,
}

/// A class as of `now`, with the figures of one period.
#[derive(Clone)]
pub struct ClassView {
    models: Arc<ReadModels>,
    class_id: ClassId,
    period_id: Option<PeriodId>,
    report: Option<Arc<ClassReport>>,
    now: Now,
    as_of: Option<DateTime<Utc>>,
    /// The class-wide inputs of the pupils' risk indicators, computed by the first row
    /// that asks and shared by the others (the view is cloned into every row).
    risk_basis: Arc<std::sync::OnceLock<Option<suivi_projections::risk::RiskBasis>>>,
}

impl ClassView {
    pub fn new(
        models: Arc<ReadModels>,
        class_id: ClassId,
        period_id: Option<PeriodId>,
        as_of: Option<DateTime<Utc>>,
    ) -> ClassView {
        let report = period_id.map(|p| models.class_report_shared(class_id, p));
        ClassView {
            models,
            class_id,
            period_id,
            report,
            now: Now::of(as_of),
            as_of,
            risk_basis: Arc::default(),
        }
    }

    /// The class named (or with this id) in the request's school.
    pub async fn by_name(
        ctx: &Context<'_>,
        name: &str,
        period: Option<&str>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<ClassView> {
        let identity = identity(ctx)?;
        let services = services(ctx)?;
        let now = Now::of(as_of);
        let (live, scope) = services.scope(identity);
        let class = find_class(&live, &scope, name, now.date())?.class_id;
        let (_, models) = services.class_view(identity, ClassTarget::Class(class), as_of)?;
        let info = models
            .reference()
            .class(class)
            .ok_or_else(|| crate::errors::not_found("class", class))?;
        let period = resolve_period(&models, info, period, now.date())?;
        Ok(ClassView::new(models, class, period, as_of))
    }

    pub async fn by_id(
        ctx: &Context<'_>,
        class: ClassId,
        period: Option<&str>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<ClassView>> {
        let (_, models) =
            services(ctx)?.class_view(identity(ctx)?, ClassTarget::Class(class), as_of)?;
        let Some(info) = models.reference().class(class) else {
            return Ok(None);
        };
        let period = resolve_period(&models, info, period, Now::of(as_of).date())?;
        Ok(Some(ClassView::new(models, class, period, as_of)))
    }

    fn pupil_ids(&self) -> Vec<PupilId> {
        let reference = self.models.reference();
        match self.period_id.and_then(|p| reference.period(p)) {
            Some(p) => reference.members_during(self.class_id, p.starts_on, p.ends_on),
            None => reference.roster(self.class_id, self.now.date()),
        }
    }
}

#[Object(name = "Class")]
impl ClassView {
    async fn id(&self) -> ID {
        ID(self.class_id.to_string())
    }

    async fn name(&self) -> String {
        ClassRef::of(&self.models, self.class_id).name
    }

    async fn year(&self) -> Option<YearRef> {
        let reference = self.models.reference();
        let class = reference.class(self.class_id)?;
        reference.year(class.year_id).map(|y| YearRef {
            id: ID(y.year_id.to_string()),
            label: y.label.clone(),
            starts_on: y.starts_on,
            ends_on: y.ends_on,
        })
    }

    /// The period the figures are computed for.
    async fn period(&self) -> Option<PeriodRef> {
        self.period_id
            .and_then(|p| self.models.reference().period(p))
            .map(PeriodRef::from)
    }

    /// The periods of the class's school year.
    async fn periods(&self) -> Vec<PeriodRef> {
        let reference = self.models.reference();
        let Some(class) = reference.class(self.class_id) else {
            return Vec::new();
        };
        reference
            .periods_of(class.school_id)
            .into_iter()
            .filter(|p| p.year_id == class.year_id)
            .map(PeriodRef::from)
            .collect()
    }

    /// The instant the view is computed as of, when not live.
    async fn as_of(&self) -> Option<DateTime<Utc>> {
        self.as_of
    }

    async fn head_teacher(&self) -> Option<TeacherRef> {
        let class = self.models.reference().class(self.class_id)?;
        class.head_teacher.map(|t| TeacherRef::of(&self.models, t))
    }

    async fn teaching(&self) -> Vec<TeachingView> {
        let Some(class) = self.models.reference().class(self.class_id) else {
            return Vec::new();
        };
        class
            .teaching
            .iter()
            .map(|(t, s)| TeachingView {
                teacher: TeacherRef::of(&self.models, *t),
                subject: SubjectRef::of(&self.models, *s),
            })
            .collect()
    }

    /// Subjects with grades in the period, by name.
    async fn subjects(&self) -> Vec<ClassSubject> {
        let Some(report) = &self.report else {
            return Vec::new();
        };
        report
            .subjects
            .iter()
            .map(|s| {
                let subject = SubjectRef::of(&self.models, s.subject_id);
                ClassSubject {
                    id: subject.id,
                    name: subject.name,
                    kind: subject.kind,
                    coefficient: subject.coefficient,
                    mean: s.class.map(|c| round(c.mean)),
                    min: s.class.map(|c| round(c.min)),
                    max: s.class.map(|c| round(c.max)),
                    graded_count: s.class.map_or(0, |c| c.count),
                }
            })
            .collect()
    }

    /// The class's general averages: mean, lowest, highest, number of pupils.
    async fn general_average(&self) -> Option<SpreadView> {
        self.report
            .as_ref()
            .and_then(|r| r.general_class)
            .map(Into::into)
    }

    /// The pupils enrolled in the class during the period (on `now` without a period), in
    /// enrolment order.
    /// One row per pupil with their figures: each row is a read of that pupil's data, and
    /// journaled as one for staff.
    async fn pupils(&self, ctx: &Context<'_>) -> Result<Vec<ClassPupil>> {
        let services = services(ctx)?;
        let identity = identity(ctx)?;
        let ids = self.pupil_ids();
        services.journal_reads(identity, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|pupil_id| ClassPupil {
                class: self.clone(),
                pupil_id,
            })
            .collect())
    }

    async fn assessments(&self) -> Vec<AssessmentView> {
        self.models
            .assessments_of(self.class_id, self.period_id)
            .into_iter()
            .map(|a| AssessmentView::new(self.models.clone(), a.assessment_id))
            .collect()
    }

    async fn homework(&self) -> Vec<HomeworkView> {
        self.models
            .class_homework(self.class_id, self.now.instant())
            .into_iter()
            .map(|report| HomeworkView::new(self.models.clone(), report))
            .collect()
    }

    async fn quizzes(&self) -> Vec<QuizView> {
        self.models
            .quizzes_of(self.class_id)
            .into_iter()
            .filter_map(|q| QuizView::new(self.models.clone(), q.quiz_id))
            .collect()
    }

    async fn parcours(&self, ctx: &Context<'_>) -> Result<Vec<ParcoursBoardView>> {
        let config = services(ctx)?.parcours;
        Ok(self
            .models
            .parcours_of(self.class_id)
            .into_iter()
            .filter_map(|p| {
                ParcoursBoardView::new(
                    self.models.clone(),
                    p.parcours_id,
                    self.now.instant(),
                    &config,
                )
            })
            .collect())
    }

    /// Class sessions, latest first (a teacher's own, in a class they do not lead).
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<SessionView>> {
        let (live, scope) = crate::context::scope(ctx)?;
        Ok(self
            .models
            .sessions_of(self.class_id)
            .into_iter()
            .filter(|s| scope.session(&live, s.session_id).is_ok())
            .map(|s| SessionView::new(self.models.clone(), *s))
            .collect())
    }

    /// Time the class's pupils spent on its quizzes and parcours.
    async fn time_on_task(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        bucket: Option<BucketGql>,
        quiz_id: Option<ID>,
        parcours_id: Option<ID>,
    ) -> Result<TimeOnTaskView> {
        let query = time_query(from, to, bucket, quiz_id.as_ref(), parcours_id.as_ref())?;
        Ok(TimeOnTaskView::new(
            self.models.clone(),
            self.models.time_on_task(self.class_id, &query),
        ))
    }
}

/// A pupil in the class view: their figures for the class's period.
pub struct ClassPupil {
    class: ClassView,
    pupil_id: PupilId,
}

#[derive(SimpleObject)]
pub struct SubjectAverage {
    pub subject: SubjectRef,
    pub average: f64,
}

#[Object]
impl ClassPupil {
    async fn id(&self) -> ID {
        ID(self.pupil_id.to_string())
    }

    async fn external_id(&self) -> Option<String> {
        self.class
            .models
            .reference()
            .pupil(self.pupil_id)
            .map(|p| p.external_id.clone())
    }

    /// "NOM Prénom", opened with the pupil's key.
    async fn display_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        services(ctx)?
            .display_name(&self.class.models, self.pupil_id)
            .await
    }

    /// General average on /20: subject averages weighted by subject coefficients.
    async fn average(&self) -> Option<f64> {
        let report = self.class.report.as_ref()?;
        report.general.get(&self.pupil_id).copied().map(round)
    }

    /// Average on /20 in each subject the pupil has grades in.
    async fn averages(&self) -> Vec<SubjectAverage> {
        let Some(report) = &self.class.report else {
            return Vec::new();
        };
        report
            .subjects
            .iter()
            .filter_map(|s| {
                s.pupils.get(&self.pupil_id).map(|avg| SubjectAverage {
                    subject: SubjectRef::of(&self.class.models, s.subject_id),
                    average: round(*avg),
                })
            })
            .collect()
    }

    /// The pupil's average on /20 in each subject of the class's `subjects`, in that
    /// order (null where they have none): a row of the conseil board in one field.
    async fn subject_averages(&self) -> Vec<Option<f64>> {
        let Some(report) = &self.class.report else {
            return Vec::new();
        };
        report
            .subjects
            .iter()
            .map(|s| s.pupils.get(&self.pupil_id).map(|avg| round(*avg)))
            .collect()
    }

    /// Attempts the pupil started on the class's quizzes (those the view holds).
    async fn qcm_attempts(&self) -> usize {
        self.class
            .models
            .quizzes_of(self.class.class_id)
            .iter()
            .filter_map(|q| q.pupil(self.pupil_id))
            .map(|p| p.attempts.len())
            .sum()
    }

    async fn spider(&self) -> Option<SpiderView> {
        let period = self.class.period_id?;
        let chart = self
            .class
            .models
            .spider(self.class.class_id, self.pupil_id, period);
        Some(SpiderView::new(&self.class.models, chart))
    }

    /// Absences and lateness in the period.
    async fn absences(&self) -> Option<AttendanceSummaryView> {
        let period = self.class.period_id?;
        Some(
            self.class
                .models
                .pupil_attendance(self.pupil_id, period)
                .into(),
        )
    }

    /// Homework of the period by status.
    async fn homework(&self) -> Option<HomeworkSummaryView> {
        let period = self.class.period_id?;
        Some(
            self.class
                .models
                .pupil_homework_summary(self.pupil_id, period, self.class.now.instant())
                .into(),
        )
    }

    /// The décrochage risk indicator in the class's period, for the conseil de classe
    /// (staff only: null for families). Made of what the view holds: a teacher's view of a
    /// class they do not lead has their subjects only, and no general average.
    async fn risk(&self) -> Option<RiskView> {
        let period = self.class.period_id?;
        let models = &self.class.models;
        let basis = self
            .class
            .risk_basis
            .get_or_init(|| models.risk_basis(self.class.class_id, period))
            .as_ref()?;
        models
            .risk_in(basis, self.pupil_id, self.class.now.instant())
            .map(Into::into)
    }
}
