//! Grades, averages and profiles, recomputed naively.

use super::{mean, Naive, Q};
use std::collections::BTreeMap;
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::reference::SubjectKind;
use suivi_domain::values::Grade;

impl<'a> Naive<'a> {
    pub fn assessments(
        &self,
        class: ClassId,
        period: Option<PeriodId>,
    ) -> Vec<&'a AssessmentScheduled> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::AssessmentScheduled(a)
                    if a.class_id == class && period.is_none_or(|p| a.period_id == p) =>
                {
                    Some(a)
                }
                _ => None,
            })
            .collect()
    }

    /// The current grade of each pupil on an assessment: the last recorded or corrected.
    pub fn grades(&self, assessment: AssessmentId) -> BTreeMap<PupilId, Grade> {
        let mut grades = BTreeMap::new();
        for e in &self.events {
            match e {
                Event::GradeRecorded(g) if g.assessment_id == assessment => {
                    grades.insert(g.pupil_id, g.grade);
                }
                Event::GradeCorrected(g) if g.assessment_id == assessment => {
                    grades.insert(g.pupil_id, g.grade);
                }
                _ => {}
            }
        }
        grades
    }

    fn points(&self, grade: Grade) -> Option<i128> {
        match grade {
            Grade::Score(h) => Some(i128::from(h.0)),
            Grade::NotHandedIn if self.nr_counts_as_zero() => Some(0),
            _ => None,
        }
    }

    /// subject → pupil → average on /20.
    pub fn averages(
        &self,
        class: ClassId,
        period: PeriodId,
    ) -> BTreeMap<SubjectId, BTreeMap<PupilId, Q>> {
        let mut sums: BTreeMap<(SubjectId, PupilId), (Q, i128)> = BTreeMap::new();
        for a in self.assessments(class, Some(period)) {
            for (pupil, grade) in self.grades(a.assessment_id) {
                if let Some(points) = self.points(grade) {
                    let coef = i128::from(a.coefficient.0 .0);
                    // points are hundredths: on /20 it is points / 100 / scale × 20.
                    let on20 = Q::new(points * 20, 100 * i128::from(a.scale));
                    let slot = sums.entry((a.subject_id, pupil)).or_insert((Q::int(0), 0));
                    slot.0 = slot.0.add(on20.mul(Q::int(coef)));
                    slot.1 += coef;
                }
            }
        }
        let mut out: BTreeMap<SubjectId, BTreeMap<PupilId, Q>> = BTreeMap::new();
        for ((subject, pupil), (sum, weight)) in sums {
            if weight > 0 {
                out.entry(subject)
                    .or_default()
                    .insert(pupil, sum.div(Q::int(weight)));
            }
        }
        out
    }

    pub fn general(&self, class: ClassId, period: PeriodId) -> BTreeMap<PupilId, Q> {
        let mut sums: BTreeMap<PupilId, (Q, i128)> = BTreeMap::new();
        for (subject, pupils) in self.averages(class, period) {
            let coef = self
                .subject(subject)
                .map_or(100, |s| i128::from(s.coefficient.0 .0));
            for (pupil, avg) in pupils {
                let slot = sums.entry(pupil).or_insert((Q::int(0), 0));
                slot.0 = slot.0.add(avg.mul(Q::int(coef)));
                slot.1 += coef;
            }
        }
        sums.into_iter()
            .map(|(p, (s, w))| (p, s.div(Q::int(w))))
            .collect()
    }

    /// (count, min, max, mean, median) in points on the assessment's scale.
    pub fn assessment_stats(&self, a: &AssessmentScheduled) -> (u32, Option<(Q, Q, Q, Q)>) {
        let mut values: Vec<i128> = self
            .grades(a.assessment_id)
            .values()
            .filter_map(|g| self.points(*g))
            .collect();
        values.sort();
        let n = values.len();
        if n == 0 {
            return (0, None);
        }
        let qs: Vec<Q> = values.iter().map(|v| Q::new(*v, 100)).collect();
        let median = if n % 2 == 1 {
            qs[n / 2]
        } else {
            qs[n / 2 - 1].add(qs[n / 2]).div(Q::int(2))
        };
        (
            n as u32,
            Some((qs[0], qs[n - 1], mean(&qs).unwrap_or(Q::int(0)), median)),
        )
    }

    /// (label, general mean, vocational mean, gap).
    pub fn profile(
        &self,
        class: ClassId,
        pupil: PupilId,
        period: PeriodId,
    ) -> (&'static str, Option<Q>, Option<Q>, Option<Q>) {
        let mut general = Vec::new();
        let mut vocational = Vec::new();
        for (subject, pupils) in self.averages(class, period) {
            if let (Some(avg), Some(s)) = (pupils.get(&pupil), self.subject(subject)) {
                match s.kind {
                    SubjectKind::General => general.push(*avg),
                    SubjectKind::Vocational => vocational.push(*avg),
                }
            }
        }
        let (g, v) = (mean(&general), mean(&vocational));
        match (g, v) {
            (Some(g), Some(v)) => {
                let gap = v.sub(g);
                let label = if !gap.lt(Q::int(3)) {
                    "VOCATIONAL_STRONG"
                } else if !Q::int(-3).lt(gap) {
                    "GENERAL_STRONG"
                } else {
                    "BALANCED"
                };
                (label, Some(g), Some(v), Some(gap))
            }
            _ => ("BALANCED", g, v, None),
        }
    }
}
