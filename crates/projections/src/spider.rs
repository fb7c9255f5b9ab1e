//! The spider (radar) chart of a pupil in a class and period, and the profile read-out.
//!
//! Subject axes: every subject the class has an average in for the period (by name), with
//! the pupil's average and the class mean, lowest and highest average on /20.
//!
//! Competency axes: the 8 components of the socle commun, with the pupil's level (1–4,
//! the latest assessment dated on or before the period's last day) and the mean, lowest and
//! highest level among the class's pupils of the period (enrolled in it on some day of the
//! period) who have one.
//!
//! Profile: the mean of the pupil's averages in general subjects and the mean of their
//! averages in vocational subjects (each subject counts once, unweighted), and the gap
//! `vocational − general`. A gap of at least `PROFILE_GAP_POINTS` (3 points on /20) labels
//! the profile `VOCATIONAL_STRONG` (general subjects well below); a gap of at most −3
//! `GENERAL_STRONG`; anything between `BALANCED`. Without an average in one of the two kinds
//! there is nothing to compare: the label is `BALANCED` and `basis` says which side is
//! missing, so a client can show "not enough data" rather than "balanced".

use crate::exact::{Ratio, Spread};
use crate::grades::ClassReport;
use crate::model::ReadModels;
use chrono::NaiveDate;
use std::sync::Arc;
use suivi_domain::ids::*;
use suivi_domain::reference::{SubjectKind, SOCLE_COMMUN_COMPONENTS, SOCLE_COMMUN_ID};

/// The gap, in points on /20, between the general and vocational means that makes one side
/// "strong" (inclusive).
pub const PROFILE_GAP_POINTS: i64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProfileLabel {
    Balanced,
    VocationalStrong,
    GeneralStrong,
}

/// What the label rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProfileBasis {
    /// Both kinds have averages: the label compares them.
    Compared,
    NoGeneralAverage,
    NoVocationalAverage,
    NoAverage,
    /// The view holds some subjects only (a teacher's): no read-out across subjects.
    Partial,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Profile {
    pub label: ProfileLabel,
    pub basis: ProfileBasis,
    pub general_mean: Option<Ratio>,
    pub vocational_mean: Option<Ratio>,
    /// `vocational_mean − general_mean`, when both exist.
    pub gap: Option<Ratio>,
    pub threshold: Ratio,
}

