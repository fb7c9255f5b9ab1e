//! Homework (cahier de textes): per assignment and per pupil, on time, late (and how late),
//! missing or pending.
//!
//! The first deposit decides (later deposits are counted, not judged): on time when
//! `deposited_at <= due_at`, late otherwise. A pupil who has not deposited is *missing*
//! once the due time has passed and *pending* before it; which pupils are expected is the
//! class roster on the due date (on `now`'s date while the due time is ahead), plus anyone
//! who deposited. Status depends on `now`, which the caller passes in (the time of the
//! request, or the instant of an *as of* view).

use crate::model::{Map, ReadModels};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use suivi_domain::events::Event;
use suivi_domain::ids::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Deposit {
    pub pupil_id: PupilId,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub count: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HomeworkModel {
    pub homework_id: HomeworkId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
    pub title: String,
    pub assigned_on: NaiveDate,
    pub due_at: DateTime<Utc>,
    /// One per pupil who deposited, in the order of their first deposit.
    pub deposits: Vec<Deposit>,
}

pub(crate) fn apply(homework: &mut Map<HomeworkId, Arc<HomeworkModel>>, event: &Event) {
    match event {
        Event::HomeworkAssigned(e) => {
            homework.insert(
                e.homework_id,
                Arc::new(HomeworkModel {
                    homework_id: e.homework_id,
                    class_id: e.class_id,
                    subject_id: e.subject_id,
                    title: e.title.clone(),
                    assigned_on: e.assigned_on,
                    due_at: e.due_at,
                    deposits: Vec::new(),
                }),
            );
        }
        Event::HomeworkDeposited(e) => {
            let Some(model) = homework.get_mut(&e.homework_id) else {
                return;
            };
            let model = Arc::make_mut(model);
            match model.deposits.iter_mut().find(|d| d.pupil_id == e.pupil_id) {
                Some(d) => {
                    d.last_at = e.deposited_at;
                    d.count += 1;
                }
                None => model.deposits.push(Deposit {
                    pupil_id: e.pupil_id,
                    first_at: e.deposited_at,
                    last_at: e.deposited_at,
                    count: 1,
                }),
            }
        }
        _ => {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HomeworkStatus {
    OnTime {
        deposited_at: DateTime<Utc>,
    },
    Late {
        deposited_at: DateTime<Utc>,
        late_by_seconds: i64,
    },
    Missing,
    Pending,
}

impl HomeworkStatus {
    /// The status of one pupil: `deposit` is their first deposit, if any.
    pub fn of(
        due_at: DateTime<Utc>,
        first_deposit: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        match first_deposit {
            Some(at) if at <= due_at => HomeworkStatus::OnTime { deposited_at: at },
            Some(at) => HomeworkStatus::Late {
                deposited_at: at,
                late_by_seconds: (at - due_at).num_seconds(),
            },
            None if now > due_at => HomeworkStatus::Missing,
            None => HomeworkStatus::Pending,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PupilHomework {
    pub pupil_id: PupilId,
    pub status: HomeworkStatus,
    pub deposits: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HomeworkReport {
    pub homework_id: HomeworkId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
    pub due_at: DateTime<Utc>,
    /// Expected pupils in roster order, then others who deposited.
    pub pupils: Vec<PupilHomework>,
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    pub pending: u32,
}

/// Counts of a pupil's homework by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HomeworkSummary {
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    pub pending: u32,
}

impl HomeworkSummary {
    fn add(&mut self, status: &HomeworkStatus) {
        match status {
            HomeworkStatus::OnTime { .. } => self.on_time += 1,
            HomeworkStatus::Late { .. } => self.late += 1,
            HomeworkStatus::Missing => self.missing += 1,
            HomeworkStatus::Pending => self.pending += 1,
        }
    }
}

/// A homework of one pupil: which, and its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PupilHomeworkLine {
    pub homework_id: HomeworkId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
    pub due_at: DateTime<Utc>,
    pub status: HomeworkStatus,
}

impl ReadModels {
    pub fn homework(&self, id: HomeworkId) -> Option<&HomeworkModel> {
        let class = self.class_of_homework(id)?;
        self.class_model(class)?
            .homework
            .get(&id)
            .map(|h| h.as_ref())
    }

    fn expected_pupils(&self, hw: &HomeworkModel, now: DateTime<Utc>) -> Vec<PupilId> {
        let day = now.min(hw.due_at).date_naive();
        self.reference.roster(hw.class_id, day)
    }

    fn report_of(&self, hw: &HomeworkModel, now: DateTime<Utc>) -> HomeworkReport {
        let mut pupils: Vec<PupilId> = self.expected_pupils(hw, now);
        for d in &hw.deposits {
            if !pupils.contains(&d.pupil_id) {
                pupils.push(d.pupil_id);
            }
        }
        let mut report = HomeworkReport {
            homework_id: hw.homework_id,
            class_id: hw.class_id,
            subject_id: hw.subject_id,
            due_at: hw.due_at,
            pupils: Vec::with_capacity(pupils.len()),
            on_time: 0,
            late: 0,
            missing: 0,
            pending: 0,
        };
        let mut summary = HomeworkSummary::default();
        for pupil_id in pupils {
            let deposit = hw.deposits.iter().find(|d| d.pupil_id == pupil_id);
            let status = HomeworkStatus::of(hw.due_at, deposit.map(|d| d.first_at), now);
            summary.add(&status);
            report.pupils.push(PupilHomework {
                pupil_id,
                status,
                deposits: deposit.map_or(0, |d| d.count),
            });
        }
        report.on_time = summary.on_time;
        report.late = summary.late;
        report.missing = summary.missing;
        report.pending = summary.pending;
        report
    }

    pub fn homework_report(&self, id: HomeworkId, now: DateTime<Utc>) -> Option<HomeworkReport> {
        Some(self.report_of(self.homework(id)?, now))
    }

    /// Every homework of a class, by due time.
    pub fn class_homework(&self, class: ClassId, now: DateTime<Utc>) -> Vec<HomeworkReport> {
        let Some(model) = self.class_model(class) else {
            return Vec::new();
        };
        let mut list: Vec<&HomeworkModel> = model.homework.values().map(|h| h.as_ref()).collect();
        list.sort_by_key(|h| (h.due_at, h.homework_id));
        list.into_iter().map(|h| self.report_of(h, now)).collect()
    }

    /// A pupil's homework in every class they have been in, by due time: those they were
    /// expected to hand in, and those they deposited.
    pub fn pupil_homework(&self, pupil: PupilId, now: DateTime<Utc>) -> Vec<PupilHomeworkLine> {
        let mut lines = Vec::new();
        self.each_pupil_homework(pupil, now, |_| true, |line| lines.push(line));
        lines.sort_by_key(|l| (l.due_at, l.homework_id));
        lines
    }

    /// Counts of a pupil's homework due within a period, by status: the lines of
    /// `pupil_homework` due in the period (the conseil board asks this of every pupil of
    /// a class, twice with the risk indicator: only that period's homework is looked at).
    pub fn pupil_homework_summary(
        &self,
        pupil: PupilId,
        period: PeriodId,
        now: DateTime<Utc>,
    ) -> HomeworkSummary {
        let mut summary = HomeworkSummary::default();
        let Some(p) = self.reference.period(period) else {
            return summary;
        };
        self.each_pupil_homework(
            pupil,
            now,
            |due_at| p.contains(due_at.date_naive()),
            |line| summary.add(&line.status),
        );
        summary
    }

    /// Each homework line of `pupil` whose due time `due` keeps, in no order.
    fn each_pupil_homework(
        &self,
        pupil: PupilId,
        now: DateTime<Utc>,
        due: impl Fn(DateTime<Utc>) -> bool,
        mut line: impl FnMut(PupilHomeworkLine),
    ) {
        let Some(info) = self.reference.pupil(pupil) else {
            return;
        };
        let mut classes: Vec<ClassId> = info.enrolments.iter().map(|e| e.class_id).collect();
        classes.sort();
        classes.dedup();
        for class in classes {
            let Some(model) = self.class_model(class) else {
                continue;
            };
            for hw in model.homework.values().filter(|hw| due(hw.due_at)) {
                let deposit = hw.deposits.iter().find(|d| d.pupil_id == pupil);
                let day = now.min(hw.due_at).date_naive();
                if deposit.is_none() && !info.in_class_on(class, day) {
                    continue;
                }
                line(PupilHomeworkLine {
                    homework_id: hw.homework_id,
                    class_id: class,
                    subject_id: hw.subject_id,
                    due_at: hw.due_at,
                    status: HomeworkStatus::of(hw.due_at, deposit.map(|d| d.first_at), now),
                });
            }
        }
    }
}
