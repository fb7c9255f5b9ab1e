//! An assessment: its grades and its statistics (on its own scale).

use super::common::*;
use crate::context::{services, ClassTarget};
use crate::identity::identity;
use crate::schema::types::GradeMark;
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use suivi_domain::ids::*;
use suivi_domain::values::Grade;
use suivi_projections::grades::AssessmentModel;
use suivi_projections::ReadModels;

/// Statistics of an assessment in points on its scale. `NR` counts as 0 where the school
/// counts it so; `ABS` and `DISP` are only counted apart.
#[derive(SimpleObject)]
pub struct AssessmentStatsView {
    /// Grades that enter the figures.
    pub count: u32,
    pub absent: u32,
    pub exempted: u32,
    pub not_handed_in: u32,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub median: Option<f64>,
}

/// A grade as given: a score (text, "12.5") or a mark.
pub struct GradeValue(pub Grade);

impl GradeValue {
    pub fn score(&self) -> Option<String> {
        match self.0 {
            Grade::Score(h) => Some(h.to_string()),
            _ => None,
        }
    }

    pub fn mark(&self) -> Option<GradeMark> {
        match self.0 {
            Grade::Score(_) => None,
            Grade::Absent => Some(GradeMark::Abs),
            Grade::Exempted => Some(GradeMark::Disp),
            Grade::NotHandedIn => Some(GradeMark::Nr),
        }
    }
}

pub struct AssessmentGrade {
    models: Arc<ReadModels>,
    pupil_id: PupilId,
    grade: GradeValue,
    corrections: u16,
}

#[Object]
impl AssessmentGrade {
    async fn pupil(&self) -> PupilRef {
        PupilRef {
            models: self.models.clone(),
            pupil_id: self.pupil_id,
        }
    }

    /// The score on the assessment's scale, "12.5"; null for a mark.
    async fn score(&self) -> Option<String> {
        self.grade.score()
    }

    async fn mark(&self) -> Option<GradeMark> {
        self.grade.mark()
    }

    /// How many times the grade was corrected.
    async fn corrections(&self) -> u16 {
        self.corrections
    }
}

pub struct AssessmentView {
    models: Arc<ReadModels>,
    assessment_id: AssessmentId,
}

impl AssessmentView {
    pub fn new(models: Arc<ReadModels>, assessment_id: AssessmentId) -> AssessmentView {
        AssessmentView {
            models,
            assessment_id,
        }
    }

    /// The assessment if it belongs to the request's school.
    pub async fn load(
        ctx: &Context<'_>,
        id: AssessmentId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<AssessmentView>> {
        let (_, models) =
            services(ctx)?.class_view(identity(ctx)?, ClassTarget::Assessment(id), as_of)?;
        Ok(models
            .assessment(id)
            .is_some()
            .then(|| AssessmentView::new(models.clone(), id)))
    }

    fn model(&self) -> Option<&AssessmentModel> {
        self.models.assessment(self.assessment_id)
    }
}

#[Object(name = "Assessment")]
impl AssessmentView {
    async fn id(&self) -> ID {
        ID(self.assessment_id.to_string())
    }

    async fn title(&self) -> Option<String> {
        self.model().map(|a| a.title.clone())
    }

    /// Whether families (guardians and the pupil) see its results: false once a teacher
    /// withheld them (`withholdResults`), until `publishResults`.
    async fn published(&self) -> Option<bool> {
        self.model().map(|a| !a.withheld)
    }

    async fn date(&self) -> Option<NaiveDate> {
        self.model().map(|a| a.date)
    }

    /// The barème: grades are out of this many points.
    async fn scale(&self) -> Option<u16> {
        self.model().map(|a| a.scale)
    }

    async fn coefficient(&self) -> Option<f64> {
        self.model().map(|a| a.coefficient.0.as_f64())
    }

    async fn subject(&self) -> Option<SubjectRef> {
        self.model()
            .map(|a| SubjectRef::of(&self.models, a.subject_id))
    }

    async fn class(&self) -> Option<ClassRef> {
        self.model().map(|a| ClassRef::of(&self.models, a.class_id))
    }

    async fn period(&self) -> Option<PeriodRef> {
        let a = self.model()?;
        self.models
            .reference()
            .period(a.period_id)
            .map(PeriodRef::from)
    }

    async fn stats(&self) -> Option<AssessmentStatsView> {
        let s = self.models.assessment_stats(self.assessment_id)?;
        Some(AssessmentStatsView {
            count: s.count,
            absent: s.absent,
            exempted: s.exempted,
            not_handed_in: s.not_handed_in,
            min: round_opt(s.min),
            max: round_opt(s.max),
            mean: round_opt(s.mean),
            median: round_opt(s.median),
        })
    }

    /// Current grades, in the order pupils were first graded (each pupil's grade a read
    /// of their data, journaled for staff).
    async fn grades(&self, ctx: &Context<'_>) -> Result<Vec<AssessmentGrade>> {
        let pupils: Vec<PupilId> = self
            .model()
            .map(|a| a.grades.iter().map(|g| g.pupil_id).collect())
            .unwrap_or_default();
        journal_rows(ctx, &pupils).await?;
        Ok(self
            .model()
            .map(|a| {
                a.grades
                    .iter()
                    .map(|g| AssessmentGrade {
                        models: self.models.clone(),
                        pupil_id: g.pupil_id,
                        grade: GradeValue(g.grade),
                        corrections: g.corrections,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}
