//! A SIECLE export applied as a diff against the school's roster: only what changed is
//! written, so importing the same file twice writes nothing the second time and next
//! month's file writes the month's moves.
//!
//! For each pupil of the file in a division (`ELEVE_ID` is the external id):
//! - unknown to suivi: registered (identity sealed) and enrolled in the division;
//! - enrolled in that division already: nothing;
//! - enrolled in another class: transferred to the division (`PupilTransferred`);
//! - known but enrolled nowhere: enrolled again.
//!
//! Then every pupil enrolled in a class of the file's school year who is no longer in the
//! file (or is there with a `DATE_SORTIE`, or without a division) leaves:
//! `EnrolmentEnded`. Divisions the school lacks are opened; the school and the year are
//! created when the store has none.
//!
//! Dates: changes take effect on the export's `DATE_EXPORT` (the day the file describes;
//! today when it has none). On the first import of a school year (no pupil enrolled in
//! any of its classes yet) pupils are enrolled from the first day of the year instead, so
//! that their work since September belongs to their class.

use super::planner::{finish, morning, school_for, state_of, Planner};
use super::siecle::{self, SiecleFile};
use super::{FileReport, Importer, LineError};
use crate::{calendar, progress};
use chrono::{Datelike, NaiveDate};
use std::collections::HashSet;
use suivi_domain::events::*;
use suivi_domain::identity::PupilIdentity;
use suivi_domain::ids::*;
use suivi_domain::Command;

pub(super) async fn import(
    importer: &mut Importer<'_>,
    bytes: &[u8],
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let spinner = progress::spinner(importer.options.progress, "reading SIECLE");
    let (file, errors) = siecle::parse(bytes);
    spinner.finish_and_clear();
    report.lines = file.elements;
    report.errors.extend(errors);
    let skip_bad = importer.options.skip_bad;
    if !report.errors.is_empty() && !skip_bad {
        return Ok(());
    }
    let Some(school_id) = school_for(importer, report) else {
        return Ok(());
    };
    let state = state_of(importer, school_id).await?;
    let today = chrono::Utc::now().date_naive();
    let mut planner = Planner::new(school_id, state);
    let name = importer.options.school_name.clone();
    let bad_file = !report.errors.is_empty();
    let outcome = plan(&file, &mut planner, &name, today, bad_file);
    report.already_present = outcome.unchanged;
    report.errors.extend(outcome.errors);
    finish(importer, planner, "siecle", report).await
}

pub struct Outcome {
    pub errors: Vec<LineError>,
    /// Pupils of the file already enrolled in their division.
    pub unchanged: usize,
}

