//! The pages. Each handler signs the request in (`signed`), asks the API for its data with
//! the session's identity (`crate::api`), and renders a template; `respond` adds the
//! headers every page carries.

pub mod conseil;
pub mod family;
pub mod home;
pub mod live;
pub mod oidc;
pub mod pupil_file;
pub mod sheet;
pub mod signin;
pub mod visits;

use crate::api::Failure;
use crate::session::{self, Session};
use crate::Pages;
use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use suivi_domain::Role;

/// The policy every page is served with: nothing from another host, no inline script,
/// no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the layout shows around every page: the title, who is signed in, the sign-out
/// form's CSRF token, the navigation.
pub struct Chrome {
    pub title: String,
    pub who: Option<String>,
    pub csrf: String,
    pub nav: Vec<(String, String)>,
}

impl Chrome {
    pub fn new(title: impl Into<String>, session: &Session) -> Chrome {
        Chrome {
            title: title.into(),
            who: Some(role_label(session.identity.role).to_owned()),
            csrf: session.csrf.clone(),
            nav: vec![(
                home_of(session.identity.role).to_owned(),
                "Accueil".to_owned(),
            )],
        }
    }
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administration",
        Role::HeadTeacher => "Professeur principal",
        Role::Teacher => "Enseignant",
        Role::Guardian => "Responsable légal",
        Role::Pupil => "Élève",
    }
}

/// Where a role lands once signed in.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Guardian => "/famille",
        Role::Pupil => "/moi",
        _ => "/accueil",
    }
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    chrome: Chrome,
}

/// The one answer for an unknown page and for a page out of the person's scope.
pub fn not_found_page() -> Response {
    let page = NotFound {
        chrome: Chrome {
            title: "Page introuvable".to_owned(),
            who: None,
            csrf: String::new(),
            nav: vec![("/".to_owned(), "Accueil".to_owned())],
        },
    };
    respond(StatusCode::NOT_FOUND, page.render())
}

pub async fn not_found() -> Response {
    not_found_page()
}

/// A rendered page with the headers every page carries.
pub fn respond(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            secure_headers(headers);
            response
        }
        Err(error) => {
            tracing::error!(%error, "rendering a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Erreur interne").into_response()
        }
    }
}

pub fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Pupils' data: never kept by a shared computer's browser or a proxy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The answer to a failed data request.
pub fn failure(failure: Failure) -> Response {
    match failure {
        Failure::NotFound => not_found_page(),
        Failure::Unauthenticated => Redirect::to("/connexion").into_response(),
        Failure::Internal(message) => {
            tracing::error!(%message, "a page's query failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Erreur interne : la page n'a pas pu être construite.",
            )
                .into_response()
        }
    }
}

/// The session of a request, or the redirect to the sign-in page.
pub async fn signed(pages: &Pages, headers: &HeaderMap) -> Result<Session, Redirect> {
    match request_cookie(headers, session::COOKIE) {
        Some(cookie) => pages.session_of(cookie).await,
        None => None,
    }
    .ok_or_else(|| Redirect::to("/connexion"))
}

/// Whether the request came over https (directly or through a proxy that says so).
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The `?periode=…&date=…` of the board and the sheets.
#[derive(Debug, Default, Deserialize)]
pub struct When {
    pub periode: Option<String>,
    pub date: Option<String>,
}

impl When {
    /// `date` as the API's `asOf`: the end of that day in Paris; `None` (now) without one.
    /// `Err` for a date that is not `YYYY-MM-DD`.
    pub fn as_of(&self) -> Result<Option<(NaiveDate, DateTime<Utc>)>, ()> {
        let Some(text) = self.date.as_deref().filter(|d| !d.is_empty()) else {
            return Ok(None);
        };
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ())?;
        let end = day
            .succ_opt()
            .and_then(|next| next.and_hms_opt(0, 0, 0))
            .and_then(suivi_present::paris::to_utc)
            .ok_or(())?;
        Ok(Some((day, end - chrono::Duration::milliseconds(1))))
    }
}

#[derive(Debug, Deserialize)]
pub struct PeriodRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    #[serde(rename = "startsOn")]
    pub starts_on: NaiveDate,
    #[serde(rename = "endsOn")]
    pub ends_on: NaiveDate,
}

