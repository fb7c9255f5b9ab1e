//! The décrochage (dropping-out) risk indicator: a few plain rules, each spelt out with the
//! figure and the threshold that raised it, so that the conseil can weigh and disagree.
//! Not a prediction: a prompt to look at a pupil.

use crate::figures::attendance::AttendanceFig;
use crate::figures::homework::HomeworkFig;
use crate::figures::qcm::EngagementFig;
use suivi_present::format::{num, points};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskLevel {
    Low,
    Watch,
    High,
}

impl RiskLevel {
    pub fn label(self) -> &'static str {
        match self {
            RiskLevel::Low => "faible",
            RiskLevel::Watch => "à surveiller",
            RiskLevel::High => "élevé",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    pub points: u32,
    /// In French, with the figure and the threshold.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Risk {
    pub level: RiskLevel,
    pub score: u32,
    pub factors: Vec<Factor>,
}

/// What the rules read.
pub struct RiskInput<'a> {
    pub general: Option<f64>,
    pub previous_general: Option<f64>,
    pub subject_averages: &'a [Option<f64>],
    pub attendance: &'a AttendanceFig,
    pub homework: &'a HomeworkFig,
    pub qcm: &'a EngagementFig,
    /// The median number of QCM attempts among the pupils of the class.
    pub class_median_attempts: f64,
    pub competencies_insufficient: usize,
}

/// Points: 4 and more is high, 2 or 3 is to watch.
pub fn assess(input: &RiskInput) -> Risk {
    let mut factors = Vec::new();
    let mut add = |points: u32, reason: String| factors.push(Factor { points, reason });
    if let Some(g) = input.general {
        if g < 8.0 {
            add(2, format!("moyenne générale {} < 8", points(g)));
        } else if g < 10.0 {
            add(1, format!("moyenne générale {} < 10", points(g)));
        }
        if let Some(p) = input.previous_general {
            if p - g >= 2.0 {
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
        .filter(|a| a.is_some_and(|a| a < 8.0))
        .count();
    if low >= 3 {
        add(1, format!("{low} matières sous 8/20"));
    }
    let a = input.attendance;
    if a.half_days_unjustified >= 4 {
        add(
            2,
            format!(
                "{} demi-journées d'absence non justifiées (seuil 4)",
                a.half_days_unjustified
            ),
        );
    } else if a.half_days_unjustified >= 2 {
        add(
            1,
            format!(
                "{} demi-journées d'absence non justifiées (seuil 2)",
                a.half_days_unjustified
            ),
        );
    }
    if a.latenesses >= 5 {
        add(1, format!("{} retards (seuil 5)", a.latenesses));
    }
    let h = input.homework;
    let due = h.on_time + h.late + h.missing;
    if due >= 3 && h.missing * 10 >= due * 3 {
        add(
            2,
            format!("{} devoirs non rendus sur {due} (30 % ou plus)", h.missing),
        );
    } else if h.missing >= 2 {
        add(1, format!("{} devoirs non rendus", h.missing));
    }
    if input.class_median_attempts >= 1.0 && input.qcm.attempts == 0 {
        add(
            1,
            format!(
                "aucune tentative de QCM (médiane de la classe : {})",
                num(input.class_median_attempts, 1)
            ),
        );
    }
    if input.competencies_insufficient >= 2 {
        add(
            1,
            format!(
                "{} composantes du socle en maîtrise insuffisante",
                input.competencies_insufficient
            ),
        );
    }
    let score = factors.iter().map(|f| f.points).sum();
    let level = match score {
        0..=1 => RiskLevel::Low,
        2..=3 => RiskLevel::Watch,
        _ => RiskLevel::High,
    };
    Risk {
        level,
        score,
        factors,
    }
}
