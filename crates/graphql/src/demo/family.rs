//! The demo's family: a guardian who follows a child with a school year of results —
//! grades in every period of their class's year, absences, QCM attempts — and a second
//! child in the live class, so that the family view shows a real year and today's work.
//!
//! The child is a pupil outside the live class (whose pupils' results stay in their
//! previous class), chosen from the write model by the grades of the class their file
//! shows (their latest): the most periods with a grade, then absences and attempts, then
//! the most grades; the guardian is one of theirs. Linking is
//! idempotent: a guardian who already follows a pupil of the live class is left as is.

use super::setup::{exec, Stage};
use chrono::NaiveDate;
use rand::RngCore;
use std::collections::HashMap;
use suivi_domain::events::GuardianLinked;
use suivi_domain::identity::{seal, GuardianContact, NONCE_LEN};
use suivi_domain::ids::*;
use suivi_domain::{Command, SchoolState};
use suivi_projections::gateway::{CommandError, Gateway};

/// What makes a child's file full, compared in this order.
type Fullness = (usize, bool, bool, usize);

/// Each pupil's graded assessments' dates.
type Graded = HashMap<PupilId, Vec<NaiveDate>>;

fn fullness(s: &SchoolState, pupil: PupilId, graded: &Graded) -> Fullness {
    let dates = graded.get(&pupil).map_or(&[][..], |g| g.as_slice());
    let periods = s
        .periods
        .values()
        .filter(|p| dates.iter().any(|d| p.starts_on <= *d && *d <= p.ends_on))
        .count();
    let absent = s
        .attendance
        .values()
        .any(|r| r.pupil_id == pupil && r.is_absence);
    let tried = s
        .attempts
        .iter()
        .any(|((_, p), a)| *p == pupil && a.started > 0);
    (periods, absent, tried, dates.len())
}

/// The guardian with results to show and a child to link in the live class, unless the
/// family is already complete.
fn pick(s: &SchoolState, stage: &Stage) -> Option<(GuardianId, PupilId)> {
    // Grades in the class the pupil's file shows (their latest), not in one they left.
    let shown = |p: &PupilId| {
        s.pupils
            .get(p)
            .and_then(|info| info.enrolments.last())
            .map(|e| e.class_id)
    };
    let mut graded = Graded::new();
    for a in s.assessments.values() {
        for p in &a.graded {
            if shown(p) == Some(a.class_id) {
                graded.entry(*p).or_default().push(a.date);
            }
        }
    }
    let guardian_of = |pupil: PupilId| {
        s.guardians
            .iter()
            .filter(|(_, p)| *p == pupil)
            .map(|(g, _)| *g)
            .min()
    };
    let outside: Vec<PupilId> = {
        let mut v: Vec<PupilId> = s
            .pupils
            .keys()
            .copied()
            .filter(|p| !stage.pupils.contains(p))
            .collect();
        v.sort();
        v
    };
    let child = outside
        .iter()
        .filter(|p| guardian_of(**p).is_some())
        .max_by(|a, b| {
            fullness(s, **a, &graded)
                .cmp(&fullness(s, **b, &graded))
                // The first by id among equals.
                .then(b.cmp(a))
        })
        .copied()?;
    let guardian = guardian_of(child)?;
    let linked = |pupil: &PupilId| s.guardians.contains(&(guardian, *pupil));
    if stage.pupils.iter().any(linked) {
        return None;
    }
    let mut live = stage.pupils.clone();
    live.sort();
    live.first().map(|second| (guardian, *second))
}

/// Links the demo's guardian to a second child, in the live class.
pub(super) async fn link(gateway: &Gateway, stage: &Stage) -> Result<(), CommandError> {
    let Some((guardian, child)) = gateway.with_state(stage.school, |s| pick(s, stage)).await?
    else {
        return Ok(());
    };
    let Some(key) = gateway.store().get_key(child).await? else {
        tracing::warn!(pupil_id = %child, "demo: the live class's pupil has no key; no second child");
        return Ok(());
    };
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let contact = GuardianContact {
        name: "Responsable légal (démonstration)".to_owned(),
        email: None,
        phone: None,
        relation: None,
    };
    exec(
        gateway,
        stage.school,
        Command::LinkGuardian(GuardianLinked {
            guardian_id: guardian,
            pupil_id: child,
            contact: seal(&key, nonce, child, &contact),
        }),
    )
    .await?;
    tracing::info!(guardian_id = %guardian, pupil_id = %child, "demo: the guardian follows a child of the live class too");
    Ok(())
}