/// The period a `periode` parameter names: its id, its name, or a short form (`T1`, `S2`:
/// the first trimester, the second semester, in date order).
pub fn period_named<'a>(periods: &'a [PeriodRow], wanted: &str) -> Option<&'a PeriodRow> {
    if let Some(p) = periods
        .iter()
        .find(|p| p.id == wanted || p.name.eq_ignore_ascii_case(wanted))
    {
        return Some(p);
    }
    let upper = wanted.to_ascii_uppercase();
    let (letter, rank) = upper.split_at(1.min(upper.len()));
    let rank: usize = rank.parse().ok()?;
    let kind = match letter {
        "T" => "TRIMESTRE",
        "S" => "SEMESTRE",
        _ => return None,
    };
    let mut of_kind: Vec<&PeriodRow> = periods.iter().filter(|p| p.kind == kind).collect();
    of_kind.sort_by_key(|p| p.starts_on);
    of_kind.get(rank.checked_sub(1)?).copied()
}

/// The short form of a period (`T1`), or its id when it has none.
pub fn period_short(periods: &[PeriodRow], period: &PeriodRow) -> String {
    let letter = match period.kind.as_str() {
        "TRIMESTRE" => "T",
        "SEMESTRE" => "S",
        _ => return period.id.clone(),
    };
    let mut of_kind: Vec<&PeriodRow> = periods.iter().filter(|p| p.kind == period.kind).collect();
    of_kind.sort_by_key(|p| p.starts_on);
    of_kind
        .iter()
        .position(|p| p.id == period.id)
        .map_or_else(|| period.id.clone(), |i| format!("{letter}{}", i + 1))
}

/// The period chooser's options: (short form, name, chosen).
pub fn period_choices(
    periods: &[PeriodRow],
    current: Option<&PeriodRow>,
) -> Vec<(String, String, bool)> {
    periods
        .iter()
        .map(|p| {
            (
                period_short(periods, p),
                p.name.clone(),
                current.is_some_and(|c| c.id == p.id),
            )
        })
        .collect()
}

/// The session cookie (or another) a request carries.
pub fn request_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| session::cookie(h, name))
}

/// An average on /20 in French, or a dash (templates pass references).
pub fn avg<T: std::borrow::Borrow<Option<f64>>>(value: T) -> String {
    suivi_present::format::opt_points(*value.borrow())
}

/// A spread's mean in French.
pub fn mean_of(spread: &conseil::SpreadData) -> String {
    suivi_present::format::points(spread.mean)
}

/// `12 mars 2026`.
pub fn day<T: std::borrow::Borrow<NaiveDate>>(d: T) -> String {
    suivi_present::format::date(*d.borrow())
}

/// `12,5`, `2`.
pub fn dec<T: std::borrow::Borrow<f64>>(v: T) -> String {
    suivi_present::format::decimal(*v.borrow())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(id: &str, name: &str, kind: &str, month: u32) -> PeriodRow {
        let start = NaiveDate::from_ymd_opt(2026, month, 1).expect("a date");
        PeriodRow {
            id: id.to_owned(),
            name: name.to_owned(),
            kind: kind.to_owned(),
            starts_on: start,
            ends_on: start,
        }
    }

    #[test]
    fn periods_are_found_by_short_form_name_or_id() {
        // Listed out of date order on purpose.
        let periods = [
            period("b", "Trimestre 2", "TRIMESTRE", 12),
            period("a", "Trimestre 1", "TRIMESTRE", 9),
            period("c", "Trimestre 3", "TRIMESTRE", 3),
        ];
        // Trimestre 3 starts in March 2026, before the others in this made-up list.
        assert_eq!(
            period_named(&periods, "T1").map(|p| p.id.as_str()),
            Some("c")
        );
        assert_eq!(
            period_named(&periods, "t2").map(|p| p.id.as_str()),
            Some("a")
        );
        assert_eq!(
            period_named(&periods, "Trimestre 2").map(|p| p.id.as_str()),
            Some("b")
        );
        assert_eq!(
            period_named(&periods, "b").map(|p| p.id.as_str()),
            Some("b")
        );
        assert!(period_named(&periods, "T4").is_none());
        assert!(period_named(&periods, "S1").is_none());
        assert!(period_named(&periods, "T0").is_none());
        assert_eq!(period_short(&periods, &periods[1]), "T2");
    }

    #[test]
    fn a_date_is_read_as_the_end_of_that_day_in_paris() {
        let when = When {
            periode: None,
            date: Some("2026-03-12".to_owned()),
        };
        let (day, at) = when.as_of().expect("valid").expect("given");
        assert_eq!(day.to_string(), "2026-03-12");
        // Midnight in Paris is 23:00 UTC in winter.
        assert_eq!(at.to_rfc3339(), "2026-03-12T22:59:59.999+00:00");
        let bad = When {
            periode: None,
            date: Some("12/03/2026".to_owned()),
        };
        assert!(bad.as_of().is_err());
        assert_eq!(When::default().as_of(), Ok(None));
    }
}
