//! Assessments and grades. One stream per assessment (`assessment-{id}`): it protects
//! "one grade per pupil per assessment unless corrected".

use crate::ids::*;
use crate::values::{Coefficient, Grade};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssessmentScheduled {
    pub assessment_id: AssessmentId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
    pub period_id: PeriodId,
    pub title: String,
    pub date: NaiveDate,
    /// The barème: grades are out of this many points (20, 10, 100…).
    pub scale: u16,
    pub coefficient: Coefficient,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeRecorded {
    pub assessment_id: AssessmentId,
    pub pupil_id: PupilId,
    pub grade: Grade,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeCorrected {
    pub assessment_id: AssessmentId,
    pub pupil_id: PupilId,
    pub grade: Grade,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The assessment's grades are held back from families (guardians and the pupil) until
/// `ResultsPublished`. Results are published by default (every assessment without these
/// events); a teacher withholds them, for instance until the corrected copies are given
/// back in class, and publishes them then. Staff see them throughout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsWithheld {
    pub assessment_id: AssessmentId,
}

/// Withheld results shown to families again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsPublished {
    pub assessment_id: AssessmentId,
}
