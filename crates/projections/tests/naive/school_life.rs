//! Attendance and homework, recomputed naively.

use super::Naive;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use suivi_domain::events::*;
use suivi_domain::ids::*;

impl<'a> Naive<'a> {
    /// (half_days, half_days_justified, lessons, lessons_justified, latenesses, minutes,
    /// latenesses_justified) of records dated in the period (and while in `class`, if given).
    pub fn attendance(&self, pupil: PupilId, period: PeriodId, class: Option<ClassId>) -> [u32; 7] {
        let mut t = [0u32; 7];
        let Some(p) = self.period(period) else {
            return t;
        };
        let justified = |id: AttendanceId| {
            self.events
                .iter()
                .any(|e| matches!(e, Event::AbsenceJustified(j) if j.record_id == id))
        };
        let keep = |day: NaiveDate| {
            p.starts_on <= day
                && day <= p.ends_on
                && class.is_none_or(|c| self.in_class_on(pupil, c, day))
        };
        for e in &self.events {
            match e {
                Event::AbsenceRecorded(a)
                    if a.pupil_id == pupil && keep(a.starts_at.date_naive()) =>
                {
                    t[0] += u32::from(a.half_days);
                    t[2] += u32::from(a.lessons);
                    if justified(a.absence_id) {
                        t[1] += u32::from(a.half_days);
                        t[3] += u32::from(a.lessons);
                    }
                }
                Event::LatenessRecorded(l) if l.pupil_id == pupil && keep(l.at.date_naive()) => {
                    t[4] += 1;
                    t[5] += u32::from(l.minutes);
                    if justified(l.lateness_id) {
                        t[6] += 1;
                    }
                }
                _ => {}
            }
        }
        t
    }

    // ----- homework -----

    /// Per homework of the class: pupil → ("ON_TIME" | "LATE" | "MISSING" | "PENDING", first deposit).
    pub fn homework(
        &self,
        class: ClassId,
        now: DateTime<Utc>,
    ) -> Vec<(HomeworkId, Vec<(PupilId, &'static str)>)> {
        let mut out = Vec::new();
        for e in &self.events {
            let Event::HomeworkAssigned(h) = e else {
                continue;
            };
            if h.class_id != class {
                continue;
            }
            let mut pupils = self.roster(class, now.min(h.due_at).date_naive());
            let mut first: BTreeMap<PupilId, DateTime<Utc>> = BTreeMap::new();
            for e in &self.events {
                if let Event::HomeworkDeposited(d) = e {
                    if d.homework_id == h.homework_id && !first.contains_key(&d.pupil_id) {
                        first.insert(d.pupil_id, d.deposited_at);
                        if !pupils.contains(&d.pupil_id) {
                            pupils.push(d.pupil_id);
                        }
                    }
                }
            }
            let statuses = pupils
                .into_iter()
                .map(|p| {
                    let s = match first.get(&p) {
                        Some(at) if *at <= h.due_at => "ON_TIME",
                        Some(_) => "LATE",
                        None if now > h.due_at => "MISSING",
                        None => "PENDING",
                    };
                    (p, s)
                })
                .collect();
            out.push((h.homework_id, statuses));
        }
        out
    }
}
