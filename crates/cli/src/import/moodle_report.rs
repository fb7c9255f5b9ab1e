//! A Moodle quiz report (the "Grades" or the "Responses" report, downloaded as CSV) read
//! into attempts: English or French headers, the identity columns a site adds (`ID number`
//! / `Numéro d'identification`, Institution, Department), one row per attempt. Pure:
//! bytes in, attempts and line errors out.
//!
//! Read as Moodle writes them: durations `43 secs`, `16 days 14 hours`, `1 hour 5 mins`,
//! `1 heure 5 min`; dates `23 February 2021  9:57 PM`, `23 février 2021, 21:57` (the site's
//! time, Europe/Paris); marks `0.50` or `0,50`; `-` where an attempt in progress has no
//! value yet. The report's last row, the overall average, is not an attempt.

use super::csv_table::{self, Table};
use super::{paris, LineError};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// One question of the report: its header and, for the Grades report, its maximum mark
/// in hundredths.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub header: String,
    pub max: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Copy)]
pub enum Mark {
    /// Full marks.
    Right,
    Partial,
    Wrong,
}

#[derive(Clone, Debug)]
pub struct Attempt {
    pub line: usize,
    pub surname: String,
    pub first_name: String,
    pub email: String,
    pub id_number: Option<String>,
    pub started_at: DateTime<Utc>,
    /// `None` while in progress.
    pub submitted_at: Option<DateTime<Utc>>,
    pub time_taken_secs: Option<u64>,
    /// Per question, in report order; `None` where not answered (`-`).
    pub marks: Vec<Option<Mark>>,
}

impl Attempt {
    /// How the pupil is known outside suivi: the ID number when the site shows one, else
    /// the e-mail address (in messages to the person importing, never in the log).
    pub fn shown_id(&self) -> &str {
        self.id_number.as_deref().unwrap_or(&self.email)
    }

    /// The pupil's external id in suivi: the ID number, else a pseudonym of the e-mail
    /// address (`moodle-email:` and 32 hex digits of its SHA-256, lowercased first): an
    /// address names the pupil, and external ids are written to the log in clear.
    pub fn external_id(&self) -> String {
        match &self.id_number {
            Some(id) => id.clone(),
            None => email_pseudonym(&self.email),
        }
    }
}

pub fn email_pseudonym(email: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("moodle-email:{hex}")
}

pub struct Report {
    pub questions: Vec<Question>,
    pub attempts: Vec<Attempt>,
    pub header_line: usize,
    pub rows: usize,
}

struct Columns {
    surname: usize,
    first_name: usize,
    email: usize,
    id_number: Option<usize>,
    state: usize,
    started: usize,
    completed: usize,
    taken: usize,
    grade: usize,
    /// (column, right answer column) per question.
    questions: Vec<(usize, Option<usize>)>,
    responses: bool,
}

