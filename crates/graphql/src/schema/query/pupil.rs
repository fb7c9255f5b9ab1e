//! One pupil's follow-up: grades per subject and period with the class beside, averages,
//! spider chart, absences, homework, QCM, parcours, competencies and time on task.

use super::assessments::GradeValue;
use super::attendance::{AttendanceRecordView, AttendanceSummaryView};
use super::common::*;
use super::homework::{HomeworkSummaryView, PupilHomeworkLineView};
use super::live::{ParcoursStatusGql, StallReasonGql};
use super::qcm::PupilQuizView;
use super::risk::RiskView;
use super::spider::SpiderView;
use super::time::{time_query, BucketGql, TimeOnTaskView};
use crate::context::services;
use crate::identity::identity;
use crate::schema::types::GradeMark;
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use suivi_domain::ids::*;
use suivi_projections::competencies::CompetencyMark;
use suivi_projections::grades::{PupilGrade, PupilReport};
use suivi_projections::reference::PupilInfo;
use suivi_projections::ReadModels;

#[derive(SimpleObject)]
pub struct EnrolmentView {
    pub class: ClassRef,
    pub from: NaiveDate,
    /// First day in the next class, when transferred.
    pub until: Option<NaiveDate>,
}

pub struct PupilGradeView {
    models: Arc<ReadModels>,
    grade: PupilGrade,
}

#[Object(name = "PupilGrade")]
impl PupilGradeView {
    async fn assessment_id(&self) -> ID {
        ID(self.grade.assessment_id.to_string())
    }
    async fn title(&self) -> Option<String> {
        self.models
            .assessment(self.grade.assessment_id)
            .map(|a| a.title.clone())
    }
    async fn date(&self) -> NaiveDate {
        self.grade.date
    }
    async fn scale(&self) -> u16 {
        self.grade.scale
    }
    async fn coefficient(&self) -> f64 {
        self.grade.coefficient.0.as_f64()
    }
    /// "12.5" on the assessment's scale; null for a mark.
    async fn score(&self) -> Option<String> {
        GradeValue(self.grade.grade).score()
    }
    async fn mark(&self) -> Option<GradeMark> {
        GradeValue(self.grade.grade).mark()
    }
    async fn corrections(&self) -> u16 {
        self.grade.corrections
    }
}

/// A bulletin line: the pupil's average in a subject, the class beside, the grades.
pub struct PupilSubjectView {
    models: Arc<ReadModels>,
    report: Arc<PupilReport>,
    index: usize,
}

