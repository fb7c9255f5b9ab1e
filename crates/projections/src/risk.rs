//! The décrochage (dropping-out) risk indicator: a few plain rules, each spelt out with the
//! figure and the threshold that raised it, so that the conseil can weigh and disagree.
//! Not a prediction: a prompt to look at a pupil.
//!
//! The rules (`assess`) are the one definition: the server computes their inputs from the
//! read models (`ReadModels::risk`), and the analytics crate recomputes the same inputs with
//! polars and calls the same `assess` (`suivi check` compares the two).
//!
//! | factor | points |
//! |---|---|
//! | general average below 8 (else below 10) | 2 (1) |
//! | general average down by 2 points or more since the previous period | 1 |
//! | 3 subjects or more with an average below 8 | 1 |
//! | 4 unjustified half-days of absence or more (else 2 or more) | 2 (1) |
//! | 5 latenesses or more | 1 |
//! | 30 % or more of at least 3 homework due not handed in (else 2 or more missing) | 2 (1) |
//! | no QCM attempt while the class's median is at least 1 | 1 |
//! | 2 socle commun components or more at "maîtrise insuffisante" | 1 |
//!
//! 0 or 1 point is `LOW`, 2 or 3 `WATCH`, 4 and more `HIGH`.
//!
//! Averages enter the rules as they are shown, in hundredths rounded half away from zero:
//! an average shown as 8,00 is not below 8, and a drop is the difference of the two
//! averages shown, so a reason never contradicts the figures beside it.

use crate::model::ReadModels;
use chrono::{DateTime, Utc};
use suivi_domain::ids::*;
use suivi_domain::reference::{SOCLE_COMMUN_COMPONENTS, SOCLE_COMMUN_ID};

/// A general average below this (in hundredths: 8,00) is 2 points.
pub const GENERAL_FAILING: i64 = 800;
/// A general average below this (10,00), and not below 8, is 1 point.
pub const GENERAL_BELOW_AVERAGE: i64 = 1000;
/// A drop of at least this much (2,00 points) since the previous period is 1 point.
pub const GENERAL_DROP: i64 = 200;
/// A subject average below this (8,00) is a low subject…
pub const SUBJECT_LOW: i64 = 800;
/// …and this many low subjects are 1 point.
pub const LOW_SUBJECTS: usize = 3;
/// Unjustified half-days of absence: this many are 2 points…
pub const UNJUSTIFIED_HIGH: u32 = 4;
/// …this many 1 point.
pub const UNJUSTIFIED_WATCH: u32 = 2;
/// This many latenesses are 1 point.
pub const LATENESSES: u32 = 5;
/// With at least this much homework due, a share of missing ones…
pub const HOMEWORK_DUE: u32 = 3;
/// …of at least this percentage is 2 points.
pub const HOMEWORK_MISSING_PERCENT: u32 = 30;
/// Otherwise this many missing homework are 1 point.
pub const HOMEWORK_MISSING: u32 = 2;
/// This many socle commun components at level 1 (maîtrise insuffisante) are 1 point.
pub const COMPETENCIES_INSUFFICIENT: u32 = 2;
/// The level "maîtrise insuffisante".
pub const INSUFFICIENT_LEVEL: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskLevel {
    Low,
    Watch,
    High,
}

impl RiskLevel {
    /// In French, as the conseil reads it.
    pub fn label(self) -> &'static str {
        match self {
            RiskLevel::Low => "faible",
            RiskLevel::Watch => "à surveiller",
            RiskLevel::High => "élevé",
        }
    }

    /// 0–1 point is low, 2–3 to watch, 4 and more high.
    pub fn of(score: u32) -> RiskLevel {
        match score {
            0..=1 => RiskLevel::Low,
            2..=3 => RiskLevel::Watch,
            _ => RiskLevel::High,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Factor {
    pub points: u32,
    /// In French, with the figure and the threshold.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Risk {
    pub level: RiskLevel,
    pub score: u32,
    pub factors: Vec<Factor>,
}

/// What the rules read about one pupil in a class and period. Averages are on /20 in
/// hundredths, rounded half away from zero (1250 is 12,50).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RiskInput {
    pub general: Option<i64>,
    /// The general average of the period before, in the same class.
    pub previous_general: Option<i64>,
    /// The pupil's average in each subject they have one in.
    pub subject_averages: Vec<i64>,
    pub half_days_unjustified: u32,
    pub latenesses: u32,
    pub homework_on_time: u32,
    pub homework_late: u32,
    pub homework_missing: u32,
    /// QCM attempts the pupil started in the period on the class's quizzes.
    pub qcm_attempts: u32,
    /// The same count for every pupil of the class in the period (the pupil included).
    pub class_attempts: Vec<u32>,
    /// Socle commun components whose level in the period is "maîtrise insuffisante".
    pub competencies_insufficient: u32,
}

use suivi_present::format::points_of_hundredths as points;

/// Twice the median of `values` (the median may be a half): the middle value, or the sum
/// of the two middle ones for an even count; 0 for none.
fn twice_median(values: &[u32]) -> u64 {
    let mut sorted: Vec<u64> = values.iter().map(|v| u64::from(*v)).collect();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => 2 * sorted[n / 2],
        _ => sorted[n / 2 - 1] + sorted[n / 2],
    }
}

