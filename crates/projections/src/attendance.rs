//! Absences and lateness: half-days and lessons missed, justified or not, lateness count and
//! minutes, per pupil and period.
//!
//! A record belongs to the period that contains the UTC date of its start (an absence's
//! `starts_at`, a lateness's `at`); periods are both-ends-inclusive date ranges, so a school
//! with trimestres and semestres sees a record in one of each. In a class's table, a record
//! counts only if the pupil was enrolled in that class on that date (a pupil transferred
//! mid-period brings their earlier absences to the other class's table).

use crate::model::ReadModels;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use suivi_domain::events::Event;
use suivi_domain::ids::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttendanceKind {
    Absence {
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        half_days: u16,
        lessons: u16,
    },
    Lateness {
        at: DateTime<Utc>,
        minutes: u16,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AttendanceRecord {
    pub record_id: AttendanceId,
    #[serde(flatten)]
    pub kind: AttendanceKind,
    pub justified: bool,
}

impl AttendanceRecord {
    /// The date that decides the period: the start of an absence, the time of a lateness.
    pub fn date(&self) -> NaiveDate {
        match self.kind {
            AttendanceKind::Absence { starts_at, .. } => starts_at.date_naive(),
            AttendanceKind::Lateness { at, .. } => at.date_naive(),
        }
    }
}

pub(crate) fn apply(records: &mut Vec<AttendanceRecord>, event: &Event) {
    match event {
        Event::AbsenceRecorded(e) => records.push(AttendanceRecord {
            record_id: e.absence_id,
            kind: AttendanceKind::Absence {
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                half_days: e.half_days,
                lessons: e.lessons,
            },
            justified: false,
        }),
        Event::LatenessRecorded(e) => records.push(AttendanceRecord {
            record_id: e.lateness_id,
            kind: AttendanceKind::Lateness {
                at: e.at,
                minutes: e.minutes,
            },
            justified: false,
        }),
        Event::AbsenceJustified(e) => {
            if let Some(r) = records
                .iter_mut()
                .rev()
                .find(|r| r.record_id == e.record_id)
            {
                r.justified = true;
            }
        }
        _ => {}
    }
}

/// Totals of a set of attendance records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AttendanceSummary {
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

impl AttendanceSummary {
    pub fn add(&mut self, record: &AttendanceRecord) {
        match record.kind {
            AttendanceKind::Absence {
                half_days, lessons, ..
            } => {
                let (h, l) = (u32::from(half_days), u32::from(lessons));
                self.absences += 1;
                self.half_days += h;
                self.lessons += l;
                if record.justified {
                    self.half_days_justified += h;
                    self.lessons_justified += l;
                } else {
                    self.half_days_unjustified += h;
                    self.lessons_unjustified += l;
                }
            }
            AttendanceKind::Lateness { minutes, .. } => {
                self.latenesses += 1;
                self.lateness_minutes += u32::from(minutes);
                if record.justified {
                    self.latenesses_justified += 1;
                } else {
                    self.latenesses_unjustified += 1;
                }
            }
        }
    }
}

impl ReadModels {
    /// A pupil's absences and latenesses, in the order they were recorded.
    pub fn attendance_records(&self, pupil: PupilId) -> &[AttendanceRecord] {
        self.pupil_model(pupil)
            .map_or(&[], |p| p.attendance.as_slice())
    }

    /// Totals of the records dated in `[from, to]` (both included).
    pub fn attendance_between(
        &self,
        pupil: PupilId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AttendanceSummary {
        let mut summary = AttendanceSummary::default();
        for r in self.attendance_records(pupil) {
            if (from..=to).contains(&r.date()) {
                summary.add(r);
            }
        }
        summary
    }

    /// A pupil's totals in a period (whatever their class); zero for an unknown period.
    pub fn pupil_attendance(&self, pupil: PupilId, period: PeriodId) -> AttendanceSummary {
        match self.reference.period(period) {
            Some(p) => self.attendance_between(pupil, p.starts_on, p.ends_on),
            None => AttendanceSummary::default(),
        }
    }

    /// Each pupil enrolled in the class during the period, with the records dated while
    /// they were in it.
    pub fn class_attendance(
        &self,
        class: ClassId,
        period: PeriodId,
    ) -> BTreeMap<PupilId, AttendanceSummary> {
        let Some(p) = self.reference.period(period) else {
            return BTreeMap::new();
        };
        let mut table = BTreeMap::new();
        for pupil in self.reference.members_during(class, p.starts_on, p.ends_on) {
            let Some(info) = self.reference.pupil(pupil) else {
                continue;
            };
            let mut summary = AttendanceSummary::default();
            for r in self.attendance_records(pupil) {
                let date = r.date();
                if p.contains(date) && info.in_class_on(class, date) {
                    summary.add(r);
                }
            }
            table.insert(pupil, summary);
        }
        table
    }
}
