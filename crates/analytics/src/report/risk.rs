//! The décrochage risk indicator from polars' figures. The rules are the projections'
//! (`suivi_projections::risk`: one definition, which the server applies to its read
//! models); this module only turns the batch figures into their input, the averages in
//! hundredths as they are shown.

use crate::figures::attendance::AttendanceFig;
use crate::figures::homework::HomeworkFig;
use crate::figures::hundredths;
pub use suivi_projections::risk::{assess, Factor, Risk, RiskInput, RiskLevel};

/// The batch figures of one pupil in a class and period.
pub struct BatchRiskFigures<'a> {
    pub general: Option<f64>,
    pub previous_general: Option<f64>,
    /// The pupil's average in each subject of the class (`None` where they have none).
    pub subject_averages: &'a [Option<f64>],
    pub attendance: &'a AttendanceFig,
    pub homework: &'a HomeworkFig,
    pub qcm_attempts: u32,
    /// Every pupil's QCM attempts in the class and period (the pupil's included).
    pub class_attempts: Vec<u32>,
    pub competencies_insufficient: usize,
}

impl BatchRiskFigures<'_> {
    pub fn input(&self) -> RiskInput {
        RiskInput {
            general: self.general.map(hundredths),
            previous_general: self.previous_general.map(hundredths),
            subject_averages: self
                .subject_averages
                .iter()
                .flatten()
                .map(|a| hundredths(*a))
                .collect(),
            half_days_unjustified: self.attendance.half_days_unjustified,
            latenesses: self.attendance.latenesses,
            homework_on_time: self.homework.on_time,
            homework_late: self.homework.late,
            homework_missing: self.homework.missing,
            qcm_attempts: self.qcm_attempts,
            class_attempts: self.class_attempts.clone(),
            competencies_insufficient: self.competencies_insufficient as u32,
        }
    }

    pub fn assess(&self) -> Risk {
        assess(&self.input())
    }
}
