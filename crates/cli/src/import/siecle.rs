//! SIECLE's pupil export, `ElevesSansAdresses.xml` (root `BEE_ELEVES`), read into pupils
//! and their division. What is read:
//!
//! ```text
//! BEE_ELEVES/PARAMETRES: UAJ, ANNEE_SCOLAIRE (2025 = 2025-2026), DATE_EXPORT (DD/MM/YYYY)
//! BEE_ELEVES/DONNEES/ELEVES/ELEVE (ELEVE_ID): ID_NATIONAL, NOM_DE_FAMILLE, NOM_USAGE,
//!     PRENOM, PRENOM2, DATE_NAISS (DD/MM/YYYY), CODE_SEXE, CODE_MEF, CODE_STATUT, DATE_SORTIE
//! BEE_ELEVES/DONNEES/STRUCTURES/STRUCTURES_ELEVE (ELEVE_ID)/STRUCTURE:
//!     CODE_STRUCTURE, TYPE_STRUCTURE (D = division, the class; G = group)
//! ```
//!
//! Kept: `ELEVE_ID` (the external id), the names and the birth date (sealed with the pupil's
//! key), the division. Left out: the INE, the sex, the MEF, the status, second first names,
//! groups — suivi needs none of them — and addresses, which this export does not even hold.

use super::planner::french_date;
use super::xml::{self, Element};
use super::LineError;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default)]
pub struct SiecleFile {
    /// The year the school year begins in (`ANNEE_SCOLAIRE`).
    pub first_year: Option<i32>,
    pub exported_on: Option<NaiveDate>,
    pub pupils: Vec<SieclePupil>,
    /// Elements in the file (for the report's line count).
    pub elements: usize,
    pub root_line: usize,
}

#[derive(Debug, Clone)]
pub struct SieclePupil {
    pub line: usize,
    pub eleve_id: String,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: Option<NaiveDate>,
    /// The division (`TYPE_STRUCTURE` D), if the pupil has one.
    pub division: Option<String>,
    /// `DATE_SORTIE`: the pupil has left the school.
    pub left_on: Option<NaiveDate>,
}

