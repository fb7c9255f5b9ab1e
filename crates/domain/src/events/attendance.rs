//! Absences and lateness. One stream per pupil (`attendance-{pupil}`): it protects
//! "justify only a recorded absence, once".

use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbsenceRecorded {
    pub absence_id: AttendanceId,
    pub pupil_id: PupilId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Demi-journées missed, as the bulletin counts them.
    pub half_days: u16,
    pub lessons: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatenessRecorded {
    pub lateness_id: AttendanceId,
    pub pupil_id: PupilId,
    pub at: DateTime<Utc>,
    pub minutes: u16,
}

/// Justifies an absence or a lateness (`record_id` is either's id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbsenceJustified {
    pub record_id: AttendanceId,
    pub pupil_id: PupilId,
    pub reason: String,
}
