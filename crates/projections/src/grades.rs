//! Grades: per assessment, per pupil / subject / period, per class, and the general average.
//!
//! Rules, as French bulletins apply them:
//! - a grade is brought to /20 (`score / scale × 20`) and weighted by the assessment's
//!   coefficient; `Abs` and `Disp` are left out; `NR` counts as 0 when the school says so
//!   (`SchoolRegistered.nr_counts_as_zero`, the default) and is left out otherwise;
//! - a `GradeCorrected` replaces the grade it corrects;
//! - a pupil's averages in a class and period come from that class's assessments only (a
//!   pupil transferred mid-period has an average in each class);
//! - the class mean of a subject is the mean of the pupils' averages (not of all grades),
//!   with the lowest and highest pupil average and the number of pupils graded;
//! - the general average is the mean of the pupil's subject averages weighted by the
//!   subjects' coefficients (`SubjectDefined.coefficient`), over the subjects in which the
//!   pupil has an average.
//!
//! Every figure is an exact `Ratio`, rounded to two decimals half away from zero only when
//! shown (see `exact`).

use crate::exact::{median_sorted, Ratio, Spread};
use crate::model::{Map, ReadModels};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::sync::Arc;
use suivi_domain::events::Event;
use suivi_domain::ids::*;
use suivi_domain::values::{Coefficient, Grade};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GradeEntry {
    pub pupil_id: PupilId,
    pub grade: Grade,
    /// How many times the grade was corrected.
    pub corrections: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AssessmentModel {
    pub assessment_id: AssessmentId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
    pub period_id: PeriodId,
    pub title: String,
    pub date: NaiveDate,
    pub scale: u16,
    pub coefficient: Coefficient,
    /// The current grade of each pupil graded, in the order they were first graded.
    pub grades: Vec<GradeEntry>,
    /// Held back from families until published again (`ResultsWithheld`).
    pub withheld: bool,
    /// The grades as they stood when a teacher last published the results
    /// (`ResultsPublished`): what families see of an assessment not yet fully graded.
    pub published: Option<Vec<GradeEntry>>,
}

/// What families see of one assessment (`ReadModels::for_families`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyResults<'a> {
    /// Nothing: withheld, or neither fully graded nor published.
    Hidden,
    /// Every grade as it is: every pupil on the roster has one.
    Whole,
    /// The grades as they stood at the last publication.
    Published(&'a [GradeEntry]),
}

impl AssessmentModel {
    /// What families see of the assessment, given its roster (the pupils enrolled in its
    /// class on its date) and whether it is withheld now (a withhold applies to every
    /// earlier `asOf` too). Results reach families as a whole, never grade by grade, so no
    /// family can difference the class figures down to one classmate's grade.
    pub fn for_families(&self, roster: &[PupilId], withheld_now: bool) -> FamilyResults<'_> {
        if self.withheld || withheld_now {
            return FamilyResults::Hidden;
        }
        let graded: std::collections::HashSet<PupilId> =
            self.grades.iter().map(|g| g.pupil_id).collect();
        if !roster.is_empty() && roster.iter().all(|p| graded.contains(p)) {
            return FamilyResults::Whole;
        }
        match &self.published {
            Some(grades) => FamilyResults::Published(grades),
            None => FamilyResults::Hidden,
        }
    }
}

