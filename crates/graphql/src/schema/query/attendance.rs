//! Absences and lateness.

use async_graphql::{Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use suivi_projections::attendance::{AttendanceKind, AttendanceRecord, AttendanceSummary};

/// Totals of absences (in demi-journées and lessons) and lateness, justified or not.
#[derive(SimpleObject, Clone, Copy, Default)]
#[graphql(name = "AttendanceSummary")]
pub struct AttendanceSummaryView {
    pub absences: u32,
    pub half_days: u32,
    pub half_days_justified: u32,
    pub half_days_unjustified: u32,
    pub lessons: u32,
    pub lessons_justified: u32,
    pub lessons_unjustified: u32,
    pub latenesses: u32,
    pub latenesses_justified: u32,
    pub latenesses_unjustified: u32,
    pub lateness_minutes: u32,
}

impl From<AttendanceSummary> for AttendanceSummaryView {
    fn from(s: AttendanceSummary) -> Self {
        AttendanceSummaryView {
            absences: s.absences,
            half_days: s.half_days,
            half_days_justified: s.half_days_justified,
            half_days_unjustified: s.half_days_unjustified,
            lessons: s.lessons,
            lessons_justified: s.lessons_justified,
            lessons_unjustified: s.lessons_unjustified,
            latenesses: s.latenesses,
            latenesses_justified: s.latenesses_justified,
            latenesses_unjustified: s.latenesses_unjustified,
            lateness_minutes: s.lateness_minutes,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AttendanceKindGql {
    Absence,
    Lateness,
}

#[derive(SimpleObject)]
#[graphql(name = "AttendanceRecord")]
pub struct AttendanceRecordView {
    pub id: ID,
    pub kind: AttendanceKindGql,
    pub justified: bool,
    /// Absence start, or the time of a lateness.
    pub at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub half_days: Option<u16>,
    pub lessons: Option<u16>,
    pub minutes: Option<u16>,
}

impl From<&AttendanceRecord> for AttendanceRecordView {
    fn from(r: &AttendanceRecord) -> Self {
        let id = ID(r.record_id.to_string());
        match r.kind {
            AttendanceKind::Absence {
                starts_at,
                ends_at,
                half_days,
                lessons,
            } => AttendanceRecordView {
                id,
                kind: AttendanceKindGql::Absence,
                justified: r.justified,
                at: starts_at,
                ends_at: Some(ends_at),
                half_days: Some(half_days),
                lessons: Some(lessons),
                minutes: None,
            },
            AttendanceKind::Lateness { at, minutes } => AttendanceRecordView {
                id,
                kind: AttendanceKindGql::Lateness,
                justified: r.justified,
                at,
                ends_at: None,
                half_days: None,
                lessons: None,
                minutes: Some(minutes),
            },
        }
    }
}