/// The read-out from the pupil's subject averages of each kind.
pub fn profile(general: &[Ratio], vocational: &[Ratio]) -> Profile {
    let mean = |v: &[Ratio]| Spread::of(v.iter().copied()).map(|s| s.mean);
    let (general_mean, vocational_mean) = (mean(general), mean(vocational));
    let threshold = Ratio::from_int(PROFILE_GAP_POINTS);
    let (label, basis, gap) = match (general_mean, vocational_mean) {
        (Some(g), Some(v)) => {
            let gap = v - g;
            let label = if gap >= threshold {
                ProfileLabel::VocationalStrong
            } else if gap <= -threshold {
                ProfileLabel::GeneralStrong
            } else {
                ProfileLabel::Balanced
            };
            (label, ProfileBasis::Compared, Some(gap))
        }
        (None, Some(_)) => (ProfileLabel::Balanced, ProfileBasis::NoGeneralAverage, None),
        (Some(_), None) => (
            ProfileLabel::Balanced,
            ProfileBasis::NoVocationalAverage,
            None,
        ),
        (None, None) => (ProfileLabel::Balanced, ProfileBasis::NoAverage, None),
    };
    Profile {
        label,
        basis,
        general_mean,
        vocational_mean,
        gap,
        threshold,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SubjectAxis {
    pub subject_id: SubjectId,
    pub kind: Option<SubjectKind>,
    pub pupil: Option<Ratio>,
    pub class: Option<Spread>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CompetencyAxis {
    pub component: &'static str,
    pub pupil: Option<u8>,
    pub class: Option<Spread>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SpiderChart {
    pub class_id: ClassId,
    pub pupil_id: PupilId,
    pub period_id: PeriodId,
    pub subjects: Vec<SubjectAxis>,
    pub competencies: Vec<CompetencyAxis>,
    pub profile: Profile,
}

/// What the charts of one class and period share: the class report and each socle
/// commun component's spread over the class. Computed once per snapshot (see
/// `model::memo`), so a class's charts cost one class report, not one per pupil.
#[derive(Debug)]
pub struct ClassSpiders {
    report: Arc<ClassReport>,
    /// The kind of each of the report's subjects, in its order.
    kinds: Vec<Option<SubjectKind>>,
    /// The last day competency levels count for (the period's).
    until: Option<NaiveDate>,
    /// The class's spread on each component, in `SOCLE_COMMUN_COMPONENTS` order.
    components: Vec<(&'static str, Option<Spread>)>,
}

impl ClassSpiders {
    fn compute(models: &ReadModels, class: ClassId, period: PeriodId) -> ClassSpiders {
        let report = models.class_report_shared(class, period);
        let kinds = report
            .subjects
            .iter()
            .map(|s| models.reference.subject(s.subject_id).map(|x| x.kind))
            .collect();
        let period = models.reference.period(period);
        let until = period.map(|p| p.ends_on);
        let members = match period {
            Some(p) => models
                .reference
                .members_during(class, p.starts_on, p.ends_on),
            None => Vec::new(),
        };
        let components = SOCLE_COMMUN_COMPONENTS
            .iter()
            .map(|(code, _)| {
                let spread = models.class_figure(Spread::of(
                    members
                        .iter()
                        .filter_map(|p| models.competency_level(*p, SOCLE_COMMUN_ID, code, until))
                        .map(|l| Ratio::from_int(i64::from(l))),
                ));
                (*code, spread)
            })
            .collect();
        ClassSpiders {
            report,
            kinds,
            until,
            components,
        }
    }

    /// One pupil's chart.
    pub fn chart(&self, models: &ReadModels, pupil: PupilId) -> SpiderChart {
        let mut general = Vec::new();
        let mut vocational = Vec::new();
        let subjects = self
            .report
            .subjects
            .iter()
            .zip(&self.kinds)
            .map(|(s, kind)| {
                let mine = s.pupils.get(&pupil).copied();
                match (kind, mine) {
                    (Some(SubjectKind::General), Some(avg)) => general.push(avg),
                    (Some(SubjectKind::Vocational), Some(avg)) => vocational.push(avg),
                    _ => {}
                }
                SubjectAxis {
                    subject_id: s.subject_id,
                    kind: *kind,
                    pupil: mine,
                    class: s.class,
                }
            })
            .collect();
        let competencies = self
            .components
            .iter()
            .map(|(code, class)| CompetencyAxis {
                component: code,
                pupil: models.competency_level(pupil, SOCLE_COMMUN_ID, code, self.until),
                class: *class,
            })
            .collect();
        SpiderChart {
            class_id: self.report.class_id,
            pupil_id: pupil,
            period_id: self.report.period_id,
            subjects,
            competencies,
            profile: if models.is_partial(self.report.class_id) {
                Profile {
                    basis: ProfileBasis::Partial,
                    ..profile(&[], &[])
                }
            } else {
                profile(&general, &vocational)
            },
        }
    }
}

impl ReadModels {
    pub fn spider(&self, class: ClassId, pupil: PupilId, period: PeriodId) -> SpiderChart {
        self.class_spiders(class, period).chart(self, pupil)
    }

    /// What every pupil's chart of the class and period shares, memoised per snapshot.
    pub fn class_spiders(&self, class: ClassId, period: PeriodId) -> Arc<ClassSpiders> {
        self.memo.spiders((class, period), || {
            ClassSpiders::compute(self, class, period)
        })
    }
}