pub(crate) fn apply(assessments: &mut Map<AssessmentId, Arc<AssessmentModel>>, event: &Event) {
    let (id, pupil, grade, correction) = match event {
        Event::AssessmentScheduled(e) => {
            assessments.insert(
                e.assessment_id,
                Arc::new(AssessmentModel {
                    assessment_id: e.assessment_id,
                    class_id: e.class_id,
                    subject_id: e.subject_id,
                    period_id: e.period_id,
                    title: e.title.clone(),
                    date: e.date,
                    scale: e.scale,
                    coefficient: e.coefficient,
                    grades: Vec::new(),
                    withheld: false,
                    published: None,
                }),
            );
            return;
        }
        Event::ResultsWithheld(e) => {
            if let Some(a) = assessments.get_mut(&e.assessment_id) {
                Arc::make_mut(a).withheld = true;
            }
            return;
        }
        Event::ResultsPublished(e) => {
            if let Some(a) = assessments.get_mut(&e.assessment_id) {
                let a = Arc::make_mut(a);
                a.withheld = false;
                a.published = Some(a.grades.clone());
            }
            return;
        }
        Event::GradeRecorded(e) => (e.assessment_id, e.pupil_id, e.grade, false),
        Event::GradeCorrected(e) => (e.assessment_id, e.pupil_id, e.grade, true),
        _ => return,
    };
    let Some(assessment) = assessments.get_mut(&id) else {
        return;
    };
    let assessment = Arc::make_mut(assessment);
    match assessment.grades.iter_mut().find(|g| g.pupil_id == pupil) {
        Some(entry) => {
            entry.grade = grade;
            entry.corrections += u16::from(correction);
        }
        None => assessment.grades.push(GradeEntry {
            pupil_id: pupil,
            grade,
            corrections: u16::from(correction),
        }),
    }
}

/// The points (in hundredths) a grade counts for, or `None` when it is left out.
pub fn counted_points(grade: Grade, nr_counts_as_zero: bool) -> Option<u32> {
    match grade {
        Grade::Score(h) => Some(h.0),
        Grade::NotHandedIn if nr_counts_as_zero => Some(0),
        Grade::NotHandedIn | Grade::Absent | Grade::Exempted => None,
    }
}

/// A grade of `points` hundredths out of `scale`, brought to /20: `points / (5 × scale)`.
pub fn on_twenty(points: u32, scale: u16) -> Ratio {
    Ratio::new(i128::from(points), 5 * i128::from(scale))
}

/// A weighted sum in progress: Σ(grade on /20 × coefficient) and Σ coefficients.
#[derive(Clone, Copy, Debug, Default)]
struct Weighted {
    sum: Ratio,
    weight: i128,
}

impl Weighted {
    fn add(&mut self, value: Ratio, weight: i128) {
        self.sum = self.sum + value * Ratio::new(weight, 1);
        self.weight += weight;
    }

    fn mean(&self) -> Option<Ratio> {
        (self.weight > 0).then(|| self.sum.div_int(self.weight))
    }
}

/// Statistics of one assessment, in points on its own scale. `NR` counts as 0 in them when
/// the school counts it so in averages; `Abs` and `Disp` are only counted apart.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AssessmentStats {
    pub assessment_id: AssessmentId,
    pub scale: u16,
    /// Grades that enter the figures.
    pub count: u32,
    pub absent: u32,
    pub exempted: u32,
    pub not_handed_in: u32,
    pub min: Option<Ratio>,
    pub max: Option<Ratio>,
    pub mean: Option<Ratio>,
    /// The middle grade, or the mean of the two middle grades for an even count.
    pub median: Option<Ratio>,
}

/// One subject of a class in a period: each graded pupil's average and the class figures.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SubjectAverages {
    pub subject_id: SubjectId,
    /// Averages on /20 by pupil id.
    pub pupils: BTreeMap<PupilId, Ratio>,
    /// Mean of the pupils' averages, lowest and highest, number of pupils graded.
    pub class: Option<Spread>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClassReport {
    pub class_id: ClassId,
    pub period_id: PeriodId,
    /// By subject name.
    pub subjects: Vec<SubjectAverages>,
    /// Each pupil's general average (subject averages weighted by subject coefficients).
    pub general: BTreeMap<PupilId, Ratio>,
    pub general_class: Option<Spread>,
}

