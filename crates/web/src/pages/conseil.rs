//! `GET /classes/{classId}/conseil?periode=T1&date=YYYY-MM-DD`: the conseil de classe
//! board. Per subject the class's mean, lowest, highest and graded count; one row per
//! pupil with the general average, the subject averages, absences, lateness, homework
//! and QCM attempts; the pupils the risk indicator flags marked, their reasons in words.
//! A teacher sees their subjects' columns only (the API's view of them). `date` shows
//! the class as it stood at the end of that day.

use super::{avg, failure, period_named, period_short, respond, signed, Chrome, PeriodRow, When};
use crate::api;
use crate::Pages;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use suivi_present::format::date;

/// The periods of a class's school year (`periode=T1` is the first trimester of that year).
pub const PERIODS: &str =
    "query($class: String!) { class(name: $class) { periods { id name kind startsOn endsOn } } }";

const QUERY: &str = "query($class: String!, $period: String, $asOf: DateTime) {
  class(name: $class, period: $period, asOf: $asOf) {
    id name
    period { id name kind startsOn endsOn }
    periods { id name kind startsOn endsOn }
    headTeacher { displayName }
    subjects { name kind coefficient mean min max gradedCount }
    generalAverage { mean min max count }
    pupils {
      id displayName average subjectAverages qcmAttempts
      absences { halfDays halfDaysUnjustified latenesses }
      homework { late missing }
      risk { level label score factors { points reason } }
    }
  }
}";

#[derive(Deserialize)]
pub struct Periods {
    pub class: ClassPeriods,
}

#[derive(Deserialize)]
pub struct ClassPeriods {
    pub periods: Vec<PeriodRow>,
}