fn one_of(table: &Table, names: &[&str]) -> Result<usize, String> {
    names.iter().find_map(|n| table.column(n)).ok_or_else(|| {
        format!(
            "the header has no column {}: is this a Moodle quiz Grades or Responses report?",
            names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    })
}

/// `1.00`, `1,00` or `10` as hundredths.
pub fn hundredths(text: &str) -> Option<u32> {
    let text = text.trim().replace(',', ".");
    let (units, decimals) = match text.split_once('.') {
        Some((u, d)) => (u, d),
        None => (text.as_str(), ""),
    };
    if units.is_empty() || !units.bytes().all(|b| b.is_ascii_digit()) || decimals.len() > 2 {
        return None;
    }
    if !decimals.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let units: u32 = units.parse().ok().filter(|u| *u <= 100_000)?;
    let decimals: u32 = format!("{decimals:0<2}").parse().ok()?;
    Some(units * 100 + decimals)
}

fn columns(table: &Table) -> Result<Columns, String> {
    let mut questions = Vec::new();
    let mut responses = false;
    for (i, h) in table.header.iter().enumerate() {
        if let Some(rest) = h.strip_prefix("Q. ") {
            let (number, max) = rest
                .split_once(" /")
                .ok_or_else(|| format!("column {h:?} is not a question such as \"Q. 1 /1.00\""))?;
            let max = hundredths(max).filter(|m| *m > 0);
            if number.parse::<u16>().is_err() || max.is_none() {
                return Err(format!(
                    "column {h:?} is not a question such as \"Q. 1 /1.00\""
                ));
            }
            questions.push((i, None));
        } else if let Some(n) = h
            .strip_prefix("Response ")
            .or_else(|| h.strip_prefix("Réponse "))
        {
            responses = true;
            let right = table
                .column(&format!("Right answer {n}"))
                .or_else(|| table.column(&format!("Bonne réponse {n}")))
                .ok_or_else(|| {
                    format!("column {h:?} has no \"Right answer {n}\" beside it: download the Responses report with the right answers")
                })?;
            questions.push((i, Some(right)));
        }
    }
    if questions.is_empty() {
        return Err("the header has no question column (\"Q. 1 /1.00\" or \"Response 1\")".into());
    }
    if questions.len() > 200 {
        return Err(format!(
            "{} questions: a quiz has at most 200",
            questions.len()
        ));
    }
    let grade = table
        .header
        .iter()
        .position(|h| h.starts_with("Grade/") || h.starts_with("Note/"))
        .ok_or("the header has no column \"Grade/…\" or \"Note/…\"")?;
    Ok(Columns {
        surname: one_of(table, &["Surname", "Nom", "Nom de famille"])?,
        first_name: one_of(table, &["First name", "Prénom"])?,
        email: one_of(table, &["Email address", "Adresse de courriel"])?,
        id_number: one_of(table, &["ID number", "Numéro d'identification"]).ok(),
        state: one_of(table, &["State", "État"])?,
        started: one_of(table, &["Started on", "Commencé le"])?,
        completed: one_of(table, &["Completed", "Terminé"])?,
        taken: one_of(table, &["Time taken", "Temps utilisé"])?,
        grade,
        questions,
        responses,
    })
}

/// Reads the report; every bad row is reported with its line and the value at fault.
pub fn parse(bytes: &[u8]) -> (Option<Report>, Vec<LineError>) {
    let table = match csv_table::read(bytes, None) {
        Ok(t) => t,
        Err(e) => return (None, vec![e]),
    };
    let columns = match columns(&table) {
        Ok(c) => c,
        Err(reason) => {
            return (
                None,
                vec![LineError {
                    line: table.header_line,
                    reason,
                }],
            )
        }
    };
    let questions = columns
        .questions
        .iter()
        .map(|(i, _)| {
            let header = table.header[*i].clone();
            let max = header
                .split_once(" /")
                .and_then(|(_, m)| hundredths(m))
                .filter(|_| !columns.responses);
            Question { header, max }
        })
        .collect();
    let mut report = Report {
        questions,
        attempts: Vec::new(),
        header_line: table.header_line,
        rows: 0,
    };
    let mut errors = Vec::new();
    for (line, row) in &table.rows {
        let cell = |i: usize| row.get(i).map_or("", String::as_str);
        // The overall average closes the Grades report.
        if matches!(
            cell(columns.surname),
            "Overall average" | "Moyenne générale"
        ) {
            continue;
        }
        report.rows += 1;
        match attempt(&columns, &report.questions, *line, row) {
            Ok(a) => report.attempts.push(a),
            Err(reason) => errors.push(LineError {
                line: *line,
                reason,
            }),
        }
    }
    (Some(report), errors)
}

fn attempt(
    columns: &Columns,
    questions: &[Question],
    line: usize,
    row: &[String],
) -> Result<Attempt, String> {
    let cell = |i: usize| row.get(i).map_or("", String::as_str);
    let email = cell(columns.email).to_owned();
    let id_number = columns
        .id_number
        .map(|i| cell(i).to_owned())
        .filter(|v| !v.is_empty() && v != "-");
    let who = id_number.clone().unwrap_or_else(|| email.clone());
    if who.is_empty() {
        return Err("the row has neither an e-mail address nor an ID number".into());
    }
    let state = cell(columns.state);
    let finished = match state {
        "Finished" | "Terminé" | "Terminée" => true,
        "In progress" | "En cours" => false,
        "Overdue" | "En retard" | "Never submitted" | "Jamais remis" | "Jamais envoyé" => false,
        other => {
            return Err(format!(
                "attempt of {who}: state {other:?} is not a Moodle attempt state"
            ))
        }
    };
    let started = cell(columns.started);
    let started_at = moodle_date(started)
        .ok_or_else(|| format!("attempt of {who}: started on {started:?} is not a date such as \"23 February 2021 9:57 PM\""))?;
    let (submitted_at, time_taken_secs) = if finished {
        let completed = cell(columns.completed);
        let submitted = moodle_date(completed).ok_or_else(|| {
            format!("attempt of {who}: completed {completed:?} is not a date such as \"23 February 2021 9:57 PM\"")
        })?;
        let taken = cell(columns.taken);
        let secs = duration_secs(taken).ok_or_else(|| {
            format!("attempt of {who}: time taken {taken:?} is not a duration such as \"1 hour 5 mins\"")
        })?;
        if submitted < started_at {
            return Err(format!(
                "attempt of {who}: completed {completed:?} is before it started, {started:?}"
            ));
        }
        (Some(submitted), Some(secs))
    } else {
        (None, None)
    };
    let grade = cell(columns.grade);
    if grade != "-" && hundredths(grade).is_none() {
        return Err(format!("attempt of {who}: grade {grade:?} is not a number"));
    }
    let mut marks = Vec::with_capacity(questions.len());
    for ((column, right), question) in columns.questions.iter().zip(questions) {
        let text = cell(*column);
        let mark = match right {
            Some(right) if finished => {
                if text.is_empty() || text == "-" {
                    None
                } else if text == cell(*right) {
                    Some(Mark::Right)
                } else {
                    Some(Mark::Wrong)
                }
            }
            Some(_) => None,
            None if text == "-" || text.is_empty() || !finished => None,
            None => {
                let max = question.max.unwrap_or(100);
                match hundredths(text) {
                    Some(0) => Some(Mark::Wrong),
                    Some(m) if m == max => Some(Mark::Right),
                    Some(m) if m < max => Some(Mark::Partial),
                    _ => {
                        return Err(format!(
                            "attempt of {who}: {} is {text:?}, not a mark out of {}",
                            question.header,
                            question.header.split_once(" /").map_or("", |(_, m)| m)
                        ))
                    }
                }
            }
        };
        marks.push(mark);
    }
    Ok(Attempt {
        line,
        surname: cell(columns.surname).to_owned(),
        first_name: cell(columns.first_name).to_owned(),
        email,
        id_number,
        started_at,
        submitted_at,
        time_taken_secs,
        marks,
    })
}

const MONTHS: [(&str, &str, u32); 12] = [
    ("january", "janvier", 1),
    ("february", "février", 2),
    ("march", "mars", 3),
    ("april", "avril", 4),
    ("may", "mai", 5),
    ("june", "juin", 6),
    ("july", "juillet", 7),
    ("august", "août", 8),
    ("september", "septembre", 9),
    ("october", "octobre", 10),
    ("november", "novembre", 11),
    ("december", "décembre", 12),
];

/// `23 February 2021  9:57 PM`, `23 February 2021, 21:57` or `23 février 2021, 21:57`
/// (Paris time) as an instant. A weekday in front (`Tuesday, 23 February…`) is allowed.
pub fn moodle_date(text: &str) -> Option<DateTime<Utc>> {
    let cleaned = text.replace(',', " ").to_lowercase();
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.first().is_some_and(|w| w.parse::<u32>().is_err()) {
        words.remove(0);
    }
    let [day, month, year, time, rest @ ..] = words.as_slice() else {
        return None;
    };
    let day: u32 = day.parse().ok()?;
    let month = MONTHS
        .iter()
        .find(|(en, fr, _)| en == month || fr == month)
        .map(|(_, _, n)| *n)?;
    let year: i32 = year.parse().ok()?;
    let (h, m) = time.split_once(':')?;
    let (mut h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match rest {
        [] => {}
        ["am"] if (1..=12).contains(&h) => h %= 12,
        ["pm"] if (1..=12).contains(&h) => h = h % 12 + 12,
        _ => return None,
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_opt(h, m, 0)?;
    paris::to_utc(date.and_time(time))
}

/// `43 secs`, `16 days 14 hours`, `1 hour 5 mins`, `1 heure 5 min`, `2 jours 3 heures`,
/// `45 s` as seconds.
pub fn duration_secs(text: &str) -> Option<u64> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return None;
    }
    let mut total: u64 = 0;
    for pair in words.chunks(2) {
        let [number, unit] = pair else { return None };
        let n: u64 = number.parse().ok()?;
        let unit = match unit.to_lowercase().as_str() {
            "sec" | "secs" | "second" | "seconds" | "s" | "seconde" | "secondes" => 1,
            "min" | "mins" | "minute" | "minutes" => 60,
            "hour" | "hours" | "heure" | "heures" | "h" => 3_600,
            "day" | "days" | "jour" | "jours" => 86_400,
            "week" | "weeks" | "semaine" | "semaines" => 604_800,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_english_and_french() {
        assert_eq!(duration_secs("43 secs"), Some(43));
        assert_eq!(
            duration_secs("16 days 14 hours"),
            Some(16 * 86_400 + 14 * 3_600)
        );
        assert_eq!(duration_secs("1 hour 5 mins"), Some(3_900));
        assert_eq!(duration_secs("1 heure 5 min"), Some(3_900));
        assert_eq!(duration_secs("1 min 3 secs"), Some(63));
        for bad in ["", "-", "5", "five mins", "3 fortnights", "1 hour 5"] {
            assert_eq!(duration_secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_read_in_english_and_french_paris_time() {
        let utc = |t: &str| moodle_date(t).map(|d| d.to_rfc3339());
        let expected = Some("2021-02-23T20:57:00+00:00".to_owned());
        assert_eq!(utc("23 February 2021  9:57 PM"), expected);
        assert_eq!(utc("23 février 2021, 21:57"), expected);
        assert_eq!(utc("Tuesday, 23 February 2021, 9:57 PM"), expected);
        assert_eq!(
            utc("23 February 2021 12:05 AM").unwrap(),
            "2021-02-22T23:05:00+00:00"
        );
        for bad in [
            "",
            "-",
            "30 February 2021 9:57 PM",
            "23 Febr 2021 9:57",
            "23 February 2021 13:00 PM",
        ] {
            assert_eq!(moodle_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_responses_report_is_marked_against_its_right_answers() {
        let csv = "Surname,First name,Email address,State,Started on,Completed,Time taken,Grade/2.00,Response 1,Right answer 1,Response 2,Right answer 2\n\
                   Martin,Léa,lea@example.org,Finished,12 November 2025  9:02 AM,12 November 2025  9:04 AM,2 mins,1.00,Paris,Paris,1789,1792\n\
                   Petit,Jules,jules@example.org,In progress,12 November 2025  9:03 AM,-,-,-,-,Paris,-,1792\n";
        let (report, errors) = parse(csv.as_bytes());
        assert!(errors.is_empty(), "{errors:?}");
        let report = report.unwrap();
        assert_eq!(report.questions.len(), 2);
        let marks: Vec<Vec<Option<Mark>>> =
            report.attempts.iter().map(|a| a.marks.clone()).collect();
        assert_eq!(
            marks,
            [vec![Some(Mark::Right), Some(Mark::Wrong)], vec![None, None]]
        );
        assert_eq!(report.attempts[0].time_taken_secs, Some(120));
        assert_eq!(report.attempts[1].submitted_at, None);
        // Without the right answers, responses cannot be marked: refused at the header.
        let (_, errors) = parse(b"Surname,First name,Email address,State,Started on,Completed,Time taken,Grade/2.00,Response 1\n");
        assert!(
            errors[0]
                .reason
                .contains("has no \"Right answer 1\" beside it"),
            "{errors:?}"
        );
    }

    #[test]
    fn marks_read_with_a_point_or_a_comma() {
        assert_eq!(hundredths("1.00"), Some(100));
        assert_eq!(hundredths("0,5"), Some(50));
        assert_eq!(hundredths("10"), Some(1000));
        for bad in ["", "-", "1.005", "-1", "1e3", "abc"] {
            assert_eq!(hundredths(bad), None, "{bad}");
        }
    }
}
