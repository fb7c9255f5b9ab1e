//! `GET /accueil`: the staff's home — the classes they reach (each with its conseil
//! board) and the class sessions (each with its live board), running ones first.

use super::{failure, respond, signed, Chrome};
use crate::api;
use crate::Pages;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;
use suivi_present::format::date_time;

const QUERY: &str = "{ classes { id name headTeacher { displayName } } \
    sessions { id class { name } teacher { displayName } quizTitle parcoursTitle startedAt active } }";

#[derive(Deserialize)]
struct Answer {
    classes: Vec<ClassRow>,
    sessions: Vec<SessionRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClassRow {
    id: String,
    name: String,
    head_teacher: Option<Named>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Named {
    display_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionRow {
    id: String,
    class: ClassName,
    teacher: Named,
    quiz_title: Option<String>,
    parcours_title: Option<String>,
    started_at: DateTime<Utc>,
    active: bool,
}

#[derive(Deserialize)]
struct ClassName {
    name: String,
}

struct SessionLine {
    id: String,
    what: String,
    class: String,
    teacher: String,
    started: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "accueil.html")]
struct Home {
    chrome: Chrome,
    classes: Vec<(String, String, String)>,
    sessions: Vec<SessionLine>,
}

pub async fn page(State(pages): State<Arc<Pages>>, headers: HeaderMap) -> Response {
    let session = match signed(&pages, &headers).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if matches!(
        session.identity.role,
        suivi_domain::Role::Guardian | suivi_domain::Role::Pupil
    ) {
        return Redirect::to(super::home_of(session.identity.role)).into_response();
    }
    let answer: Answer = match api::query(
        &pages.app.schema,
        &session.identity,
        QUERY,
        serde_json::json!({}),
    )
    .await
    {
        Ok(a) => a,
        Err(f) => return failure(f),
    };
    let classes = answer
        .classes
        .into_iter()
        .map(|c| {
            let head = c
                .head_teacher
                .map_or_else(|| "—".to_owned(), |h| h.display_name);
            (c.id, c.name, head)
        })
        .collect();
    let mut sessions: Vec<SessionLine> = answer
        .sessions
        .into_iter()
        .map(|s| SessionLine {
            id: s.id,
            what: s
                .quiz_title
                .or(s.parcours_title)
                .unwrap_or_else(|| "Séance".to_owned()),
            class: s.class.name,
            teacher: s.teacher.display_name,
            started: date_time(s.started_at),
            active: s.active,
        })
        .collect();
    // Running sessions first, each group keeping the API's order (latest first).
    sessions.sort_by_key(|s| !s.active);
    sessions.truncate(30);
    let page = Home {
        chrome: Chrome::new("Accueil", &session),
        classes,
        sessions,
    };
    respond(StatusCode::OK, page.render())
}
