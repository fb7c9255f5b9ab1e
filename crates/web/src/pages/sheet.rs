//! `GET /eleves/{pupilId}?periode=T1&date=…`: a pupil's sheet for the conseil — the
//! spider chart (the pupil's averages against the class mean and its min–max band,
//! general subjects on one side, vocational ones on the other) with its data table, the
//! profile in words with the figures behind it, grades by subject, absences, homework,
//! QCM, competencies and the risk factors.

use super::conseil::{kind_label, resolve_period, SpreadData};
use super::{avg, failure, period_short, respond, signed, Chrome, When};
use crate::api;
use crate::Pages;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use suivi_domain::reference::SubjectKind;
use suivi_present::format::{date, decimal, minutes};
use suivi_present::spider::{by_kind, spider, Axis};

/// The fields of a pupil both the sheet and the family page show.
pub const PUPIL_FIELDS: &str = "
    id externalId displayName
    class { id name }
    period(period: $period) { id name kind startsOn endsOn }
    average(period: $period)
    classAverage(period: $period) { mean min max count }
    grades(period: $period) {
      subject { name } average class { mean min max count }
      grades { assessmentId title date scale coefficient score mark corrections }
    }
    absences(period: $period) { halfDays halfDaysJustified halfDaysUnjustified latenesses latenessesUnjustified latenessMinutes }
    attendanceRecords { id kind justified at halfDays minutes }
    homework { homeworkId title subject { name } dueAt status { status depositedAt lateBySeconds } }
    homeworkSummary(period: $period) { onTime late missing pending }
    competencies { frameworkId component label latest { level levelLabel on } }";

const QUERY: &str = "query($id: ID!, $period: String, $asOf: DateTime) {
  pupil(id: $id, asOf: $asOf) {
    PUPIL_FIELDS
    spider(period: $period) {
      axes { subject subjectId kind value classMean classMin classMax }
      profile profileBasis generalMean vocationalMean gap
    }
    quizzes { quizId title attemptsUsed attemptsAllowed best { correct outOf onTwenty } timeMs }
    risk(period: $period) { level label score factors { points reason } }
  }
}";

const CLASS_OF: &str =
    "query($id: ID!, $asOf: DateTime) { pupil(id: $id, asOf: $asOf) { class { id name } } }";

#[derive(Deserialize)]
struct ClassOf {
    pupil: ClassOfPupil,
}

#[derive(Deserialize)]
struct ClassOfPupil {
    class: Option<ClassRef>,
}

pub use super::pupil_file::*;

/// The profile read out of the spider chart, in words.
pub fn profile_words(spider: &SpiderData) -> String {
    match spider.profile_basis.as_str() {
        "PARTIAL" => {
            return "vue partielle (vos matières seulement) : pas de lecture d'ensemble".to_owned()
        }
        "NO_AVERAGE" => return "pas encore de moyenne".to_owned(),
        "NO_GENERAL_AVERAGE" => {
            return "pas de moyenne en matières générales : profil non établi".to_owned()
        }
        "NO_VOCATIONAL_AVERAGE" => {
            return "pas de moyenne en enseignement professionnel : profil non établi".to_owned()
        }
        _ => {}
    }
    match spider.profile.as_str() {
        "VOCATIONAL_STRONG" => "fort en enseignement professionnel, matières générales en retrait",
        "GENERAL_STRONG" => "fort en matières générales : orientation à interroger",
        _ => "équilibré",
    }
    .to_owned()
}

fn kind_of(kind: Option<&str>) -> Option<SubjectKind> {
    match kind {
        Some("GENERAL") => Some(SubjectKind::General),
        Some("VOCATIONAL") => Some(SubjectKind::Vocational),
        _ => None,
    }
}

pub struct AxisRow {
    pub subject: String,
    pub kind: &'static str,
    pub pupil: String,
    pub mean: String,
    pub min: String,
    pub max: String,
}

#[derive(Template)]
#[template(path = "eleve.html")]
struct Sheet {
    chrome: Chrome,
    pupil: PupilData,
    period_name: String,
    periods: Vec<(String, String, bool)>,
    when_action: String,
    date_value: String,
    as_of_text: Option<String>,
    chart: String,
    axis_rows: Vec<AxisRow>,
    profile: Option<String>,
    profile_figures: String,
}

impl Sheet {
    fn class_figure(&self, which: &str) -> String {
        self.pupil.class_average.map_or_else(
            || "–".to_owned(),
            |g| {
                avg(Some(match which {
                    "min" => g.min,
                    "max" => g.max,
                    _ => g.mean,
                }))
            },
        )
    }
}