/// Reads the file; every bad `ELEVE` or `STRUCTURES_ELEVE` is reported with its line.
pub fn parse(bytes: &[u8]) -> (SiecleFile, Vec<LineError>) {
    let mut file = SiecleFile::default();
    let mut errors = Vec::new();
    let root = match xml::parse(bytes) {
        Ok(root) => root,
        Err(e) => return (file, vec![e]),
    };
    file.root_line = root.line;
    if root.name != "BEE_ELEVES" {
        errors.push(LineError {
            line: root.line,
            reason: format!(
                "the root element is <{}>, not <BEE_ELEVES>: this is not a SIECLE pupil export",
                root.name
            ),
        });
        return (file, errors);
    }
    let fail = |errors: &mut Vec<LineError>, line: usize, reason: String| {
        errors.push(LineError { line, reason });
    };
    if let Some(params) = root.child("PARAMETRES") {
        if let Some(year) = params.child("ANNEE_SCOLAIRE") {
            match year.text.parse::<i32>() {
                Ok(y) if (2000..=2100).contains(&y) => file.first_year = Some(y),
                _ => fail(
                    &mut errors,
                    year.line,
                    format!(
                        "<ANNEE_SCOLAIRE> {:?} is not a year such as 2025",
                        year.text
                    ),
                ),
            }
        }
        if let Some(date) = params.child("DATE_EXPORT") {
            match french_date(&date.text) {
                Some(d) => file.exported_on = Some(d),
                None => fail(
                    &mut errors,
                    date.line,
                    format!("<DATE_EXPORT> {:?} is not a date DD/MM/YYYY", date.text),
                ),
            }
        }
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    for eleve in root.at_path("DONNEES/ELEVES/ELEVE") {
        file.elements += 1;
        match pupil(eleve) {
            Err(reason) => fail(&mut errors, eleve.line, reason),
            Ok(p) => {
                if let Some(first) = seen.get(&p.eleve_id) {
                    fail(
                        &mut errors,
                        eleve.line,
                        format!(
                            "{} appears twice (first on line {first})",
                            eleve.describe("ELEVE_ID")
                        ),
                    );
                    continue;
                }
                seen.insert(p.eleve_id.clone(), file.pupils.len());
                file.pupils.push(p);
            }
        }
    }

    let mut placed: HashSet<String> = HashSet::new();
    for structures in root.at_path("DONNEES/STRUCTURES/STRUCTURES_ELEVE") {
        file.elements += 1;
        let Some(id) = structures.attr("ELEVE_ID") else {
            fail(
                &mut errors,
                structures.line,
                "<STRUCTURES_ELEVE> has no ELEVE_ID attribute".into(),
            );
            continue;
        };
        let Some(index) = seen.get(id).copied() else {
            fail(
                &mut errors,
                structures.line,
                format!(
                    "{} names no <ELEVE> of the file",
                    structures.describe("ELEVE_ID")
                ),
            );
            continue;
        };
        if !placed.insert(id.to_owned()) {
            fail(
                &mut errors,
                structures.line,
                format!("{} appears twice", structures.describe("ELEVE_ID")),
            );
            continue;
        }
        match division(structures) {
            Err(reason) => fail(&mut errors, structures.line, reason),
            Ok(division) => {
                if let Some(p) = file.pupils.get_mut(index) {
                    p.division = division;
                }
            }
        }
    }
    (file, errors)
}

fn pupil(eleve: &Element) -> Result<SieclePupil, String> {
    let who = eleve.describe("ELEVE_ID");
    let eleve_id = eleve
        .attr("ELEVE_ID")
        .ok_or_else(|| "<ELEVE> has no ELEVE_ID attribute".to_owned())?;
    if eleve_id.len() > 64 || eleve_id.chars().any(char::is_control) {
        return Err(format!("{who}: ELEVE_ID {eleve_id:?} is not an id"));
    }
    let last_name = eleve
        .child_text("NOM_USAGE")
        .or_else(|| eleve.child_text("NOM_DE_FAMILLE"))
        .ok_or_else(|| format!("{who} has neither <NOM_USAGE> nor <NOM_DE_FAMILLE>"))?;
    let first_name = eleve
        .child_text("PRENOM")
        .ok_or_else(|| format!("{who} has no <PRENOM>"))?;
    let birth_date = match eleve.child("DATE_NAISS") {
        Some(d) if !d.text.is_empty() => Some(french_date(&d.text).ok_or_else(|| {
            format!(
                "{who} line {}: <DATE_NAISS> {:?} is not a date DD/MM/YYYY",
                d.line, d.text
            )
        })?),
        _ => None,
    };
    let left_on = match eleve.child("DATE_SORTIE") {
        Some(d) if !d.text.is_empty() => Some(french_date(&d.text).ok_or_else(|| {
            format!(
                "{who} line {}: <DATE_SORTIE> {:?} is not a date DD/MM/YYYY",
                d.line, d.text
            )
        })?),
        _ => None,
    };
    Ok(SieclePupil {
        line: eleve.line,
        eleve_id: eleve_id.to_owned(),
        last_name: last_name.to_owned(),
        first_name: first_name.to_owned(),
        birth_date,
        division: None,
        left_on,
    })
}

/// The pupil's one division among their structures (groups are left out).
fn division(structures: &Element) -> Result<Option<String>, String> {
    let mut division: Option<String> = None;
    for s in structures.children_named("STRUCTURE") {
        let code = s
            .child_text("CODE_STRUCTURE")
            .ok_or_else(|| format!("<STRUCTURE> on line {} has no <CODE_STRUCTURE>", s.line))?;
        match s.child_text("TYPE_STRUCTURE") {
            Some("D") => {
                if let Some(first) = &division {
                    return Err(format!(
                        "{} is in two divisions, {first} and {code}",
                        structures.describe("ELEVE_ID")
                    ));
                }
                if code.len() > 100 {
                    return Err(format!("division code {code:?} is too long"));
                }
                division = Some(code.to_owned());
            }
            Some("G") => {}
            other => {
                return Err(format!(
                    "<STRUCTURE> {code} on line {}: <TYPE_STRUCTURE> {:?} is neither D (division) nor G (group)",
                    s.line,
                    other.unwrap_or("")
                ))
            }
        }
    }
    Ok(division)
}
