//! Pix Orga's campaign export, "profiles collection" (collecte de profils): UTF-8 with a
//! BOM, `;`-separated, quoted strings, decimal commas, `NA` where a participant shared
//! nothing. Columns: `Nom du Participant`, `Prénom du Participant`, then the school's
//! external id (the column right after the first name, whatever the campaign called it),
//! `Envoi (O/N)`, `Date et heure de l'envoi (Europe/Paris)`, `Nombre de pix total`,
//! `Certifiable (O/N)`, then per competence `Niveau pour la compétence {nom}` and
//! `Nombre de pix pour la compétence {nom}`.
//!
//! Each shared profile (`Envoi` = O) becomes one `CompetencyAssessed` per competence with
//! a level, in the CRCN framework (defined by the first import), on the date of sending:
//! Pix level n is the framework's level n + 1 (levels are numbered from 1). Pupils are
//! matched by external id (SIECLE's `ELEVE_ID`: the campaign must ask for it); one suivi
//! does not know refuses the file. A level already recorded for that pupil, competence and
//! day is not written again. Left out: pix counts and certifiability (checked, not kept).
//! Cells that began with `=`, `+`, `-` or `@` carry a leading `'` (Pix's guard against
//! formulas): it is taken off.

use super::csv_table::{self, Table};
use super::planner::{finish, morning, school_for, state_of, Planner};
use super::{paris, FileReport, Importer, LineError};
use chrono::{NaiveDate, NaiveDateTime};
use suivi_domain::events::CompetencyAssessed;
use suivi_domain::reference::{crcn_framework, crcn_level, CRCN_COMPETENCES, CRCN_ID};
use suivi_domain::Command;

const NAME: &str = "Nom du Participant";
const FIRST_NAME: &str = "Prénom du Participant";
const SENT: &str = "Envoi (O/N)";
const SENT_AT: &str = "Date et heure de l'envoi (Europe/Paris)";
const PIX_TOTAL: &str = "Nombre de pix total";
const CERTIFIABLE: &str = "Certifiable (O/N)";
const LEVEL_PREFIX: &str = "Niveau pour la compétence ";
const PIX_PREFIX: &str = "Nombre de pix pour la compétence ";

struct Columns {
    external_id: usize,
    sent: usize,
    sent_at: usize,
    pix_total: usize,
    certifiable: usize,
    /// (CRCN code, level column, pix column)
    competences: Vec<(&'static str, usize, Option<usize>)>,
}

fn normalise(text: &str) -> String {
    text.replace('’', "'").trim().to_lowercase()
}

fn columns(table: &Table) -> Result<Columns, String> {
    let need = |name: &str| {
        table.column(name).ok_or_else(|| {
            format!(
                "the header has no column {name:?}: is this a Pix Orga profiles collection export?"
            )
        })
    };
    need(NAME)?;
    let first = need(FIRST_NAME)?;
    let sent = need(SENT)?;
    let external_id = first + 1;
    if external_id == sent {
        return Err(format!(
            "no external id column between {FIRST_NAME:?} and {SENT:?}: the campaign must ask for the pupils' id"
        ));
    }
    let mut competences = Vec::new();
    for (i, h) in table.header.iter().enumerate() {
        let Some(name) = h.strip_prefix(LEVEL_PREFIX) else {
            continue;
        };
        let code = CRCN_COMPETENCES
            .iter()
            .find(|(_, label)| normalise(label) == normalise(name))
            .map(|(code, _)| *code)
            .ok_or_else(|| {
                format!("column {h:?}: {name:?} is not one of the 16 CRCN competences")
            })?;
        let pix = table.header.iter().position(|p| {
            p.strip_prefix(PIX_PREFIX)
                .is_some_and(|n| normalise(n) == normalise(name))
        });
        competences.push((code, i, pix));
    }
    if competences.is_empty() {
        return Err(format!("the header has no {LEVEL_PREFIX:?}… column"));
    }
    Ok(Columns {
        external_id,
        sent,
        sent_at: need(SENT_AT)?,
        pix_total: need(PIX_TOTAL)?,
        certifiable: need(CERTIFIABLE)?,
        competences,
    })
}

/// A cell without Pix's formula guard.
fn cell(row: &[String], i: usize) -> &str {
    let text = row.get(i).map_or("", String::as_str);
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => text,
    }
}

/// `12,5` or `12.5` or `12`.
fn number(text: &str) -> Option<f64> {
    let value: f64 = text.replace(',', ".").parse().ok()?;
    value.is_finite().then_some(value)
}