/// Plans the diff of `file` against `planner`'s state. `bad_file`: some elements of the
/// file were refused (under `--skip-bad`), so absence from it proves nothing and no
/// enrolment is ended.
pub fn plan(
    file: &SiecleFile,
    planner: &mut Planner,
    school_name: &str,
    today: NaiveDate,
    bad_file: bool,
) -> Outcome {
    let mut outcome = Outcome {
        errors: Vec::new(),
        unchanged: 0,
    };
    let root = file.root_line.max(1);
    let on = file.exported_on.unwrap_or(today);
    let first_year = file
        .first_year
        .or_else(|| calendar::school_year_of(on).map(|y| y.starts_on.year()));
    let Some(first_year) = first_year else {
        outcome.errors.push(LineError {
            line: root,
            reason: format!(
                "the file has no <ANNEE_SCOLAIRE> and its date {on} is in no school year"
            ),
        });
        return outcome;
    };
    let year_id = match planner.school_and_year(root, school_name, first_year) {
        Ok(id) => id,
        Err(reason) => {
            outcome.errors.push(LineError { line: root, reason });
            return outcome;
        }
    };
    let Some((year_start, year_end)) = planner
        .state
        .years
        .get(&year_id)
        .map(|y| (y.starts_on, y.ends_on))
    else {
        return outcome;
    };
    if on < year_start || on > year_end {
        outcome.errors.push(LineError {
            line: root,
            reason: format!(
                "the export is dated {on}, outside school year {first_year}-{} ({year_start} to {year_end})",
                first_year + 1
            ),
        });
        return outcome;
    }
    let year_classes = |planner: &Planner| -> HashSet<ClassId> {
        planner
            .state
            .classes
            .iter()
            .filter(|(_, c)| c.year_id == year_id)
            .map(|(id, _)| *id)
            .collect()
    };
    let classes = year_classes(planner);
    let first_import = !planner
        .state
        .pupils
        .values()
        .any(|p| p.enrolments.iter().any(|e| classes.contains(&e.class_id)));
    let enrol_on = if first_import { year_start } else { on };

    let mut present: HashSet<&str> = HashSet::new();
    for pupil in &file.pupils {
        let Some(division) = pupil.division.as_deref() else {
            continue;
        };
        if pupil.left_on.is_some_and(|d| d <= on) {
            continue;
        }
        present.insert(&pupil.eleve_id);
        if let Err(reason) = arrive(planner, pupil, division, year_id, enrol_on, &mut outcome) {
            outcome.errors.push(LineError {
                line: pupil.line,
                reason: format!("ELEVE_ID {} in {division}: {reason}", pupil.eleve_id),
            });
        }
    }

    if bad_file {
        planner
            .changes
            .push("no enrolment ended: the file has bad elements".into());
        return outcome;
    }
    let classes = year_classes(planner);
    let mut leaving: Vec<(String, PupilId, ClassId)> = planner
        .state
        .pupils
        .iter()
        .filter(|(_, p)| !present.contains(p.external_id.as_str()))
        .filter_map(|(id, p)| {
            let class = p.current_class().filter(|c| classes.contains(c))?;
            Some((p.external_id.clone(), *id, class))
        })
        .collect();
    leaving.sort();
    for (external_id, pupil_id, class_id) in leaving {
        let line = file
            .pupils
            .iter()
            .find(|p| p.eleve_id == external_id)
            .map_or(root, |p| p.line);
        let class = planner.class_name(class_id);
        let command = Command::EndEnrolment(EnrolmentEnded {
            pupil_id,
            class_id,
            on,
        });
        match planner.decide(line, morning(on), command) {
            Ok(()) => planner
                .changes
                .push(format!("pupil {external_id} leaves {class} on {on}")),
            Err(reason) => outcome.errors.push(LineError {
                line,
                reason: format!("ELEVE_ID {external_id} leaving {class}: {reason}"),
            }),
        }
    }
    outcome
}

/// Plans what a pupil of the file needs to be in `division`.
fn arrive(
    planner: &mut Planner,
    pupil: &siecle::SieclePupil,
    division: &str,
    year_id: SchoolYearId,
    enrol_on: NaiveDate,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let line = pupil.line;
    let class_id = planner.class(line, year_id, division)?;
    let known = planner
        .state
        .pupils_by_external_id
        .get(&pupil.eleve_id)
        .copied();
    let id = &pupil.eleve_id;
    let pupil_id = match known {
        Some(pupil_id) => pupil_id,
        None => {
            let identity = PupilIdentity {
                last_name: pupil.last_name.clone(),
                first_name: pupil.first_name.clone(),
                birth_date: pupil.birth_date,
            };
            let pupil_id = planner.register_pupil(line, morning(enrol_on), id, identity)?;
            planner.decide(
                line,
                morning(enrol_on),
                Command::EnrolPupil(PupilEnrolled {
                    pupil_id,
                    class_id,
                    on: enrol_on,
                }),
            )?;
            planner
                .changes
                .push(format!("new pupil {id} in {division} from {enrol_on}"));
            return Ok(());
        }
    };
    let current = planner
        .state
        .pupils
        .get(&pupil_id)
        .and_then(|p| p.current_class());
    match current {
        Some(c) if c == class_id => outcome.unchanged += 1,
        Some(from_class_id) => {
            let from = planner.class_name(from_class_id);
            planner.decide(
                line,
                morning(enrol_on),
                Command::TransferPupil(PupilTransferred {
                    pupil_id,
                    from_class_id,
                    to_class_id: class_id,
                    on: enrol_on,
                }),
            )?;
            planner.changes.push(format!(
                "pupil {id} moves from {from} to {division} on {enrol_on}"
            ));
        }
        None => {
            planner.decide(
                line,
                morning(enrol_on),
                Command::EnrolPupil(PupilEnrolled {
                    pupil_id,
                    class_id,
                    on: enrol_on,
                }),
            )?;
            planner.changes.push(format!(
                "pupil {id} enrolled again, in {division} from {enrol_on}"
            ));
        }
    }
    Ok(())
}
