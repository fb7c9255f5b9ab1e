//! Reference data of a school: year, periods, subjects, classes, staff, pupils, guardians.
//! All of it lives in the school's own stream (`school-{id}`).

use crate::identity::Sealed;
use crate::ids::*;
use crate::reference::{Component, PeriodKind, SubjectKind};
use crate::values::Coefficient;
use crate::Role;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchoolRegistered {
    pub school_id: SchoolId,
    pub name: String,
    /// School setting: is a `NR` (not handed in) counted as 0 in averages? French practice
    /// varies by school; the default is yes.
    #[serde(default = "yes")]
    pub nr_counts_as_zero: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchoolYearDefined {
    pub year_id: SchoolYearId,
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodDefined {
    pub period_id: PeriodId,
    pub year_id: SchoolYearId,
    pub name: String,
    pub kind: PeriodKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubjectDefined {
    pub subject_id: SubjectId,
    pub name: String,
    pub kind: SubjectKind,
    /// The subject's weight in the general average.
    pub coefficient: Coefficient,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassOpened {
    pub class_id: ClassId,
    pub year_id: SchoolYearId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherRegistered {
    pub teacher_id: TeacherId,
    /// Staff are adults acting in their professional role; their display name is not sealed.
    pub display_name: String,
    /// Their professional e-mail, when the school records it: with `--oidc-match-email`, a
    /// first sign-in whose provider vouches for this address links the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeachingAssigned {
    pub teacher_id: TeacherId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadTeacherAssigned {
    pub teacher_id: TeacherId,
    pub class_id: ClassId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PupilRegistered {
    pub pupil_id: PupilId,
    /// The id the school's vie scolaire software gives the pupil (pseudonymous).
    pub external_id: String,
    /// A `PupilIdentity`, sealed with the pupil's key.
    pub identity: Sealed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PupilEnrolled {
    pub pupil_id: PupilId,
    pub class_id: ClassId,
    pub on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PupilTransferred {
    pub pupil_id: PupilId,
    pub from_class_id: ClassId,
    pub to_class_id: ClassId,
    /// First day in the new class.
    pub on: NaiveDate,
}

/// The pupil leaves: their enrolment in `class_id` ends and no other begins (a pupil gone
/// from the school's roster). Moving to another class is a `PupilTransferred`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrolmentEnded {
    pub pupil_id: PupilId,
    pub class_id: ClassId,
    /// First day no longer enrolled (the enrolment covers the days before it).
    pub on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardianLinked {
    pub guardian_id: GuardianId,
    pub pupil_id: PupilId,
    /// A `GuardianContact`, sealed with the pupil's key.
    pub contact: Sealed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkDefined {
    pub framework_id: FrameworkId,
    pub name: String,
    pub components: Vec<Component>,
    /// Level labels, lowest first; levels are numbered from 1.
    pub levels: Vec<String>,
}

/// A person's account at the school's identity provider (OpenID Connect) is theirs in
/// suivi: signing in there as `subject` is to be `person_id` with `role` (the sign-in
/// itself is issue 15's next part). `subject` is the provider's `sub` claim, an opaque
/// identifier, never a name. Written by an administrator; a subject is linked once in a
/// school (unlink first to change it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentityLinked {
    /// The provider's issuer URL, as its discovery document names it.
    pub provider: String,
    pub subject: String,
    pub role: Role,
    /// A teacher for the staff roles (an administrator may be anyone's id), a guardian
    /// or a pupil.
    pub person_id: uuid::Uuid,
}

/// The link of `subject` at `provider` is gone: that account is no longer anyone's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentityUnlinked {
    pub provider: String,
    pub subject: String,
}
