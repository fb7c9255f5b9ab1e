//! Rules for the school's reference data.

use super::{in_school_year, known_pupil, not_blank};
use crate::error::DomainError;
use crate::events::*;
use crate::ids::{PupilId, TeacherId};
use crate::state::SchoolState;
use crate::Role;

pub(super) fn check(state: &SchoolState, event: &Event) -> Option<Result<(), DomainError>> {
    Some(match event {
        Event::SchoolRegistered(e) => school(state, e),
        Event::SchoolYearDefined(e) => year(state, e),
        Event::PeriodDefined(e) => period(state, e),
        Event::SubjectDefined(e) => subject(state, e),
        Event::ClassOpened(e) => class(state, e),
        Event::TeacherRegistered(e) => teacher(state, e),
        Event::TeachingAssigned(e) => teaching(state, e),
        Event::HeadTeacherAssigned(e) => head_teacher(state, e),
        Event::PupilRegistered(e) => pupil(state, e),
        Event::PupilEnrolled(e) => enrol(state, e),
        Event::PupilTransferred(e) => transfer(state, e),
        Event::EnrolmentEnded(e) => end_enrolment(state, e),
        Event::GuardianLinked(e) => guardian(state, e),
        Event::FrameworkDefined(e) => framework(state, e),
        Event::IdentityLinked(e) => link_identity(state, e),
        Event::IdentityUnlinked(e) => unlink_identity(state, e),
        _ => return None,
    })
}

fn school(state: &SchoolState, e: &SchoolRegistered) -> Result<(), DomainError> {
    if state.registered {
        return Err(DomainError::SchoolAlreadyRegistered(state.school_id));
    }
    if e.school_id != state.school_id {
        return Err(DomainError::invalid(
            "school_id",
            format!(
                "{} does not match the envelope's school {}",
                e.school_id, state.school_id
            ),
        ));
    }
    not_blank("school name", &e.name)
}

fn year(state: &SchoolState, e: &SchoolYearDefined) -> Result<(), DomainError> {
    if state.years.contains_key(&e.year_id) {
        return Err(DomainError::exists("school year", e.year_id));
    }
    not_blank("school year label", &e.label)?;
    if e.ends_on <= e.starts_on {
        return Err(DomainError::invalid(
            "school year",
            format!(
                "{} ends on {} before it starts on {}",
                e.label, e.ends_on, e.starts_on
            ),
        ));
    }
    if let Some(other) = state
        .years
        .values()
        .find(|y| y.starts_on <= e.ends_on && e.starts_on <= y.ends_on)
    {
        return Err(DomainError::invalid(
            "school year",
            format!("{} overlaps school year {}", e.label, other.label),
        ));
    }
    Ok(())
}

fn period(state: &SchoolState, e: &PeriodDefined) -> Result<(), DomainError> {
    if state.periods.contains_key(&e.period_id) {
        return Err(DomainError::exists("period", e.period_id));
    }
    not_blank("period name", &e.name)?;
    let year = state
        .years
        .get(&e.year_id)
        .ok_or_else(|| DomainError::unknown("school year", e.year_id))?;
    if e.ends_on < e.starts_on || e.starts_on < year.starts_on || e.ends_on > year.ends_on {
        return Err(DomainError::invalid(
            "period",
            format!(
                "{} ({} to {}) is not inside school year {} ({} to {})",
                e.name, e.starts_on, e.ends_on, year.label, year.starts_on, year.ends_on
            ),
        ));
    }
    if state
        .periods
        .values()
        .any(|p| p.year_id == e.year_id && p.name == e.name)
    {
        return Err(DomainError::DuplicateName {
            kind: "period",
            name: e.name.clone(),
        });
    }
    Ok(())
}

fn subject(state: &SchoolState, e: &SubjectDefined) -> Result<(), DomainError> {
    if state.subjects.contains_key(&e.subject_id) {
        return Err(DomainError::exists("subject", e.subject_id));
    }
    not_blank("subject name", &e.name)?;
    if e.coefficient.0 .0 == 0 || e.coefficient.0 .0 > 10_000 {
        return Err(DomainError::invalid(
            "coefficient",
            format!("{} is not between 0.01 and 100", e.coefficient.0),
        ));
    }
    if state.subjects.values().any(|s| s.name == e.name) {
        return Err(DomainError::DuplicateName {
            kind: "subject",
            name: e.name.clone(),
        });
    }
    Ok(())
}

