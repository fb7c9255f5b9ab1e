//! Homework from the cahier de textes and its deposits. One stream per homework
//! (`homework-{id}`): it protects "no deposit for an unknown homework".

use crate::ids::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HomeworkAssigned {
    pub homework_id: HomeworkId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
    pub title: String,
    pub assigned_on: NaiveDate,
    pub due_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HomeworkDeposited {
    pub homework_id: HomeworkId,
    pub pupil_id: PupilId,
    pub deposited_at: DateTime<Utc>,
    pub file_name: String,
    pub size_bytes: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}