#[derive(Deserialize)]
struct Answer {
    class: ClassData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClassData {
    id: String,
    name: String,
    period: Option<PeriodRow>,
    periods: Vec<PeriodRow>,
    head_teacher: Option<Named>,
    subjects: Vec<SubjectData>,
    general_average: Option<SpreadData>,
    pupils: Vec<PupilData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    pub display_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubjectData {
    name: String,
    kind: Option<String>,
    coefficient: Option<f64>,
    mean: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    graded_count: i64,
}

#[derive(Deserialize, Clone, Copy)]
pub struct SpreadData {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PupilData {
    id: String,
    display_name: Option<String>,
    average: Option<f64>,
    /// In the order of the class's `subjects`.
    subject_averages: Vec<Option<f64>>,
    qcm_attempts: i64,
    absences: Option<AbsenceData>,
    homework: Option<HomeworkData>,
    risk: Option<RiskData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AbsenceData {
    half_days: i64,
    half_days_unjustified: i64,
    latenesses: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HomeworkData {
    late: i64,
    missing: i64,
}

#[derive(Deserialize, Clone)]
pub struct RiskData {
    pub level: String,
    pub label: String,
    pub score: i64,
    pub factors: Vec<FactorData>,
}

#[derive(Deserialize, Clone)]
pub struct FactorData {
    pub points: i64,
    pub reason: String,
}

/// A cell: what is shown and the number it sorts by (empty when there is none).
pub struct Cell {
    pub text: String,
    pub sort: String,
}

impl Cell {
    fn avg(value: Option<f64>) -> Cell {
        Cell {
            text: avg(value),
            // Hundredths, as the text shows it: an integer formats far cheaper than a float.
            sort: value.map_or_else(String::new, |v| {
                suivi_present::format::hundredths(v).to_string()
            }),
        }
    }

    fn count(value: i64) -> Cell {
        Cell {
            text: value.to_string(),
            sort: value.to_string(),
        }
    }
}

pub struct SubjectColumn {
    pub name: String,
    pub kind: &'static str,
    pub coefficient: String,
    pub mean: String,
    pub min: String,
    pub max: String,
    pub graded: i64,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub general: Cell,
    pub subjects: Vec<Cell>,
    pub half_days: Cell,
    pub unjustified: i64,
    pub latenesses: Cell,
    pub homework_late: Cell,
    pub homework_missing: Cell,
    pub attempts: Cell,
    pub risk: Option<RiskData>,
}

impl Row {
    pub fn flagged(&self) -> bool {
        self.risk.as_ref().is_some_and(|r| r.level != "LOW")
    }

    pub fn risk_sort(&self) -> i64 {
        self.risk.as_ref().map_or(0, |r| r.score)
    }

    pub fn risk_reasons(&self) -> String {
        self.risk.as_ref().map_or_else(String::new, |r| {
            r.factors
                .iter()
                .map(|f| f.reason.as_str())
                .collect::<Vec<_>>()
                .join(" ; ")
        })
    }
}

#[derive(Template)]
#[template(path = "conseil.html")]
struct Board {
    chrome: Chrome,
    class_name: String,
    head: String,
    period_name: String,
    period_dates: String,
    periods: Vec<(String, String, bool)>,
    when_action: String,
    date_value: String,
    as_of_text: Option<String>,
    sheet_query: String,
    subjects: Vec<SubjectColumn>,
    general: Option<SpreadData>,
    rows: Vec<Row>,
    flagged: usize,
}

impl Board {
    fn spread(&self, which: &str) -> String {
        let Some(g) = self.general else {
            return "–".to_owned();
        };
        avg(Some(match which {
            "min" => g.min,
            "max" => g.max,
            _ => g.mean,
        }))
    }
}

pub fn kind_label(kind: Option<&str>) -> &'static str {
    match kind {
        Some("GENERAL") => "enseignement général",
        Some("VOCATIONAL") => "enseignement professionnel",
        _ => "",
    }
}

/// Resolves `?periode=` against the periods of class `class`'s school year: `Ok(None)`
/// without one (the API's default, the period holding the date), `Err` (404) for a name
/// that is no period of that year.
pub async fn resolve_period(
    pages: &Pages,
    identity: &suivi_graphql::Identity,
    class: &str,
    when: &When,
) -> Result<(Vec<PeriodRow>, Option<String>), Response> {
    let periods: Periods = api::query(
        &pages.app.schema,
        identity,
        PERIODS,
        serde_json::json!({ "class": class }),
    )
    .await
    .map_err(failure)?;
    let periods = periods.class.periods;
    let chosen = match when.periode.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(name) => Some(
            period_named(&periods, name)
                .map(|p| p.id.clone())
                .ok_or_else(super::not_found_page)?,
        ),
    };
    Ok((periods, chosen))
}

pub async fn page(
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    Path(class_id): Path<String>,
    Query(when): Query<When>,
) -> Response {
    let session = match signed(&pages, &headers).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let Ok(as_of) = when.as_of() else {
        return super::not_found_page();
    };
    // Class ids only: a name in the path would open another class's board by name.
    if uuid::Uuid::parse_str(&class_id).is_err() {
        return super::not_found_page();
    }
    // Only a `periode` to resolve needs the periods first; the board's answer has them.
    let period = if when.periode.as_deref().is_some_and(|p| !p.is_empty()) {
        match resolve_period(&pages, &session.identity, &class_id, &when).await {
            Ok((_, period)) => period,
            Err(r) => return r,
        }
    } else {
        None
    };
    let variables = serde_json::json!({
        "class": class_id,
        "period": period,
        "asOf": as_of.map(|(_, at)| at.to_rfc3339()),
    });
    let answer: Answer =
        match api::query(&pages.app.schema, &session.identity, QUERY, variables).await {
            Ok(a) => a,
            Err(f) => return failure(f),
        };
    let class = answer.class;
    let periods = &class.periods;
    let subjects: Vec<SubjectColumn> = class
        .subjects
        .iter()
        .map(|s| SubjectColumn {
            name: s.name.clone(),
            kind: kind_label(s.kind.as_deref()),
            coefficient: s
                .coefficient
                .map_or_else(String::new, suivi_present::format::decimal),
            mean: avg(s.mean),
            min: avg(s.min),
            max: avg(s.max),
            graded: s.graded_count,
        })
        .collect();
    let mut rows: Vec<Row> = class
        .pupils
        .iter()
        .map(|p| {
            let absences = p.absences.as_ref();
            let homework = p.homework.as_ref();
            Row {
                id: p.id.clone(),
                name: p
                    .display_name
                    .clone()
                    .unwrap_or_else(|| "(identité effacée)".to_owned()),
                general: Cell::avg(p.average),
                subjects: p.subject_averages.iter().map(|a| Cell::avg(*a)).collect(),
                half_days: Cell::count(absences.map_or(0, |a| a.half_days)),
                unjustified: absences.map_or(0, |a| a.half_days_unjustified),
                latenesses: Cell::count(absences.map_or(0, |a| a.latenesses)),
                homework_late: Cell::count(homework.map_or(0, |h| h.late)),
                homework_missing: Cell::count(homework.map_or(0, |h| h.missing)),
                attempts: Cell::count(p.qcm_attempts),
                risk: p.risk.clone(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let flagged = rows.iter().filter(|r| r.flagged()).count();
    let current = class.period.as_ref();
    let short = current.map(|p| period_short(periods, p));
    let date_value = as_of.map(|(d, _)| d.to_string()).unwrap_or_default();
    // A sheet reads the pupil's class on its date: for a period already over, the
    // period's last day, so that a pupil who has moved on is read in this class.
    let today = suivi_present::paris::from_utc(chrono::Utc::now()).date();
    let sheet_day = as_of
        .map(|(d, _)| d)
        .or_else(|| current.map(|p| p.ends_on).filter(|end| *end < today));
    let mut sheet_query = String::new();
    if let Some(short) = &short {
        sheet_query = format!("?periode={short}");
    }
    if let Some(day) = sheet_day {
        sheet_query.push_str(if sheet_query.is_empty() { "?" } else { "&" });
        sheet_query.push_str(&format!("date={day}"));
    }
    let mut chrome = Chrome::new(format!("Conseil de classe — {}", class.name), &session);
    chrome.nav.push((
        format!("/classes/{}/conseil", class.id),
        format!("Conseil — {}", class.name),
    ));
    let page = Board {
        chrome,
        class_name: class.name.clone(),
        head: class
            .head_teacher
            .as_ref()
            .map_or_else(|| "—".to_owned(), |h| h.display_name.clone()),
        period_name: current.map_or_else(|| "—".to_owned(), |p| p.name.clone()),
        period_dates: current.map_or_else(String::new, |p| {
            format!("du {} au {}", date(p.starts_on), date(p.ends_on))
        }),
        periods: super::period_choices(periods, current),
        when_action: format!("/classes/{}/conseil", class.id),
        date_value,
        as_of_text: as_of.map(|(d, _)| date(d)),
        sheet_query,
        subjects,
        general: class.general_average,
        rows,
        flagged,
    };
    respond(StatusCode::OK, page.render())
}
