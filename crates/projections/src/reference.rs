//! Reference data as the dashboards read it: schools, periods, subjects, classes, teachers,
//! pupils (external id, sealed identity, enrolments), guardians and frameworks.
//!
//! Names of classes, subjects and teachers are in clear in the events and kept here; a
//! pupil's name is sealed and only opened at read time by `names::KeyRing`.

use crate::model::Map;
use chrono::NaiveDate;
use std::sync::Arc;
use suivi_domain::events::Event;
use suivi_domain::identity::Sealed;
use suivi_domain::ids::*;
use suivi_domain::reference::{
    socle_commun_components, Component, PeriodKind, SubjectKind, SOCLE_COMMUN_ID,
    SOCLE_COMMUN_LEVELS,
};
use suivi_domain::values::Coefficient;

#[derive(Clone, Debug, PartialEq)]
pub struct SchoolInfo {
    pub school_id: SchoolId,
    pub name: String,
    pub nr_counts_as_zero: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct YearInfo {
    pub year_id: SchoolYearId,
    pub school_id: SchoolId,
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PeriodInfo {
    pub period_id: PeriodId,
    pub school_id: SchoolId,
    pub year_id: SchoolYearId,
    pub name: String,
    pub kind: PeriodKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

impl PeriodInfo {
    /// Both ends included.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.starts_on <= date && date <= self.ends_on
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubjectInfo {
    pub subject_id: SubjectId,
    pub school_id: SchoolId,
    pub name: String,
    pub kind: SubjectKind,
    pub coefficient: Coefficient,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClassInfo {
    pub class_id: ClassId,
    pub school_id: SchoolId,
    pub year_id: SchoolYearId,
    pub name: String,
    pub head_teacher: Option<TeacherId>,
    pub teaching: Vec<(TeacherId, SubjectId)>,
    /// Every pupil ever enrolled in the class, in enrolment order.
    pub members: Vec<PupilId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TeacherInfo {
    pub teacher_id: TeacherId,
    pub school_id: SchoolId,
    pub display_name: String,
    pub email: Option<String>,
}

/// In `class_id` from `from` (inclusive) until `until` (exclusive) when transferred or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub class_id: ClassId,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Enrolment {
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.until.is_none_or(|u| date < u)
    }

    /// Whether some day of `[from, to]` (both included) is covered.
    pub fn overlaps(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.from <= to && self.until.is_none_or(|u| from < u)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PupilInfo {
    pub pupil_id: PupilId,
    pub school_id: SchoolId,
    pub external_id: String,
    /// A `PupilIdentity` sealed with the pupil's key: open it with `names::KeyRing`.
    pub identity: Sealed,
    pub enrolments: Vec<Enrolment>,
    pub guardians: Vec<GuardianId>,
}

impl PupilInfo {
    pub fn class_on(&self, date: NaiveDate) -> Option<ClassId> {
        self.enrolments
            .iter()
            .find(|e| e.covers(date))
            .map(|e| e.class_id)
    }

    pub fn in_class_on(&self, class: ClassId, date: NaiveDate) -> bool {
        self.enrolments
            .iter()
            .any(|e| e.class_id == class && e.covers(date))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkInfo {
    pub framework_id: FrameworkId,
    pub name: String,
    pub components: Vec<Component>,
    /// Level labels, lowest first; levels are numbered from 1.
    pub levels: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Reference {
    schools: Map<SchoolId, SchoolInfo>,
    years: Map<SchoolYearId, YearInfo>,
    periods: Map<PeriodId, PeriodInfo>,
    subjects: Map<SubjectId, SubjectInfo>,
    classes: Map<ClassId, ClassInfo>,
    teachers: Map<TeacherId, TeacherInfo>,
    pupils: Map<PupilId, Arc<PupilInfo>>,
    guardians: Map<GuardianId, Vec<PupilId>>,
    frameworks: Map<FrameworkId, FrameworkInfo>,
    /// (school, provider, subject) → who that account is in that school: a région's
    /// provider serves several schools, and one person may be linked in each.
    identity_links: Map<(SchoolId, String, String), IdentityLink>,
    /// (school, provider, account) and (school, provider, person) an administrator
    /// unlinked: never linked again by e-mail (`--oidc-match-email`), only by an
    /// administrator.
    unlinked_accounts: Map<(SchoolId, String, String), ()>,
    unlinked_people: Map<(SchoolId, String, uuid::Uuid), ()>,
}

/// Who an identity provider's account is in suivi (`IdentityLinked`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityLink {
    pub school_id: SchoolId,
    pub role: suivi_domain::Role,
    pub person_id: uuid::Uuid,
}

impl Default for Reference {
    fn default() -> Self {
        let socle = FrameworkInfo {
            framework_id: SOCLE_COMMUN_ID,
            name: "Socle commun".to_owned(),
            components: socle_commun_components(),
            levels: SOCLE_COMMUN_LEVELS
                .iter()
                .map(|l| (*l).to_owned())
                .collect(),
        };
        Reference {
            schools: Map::default(),
            years: Map::default(),
            periods: Map::default(),
            subjects: Map::default(),
            classes: Map::default(),
            teachers: Map::default(),
            pupils: Map::default(),
            guardians: Map::default(),
            frameworks: [(SOCLE_COMMUN_ID, socle)].into_iter().collect(),
            identity_links: Map::default(),
            unlinked_accounts: Map::default(),
            unlinked_people: Map::default(),
        }
    }
}

fn sorted_by<'a, T, K: Ord>(
    items: impl Iterator<Item = &'a T>,
    key: impl Fn(&T) -> K,
) -> Vec<&'a T> {
    let mut v: Vec<&T> = items.collect();
    v.sort_by_key(|t| key(t));
    v
}

impl Reference {
    pub fn school(&self, id: SchoolId) -> Option<&SchoolInfo> {
        self.schools.get(&id)
    }

    pub fn schools(&self) -> Vec<&SchoolInfo> {
        sorted_by(self.schools.values(), |s| (s.name.clone(), s.school_id))
    }

    /// The school setting for `NR` marks; true (the domain's default) for an unknown school.
    pub fn nr_counts_as_zero(&self, school: SchoolId) -> bool {
        self.schools
            .get(&school)
            .is_none_or(|s| s.nr_counts_as_zero)
    }

    pub fn year(&self, id: SchoolYearId) -> Option<&YearInfo> {
        self.years.get(&id)
    }

    pub fn period(&self, id: PeriodId) -> Option<&PeriodInfo> {
        self.periods.get(&id)
    }

    /// A school's periods by start date.
    pub fn periods_of(&self, school: SchoolId) -> Vec<&PeriodInfo> {
        sorted_by(
            self.periods.values().filter(|p| p.school_id == school),
            |p| (p.starts_on, p.name.clone(), p.period_id),
        )
    }

    pub fn subject(&self, id: SubjectId) -> Option<&SubjectInfo> {
        self.subjects.get(&id)
    }

    pub fn subjects_of(&self, school: SchoolId) -> Vec<&SubjectInfo> {
        sorted_by(
            self.subjects.values().filter(|s| s.school_id == school),
            |s| (s.name.clone(), s.subject_id),
        )
    }

    pub fn class(&self, id: ClassId) -> Option<&ClassInfo> {
        self.classes.get(&id)
    }

    pub fn classes_of(&self, school: SchoolId) -> Vec<&ClassInfo> {
        sorted_by(
            self.classes.values().filter(|c| c.school_id == school),
            |c| (c.name.clone(), c.class_id),
        )
    }

    /// Who the account `subject` at `provider` is in `school`, if its administrator
    /// linked it.
    pub fn identity_link(
        &self,
        school: SchoolId,
        provider: &str,
        subject: &str,
    ) -> Option<&IdentityLink> {
        self.identity_links
            .get(&(school, provider.to_owned(), subject.to_owned()))
    }

    /// Who the account is in each school that linked it.
    pub fn identity_links_of(&self, provider: &str, subject: &str) -> Vec<&IdentityLink> {
        let mut links: Vec<&IdentityLink> = self
            .identity_links
            .iter()
            .filter(|((_, p, s), _)| p == provider && s == subject)
            .map(|(_, link)| link)
            .collect();
        links.sort_by_key(|l| l.school_id);
        links
    }

    /// The school's staff registered with this e-mail (compared without regard to case).
    pub fn teachers_with_email(&self, school: SchoolId, email: &str) -> Vec<&TeacherInfo> {
        self.teachers
            .values()
            .filter(|t| {
                t.school_id == school
                    && t.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .collect()
    }

    /// Whether an administrator ever unlinked this account, or an account of `person`, at
    /// `provider` in `school`.
    pub fn was_unlinked(
        &self,
        school: SchoolId,
        provider: &str,
        subject: &str,
        person: uuid::Uuid,
    ) -> bool {
        self.unlinked_accounts
            .contains_key(&(school, provider.to_owned(), subject.to_owned()))
            || self
                .unlinked_people
                .contains_key(&(school, provider.to_owned(), person))
    }

    /// Whether any account at `provider` is linked to `person` in `school`.
    pub fn has_identity_link(&self, school: SchoolId, provider: &str, person: uuid::Uuid) -> bool {
        self.identity_links
            .iter()
            .any(|((s, p, _), link)| *s == school && p == provider && link.person_id == person)
    }

    pub fn teacher(&self, id: TeacherId) -> Option<&TeacherInfo> {
        self.teachers.get(&id)
    }

    /// Classes a teacher teaches a subject in or is professeur principal of.
    pub fn classes_of_teacher(&self, teacher: TeacherId) -> Vec<ClassId> {
        let mut ids: Vec<ClassId> = self
            .classes
            .values()
            .filter(|c| {
                c.head_teacher == Some(teacher) || c.teaching.iter().any(|(t, _)| *t == teacher)
            })
            .map(|c| c.class_id)
            .collect();
        ids.sort();
        ids
    }

    pub fn pupil(&self, id: PupilId) -> Option<&PupilInfo> {
        self.pupils.get(&id).map(|p| p.as_ref())
    }

    pub fn pupil_by_external_id(&self, school: SchoolId, external_id: &str) -> Option<&PupilInfo> {
        self.pupils
            .values()
            .map(|p| p.as_ref())
            .find(|p| p.school_id == school && p.external_id == external_id)
    }

    /// The pupils a guardian is linked to.
    pub fn children_of(&self, guardian: GuardianId) -> &[PupilId] {
        self.guardians.get(&guardian).map_or(&[], |v| v.as_slice())
    }

    pub fn framework(&self, id: FrameworkId) -> Option<&FrameworkInfo> {
        self.frameworks.get(&id)
    }

    /// Pupils enrolled in `class` on `date`, in enrolment order.
    pub fn roster(&self, class: ClassId, date: NaiveDate) -> Vec<PupilId> {
        self.members_where(class, |e| e.covers(date))
    }

    /// Pupils enrolled in `class` on some day of `[from, to]`, in enrolment order.
    pub fn members_during(&self, class: ClassId, from: NaiveDate, to: NaiveDate) -> Vec<PupilId> {
        self.members_where(class, |e| e.overlaps(from, to))
    }

    /// Every pupil ever enrolled in `class`.
    pub fn members(&self, class: ClassId) -> &[PupilId] {
        self.classes
            .get(&class)
            .map_or(&[], |c| c.members.as_slice())
    }

    fn members_where(&self, class: ClassId, keep: impl Fn(&Enrolment) -> bool) -> Vec<PupilId> {
        self.members(class)
            .iter()
            .copied()
            .filter(|p| {
                self.pupils.get(p).is_some_and(|info| {
                    info.enrolments
                        .iter()
                        .any(|e| e.class_id == class && keep(e))
                })
            })
            .collect()
    }

    /// The classes a pupil was enrolled in on some day of `[from, to]`, in enrolment order
    /// (a pupil transferred mid-period has two).
    pub fn classes_of_pupil_during(
        &self,
        pupil: PupilId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Vec<ClassId> {
        let mut classes = Vec::new();
        for e in self
            .pupils
            .get(&pupil)
            .map_or(&[][..], |p| p.enrolments.as_slice())
        {
            if e.overlaps(from, to) && !classes.contains(&e.class_id) {
                classes.push(e.class_id);
            }
        }
        classes
    }

    pub(crate) fn school_of_class(&self, class: ClassId) -> Option<SchoolId> {
        self.classes.get(&class).map(|c| c.school_id)
    }

    /// Folds a reference event; false when the event is not reference data.
    pub(crate) fn apply(&mut self, school_id: SchoolId, event: &Event) -> bool {
        use Event as E;
        match event {
            E::SchoolRegistered(e) => {
                self.schools.insert(
                    e.school_id,
                    SchoolInfo {
                        school_id: e.school_id,
                        name: e.name.clone(),
                        nr_counts_as_zero: e.nr_counts_as_zero,
                    },
                );
            }
            E::SchoolYearDefined(e) => {
                self.years.insert(
                    e.year_id,
                    YearInfo {
                        year_id: e.year_id,
                        school_id,
                        label: e.label.clone(),
                        starts_on: e.starts_on,
                        ends_on: e.ends_on,
                    },
                );
            }
            E::PeriodDefined(e) => {
                self.periods.insert(
                    e.period_id,
                    PeriodInfo {
                        period_id: e.period_id,
                        school_id,
                        year_id: e.year_id,
                        name: e.name.clone(),
                        kind: e.kind,
                        starts_on: e.starts_on,
                        ends_on: e.ends_on,
                    },
                );
            }
            E::SubjectDefined(e) => {
                self.subjects.insert(
                    e.subject_id,
                    SubjectInfo {
                        subject_id: e.subject_id,
                        school_id,
                        name: e.name.clone(),
                        kind: e.kind,
                        coefficient: e.coefficient,
                    },
                );
            }
            E::ClassOpened(e) => {
                let members = self
                    .classes
                    .remove(&e.class_id)
                    .map(|c| c.members)
                    .unwrap_or_default();
                self.classes.insert(
                    e.class_id,
                    ClassInfo {
                        class_id: e.class_id,
                        school_id,
                        year_id: e.year_id,
                        name: e.name.clone(),
                        head_teacher: None,
                        teaching: Vec::new(),
                        members,
                    },
                );
            }
            E::TeacherRegistered(e) => {
                self.teachers.insert(
                    e.teacher_id,
                    TeacherInfo {
                        teacher_id: e.teacher_id,
                        school_id,
                        display_name: e.display_name.clone(),
                        email: e.email.clone(),
                    },
                );
            }
            E::TeachingAssigned(e) => {
                if let Some(class) = self.classes.get_mut(&e.class_id) {
                    if !class.teaching.contains(&(e.teacher_id, e.subject_id)) {
                        class.teaching.push((e.teacher_id, e.subject_id));
                    }
                }
            }
            E::HeadTeacherAssigned(e) => {
                if let Some(class) = self.classes.get_mut(&e.class_id) {
                    class.head_teacher = Some(e.teacher_id);
                }
            }
            E::PupilRegistered(e) => {
                let (enrolments, guardians) = self
                    .pupils
                    .remove(&e.pupil_id)
                    .map(|p| (p.enrolments.clone(), p.guardians.clone()))
                    .unwrap_or_default();
                self.pupils.insert(
                    e.pupil_id,
                    Arc::new(PupilInfo {
                        pupil_id: e.pupil_id,
                        school_id,
                        external_id: e.external_id.clone(),
                        identity: e.identity.clone(),
                        enrolments,
                        guardians,
                    }),
                );
            }
            E::PupilEnrolled(e) => self.enrol(e.pupil_id, e.class_id, e.on),
            E::PupilTransferred(e) => {
                if let Some(pupil) = self.pupils.get_mut(&e.pupil_id) {
                    let pupil = Arc::make_mut(pupil);
                    for enrolment in pupil.enrolments.iter_mut() {
                        if enrolment.until.is_none() && enrolment.class_id == e.from_class_id {
                            enrolment.until = Some(e.on);
                        }
                    }
                }
                self.enrol(e.pupil_id, e.to_class_id, e.on);
            }
            E::EnrolmentEnded(e) => {
                if let Some(pupil) = self.pupils.get_mut(&e.pupil_id) {
                    let pupil = Arc::make_mut(pupil);
                    for enrolment in pupil.enrolments.iter_mut() {
                        if enrolment.until.is_none() && enrolment.class_id == e.class_id {
                            enrolment.until = Some(e.on);
                        }
                    }
                }
            }
            E::GuardianLinked(e) => {
                if let Some(pupil) = self.pupils.get_mut(&e.pupil_id) {
                    Arc::make_mut(pupil).guardians.push(e.guardian_id);
                }
                let children = self.guardians.entry(e.guardian_id).or_default();
                if !children.contains(&e.pupil_id) {
                    children.push(e.pupil_id);
                }
            }
            E::IdentityLinked(e) => {
                self.identity_links.insert(
                    (school_id, e.provider.clone(), e.subject.clone()),
                    IdentityLink {
                        school_id,
                        role: e.role,
                        person_id: e.person_id,
                    },
                );
            }
            E::IdentityUnlinked(e) => {
                let key = (school_id, e.provider.clone(), e.subject.clone());
                if let Some(link) = self.identity_links.remove(&key) {
                    self.unlinked_people
                        .insert((school_id, e.provider.clone(), link.person_id), ());
                }
                self.unlinked_accounts.insert(key, ());
            }
            E::FrameworkDefined(e) => {
                self.frameworks.insert(
                    e.framework_id,
                    FrameworkInfo {
                        framework_id: e.framework_id,
                        name: e.name.clone(),
                        components: e.components.clone(),
                        levels: e.levels.clone(),
                    },
                );
            }
            _ => return false,
        }
        true
    }

    fn enrol(&mut self, pupil: PupilId, class: ClassId, on: NaiveDate) {
        let Some(info) = self.pupils.get_mut(&pupil) else {
            return;
        };
        Arc::make_mut(info).enrolments.push(Enrolment {
            class_id: class,
            from: on,
            until: None,
        });
        if let Some(class) = self.classes.get_mut(&class) {
            if !class.members.contains(&pupil) {
                class.members.push(pupil);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suivi_domain::events::{IdentityLinked, IdentityUnlinked};
    use suivi_domain::Role;

    const ENT: &str = "https://ent.region.example";

    fn linked(person: u128) -> Event {
        Event::IdentityLinked(IdentityLinked {
            provider: ENT.into(),
            subject: "prof-1".into(),
            role: Role::Teacher,
            person_id: uuid::Uuid::from_u128(person),
        })
    }

    #[test]
    fn one_account_is_linked_in_each_school_apart() {
        // A région's provider serves two schools; the same teacher works in both.
        let (a, b) = (
            SchoolId(uuid::Uuid::from_u128(1)),
            SchoolId(uuid::Uuid::from_u128(2)),
        );
        let mut reference = Reference::default();
        assert!(reference.apply(a, &linked(10)));
        assert!(reference.apply(b, &linked(20)));
        let person = |school| {
            reference
                .identity_link(school, ENT, "prof-1")
                .map(|l| l.person_id.as_u128())
        };
        assert_eq!((person(a), person(b)), (Some(10), Some(20)));
        assert_eq!(reference.identity_links_of(ENT, "prof-1").len(), 2);
        // School b unlinking its teacher leaves school a's link alone.
        let unlinked = Event::IdentityUnlinked(IdentityUnlinked {
            provider: ENT.into(),
            subject: "prof-1".into(),
        });
        assert!(reference.apply(b, &unlinked));
        let person = |school| {
            reference
                .identity_link(school, ENT, "prof-1")
                .map(|l| l.person_id.as_u128())
        };
        assert_eq!((person(a), person(b)), (Some(10), None));
    }
}
