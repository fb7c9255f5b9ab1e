//! Competencies (socle commun or a school framework). One stream per pupil
//! (`competencies-{pupil}`).

use crate::ids::*;
use crate::values::MasteryLevel;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompetencyAssessed {
    pub pupil_id: PupilId,
    pub framework_id: FrameworkId,
    pub component: String,
    pub level: MasteryLevel,
    pub on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher_id: Option<TeacherId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompetencyValidated {
    pub pupil_id: PupilId,
    pub framework_id: FrameworkId,
    pub component: String,
    pub level: MasteryLevel,
    pub on: NaiveDate,
}