/// Applies the rules.
pub fn assess(input: &RiskInput) -> Risk {
    let mut factors = Vec::new();
    let mut add = |points: u32, reason: String| factors.push(Factor { points, reason });
    if let Some(g) = input.general {
        if g < GENERAL_FAILING {
            add(2, format!("moyenne générale {} < 8", points(g)));
        } else if g < GENERAL_BELOW_AVERAGE {
            add(1, format!("moyenne générale {} < 10", points(g)));
        }
        if let Some(p) = input.previous_general {
            if p - g >= GENERAL_DROP {
                add(
                    1,
                    format!(
                        "baisse de {} points depuis la période précédente ({} → {})",
                        points(p - g),
                        points(p),
                        points(g)
                    ),
                );
            }
        }
    }
    let low = input
        .subject_averages
        .iter()
        .filter(|a| **a < SUBJECT_LOW)
        .count();
    if low >= LOW_SUBJECTS {
        add(1, format!("{low} matières sous 8/20"));
    }
    let unjustified = input.half_days_unjustified;
    if unjustified >= UNJUSTIFIED_HIGH {
        add(
            2,
            format!(
                "{unjustified} demi-journées d'absence non justifiées (seuil {UNJUSTIFIED_HIGH})"
            ),
        );
    } else if unjustified >= UNJUSTIFIED_WATCH {
        add(
            1,
            format!(
                "{unjustified} demi-journées d'absence non justifiées (seuil {UNJUSTIFIED_WATCH})"
            ),
        );
    }
    if input.latenesses >= LATENESSES {
        add(
            1,
            format!("{} retards (seuil {LATENESSES})", input.latenesses),
        );
    }
    let missing = input.homework_missing;
    let due = input.homework_on_time + input.homework_late + missing;
    if due >= HOMEWORK_DUE && missing * 100 >= due * HOMEWORK_MISSING_PERCENT {
        add(
            2,
            format!(
                "{missing} devoirs non rendus sur {due} ({HOMEWORK_MISSING_PERCENT} % ou plus)"
            ),
        );
    } else if missing >= HOMEWORK_MISSING {
        add(1, format!("{missing} devoirs non rendus"));
    }
    let median = twice_median(&input.class_attempts);
    if median >= 2 && input.qcm_attempts == 0 {
        add(
            1,
            format!(
                "aucune tentative de QCM (médiane de la classe : {},{})",
                median / 2,
                if median % 2 == 1 { 5 } else { 0 }
            ),
        );
    }
    if input.competencies_insufficient >= COMPETENCIES_INSUFFICIENT {
        add(
            1,
            format!(
                "{} composantes du socle en maîtrise insuffisante",
                input.competencies_insufficient
            ),
        );
    }
    let score = factors.iter().map(|f| f.points).sum();
    Risk {
        level: RiskLevel::of(score),
        score,
        factors,
    }
}

/// The class-wide part of the risk indicator's inputs (see `ReadModels::risk_basis`).
#[derive(Debug)]
pub struct RiskBasis {
    period: PeriodId,
    ends_on: chrono::NaiveDate,
    report: std::sync::Arc<crate::grades::ClassReport>,
    previous: Option<std::sync::Arc<crate::grades::ClassReport>>,
    attempts: crate::model::Map<PupilId, u32>,
    class_attempts: Vec<u32>,
}

impl ReadModels {
    /// The period of the same year and kind that ended last before `period` started.
    pub fn previous_period(&self, period: PeriodId) -> Option<PeriodId> {
        let current = self.reference.period(period)?;
        self.reference
            .periods_of(current.school_id)
            .into_iter()
            .filter(|p| {
                p.year_id == current.year_id
                    && p.kind == current.kind
                    && p.ends_on < current.starts_on
            })
            .max_by_key(|p| p.starts_on)
            .map(|p| p.period_id)
    }