fn sent_at(text: &str) -> Option<NaiveDateTime> {
    [
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

pub(super) async fn import(
    importer: &mut Importer<'_>,
    bytes: &[u8],
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let table = match csv_table::read(bytes, Some(b';')) {
        Ok(t) => t,
        Err(e) => {
            report.errors.push(e);
            return Ok(());
        }
    };
    report.lines = table.rows.len();
    let columns = match columns(&table) {
        Ok(c) => c,
        Err(reason) => {
            report.errors.push(LineError {
                line: table.header_line,
                reason,
            });
            return Ok(());
        }
    };
    let Some(school_id) = school_for(importer, report) else {
        return Ok(());
    };
    let state = state_of(importer, school_id).await?;
    if !state.registered {
        report.errors.push(LineError {
            line: table.header_line,
            reason: "the store has no school yet: import the SIECLE roster first".into(),
        });
        return Ok(());
    }
    let mut planner = Planner::new(school_id, state);
    let mut errors = Vec::new();
    let mut already = 0;
    let mut assessed = Vec::new();
    for (line, row) in &table.rows {
        match profile(&columns, row) {
            Ok(None) => {}
            Ok(Some(p)) => assessed.push((*line, p)),
            Err(reason) => errors.push(LineError {
                line: *line,
                reason,
            }),
        }
    }
    if !assessed.is_empty() && !planner.state.frameworks.contains_key(&CRCN_ID) {
        let first_day = assessed.iter().map(|(_, p)| p.on).min().unwrap_or_default();
        if let Err(reason) = planner.decide(
            table.header_line,
            morning(first_day),
            Command::DefineFramework(crcn_framework()),
        ) {
            errors.push(LineError {
                line: table.header_line,
                reason,
            });
        } else {
            planner.changes.push("new framework CRCN (Pix)".into());
        }
    }
    for (line, p) in assessed {
        let Some(pupil_id) = planner
            .state
            .pupils_by_external_id
            .get(&p.external_id)
            .copied()
        else {
            errors.push(LineError {
                line,
                reason: format!(
                    "no pupil has external id {:?} in suivi (import the SIECLE roster first)",
                    p.external_id
                ),
            });
            continue;
        };
        for (code, pix_level) in &p.levels {
            let Some(level) = crcn_level(*pix_level) else {
                continue;
            };
            let key = (pupil_id, CRCN_ID, (*code).to_owned(), p.on);
            if importer.catalog.competencies.get(&key) == Some(&level.0) {
                already += 1;
                continue;
            }
            let command = Command::AssessCompetency(CompetencyAssessed {
                pupil_id,
                framework_id: CRCN_ID,
                component: (*code).to_owned(),
                level,
                on: p.on,
                teacher_id: None,
            });
            let at = paris::to_utc(p.at).unwrap_or_else(|| morning(p.on));
            match planner.decide(line, at, command) {
                Ok(()) => planner.changes.push(format!(
                    "pupil {}: competence {code} at Pix level {pix_level} on {}",
                    p.external_id, p.on
                )),
                Err(reason) => errors.push(LineError {
                    line,
                    reason: format!("pupil {}, competence {code}: {reason}", p.external_id),
                }),
            }
        }
    }
    report.errors.extend(errors);
    report.already_present = already;
    finish(importer, planner, "pix-orga", report).await
}

struct Profile {
    external_id: String,
    at: NaiveDateTime,
    on: NaiveDate,
    levels: Vec<(&'static str, u8)>,
}

/// A shared profile, `None` for one not shared, or why the row is bad.
fn profile(columns: &Columns, row: &[String]) -> Result<Option<Profile>, String> {
    let external_id = cell(row, columns.external_id);
    if external_id.is_empty() {
        return Err("the external id is empty".into());
    }
    let who = format!("participant {external_id:?}");
    match cell(row, columns.sent) {
        "O" => {}
        "N" => return Ok(None),
        other => return Err(format!("{who}: {SENT} is {other:?}, not O or N")),
    }
    let when = cell(row, columns.sent_at);
    let at = sent_at(when).ok_or_else(|| {
        format!("{who}: {SENT_AT} {when:?} is not a date and time such as 14/11/2025 10:32")
    })?;
    let total = cell(row, columns.pix_total);
    if number(total).is_none_or(|n| n < 0.0) {
        return Err(format!("{who}: {PIX_TOTAL} {total:?} is not a number"));
    }
    match cell(row, columns.certifiable) {
        "O" | "N" => {}
        other => return Err(format!("{who}: {CERTIFIABLE} is {other:?}, not O or N")),
    }
    let mut levels = Vec::new();
    for (code, level_column, pix_column) in &columns.competences {
        let text = cell(row, *level_column);
        if text == "NA" {
            continue;
        }
        let level = number(text)
            .filter(|n| n.fract() == 0.0 && (0.0..=8.0).contains(n))
            .ok_or_else(|| {
                format!("{who}: the level of competence {code} is {text:?}, not 0 to 8")
            })?;
        if let Some(pix) = pix_column {
            let pix = cell(row, *pix);
            if pix != "NA" && number(pix).is_none_or(|n| n < 0.0) {
                return Err(format!(
                    "{who}: the pix of competence {code} are {pix:?}, not a number"
                ));
            }
        }
        // A whole number from 0 to 8, checked just above.
        levels.push((*code, level as u8));
    }
    Ok(Some(Profile {
        external_id: external_id.to_owned(),
        at,
        on: at.date(),
        levels,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pix_guards_and_decimal_commas_are_read() {
        let row: Vec<String> = ["'=SUM(A1)", "'-3", "'Neige", "12,5", "NA"]
            .map(String::from)
            .to_vec();
        assert_eq!(cell(&row, 0), "=SUM(A1)");
        assert_eq!(cell(&row, 1), "-3");
        // A quote before anything else is the value's own.
        assert_eq!(cell(&row, 2), "'Neige");
        assert_eq!(cell(&row, 9), "");
        assert_eq!(number(cell(&row, 3)), Some(12.5));
        assert_eq!(number(cell(&row, 4)), None);
        assert_eq!(number("NaN"), None);
        assert_eq!(
            sent_at("14/11/2025 10:32").map(|t| t.date()),
            NaiveDate::from_ymd_opt(2025, 11, 14)
        );
        assert_eq!(
            sent_at("2025-11-14 10:32:05").map(|t| t.date()),
            NaiveDate::from_ymd_opt(2025, 11, 14)
        );
    }
}
