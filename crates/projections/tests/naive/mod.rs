//! A naive recomputation of the dashboards: plain loops over the whole list of events, no
//! state carried between events, its own fractions. Written apart from the projections so
//! that the property test compares two independent methods.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_projections::{Logged, Ratio};

/// An exact fraction, reduced, denominator > 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Q(pub i128, pub i128);

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs().max(1)
    } else {
        gcd(b, a % b)
    }
}

impl Q {
    pub fn new(n: i128, d: i128) -> Q {
        let s = if d < 0 { -1 } else { 1 };
        let g = gcd(n, d);
        Q(s * n / g, s * d / g)
    }
    pub fn int(n: i128) -> Q {
        Q(n, 1)
    }
    pub fn add(self, o: Q) -> Q {
        Q::new(self.0 * o.1 + o.0 * self.1, self.1 * o.1)
    }
    pub fn sub(self, o: Q) -> Q {
        self.add(Q(-o.0, o.1))
    }
    pub fn mul(self, o: Q) -> Q {
        Q::new(self.0 * o.0, self.1 * o.1)
    }
    pub fn div(self, o: Q) -> Q {
        Q::new(self.0 * o.1, self.1 * o.0)
    }
    pub fn lt(self, o: Q) -> bool {
        self.0 * o.1 < o.0 * self.1
    }
    pub fn same(self, r: Ratio) -> bool {
        self.0 == r.numerator() && self.1 == r.denominator()
    }
}

pub fn mean(values: &[Q]) -> Option<Q> {
    if values.is_empty() {
        return None;
    }
    let mut sum = Q::int(0);
    for v in values {
        sum = sum.add(*v);
    }
    Some(sum.div(Q::int(values.len() as i128)))
}

pub fn min_max(values: &[Q]) -> Option<(Q, Q)> {
    let mut it = values.iter();
    let first = *it.next()?;
    let (mut lo, mut hi) = (first, first);
    for v in it {
        if v.lt(lo) {
            lo = *v;
        }
        if hi.lt(*v) {
            hi = *v;
        }
    }
    Some((lo, hi))
}

/// (attempts used, best correct, last correct, time ms).
pub type QuizFigures = (u16, Option<u16>, Option<u16>, u64);
/// (pupils answered, answers, correct answers, pupils right at their last answer, median
/// per-pupil time, answers per pupil).
pub type QuestionFigures = (u32, u32, u32, u32, Option<u64>, BTreeMap<PupilId, u32>);

pub struct Naive<'a> {
    pub events: Vec<&'a Event>,
}

impl<'a> Naive<'a> {
    pub fn new(logged: &'a [Logged], as_of: Option<DateTime<Utc>>) -> Naive<'a> {
        Naive {
            events: logged
                .iter()
                .filter(|l| as_of.is_none_or(|t| l.occurred_at <= t))
                .map(|l| &l.event)
                .collect(),
        }
    }

    pub fn nr_counts_as_zero(&self) -> bool {
        let mut setting = true;
        for e in &self.events {
            if let Event::SchoolRegistered(s) = e {
                setting = s.nr_counts_as_zero;
            }
        }
        setting
    }

    pub fn subject(&self, id: SubjectId) -> Option<&'a SubjectDefined> {
        let mut found = None;
        for e in &self.events {
            if let Event::SubjectDefined(s) = e {
                if s.subject_id == id {
                    found = Some(s);
                }
            }
        }
        found
    }

    pub fn period(&self, id: PeriodId) -> Option<&'a PeriodDefined> {
        self.events.iter().find_map(|e| match e {
            Event::PeriodDefined(p) if p.period_id == id => Some(p),
            _ => None,
        })
    }

    /// (class, from, until) of every enrolment of a pupil.
    pub fn enrolments(&self, pupil: PupilId) -> Vec<(ClassId, NaiveDate, Option<NaiveDate>)> {
        let registered = self
            .events
            .iter()
            .any(|e| matches!(e, Event::PupilRegistered(r) if r.pupil_id == pupil));
        let mut list: Vec<(ClassId, NaiveDate, Option<NaiveDate>)> = Vec::new();
        if !registered {
            return list;
        }
        for e in &self.events {
            match e {
                Event::PupilEnrolled(x) if x.pupil_id == pupil => {
                    list.push((x.class_id, x.on, None))
                }
                Event::PupilTransferred(x) if x.pupil_id == pupil => {
                    for item in list.iter_mut() {
                        if item.0 == x.from_class_id && item.2.is_none() {
                            item.2 = Some(x.on);
                        }
                    }
                    list.push((x.to_class_id, x.on, None));
                }
                Event::EnrolmentEnded(x) if x.pupil_id == pupil => {
                    for item in list.iter_mut() {
                        if item.0 == x.class_id && item.2.is_none() {
                            item.2 = Some(x.on);
                        }
                    }
                }
                _ => {}
            }
        }
        list
    }

    /// Pupils in the order they first entered the class.
    pub fn members(&self, class: ClassId) -> Vec<PupilId> {
        let mut members = Vec::new();
        for e in &self.events {
            let entered = match e {
                Event::PupilEnrolled(x) if x.class_id == class => Some(x.pupil_id),
                Event::PupilTransferred(x) if x.to_class_id == class => Some(x.pupil_id),
                _ => None,
            };
            if let Some(p) = entered {
                let registered = self
                    .events
                    .iter()
                    .any(|e| matches!(e, Event::PupilRegistered(r) if r.pupil_id == p));
                if registered && !members.contains(&p) {
                    members.push(p);
                }
            }
        }
        members
    }

    pub fn in_class_on(&self, pupil: PupilId, class: ClassId, day: NaiveDate) -> bool {
        self.enrolments(pupil)
            .iter()
            .any(|(c, from, until)| *c == class && *from <= day && until.is_none_or(|u| day < u))
    }

    pub fn roster(&self, class: ClassId, day: NaiveDate) -> Vec<PupilId> {
        self.members(class)
            .into_iter()
            .filter(|p| self.in_class_on(*p, class, day))
            .collect()
    }

    pub fn members_during(&self, class: ClassId, from: NaiveDate, to: NaiveDate) -> Vec<PupilId> {
        self.members(class)
            .into_iter()
            .filter(|p| {
                self.enrolments(*p)
                    .iter()
                    .any(|(c, f, u)| *c == class && *f <= to && u.is_none_or(|u| from < u))
            })
            .collect()
    }
}

mod grades;
mod learning;
mod school_life;
