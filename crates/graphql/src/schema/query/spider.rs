//! The spider (radar) chart of a pupil: one axis per subject against the class, the socle
//! commun components, and the profile read-out (general vs vocational).

use super::common::{round, round_opt};
use crate::schema::types::SubjectKindGql;
use async_graphql::{Enum, Object, SimpleObject, ID};
use suivi_domain::reference::SOCLE_COMMUN_COMPONENTS;
use suivi_projections::spider::{ProfileBasis, SpiderChart};
use suivi_projections::{ProfileLabel, ReadModels};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ProfileLabel")]
pub enum ProfileLabelGql {
    /// General and vocational means within 3 points of each other (or nothing to compare).
    Balanced,
    /// Vocational subjects at least 3 points above general ones.
    VocationalStrong,
    /// General subjects at least 3 points above vocational ones.
    GeneralStrong,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ProfileBasis")]
pub enum ProfileBasisGql {
    Compared,
    NoGeneralAverage,
    NoVocationalAverage,
    NoAverage,
    /// A view of some subjects only (a teacher's): no read-out across subjects.
    Partial,
}

#[derive(SimpleObject)]
pub struct SpiderAxis {
    /// The subject's name.
    pub subject: String,
    pub subject_id: ID,
    pub kind: Option<SubjectKindGql>,
    /// The pupil's average on /20.
    pub value: Option<f64>,
    pub class_mean: Option<f64>,
    pub class_min: Option<f64>,
    pub class_max: Option<f64>,
}

#[derive(SimpleObject)]
pub struct CompetencyAxisView {
    /// Socle commun component code, e.g. "D1.3".
    pub component: String,
    pub label: String,
    /// Mastery level 1–4.
    pub value: Option<u8>,
    pub class_mean: Option<f64>,
    pub class_min: Option<f64>,
    pub class_max: Option<f64>,
}

pub struct SpiderView {
    chart: SpiderChart,
    subjects: Vec<SpiderAxisData>,
}

struct SpiderAxisData {
    name: String,
    kind: Option<SubjectKindGql>,
}

impl SpiderView {
    pub fn new(models: &ReadModels, chart: SpiderChart) -> SpiderView {
        let subjects = chart
            .subjects
            .iter()
            .map(|axis| SpiderAxisData {
                name: models
                    .reference()
                    .subject(axis.subject_id)
                    .map_or_else(|| axis.subject_id.to_string(), |s| s.name.clone()),
                kind: axis.kind.map(Into::into),
            })
            .collect();
        SpiderView { chart, subjects }
    }
}

#[Object(name = "Spider")]
impl SpiderView {
    /// One axis per subject the class has an average in for the period, by name.
    async fn axes(&self) -> Vec<SpiderAxis> {
        self.chart
            .subjects
            .iter()
            .zip(&self.subjects)
            .map(|(axis, data)| SpiderAxis {
                subject: data.name.clone(),
                subject_id: ID(axis.subject_id.to_string()),
                kind: data.kind,
                value: round_opt(axis.pupil),
                class_mean: axis.class.map(|s| round(s.mean)),
                class_min: axis.class.map(|s| round(s.min)),
                class_max: axis.class.map(|s| round(s.max)),
            })
            .collect()
    }

    /// The socle commun's 8 components: the pupil's level and the class's.
    async fn competencies(&self) -> Vec<CompetencyAxisView> {
        self.chart
            .competencies
            .iter()
            .map(|axis| CompetencyAxisView {
                component: axis.component.to_owned(),
                label: SOCLE_COMMUN_COMPONENTS
                    .iter()
                    .find(|(code, _)| *code == axis.component)
                    .map_or_else(String::new, |(_, label)| (*label).to_owned()),
                value: axis.pupil,
                class_mean: axis.class.map(|s| round(s.mean)),
                class_min: axis.class.map(|s| round(s.min)),
                class_max: axis.class.map(|s| round(s.max)),
            })
            .collect()
    }

    /// Balanced, strong in vocational subjects, or strong in general ones.
    async fn profile(&self) -> ProfileLabelGql {
        match self.chart.profile.label {
            ProfileLabel::Balanced => ProfileLabelGql::Balanced,
            ProfileLabel::VocationalStrong => ProfileLabelGql::VocationalStrong,
            ProfileLabel::GeneralStrong => ProfileLabelGql::GeneralStrong,
        }
    }

    /// What the profile rests on: both kinds compared, or which kind has no average.
    async fn profile_basis(&self) -> ProfileBasisGql {
        match self.chart.profile.basis {
            ProfileBasis::Compared => ProfileBasisGql::Compared,
            ProfileBasis::NoGeneralAverage => ProfileBasisGql::NoGeneralAverage,
            ProfileBasis::NoVocationalAverage => ProfileBasisGql::NoVocationalAverage,
            ProfileBasis::NoAverage => ProfileBasisGql::NoAverage,
            ProfileBasis::Partial => ProfileBasisGql::Partial,
        }
    }

    /// Mean of the pupil's averages in general subjects (unweighted).
    async fn general_mean(&self) -> Option<f64> {
        round_opt(self.chart.profile.general_mean)
    }

    async fn vocational_mean(&self) -> Option<f64> {
        round_opt(self.chart.profile.vocational_mean)
    }

    /// vocationalMean − generalMean.
    async fn gap(&self) -> Option<f64> {
        round_opt(self.chart.profile.gap)
    }
}