fn class(state: &SchoolState, e: &ClassOpened) -> Result<(), DomainError> {
    if state.classes.contains_key(&e.class_id) {
        return Err(DomainError::exists("class", e.class_id));
    }
    not_blank("class name", &e.name)?;
    if !state.years.contains_key(&e.year_id) {
        return Err(DomainError::unknown("school year", e.year_id));
    }
    if state
        .classes
        .values()
        .any(|c| c.year_id == e.year_id && c.name == e.name)
    {
        return Err(DomainError::DuplicateName {
            kind: "class",
            name: e.name.clone(),
        });
    }
    Ok(())
}

fn teacher(state: &SchoolState, e: &TeacherRegistered) -> Result<(), DomainError> {
    if state.teachers.contains(&e.teacher_id) {
        return Err(DomainError::exists("teacher", e.teacher_id));
    }
    not_blank("teacher name", &e.display_name)?;
    match &e.email {
        Some(email) if !is_email(email) => Err(DomainError::invalid(
            "email",
            "must be one address like prenom.nom@ac-academie.fr, with no spaces",
        )),
        _ => Ok(()),
    }
}

/// One address: a local part, `@`, a domain with a dot; no spaces; at most 254 characters.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
}

fn teaching(state: &SchoolState, e: &TeachingAssigned) -> Result<(), DomainError> {
    known_teacher_and_class(state, e.teacher_id, e.class_id)?;
    if !state.subjects.contains_key(&e.subject_id) {
        return Err(DomainError::unknown("subject", e.subject_id));
    }
    if state
        .teaching
        .contains(&(e.teacher_id, e.class_id, e.subject_id))
    {
        return Err(DomainError::exists(
            "teaching assignment",
            format!("{}/{}/{}", e.teacher_id, e.class_id, e.subject_id),
        ));
    }
    Ok(())
}

fn head_teacher(state: &SchoolState, e: &HeadTeacherAssigned) -> Result<(), DomainError> {
    known_teacher_and_class(state, e.teacher_id, e.class_id)
}

fn known_teacher_and_class(
    state: &SchoolState,
    teacher: crate::ids::TeacherId,
    class: crate::ids::ClassId,
) -> Result<(), DomainError> {
    if !state.teachers.contains(&teacher) {
        return Err(DomainError::unknown("teacher", teacher));
    }
    if !state.classes.contains_key(&class) {
        return Err(DomainError::unknown("class", class));
    }
    Ok(())
}

fn pupil(state: &SchoolState, e: &PupilRegistered) -> Result<(), DomainError> {
    if state.pupils.contains_key(&e.pupil_id) {
        return Err(DomainError::exists("pupil", e.pupil_id));
    }
    not_blank("external_id", &e.external_id)?;
    if state.pupils_by_external_id.contains_key(&e.external_id) {
        return Err(DomainError::DuplicateName {
            kind: "pupil with external id",
            name: e.external_id.clone(),
        });
    }
    if e.identity.ciphertext.is_empty() || e.identity.nonce.is_empty() {
        return Err(DomainError::invalid(
            "identity",
            "must be sealed with the pupil's key",
        ));
    }
    Ok(())
}

fn enrol(state: &SchoolState, e: &PupilEnrolled) -> Result<(), DomainError> {
    let pupil = known_pupil(state, e.pupil_id)?;
    let class = state
        .classes
        .get(&e.class_id)
        .ok_or_else(|| DomainError::unknown("class", e.class_id))?;
    in_school_year(state, e.on)?;
    if state.year_of(e.on) != Some(class.year_id) {
        return Err(DomainError::invalid(
            "enrolment date",
            format!("{} is not in the school year of class {}", e.on, class.name),
        ));
    }
    if let Some(current) = pupil.current_class() {
        return Err(DomainError::AlreadyEnrolled {
            pupil: e.pupil_id,
            class: current,
        });
    }
    Ok(())
}

fn transfer(state: &SchoolState, e: &PupilTransferred) -> Result<(), DomainError> {
    let pupil = known_pupil(state, e.pupil_id)?;
    if !state.classes.contains_key(&e.to_class_id) {
        return Err(DomainError::unknown("class", e.to_class_id));
    }
    in_school_year(state, e.on)?;
    let current = pupil
        .enrolments
        .iter()
        .find(|en| en.until.is_none() && en.class_id == e.from_class_id)
        .ok_or(DomainError::NotEnrolled {
            pupil: e.pupil_id,
            class: e.from_class_id,
            date: e.on,
        })?;
    if e.on <= current.from {
        return Err(DomainError::invalid(
            "transfer date",
            format!("{} is not after the enrolment of {}", e.on, current.from),
        ));
    }
    if e.to_class_id == e.from_class_id {
        return Err(DomainError::invalid(
            "transfer",
            "the pupil is already in that class",
        ));
    }
    Ok(())
}

