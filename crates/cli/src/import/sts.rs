//! STSWeb's export (`STS_EMP_<RNE>_<ANNEE>.xml`, root `STS_EDT`): teachers, divisions and
//! the services taught in them, applied as a diff like SIECLE's.
//!
//! ```text
//! PARAMETRES: ANNEE_SCOLAIRE (attribute ANNEE, or text), HORODATAGE (DD/MM/YYYY hh:mm:ss)
//! NOMENCLATURES/MATIERES/MATIERE (CODE): CODE_GESTION, LIBELLE_COURT, LIBELLE_LONG
//! DONNEES/INDIVIDUS/INDIVIDU (ID): NOM_USAGE, PRENOM, FONCTION
//! DONNEES/STRUCTURE/DIVISIONS/DIVISION (CODE)/SERVICES/SERVICE (CODE_MATIERE)
//!     /ENSEIGNANTS/ENSEIGNANT (ID)
//! ```
//! (`NOMENCLATURES` is found at the root or under `DONNEES`.)
//!
//! Written: a teacher per `INDIVIDU` whose `FONCTION` is `ENS` or who teaches a service
//! (`TeacherRegistered`, "Prénom NOM": staff names are not sealed), a subject per matière
//! taught (`SubjectDefined`; an existing subject whose name is the matière's long or short
//! label or management code, in any case, is reused; a new one is general, coefficient 1),
//! a class per division, and a `TeachingAssigned` per (teacher, division, matière).
//! Already there: nothing. Left out: groups (suivi has none), a service that disappears
//! (suivi has no event that ends a teaching assignment), name changes, other staff.

use super::planner::{finish, french_date, morning, school_for, state_of, Planner};
use super::xml::{self, Element};
use super::{FileReport, Importer, LineError};
use crate::progress;
use chrono::NaiveDate;
use std::collections::HashMap;
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::reference::SubjectKind;
use suivi_domain::values::Coefficient;
use suivi_domain::Command;

struct Matiere {
    code_gestion: String,
    short: String,
    long: String,
}

pub(super) async fn import(
    importer: &mut Importer<'_>,
    bytes: &[u8],
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let spinner = progress::spinner(importer.options.progress, "reading STSWeb");
    let parsed = xml::parse(bytes);
    spinner.finish_and_clear();
    let root = match parsed {
        Ok(root) => root,
        Err(e) => {
            report.errors.push(e);
            return Ok(());
        }
    };
    if root.name != "STS_EDT" {
        report.errors.push(LineError {
            line: root.line,
            reason: format!(
                "the root element is <{}>, not <STS_EDT>: this is not an STSWeb export",
                root.name
            ),
        });
        return Ok(());
    }
    let Some(school_id) = school_for(importer, report) else {
        return Ok(());
    };
    let state = state_of(importer, school_id).await?;
    let mut planner = Planner::new(school_id, state);
    let today = chrono::Utc::now().date_naive();
    let name = importer.options.school_name.clone();
    let mut counts = Counts::default();
    plan(
        &root,
        &mut planner,
        &name,
        today,
        &mut report.errors,
        &mut counts,
    );
    report.lines = counts.elements;
    report.already_present = counts.already;
    finish(importer, planner, "sts", report).await
}

#[derive(Default)]
struct Counts {
    /// INDIVIDU and DIVISION elements read.
    elements: usize,
    /// Teaching assignments already in the log.
    already: usize,
}