#[Object(name = "PupilSubject")]
impl PupilSubjectView {
    async fn subject(&self) -> Option<SubjectRef> {
        let line = self.report.subjects.get(self.index)?;
        Some(SubjectRef::of(&self.models, line.subject_id))
    }
    /// The pupil's average on /20.
    async fn average(&self) -> Option<f64> {
        round_opt(self.report.subjects.get(self.index)?.average)
    }
    /// The class's mean, lowest and highest average.
    async fn class(&self) -> Option<SpreadView> {
        self.report.subjects.get(self.index)?.class.map(Into::into)
    }
    async fn grades(&self) -> Vec<PupilGradeView> {
        self.report
            .subjects
            .get(self.index)
            .map(|line| {
                line.grades
                    .iter()
                    .map(|g| PupilGradeView {
                        models: self.models.clone(),
                        grade: g.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A pupil's row in a parcours of their class.
#[derive(SimpleObject)]
pub struct PupilParcoursView {
    pub parcours_id: ID,
    pub title: String,
    pub status: ParcoursStatusGql,
    pub stall_reason: Option<StallReasonGql>,
    pub steps_done: u16,
    pub steps_total: u16,
    pub last_progress_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub time_ms: u64,
}

#[derive(SimpleObject)]
pub struct CompetencyMarkView {
    pub level: u8,
    pub level_label: Option<String>,
    pub on: NaiveDate,
    pub validated: bool,
    pub teacher_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct CompetencyView {
    pub framework_id: ID,
    pub framework: Option<String>,
    pub component: String,
    pub label: Option<String>,
    pub latest: Option<CompetencyMarkView>,
    pub history: Vec<CompetencyMarkView>,
    pub validations: Vec<CompetencyMarkView>,
}

pub fn competency_views(models: &ReadModels, pupil: PupilId) -> Vec<CompetencyView> {
    models
        .competencies(pupil)
        .into_iter()
        .map(|c| {
            let framework = models.reference().framework(c.framework_id);
            let mark = |m: CompetencyMark| CompetencyMarkView {
                level: m.level,
                level_label: framework
                    .and_then(|f| f.levels.get(usize::from(m.level).wrapping_sub(1)))
                    .cloned(),
                on: m.on,
                validated: m.validated,
                teacher_id: m.teacher_id.map(|t| ID(t.to_string())),
            };
            CompetencyView {
                framework_id: ID(c.framework_id.to_string()),
                framework: framework.map(|f| f.name.clone()),
                component: c.component.clone(),
                label: c.label.clone(),
                latest: c.latest.map(mark),
                history: c.history.iter().copied().map(mark).collect(),
                validations: c.validations.iter().copied().map(mark).collect(),
            }
        })
        .collect()
}

pub struct PupilView {
    models: Arc<ReadModels>,
    pupil_id: PupilId,
    now: Now,
}

impl PupilView {
    /// A pupil of the request's school, live or as of an instant.
    pub async fn load(
        ctx: &Context<'_>,
        pupil: PupilId,
        _period: Option<&str>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<PupilView>> {
        let models = services(ctx)?
            .pupil_view(identity(ctx)?, pupil, as_of)
            .await?;
        Ok(Some(PupilView {
            models,
            pupil_id: pupil,
            now: Now::of(as_of),
        }))
    }

    fn info(&self) -> Option<&PupilInfo> {
        self.models.reference().pupil(self.pupil_id)
    }

    /// The class whose figures the pupil's period views use: the class on `now`, else the
    /// latest one.
    fn class_id(&self) -> Option<ClassId> {
        let info = self.info()?;
        info.class_on(self.now.date())
            .or_else(|| info.enrolments.last().map(|e| e.class_id))
    }

    fn class_and_period(&self, wanted: Option<&str>) -> Result<Option<(ClassId, PeriodId)>> {
        let Some(class_id) = self.class_id() else {
            return Ok(None);
        };
        let Some(class) = self.models.reference().class(class_id) else {
            return Ok(None);
        };
        Ok(resolve_period(&self.models, class, wanted, self.now.date())?.map(|p| (class_id, p)))
    }
}

#[Object(name = "Pupil")]
impl PupilView {
    async fn id(&self) -> ID {
        ID(self.pupil_id.to_string())
    }

    async fn external_id(&self) -> Option<String> {
        self.info().map(|p| p.external_id.clone())
    }

    /// "NOM Prénom", opened with the pupil's key.
    async fn display_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        services(ctx)?
            .display_name(&self.models, self.pupil_id)
            .await
    }

    /// The class on the view's date (or the latest).
    async fn class(&self) -> Option<ClassRef> {
        self.class_id().map(|c| ClassRef::of(&self.models, c))
    }

    async fn enrolments(&self) -> Vec<EnrolmentView> {
        self.info()
            .map(|p| {
                p.enrolments
                    .iter()
                    .map(|e| EnrolmentView {
                        class: ClassRef::of(&self.models, e.class_id),
                        from: e.from,
                        until: e.until,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The period the period views resolve to (a name or id; the current one by default).
    async fn period(&self, period: Option<String>) -> Result<Option<PeriodRef>> {
        Ok(self
            .class_and_period(period.as_deref())?
            .and_then(|(_, p)| self.models.reference().period(p))
            .map(PeriodRef::from))
    }

    /// Grades and averages per subject in a period, with the class's figures beside.
    async fn grades(&self, period: Option<String>) -> Result<Vec<PupilSubjectView>> {
        let Some((class, period)) = self.class_and_period(period.as_deref())? else {
            return Ok(Vec::new());
        };
        let report = Arc::new(self.models.pupil_report(class, self.pupil_id, period));
        Ok((0..report.subjects.len())
            .map(|index| PupilSubjectView {
                models: self.models.clone(),
                report: report.clone(),
                index,
            })
            .collect())
    }

    /// General average on /20 in a period (subject averages weighted by coefficients).
    async fn average(&self, period: Option<String>) -> Result<Option<f64>> {
        let Some((class, period)) = self.class_and_period(period.as_deref())? else {
            return Ok(None);
        };
        Ok(round_opt(
            self.models
                .pupil_report(class, self.pupil_id, period)
                .general_average,
        ))
    }

    /// The class's general averages in the period.
    async fn class_average(&self, period: Option<String>) -> Result<Option<SpreadView>> {
        let Some((class, period)) = self.class_and_period(period.as_deref())? else {
            return Ok(None);
        };
        Ok(self
            .models
            .class_report(class, period)
            .general_class
            .map(Into::into))
    }

    async fn spider(&self, period: Option<String>) -> Result<Option<SpiderView>> {
        let Some((class, period)) = self.class_and_period(period.as_deref())? else {
            return Ok(None);
        };
        let chart = self.models.spider(class, self.pupil_id, period);
        Ok(Some(SpiderView::new(&self.models, chart)))
    }

    /// Absences and lateness: in a period, or between two dates (both included).
    async fn absences(
        &self,
        period: Option<String>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<AttendanceSummaryView> {
        if from.is_some() || to.is_some() {
            let from = from.unwrap_or(NaiveDate::MIN);
            let to = to.unwrap_or(NaiveDate::MAX);
            return Ok(self
                .models
                .attendance_between(self.pupil_id, from, to)
                .into());
        }
        Ok(match self.class_and_period(period.as_deref())? {
            Some((_, period)) => self.models.pupil_attendance(self.pupil_id, period).into(),
            None => Default::default(),
        })
    }

    async fn attendance_records(&self) -> Vec<AttendanceRecordView> {
        self.models
            .attendance_records(self.pupil_id)
            .iter()
            .map(Into::into)
            .collect()
    }

    /// Homework of every class the pupil has been in, by due time.
    async fn homework(&self) -> Vec<PupilHomeworkLineView> {
        self.models
            .pupil_homework(self.pupil_id, self.now.instant())
            .into_iter()
            .map(|line| PupilHomeworkLineView {
                models: self.models.clone(),
                line,
            })
            .collect()
    }

    async fn homework_summary(&self, period: Option<String>) -> Result<HomeworkSummaryView> {
        Ok(match self.class_and_period(period.as_deref())? {
            Some((_, period)) => self
                .models
                .pupil_homework_summary(self.pupil_id, period, self.now.instant())
                .into(),
            None => HomeworkSummaryView {
                on_time: 0,
                late: 0,
                missing: 0,
                pending: 0,
            },
        })
    }

    /// The décrochage risk indicator in a period (the current one by default), in the
    /// pupil's class of the view's date: for the conseil de classe, so staff only (null for
    /// the pupil and their guardians).
    async fn risk(&self, period: Option<String>) -> Result<Option<RiskView>> {
        let Some((class, period)) = self.class_and_period(period.as_deref())? else {
            return Ok(None);
        };
        Ok(self
            .models
            .risk(class, self.pupil_id, period, self.now.instant())
            .map(Into::into))
    }

    /// Results on each quiz of the pupil's classes.
    async fn quizzes(&self) -> Vec<PupilQuizView> {
        let mut classes: Vec<ClassId> = self
            .info()
            .map(|p| p.enrolments.iter().map(|e| e.class_id).collect())
            .unwrap_or_default();
        classes.dedup();
        classes
            .into_iter()
            .flat_map(|c| self.models.quizzes_of(c))
            .filter_map(|q| self.models.pupil_quiz(q.quiz_id, self.pupil_id))
            .map(|result| PupilQuizView {
                models: self.models.clone(),
                result,
            })
            .collect()
    }

    /// Progress in each parcours of the pupil's current class.
    async fn parcours(&self, ctx: &Context<'_>) -> Result<Vec<PupilParcoursView>> {
        let config = services(ctx)?.parcours;
        let Some(class) = self.class_id() else {
            return Ok(Vec::new());
        };
        Ok(self
            .models
            .parcours_of(class)
            .into_iter()
            .filter_map(|p| {
                let board =
                    self.models
                        .parcours_board(p.parcours_id, self.now.instant(), &config)?;
                let row = board.rows.iter().find(|r| r.pupil_id == self.pupil_id)?;
                Some(PupilParcoursView {
                    parcours_id: ID(p.parcours_id.to_string()),
                    title: p.title.clone(),
                    status: row.status.into(),
                    stall_reason: row.stall_reason.map(Into::into),
                    steps_done: row.steps_done,
                    steps_total: row.steps_total,
                    last_progress_at: row.last_progress_at,
                    finished_at: row.finished_at,
                    time_ms: row.time_ms,
                })
            })
            .collect())
    }

    async fn competencies(&self) -> Vec<CompetencyView> {
        competency_views(&self.models, self.pupil_id)
    }

    /// Time on quizzes and parcours, `from <= at < to`, in total or per day or week.
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
            self.models.pupil_time_on_task(self.pupil_id, &query),
        ))
    }
}