pub fn spread_text(spread: &Option<SpreadData>) -> String {
    match spread {
        Some(s) => format!(
            "{} (min. {}, max. {})",
            avg(Some(s.mean)),
            avg(Some(s.min)),
            avg(Some(s.max))
        ),
        None => "–".to_owned(),
    }
}

pub fn quiz_best(quiz: &QuizLine) -> String {
    quiz.best.as_ref().map_or_else(
        || "—".to_owned(),
        |b| format!("{}/{} ({}/20)", b.correct, b.out_of, decimal(b.on_twenty)),
    )
}

pub fn quiz_time(quiz: &QuizLine) -> String {
    format!("{} min", minutes(quiz.time_ms))
}

pub async fn page(
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    Path(pupil_id): Path<String>,
    Query(when): Query<When>,
) -> Response {
    let session = match signed(&pages, &headers).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let Ok(as_of) = when.as_of() else {
        return super::not_found_page();
    };
    // The periods of the pupil's class (on the date read) name `periode`.
    let class: ClassOf = match api::query(
        &pages.app.schema,
        &session.identity,
        CLASS_OF,
        serde_json::json!({ "id": pupil_id, "asOf": as_of.map(|(_, at)| at.to_rfc3339()) }),
    )
    .await
    {
        Ok(c) => c,
        Err(f) => return failure(f),
    };
    let (periods, period) = match &class.pupil.class {
        Some(c) => match resolve_period(&pages, &session.identity, &c.id, &when).await {
            Ok(p) => p,
            Err(r) => return r,
        },
        None => (Vec::new(), None),
    };
    let variables = serde_json::json!({
        "id": pupil_id,
        "period": period,
        "asOf": as_of.map(|(_, at)| at.to_rfc3339()),
    });
    static SHEET: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| QUERY.replace("PUPIL_FIELDS", PUPIL_FIELDS));
    let answer: Answer = match api::query(
        &pages.app.schema,
        &session.identity,
        SHEET.as_str(),
        variables,
    )
    .await
    {
        Ok(a) => a,
        Err(f) => return failure(f),
    };
    let pupil = answer.pupil;
    let (chart, axis_rows, profile, profile_figures) = match &pupil.spider {
        Some(s) => {
            let mut axes: Vec<Axis> = s
                .axes
                .iter()
                .map(|a| Axis {
                    label: &a.subject,
                    kind: kind_of(a.kind.as_deref()),
                    pupil: a.value,
                    class: a.class_mean,
                    band: a.class_min.zip(a.class_max),
                })
                .collect();
            by_kind(&mut axes);
            let rows = axes
                .iter()
                .map(|a| AxisRow {
                    subject: a.label.to_owned(),
                    kind: kind_label(match a.kind {
                        Some(SubjectKind::General) => Some("GENERAL"),
                        Some(SubjectKind::Vocational) => Some("VOCATIONAL"),
                        None => None,
                    }),
                    pupil: avg(a.pupil),
                    mean: avg(a.class),
                    min: avg(a.band.map(|b| b.0)),
                    max: avg(a.band.map(|b| b.1)),
                })
                .collect();
            let figures = format!(
                "moyenne en matières générales {}, en enseignement professionnel {}{}",
                avg(s.general_mean),
                avg(s.vocational_mean),
                s.gap.map_or_else(String::new, |g| format!(
                    ", écart {}{} points",
                    if g > 0.0 { "+" } else { "" },
                    suivi_present::format::points(g)
                ))
            );
            (spider(&axes), rows, Some(profile_words(s)), figures)
        }
        None => (String::new(), Vec::new(), None, String::new()),
    };
    let current = pupil.period.as_ref();
    let mut chrome = Chrome::new(format!("Fiche de {}", pupil.name()), &session);
    if let Some(class) = &pupil.class {
        let short = current.map(|p| period_short(&periods, p));
        chrome.nav.push((
            format!(
                "/classes/{}/conseil{}",
                class.id,
                short.map_or_else(String::new, |s| format!("?periode={s}"))
            ),
            format!("Conseil — {}", class.name),
        ));
    }
    let page = Sheet {
        chrome,
        period_name: current.map_or_else(|| "—".to_owned(), |p| p.name.clone()),
        periods: super::period_choices(&periods, current),
        when_action: format!("/eleves/{}", pupil.id),
        date_value: as_of.map(|(d, _)| d.to_string()).unwrap_or_default(),
        as_of_text: as_of.map(|(d, _)| date(d)),
        chart,
        axis_rows,
        profile,
        profile_figures,
        pupil,
    };
    respond(StatusCode::OK, page.render())
}