fn plan(
    root: &Element,
    planner: &mut Planner,
    school_name: &str,
    today: NaiveDate,
    errors: &mut Vec<LineError>,
    counts: &mut Counts,
) {
    let mut fail = |line: usize, reason: String| errors.push(LineError { line, reason });
    let params = root.child("PARAMETRES");
    let year_element = params.and_then(|p| p.child("ANNEE_SCOLAIRE"));
    let first_year = year_element.map(|y| {
        let text = y.attr("ANNEE").unwrap_or(&y.text);
        text.parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or((y.line, text.to_owned()))
    });
    let first_year = match first_year {
        Some(Ok(y)) => y,
        Some(Err((line, text))) => {
            return fail(
                line,
                format!("<ANNEE_SCOLAIRE> {text:?} is not a year such as 2025"),
            )
        }
        None => {
            return fail(
                root.line,
                "<PARAMETRES><ANNEE_SCOLAIRE> is missing: which school year is this?".into(),
            )
        }
    };
    let on = match params.and_then(|p| p.child("HORODATAGE")) {
        Some(h) => match h.text.split_whitespace().next().and_then(french_date) {
            Some(d) => d,
            None => {
                return fail(
                    h.line,
                    format!(
                        "<HORODATAGE> {:?} is not a date DD/MM/YYYY hh:mm:ss",
                        h.text
                    ),
                )
            }
        },
        None => today,
    };
    let year_id = match planner.school_and_year(root.line, school_name, first_year) {
        Ok(id) => id,
        Err(reason) => return fail(root.line, reason),
    };
    let at = morning(on);

    // The nomenclature of matières, by code.
    let mut matieres: HashMap<String, Matiere> = HashMap::new();
    let nomenclatures = root
        .at_path("NOMENCLATURES/MATIERES/MATIERE")
        .into_iter()
        .chain(root.at_path("DONNEES/NOMENCLATURES/MATIERES/MATIERE"));
    for m in nomenclatures {
        let Some(code) = m.attr("CODE") else {
            fail(m.line, "<MATIERE> has no CODE attribute".into());
            continue;
        };
        let long = m.child_text("LIBELLE_LONG").unwrap_or("");
        let short = m.child_text("LIBELLE_COURT").unwrap_or("");
        let gestion = m.child_text("CODE_GESTION").unwrap_or("");
        if long.is_empty() && short.is_empty() {
            fail(
                m.line,
                format!(
                    "{} has neither LIBELLE_LONG nor LIBELLE_COURT",
                    m.describe("CODE")
                ),
            );
            continue;
        }
        matieres.insert(
            code.to_owned(),
            Matiere {
                code_gestion: gestion.to_owned(),
                short: short.to_owned(),
                long: long.to_owned(),
            },
        );
    }

    // Teachers, by STS id.
    let mut teachers: HashMap<String, (usize, String, bool)> = HashMap::new();
    for i in root.at_path("DONNEES/INDIVIDUS/INDIVIDU") {
        counts.elements += 1;
        let Some(id) = i.attr("ID") else {
            fail(i.line, "<INDIVIDU> has no ID attribute".into());
            continue;
        };
        let (Some(last), Some(first)) = (i.child_text("NOM_USAGE"), i.child_text("PRENOM")) else {
            fail(
                i.line,
                format!("{} needs <NOM_USAGE> and <PRENOM>", i.describe("ID")),
            );
            continue;
        };
        let teaches = i.child_text("FONCTION") == Some("ENS");
        teachers.insert(id.to_owned(), (i.line, format!("{first} {last}"), teaches));
    }

    let mut subjects: HashMap<String, SubjectId> = HashMap::new();
    for division in root.at_path("DONNEES/STRUCTURE/DIVISIONS/DIVISION") {
        counts.elements += 1;
        let Some(code) = division.attr("CODE") else {
            fail(division.line, "<DIVISION> has no CODE attribute".into());
            continue;
        };
        let class_id = match planner.class(division.line, year_id, code) {
            Ok(id) => id,
            Err(reason) => {
                fail(division.line, format!("division {code}: {reason}"));
                continue;
            }
        };
        for service in division.at_path("SERVICES/SERVICE") {
            let line = service.line;
            let Some(matiere_code) = service.attr("CODE_MATIERE") else {
                fail(
                    line,
                    format!("<SERVICE> of division {code} has no CODE_MATIERE"),
                );
                continue;
            };
            let Some(matiere) = matieres.get(matiere_code) else {
                fail(
                    line,
                    format!(
                        "<SERVICE CODE_MATIERE=\"{matiere_code}\"> of division {code}: no <MATIERE CODE=\"{matiere_code}\"> in the nomenclature"
                    ),
                );
                continue;
            };
            let subject_id = match subjects.get(matiere_code) {
                Some(id) => *id,
                None => match subject(planner, line, at, matiere_code, matiere) {
                    Ok(id) => {
                        subjects.insert(matiere_code.to_owned(), id);
                        id
                    }
                    Err(reason) => {
                        fail(line, format!("matière {matiere_code}: {reason}"));
                        continue;
                    }
                },
            };
            for enseignant in service.at_path("ENSEIGNANTS/ENSEIGNANT") {
                let Some(sts_id) = enseignant.attr("ID") else {
                    fail(enseignant.line, "<ENSEIGNANT> has no ID attribute".into());
                    continue;
                };
                let Some((_, display_name, _)) = teachers.get(sts_id) else {
                    fail(
                        enseignant.line,
                        format!(
                            "<ENSEIGNANT ID=\"{sts_id}\"> of division {code}: no <INDIVIDU ID=\"{sts_id}\">"
                        ),
                    );
                    continue;
                };
                let result = teacher(planner, enseignant.line, at, sts_id, display_name).and_then(
                    |teacher_id| {
                        assign(
                            planner,
                            enseignant.line,
                            at,
                            teacher_id,
                            class_id,
                            subject_id,
                        )
                    },
                );
                match result {
                    Ok(true) => planner
                        .changes
                        .push(format!("teacher {sts_id} teaches {matiere_code} in {code}")),
                    Ok(false) => counts.already += 1,
                    Err(reason) => fail(
                        enseignant.line,
                        format!("teacher {sts_id}, {matiere_code} in {code}: {reason}"),
                    ),
                }
            }
        }
    }
    // Teachers with no service in the file are registered too (a new colleague whose
    // services are not yet in STS).
    let mut idle: Vec<(&String, &(usize, String, bool))> =
        teachers.iter().filter(|(_, (_, _, ens))| *ens).collect();
    idle.sort();
    for (sts_id, (line, display_name, _)) in idle {
        if let Err(reason) = teacher(planner, *line, at, sts_id, display_name) {
            fail(*line, format!("teacher {sts_id}: {reason}"));
        }
    }
}