impl ClassReport {
    pub fn subject(&self, subject: SubjectId) -> Option<&SubjectAverages> {
        self.subjects.iter().find(|s| s.subject_id == subject)
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PupilGrade {
    pub assessment_id: AssessmentId,
    pub date: NaiveDate,
    pub scale: u16,
    pub coefficient: Coefficient,
    #[serde(serialize_with = "grade_text")]
    pub grade: Grade,
    pub corrections: u16,
}

fn grade_text<S: serde::Serializer>(grade: &Grade, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(grade)
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PupilSubjectLine {
    pub subject_id: SubjectId,
    pub average: Option<Ratio>,
    pub class: Option<Spread>,
    /// By date.
    pub grades: Vec<PupilGrade>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PupilReport {
    pub class_id: ClassId,
    pub pupil_id: PupilId,
    pub period_id: PeriodId,
    /// Subjects in which the class has grades in the period, by subject name.
    pub subjects: Vec<PupilSubjectLine>,
    pub general_average: Option<Ratio>,
    pub general_class: Option<Spread>,
}

impl ReadModels {
    pub fn assessment(&self, id: AssessmentId) -> Option<&AssessmentModel> {
        let class = self.class_of_assessment(id)?;
        self.class_model(class)?
            .assessments
            .get(&id)
            .map(|a| a.as_ref())
    }

    /// A class's assessments (of one period, or all), by date then title.
    pub fn assessments_of(
        &self,
        class: ClassId,
        period: Option<PeriodId>,
    ) -> Vec<&AssessmentModel> {
        let Some(model) = self.class_model(class) else {
            return Vec::new();
        };
        let mut list: Vec<&AssessmentModel> = model
            .assessments
            .values()
            .map(|a| a.as_ref())
            .filter(|a| period.is_none_or(|p| a.period_id == p))
            .collect();
        list.sort_by(|a, b| {
            (a.date, &a.title, a.assessment_id).cmp(&(b.date, &b.title, b.assessment_id))
        });
        list
    }

    fn nr_zero_in(&self, class: ClassId) -> bool {
        self.reference
            .school_of_class(class)
            .is_none_or(|school| self.reference.nr_counts_as_zero(school))
    }

    pub fn assessment_stats(&self, id: AssessmentId) -> Option<AssessmentStats> {
        let a = self.assessment(id)?;
        let nr_zero = self.nr_zero_in(a.class_id);
        let mut stats = AssessmentStats {
            assessment_id: id,
            scale: a.scale,
            count: 0,
            absent: 0,
            exempted: 0,
            not_handed_in: 0,
            min: None,
            max: None,
            mean: None,
            median: None,
        };
        let mut points: Vec<u32> = Vec::with_capacity(a.grades.len());
        for entry in &a.grades {
            match entry.grade {
                Grade::Absent => stats.absent += 1,
                Grade::Exempted => stats.exempted += 1,
                Grade::NotHandedIn => stats.not_handed_in += 1,
                Grade::Score(_) => {}
            }
            points.extend(counted_points(entry.grade, nr_zero));
        }
        points.sort_unstable();
        let as_points = |h: u32| Ratio::new(i128::from(h), 100);
        let values: Vec<Ratio> = points.iter().map(|h| as_points(*h)).collect();
        stats.count = values.len() as u32;
        if let Some(spread) = self.class_figure(Spread::of(values.iter().copied())) {
            stats.min = Some(spread.min);
            stats.max = Some(spread.max);
            stats.mean = Some(spread.mean);
            stats.median = median_sorted(&values);
        }
        Some(stats)
    }

    /// subject → pupil → average on /20, over the class's assessments of the period.
    fn averages(
        &self,
        class: ClassId,
        period: PeriodId,
    ) -> BTreeMap<SubjectId, BTreeMap<PupilId, Ratio>> {
        let Some(model) = self.class_model(class) else {
            return BTreeMap::new();
        };
        let nr_zero = self.nr_zero_in(class);
        let mut sums: BTreeMap<SubjectId, BTreeMap<PupilId, Weighted>> = BTreeMap::new();
        for a in model.assessments.values().filter(|a| a.period_id == period) {
            let per_pupil = sums.entry(a.subject_id).or_default();
            for entry in &a.grades {
                let Some(points) = counted_points(entry.grade, nr_zero) else {
                    continue;
                };
                per_pupil
                    .entry(entry.pupil_id)
                    .or_default()
                    .add(on_twenty(points, a.scale), i128::from(a.coefficient.0 .0));
            }
        }
        sums.into_iter()
            .map(|(subject, pupils)| {
                let averages = pupils
                    .into_iter()
                    .filter_map(|(p, w)| w.mean().map(|m| (p, m)))
                    .collect();
                (subject, averages)
            })
            .filter(|(_, averages): &(SubjectId, BTreeMap<PupilId, Ratio>)| !averages.is_empty())
            .collect()
    }

    /// A pupil's average on /20 in a subject over a class's assessments of a period.
    pub fn pupil_average(
        &self,
        class: ClassId,
        pupil: PupilId,
        subject: SubjectId,
        period: PeriodId,
    ) -> Option<Ratio> {
        self.averages(class, period)
            .get(&subject)?
            .get(&pupil)
            .copied()
    }

    fn subject_order(&self, subjects: impl Iterator<Item = SubjectId>) -> Vec<SubjectId> {
        let mut ids: Vec<SubjectId> = subjects.collect();
        ids.sort_by_cached_key(|id| (self.reference.subject(*id).map(|s| s.name.clone()), *id));
        ids
    }

    fn subject_weight(&self, subject: SubjectId) -> i128 {
        self.reference
            .subject(subject)
            .map_or(100, |s| i128::from(s.coefficient.0 .0))
    }

    /// Whether some subjects' assessments were left out of this view of `class`.
    pub fn is_partial(&self, class: ClassId) -> bool {
        self.class_model(class).is_some_and(|c| c.partial)
    }

    /// The conseil de classe table of one class and period.
    pub fn class_report(&self, class: ClassId, period: PeriodId) -> ClassReport {
        (*self.class_report_shared(class, period)).clone()
    }

    /// The same, shared: computed once per snapshot (see `model::memo`).
    pub fn class_report_shared(&self, class: ClassId, period: PeriodId) -> Arc<ClassReport> {
        self.memo
            .report((class, period), || self.compute_class_report(class, period))
    }

    fn compute_class_report(&self, class: ClassId, period: PeriodId) -> ClassReport {
        let averages = self.averages(class, period);
        let mut general: BTreeMap<PupilId, Weighted> = BTreeMap::new();
        for (subject, pupils) in &averages {
            let weight = self.subject_weight(*subject);
            for (pupil, average) in pupils {
                general.entry(*pupil).or_default().add(*average, weight);
            }
        }
        // A view of some subjects only gives no general average (see `partial`).
        let general: BTreeMap<PupilId, Ratio> = if self.is_partial(class) {
            BTreeMap::new()
        } else {
            general
                .into_iter()
                .filter_map(|(p, w)| w.mean().map(|m| (p, m)))
                .collect()
        };
        let order = self.subject_order(averages.keys().copied());
        let mut averages = averages;
        let subjects = order
            .into_iter()
            .map(|subject_id| {
                let pupils = averages.remove(&subject_id).unwrap_or_default();
                SubjectAverages {
                    subject_id,
                    class: self.class_figure(Spread::of(pupils.values().copied())),
                    pupils,
                }
            })
            .collect();
        ClassReport {
            class_id: class,
            period_id: period,
            subjects,
            general_class: self.class_figure(Spread::of(general.values().copied())),
            general,
        }
    }

    /// One pupil's bulletin lines in a class and period, with the class figures beside.
    pub fn pupil_report(&self, class: ClassId, pupil: PupilId, period: PeriodId) -> PupilReport {
        let report = self.class_report_shared(class, period);
        let assessments = self.assessments_of(class, Some(period));
        let subjects = report
            .subjects
            .iter()
            .map(|s| PupilSubjectLine {
                subject_id: s.subject_id,
                average: s.pupils.get(&pupil).copied(),
                class: s.class,
                grades: assessments
                    .iter()
                    .filter(|a| a.subject_id == s.subject_id)
                    .filter_map(|a| {
                        let entry = a.grades.iter().find(|g| g.pupil_id == pupil)?;
                        Some(PupilGrade {
                            assessment_id: a.assessment_id,
                            date: a.date,
                            scale: a.scale,
                            coefficient: a.coefficient,
                            grade: entry.grade,
                            corrections: entry.corrections,
                        })
                    })
                    .collect(),
            })
            .collect();
        PupilReport {
            class_id: class,
            pupil_id: pupil,
            period_id: period,
            subjects,
            general_average: report.general.get(&pupil).copied(),
            general_class: report.general_class,
        }
    }
}
