//! The décrochage risk indicator of a pupil in a class and period, as the conseil de
//! classe reads it: a level, its French label, the points and each factor's reason. The
//! rules live in `suivi_projections::risk`; families' views give none.

use async_graphql::{Enum, SimpleObject};
use suivi_projections::risk::{Risk, RiskLevel};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "RiskLevel")]
pub enum RiskLevelGql {
    /// 0 or 1 point: "faible".
    Low,
    /// 2 or 3 points: "à surveiller".
    Watch,
    /// 4 points or more: "élevé".
    High,
}

/// One rule that raised the indicator.
#[derive(SimpleObject)]
#[graphql(name = "RiskFactor")]
pub struct RiskFactorView {
    pub points: u32,
    /// In French, with the figure and the threshold: "4 demi-journées d'absence non
    /// justifiées (seuil 4)".
    pub reason: String,
}

/// Not a prediction: a prompt to look at a pupil, with the reasons spelt out.
#[derive(SimpleObject)]
#[graphql(name = "Risk")]
pub struct RiskView {
    pub level: RiskLevelGql,
    /// "faible", "à surveiller" or "élevé".
    pub label: String,
    /// The sum of the factors' points.
    pub score: u32,
    /// In the order of the rules.
    pub factors: Vec<RiskFactorView>,
}

impl From<Risk> for RiskView {
    fn from(risk: Risk) -> Self {
        RiskView {
            level: match risk.level {
                RiskLevel::Low => RiskLevelGql::Low,
                RiskLevel::Watch => RiskLevelGql::Watch,
                RiskLevel::High => RiskLevelGql::High,
            },
            label: risk.level.label().to_owned(),
            score: risk.score,
            factors: risk
                .factors
                .into_iter()
                .map(|f| RiskFactorView {
                    points: f.points,
                    reason: f.reason,
                })
                .collect(),
        }
    }
}