fn end_enrolment(state: &SchoolState, e: &EnrolmentEnded) -> Result<(), DomainError> {
    let pupil = known_pupil(state, e.pupil_id)?;
    in_school_year(state, e.on)?;
    let current = pupil
        .enrolments
        .iter()
        .find(|en| en.until.is_none() && en.class_id == e.class_id)
        .ok_or(DomainError::NotEnrolled {
            pupil: e.pupil_id,
            class: e.class_id,
            date: e.on,
        })?;
    if e.on <= current.from {
        return Err(DomainError::invalid(
            "end of enrolment",
            format!("{} is not after the enrolment of {}", e.on, current.from),
        ));
    }
    Ok(())
}

fn guardian(state: &SchoolState, e: &GuardianLinked) -> Result<(), DomainError> {
    known_pupil(state, e.pupil_id)?;
    if state.guardians.contains(&(e.guardian_id, e.pupil_id)) {
        return Err(DomainError::exists(
            "guardian link",
            format!("{}/{}", e.guardian_id, e.pupil_id),
        ));
    }
    Ok(())
}

/// Provider and subject: not blank, no surrounding spaces (an account is matched
/// exactly at sign-in, so `"prof-1 "` would never match), at most 200 characters; the
/// provider an http(s) URL, as an issuer is.
fn account(provider: &str, subject: &str) -> Result<(), DomainError> {
    for (field, text) in [("provider", provider), ("subject", subject)] {
        if text.trim().is_empty() {
            return Err(DomainError::invalid(field, "must not be empty"));
        }
        if text.trim() != text {
            return Err(DomainError::invalid(
                field,
                "has spaces before or after it; an account is matched exactly",
            ));
        }
        if text.chars().count() > 200 {
            return Err(DomainError::invalid(field, "is longer than 200 characters"));
        }
    }
    let scheme_ok = provider.starts_with("https://") || provider.starts_with("http://");
    if !scheme_ok || provider.contains(char::is_whitespace) {
        return Err(DomainError::invalid(
            "provider",
            "must be the identity provider's issuer URL (https://…)",
        ));
    }
    Ok(())
}

fn link_identity(state: &SchoolState, e: &IdentityLinked) -> Result<(), DomainError> {
    account(&e.provider, &e.subject)?;
    let key = (e.provider.clone(), e.subject.clone());
    if state.identity_links.contains_key(&key) {
        return Err(DomainError::exists(
            "identity link",
            format!("{} at {}", e.subject, e.provider),
        ));
    }
    match e.role {
        // An administrator need not teach: their id is the one their sessions carry, but
        // never a pupil's or a guardian's, nor the nil id.
        Role::Admin => {
            let pupil_or_guardian = state.pupils.contains_key(&PupilId(e.person_id))
                || state.guardians.iter().any(|(g, _)| g.0 == e.person_id);
            if e.person_id.is_nil() || pupil_or_guardian {
                Err(DomainError::invalid(
                    "person_id",
                    "an administrator's id must be their own, not a pupil's or a guardian's",
                ))
            } else {
                Ok(())
            }
        }
        Role::HeadTeacher | Role::Teacher => {
            if state.teachers.contains(&TeacherId(e.person_id)) {
                Ok(())
            } else {
                Err(DomainError::unknown("teacher", e.person_id))
            }
        }
        Role::Guardian => {
            if state.guardians.iter().any(|(g, _)| g.0 == e.person_id) {
                Ok(())
            } else {
                Err(DomainError::unknown("guardian", e.person_id))
            }
        }
        Role::Pupil => known_pupil(state, PupilId(e.person_id)).map(|_| ()),
    }
}

fn unlink_identity(state: &SchoolState, e: &IdentityUnlinked) -> Result<(), DomainError> {
    account(&e.provider, &e.subject)?;
    if state
        .identity_links
        .contains_key(&(e.provider.clone(), e.subject.clone()))
    {
        Ok(())
    } else {
        Err(DomainError::unknown(
            "identity link",
            format!("{} at {}", e.subject, e.provider),
        ))
    }
}

fn framework(state: &SchoolState, e: &FrameworkDefined) -> Result<(), DomainError> {
    if state.frameworks.contains_key(&e.framework_id) {
        return Err(DomainError::exists("framework", e.framework_id));
    }
    not_blank("framework name", &e.name)?;
    if e.components.is_empty() || e.levels.len() < 2 || e.levels.len() > 10 {
        return Err(DomainError::invalid(
            "framework",
            format!(
                "{} needs components and 2 to 10 levels (has {} components, {} levels)",
                e.name,
                e.components.len(),
                e.levels.len()
            ),
        ));
    }
    Ok(())
}