    /// QCM attempts started, per pupil, on `class`'s quizzes on the days of `period`.
    fn attempts_in(&self, class: ClassId, period: PeriodId) -> crate::model::Map<PupilId, u32> {
        let mut counts = crate::model::Map::default();
        let (Some(p), Some(model)) = (self.reference.period(period), self.class_model(class))
        else {
            return counts;
        };
        for quiz in model.quizzes.values() {
            for (pupil, work) in &quiz.pupils {
                let started = work
                    .attempts
                    .iter()
                    .filter(|a| p.contains(a.started_at.date_naive()))
                    .count() as u32;
                if started > 0 {
                    *counts.entry(*pupil).or_default() += started;
                }
            }
        }
        counts
    }

    /// What the risk rules read about a whole class in `period`: its report, the
    /// previous period's, the QCM attempts of each member. Computed once for a board of
    /// every pupil (`risk_in`), rather than once per pupil. `None` for an unknown period.
    pub fn risk_basis(&self, class: ClassId, period: PeriodId) -> Option<RiskBasis> {
        let info = self.reference.period(period)?;
        let attempts = self.attempts_in(class, period);
        let class_attempts = self
            .reference
            .members_during(class, info.starts_on, info.ends_on)
            .iter()
            .map(|m| attempts.get(m).copied().unwrap_or(0))
            .collect();
        Some(RiskBasis {
            period,
            ends_on: info.ends_on,
            report: self.class_report_shared(class, period),
            previous: self
                .previous_period(period)
                .map(|p| self.class_report_shared(class, p)),
            attempts,
            class_attempts,
        })
    }

    /// What the risk rules read about `pupil` in the class and period of `basis`
    /// (homework judged at `now`).
    pub fn risk_input_in(
        &self,
        basis: &RiskBasis,
        pupil: PupilId,
        now: DateTime<Utc>,
    ) -> RiskInput {
        let h = |r: &crate::Ratio| r.hundredths() as i64;
        let attendance = self.pupil_attendance(pupil, basis.period);
        let homework = self.pupil_homework_summary(pupil, basis.period, now);
        let competencies_insufficient = SOCLE_COMMUN_COMPONENTS
            .iter()
            .filter(|(code, _)| {
                self.competency_level(pupil, SOCLE_COMMUN_ID, code, Some(basis.ends_on))
                    == Some(INSUFFICIENT_LEVEL)
            })
            .count() as u32;
        RiskInput {
            general: basis.report.general.get(&pupil).map(h),
            previous_general: basis
                .previous
                .as_ref()
                .and_then(|r| r.general.get(&pupil).map(h)),
            subject_averages: basis
                .report
                .subjects
                .iter()
                .filter_map(|s| s.pupils.get(&pupil))
                .map(h)
                .collect(),
            half_days_unjustified: attendance.half_days_unjustified,
            latenesses: attendance.latenesses,
            homework_on_time: homework.on_time,
            homework_late: homework.late,
            homework_missing: homework.missing,
            qcm_attempts: basis.attempts.get(&pupil).copied().unwrap_or(0),
            class_attempts: basis.class_attempts.clone(),
            competencies_insufficient,
        }
    }

    /// What the risk rules read about `pupil` in `class` and `period`, from this view's
    /// read models (homework judged at `now`). `None` for an unknown period.
    pub fn risk_input(
        &self,
        class: ClassId,
        pupil: PupilId,
        period: PeriodId,
        now: DateTime<Utc>,
    ) -> Option<RiskInput> {
        let basis = self.risk_basis(class, period)?;
        Some(self.risk_input_in(&basis, pupil, now))
    }

    /// `risk` for a pupil of the class and period of `basis`.
    pub fn risk_in(&self, basis: &RiskBasis, pupil: PupilId, now: DateTime<Utc>) -> Option<Risk> {
        if self.is_family_view() {
            return None;
        }
        Some(assess(&self.risk_input_in(basis, pupil, now)))
    }

    /// The risk indicator of `pupil` in `class` and `period`: a conseil de classe tool,
    /// `None` in a view for families (see `for_families`) and for an unknown period.
    pub fn risk(
        &self,
        class: ClassId,
        pupil: PupilId,
        period: PeriodId,
        now: DateTime<Utc>,
    ) -> Option<Risk> {
        if self.is_family_view() {
            return None;
        }
        self.risk_input(class, pupil, period, now)
            .map(|input| assess(&input))
    }
}

#[cfg(test)]
mod tests;