fn subject(
    planner: &mut Planner,
    line: usize,
    at: chrono::DateTime<chrono::Utc>,
    code: &str,
    matiere: &Matiere,
) -> Result<SubjectId, String> {
    let names = [&matiere.long, &matiere.short, &matiere.code_gestion];
    let existing = planner.state.subjects.iter().find(|(_, s)| {
        names
            .iter()
            .any(|n| !n.is_empty() && s.name.to_lowercase() == n.to_lowercase())
    });
    if let Some((id, _)) = existing {
        return Ok(*id);
    }
    let name = if matiere.long.is_empty() {
        &matiere.short
    } else {
        &matiere.long
    };
    let subject_id = SubjectId(planner.id(&format!("subject/{name}")));
    planner.decide(
        line,
        at,
        Command::DefineSubject(SubjectDefined {
            subject_id,
            name: name.clone(),
            kind: SubjectKind::General,
            coefficient: Coefficient::ONE,
        }),
    )?;
    planner.changes.push(format!("new subject {code} ({name})"));
    Ok(subject_id)
}

fn teacher(
    planner: &mut Planner,
    line: usize,
    at: chrono::DateTime<chrono::Utc>,
    sts_id: &str,
    display_name: &str,
) -> Result<TeacherId, String> {
    let teacher_id = TeacherId(planner.id(&format!("teacher/sts/{sts_id}")));
    if planner.state.teachers.contains(&teacher_id) {
        return Ok(teacher_id);
    }
    planner.decide(
        line,
        at,
        Command::RegisterTeacher(TeacherRegistered {
            teacher_id,
            display_name: display_name.to_owned(),
            email: None,
        }),
    )?;
    planner.changes.push(format!("new teacher {sts_id}"));
    Ok(teacher_id)
}

/// Whether the assignment is new (and planned).
fn assign(
    planner: &mut Planner,
    line: usize,
    at: chrono::DateTime<chrono::Utc>,
    teacher_id: TeacherId,
    class_id: ClassId,
    subject_id: SubjectId,
) -> Result<bool, String> {
    if planner
        .state
        .teaching
        .contains(&(teacher_id, class_id, subject_id))
    {
        return Ok(false);
    }
    planner.decide(
        line,
        at,
        Command::AssignTeaching(TeachingAssigned {
            teacher_id,
            class_id,
            subject_id,
        }),
    )?;
    Ok(true)
}
