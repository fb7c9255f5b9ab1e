//! `GET /seances/{sessionId}`: the live class board, for the teacher who runs the session
//! and administrators (the API's `liveBoard` scope). One tile per pupil of the roster,
//! status in words and an icon as well as a colour, stalled pupils first; counts at the
//! top; per question the share of right answers, hardest first.
//!
//! `GET /seances/{sessionId}/flux` is a server-sent-event stream fed by the API's own
//! `liveBoard` subscription, executed with the session's identity: each push (an event,
//! or the passing of time that turns a pupil "bloqué") sends the tiles again (`tableau`)
//! and, for each pupil whose status changed, a sentence for the page's polite live region
//! (`annonce`). The stream ends when the session does.

use super::{failure, respond, secure_headers, signed, Chrome};
use crate::api::{self, Failure};
use crate::session;
use crate::Pages;
use askama::Template;
use async_graphql::{Request, Variables};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Deserialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use suivi_present::format::{ago, date_time, minutes};

const BOARD: &str = "session { id class { name } teacher { displayName } quizTitle parcoursTitle startedAt endedAt active }
  now
  counts { notStarted progressing stalled finished finishedEarly }
  rows {
    pupil { id displayName }
    status
    parcours { stallReason stepsDone stepsTotal currentStep { title } failuresOnCurrent lastProgressAt timeMs }
    qcm { attemptsUsed attemptsAllowed current { attemptNo answered correct questionCount } questionsAnswered questionCount timeMs }
  }
  quiz { questions { number questionId pupilsAnswered answers correctAnswers correctRate } }";

fn query_text(kind: &str) -> String {
    format!("{kind}($id: ID!) {{ liveBoard(sessionId: $id) {{ {BOARD} }} }}")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    live_board: BoardData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BoardData {
    session: SessionData,
    now: DateTime<Utc>,
    counts: Counts,
    rows: Vec<RowData>,
    quiz: Option<QuizData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionData {
    id: String,
    class: Named,
    teacher: Teacher,
    quiz_title: Option<String>,
    parcours_title: Option<String>,
    started_at: DateTime<Utc>,
    active: bool,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Teacher {
    display_name: String,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub not_started: i64,
    pub progressing: i64,
    pub stalled: i64,
    pub finished: i64,
    pub finished_early: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RowData {
    pupil: PupilRef,
    status: String,
    parcours: Option<ParcoursData>,
    qcm: Option<QcmData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PupilRef {
    id: String,
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParcoursData {
    stall_reason: Option<String>,
    steps_done: i64,
    steps_total: i64,
    current_step: Option<StepData>,
    failures_on_current: i64,
    last_progress_at: Option<DateTime<Utc>>,
    time_ms: i64,
}

#[derive(Deserialize)]
struct StepData {
    title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QcmData {
    attempts_used: i64,
    attempts_allowed: i64,
    current: Option<Progress>,
    questions_answered: i64,
    question_count: i64,
    time_ms: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    attempt_no: i64,
    answered: i64,
    question_count: i64,
}

#[derive(Deserialize)]
struct QuizData {
    questions: Vec<QuestionData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QuestionData {
    number: i64,
    pupils_answered: i64,
    answers: i64,
    correct_answers: i64,
    correct_rate: Option<f64>,
}

/// A pupil's tile.
pub struct Tile {
    pub pupil_id: String,
    pub name: String,
    pub status: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub step: String,
    pub attempts: String,
    pub time: String,
    pub since: String,
    pub last_activity: String,
    pub detail: String,
}

pub struct QuestionLine {
    pub number: i64,
    pub rate: String,
    pub percent: i64,
    pub answered: String,
}

/// The status's CSS class, its words and its icon.
fn status_words(status: &str) -> (&'static str, &'static str, &'static str) {
    match status {
        "PROGRESSING" => ("en-cours", "en cours", "▶"),
        "STALLED" => ("bloque", "bloqué", "⚠"),
        "FINISHED" => ("termine", "terminé", "✓"),
        "FINISHED_EARLY" => ("avance", "terminé en avance", "★"),
        _ => ("pas-commence", "pas commencé", "○"),
    }
}

#[derive(Template)]
#[template(path = "tuiles.html")]
pub struct Tiles {
    pub now: String,
    pub counts: Counts,
    pub tiles: Vec<Tile>,
    pub questions: Vec<QuestionLine>,
}

#[derive(Template)]
#[template(path = "seance.html")]
struct LivePage {
    chrome: Chrome,
    session_id: String,
    title: String,
    class_name: String,
    teacher: String,
    started: String,
    active: bool,
    tiles: String,
}

fn tiles_of(board: &BoardData) -> Tiles {
    let mut tiles: Vec<(bool, Tile)> = board
        .rows
        .iter()
        .map(|row| {
            let (status, label, icon) = status_words(&row.status);
            let mut step = String::new();
            let mut attempts = String::new();
            let mut time_ms = 0;
            let mut last = None;
            let mut detail = String::new();
            if let Some(p) = &row.parcours {
                step = match &p.current_step {
                    Some(s) => format!(
                        "Étape {}/{} : {}",
                        (p.steps_done + 1).min(p.steps_total),
                        p.steps_total,
                        s.title
                    ),
                    None => format!("{}/{} étapes", p.steps_done, p.steps_total),
                };
                if p.failures_on_current > 0 {
                    attempts = format!("{} essai(s) manqué(s) sur l'étape", p.failures_on_current);
                }
                time_ms += p.time_ms;
                last = p.last_progress_at;
                detail = match p.stall_reason.as_deref() {
                    Some("REPEATED_FAILURES") => "échecs répétés".to_owned(),
                    Some("NO_PROGRESS") => "sans progrès".to_owned(),
                    _ => String::new(),
                };
            }
            if let Some(q) = &row.qcm {
                let current = match &q.current {
                    Some(c) => format!(
                        "tentative {} : {}/{} questions",
                        c.attempt_no, c.answered, c.question_count
                    ),
                    None => format!(
                        "{}/{} questions répondues",
                        q.questions_answered, q.question_count
                    ),
                };
                if step.is_empty() {
                    step = current;
                } else {
                    attempts = current;
                }
                if attempts.is_empty() {
                    attempts = format!(
                        "{} tentative(s) sur {}",
                        q.attempts_used, q.attempts_allowed
                    );
                }
                time_ms += q.time_ms;
            }
            let since = last.map(|t| t.to_rfc3339()).unwrap_or_default();
            let last_activity = last.map_or_else(
                || "aucune activité".to_owned(),
                |t| format!("dernière activité {}", ago((board.now - t).num_seconds())),
            );
            (
                row.status == "STALLED",
                Tile {
                    pupil_id: row.pupil.id.clone(),
                    name: row
                        .pupil
                        .display_name
                        .clone()
                        .unwrap_or_else(|| "(identité effacée)".to_owned()),
                    status,
                    label,
                    icon,
                    step,
                    attempts,
                    time: format!("{} min", minutes(time_ms)),
                    since,
                    last_activity,
                    detail,
                },
            )
        })
        .collect();
    // Stalled pupils first; the roster order otherwise (a stable sort).
    tiles.sort_by_key(|(stalled, _)| !stalled);
    let mut questions: Vec<&QuestionData> = board
        .quiz
        .as_ref()
        .map(|q| q.questions.iter().collect())
        .unwrap_or_default();
    // Hardest first: the lowest share of right answers; unanswered questions last.
    questions.sort_by(|a, b| match (a.correct_rate, b.correct_rate) {
        (Some(x), Some(y)) => x.total_cmp(&y).then(a.number.cmp(&b.number)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.number.cmp(&b.number),
    });
    Tiles {
        now: board.now.to_rfc3339(),
        counts: board.counts,
        tiles: tiles.into_iter().map(|(_, t)| t).collect(),
        questions: questions
            .into_iter()
            .map(|q| {
                let percent = q.correct_rate.map_or(0, |r| (r * 100.0).round() as i64);
                QuestionLine {
                    number: q.number,
                    rate: q.correct_rate.map_or_else(
                        || "pas encore de réponse".to_owned(),
                        |_| format!("{percent} % de bonnes réponses"),
                    ),
                    percent,
                    answered: format!(
                        "{} réponse(s) de {} élève(s), {} juste(s)",
                        q.answers, q.pupils_answered, q.correct_answers
                    ),
                }
            })
            .collect(),
    }
}

pub async fn page(
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Response {
    let session = match signed(&pages, &headers).await {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let answer: Answer = match api::query(
        &pages.app.schema,
        &session.identity,
        {
            static QUERY: std::sync::LazyLock<String> =
                std::sync::LazyLock::new(|| query_text("query"));
            QUERY.as_str()
        },
        serde_json::json!({ "id": session_id }),
    )
    .await
    {
        Ok(a) => a,
        Err(f) => return failure(f),
    };
    let board = answer.live_board;
    let tiles = match tiles_of(&board).render() {
        Ok(t) => t,
        Err(e) => return failure(Failure::Internal(e.to_string())),
    };
    let s = &board.session;
    let title = s
        .quiz_title
        .clone()
        .or_else(|| s.parcours_title.clone())
        .unwrap_or_else(|| "Séance".to_owned());
    let page = LivePage {
        chrome: Chrome::new(format!("Séance — {title}"), &session),
        session_id: s.id.clone(),
        title,
        class_name: s.class.name.clone(),
        teacher: s.teacher.display_name.clone(),
        started: date_time(s.started_at),
        active: s.active,
        tiles,
    };
    respond(StatusCode::OK, page.render())
}

/// The sentences for the pupils whose status changed between two boards.
fn announcements(before: &HashMap<String, String>, board: &BoardData) -> Vec<String> {
    board
        .rows
        .iter()
        .filter(|r| before.get(&r.pupil.id).is_some_and(|s| *s != r.status))
        .map(|r| {
            format!(
                "{} : {}",
                r.pupil
                    .display_name
                    .clone()
                    .unwrap_or_else(|| "un élève".to_owned()),
                status_words(&r.status).1
            )
        })
        .collect()
}

pub async fn stream(
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Response {
    let session = match signed(&pages, &headers).await {
        Ok(s) => s,
        Err(_) => return (StatusCode::UNAUTHORIZED, "session terminée").into_response(),
    };
    let cookie = super::request_cookie(&headers, session::COOKIE)
        .unwrap_or_default()
        .to_owned();
    let request = Request::new(query_text("subscription"))
        .variables(Variables::from_json(
            serde_json::json!({ "id": session_id }),
        ))
        .data(session.identity.clone());
    let boards = pages.app.schema.execute_stream(request);
    // A tick every 15 s ends the stream once the session is over, even when nothing moves.
    let ticks =
        tokio_stream::wrappers::IntervalStream::new(tokio::time::interval(Duration::from_secs(15)))
            .map(|_| None);
    let merged = futures::stream::select(boards.map(Some), ticks);
    let mut statuses: HashMap<String, String> = HashMap::new();
    let watcher = pages.clone();
    let events =
        merged
            .take_while(move |_| {
                let watcher = watcher.clone();
                let cookie = cookie.clone();
                async move { watcher.session_of(&cookie).await.is_some() }
            })
            .filter_map(move |item| {
                let events = match item {
                    None => Vec::new(),
                    Some(response) if !response.errors.is_empty() => {
                        vec![Event::default()
                            .event("fin")
                            .data("La séance n'est plus accessible.")]
                    }
                    Some(response) => match response
                        .data
                        .into_json()
                        .ok()
                        .and_then(|d| serde_json::from_value::<Answer>(d).ok())
                    {
                        Some(answer) => {
                            let board = answer.live_board;
                            let mut out = Vec::new();
                            if let Ok(html) = tiles_of(&board).render() {
                                out.push(
                                    Event::default()
                                        .event("tableau")
                                        .data(html.replace('\n', " ")),
                                );
                            }
                            let said = announcements(&statuses, &board);
                            if !said.is_empty() {
                                out.push(Event::default().event("annonce").data(said.join(" ; ")));
                            }
                            statuses = board
                                .rows
                                .iter()
                                .map(|r| (r.pupil.id.clone(), r.status.clone()))
                                .collect();
                            out
                        }
                        None => Vec::new(),
                    },
                };
                futures::future::ready((!events.is_empty()).then(|| {
                    futures::stream::iter(events.into_iter().map(Ok::<Event, Infallible>))
                }))
            })
            .flatten();
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    secure_headers(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(statuses: &[(&str, &str, Option<&str>)], rates: &[(i64, Option<f64>)]) -> BoardData {
        let rows: Vec<serde_json::Value> = statuses
            .iter()
            .map(|(id, status, last)| serde_json::json!({
                "pupil": { "id": id, "displayName": format!("ÉLÈVE {id}") },
                "status": status,
                "parcours": { "stallReason": null, "stepsDone": 1, "stepsTotal": 4, "currentStep": { "title": "Vidéo" },
                    "failuresOnCurrent": 0, "lastProgressAt": last, "timeMs": 90_000 },
                "qcm": null,
            }))
            .collect();
        let questions: Vec<serde_json::Value> = rates
            .iter()
            .map(|(n, r)| serde_json::json!({ "number": n, "pupilsAnswered": 3, "answers": 4, "correctAnswers": 2, "correctRate": r }))
            .collect();
        serde_json::from_value(serde_json::json!({
            "session": { "id": "s", "class": { "name": "2nde 1" }, "teacher": { "displayName": "M. Roy" },
                "quizTitle": null, "parcoursTitle": "Fractions", "startedAt": "2026-03-12T08:00:00Z", "active": true },
            "now": "2026-03-12T08:10:00Z",
            "counts": { "notStarted": 0, "progressing": 2, "stalled": 1, "finished": 0, "finishedEarly": 0 },
            "rows": rows,
            "quiz": { "questions": questions },
        }))
        .expect("a board")
    }

    #[test]
    fn stalled_pupils_come_first_and_the_hardest_question_too() {
        let b = board(
            &[
                ("a", "PROGRESSING", Some("2026-03-12T08:09:18Z")),
                ("b", "STALLED", Some("2026-03-12T08:02:00Z")),
                ("c", "PROGRESSING", None),
            ],
            &[(1, Some(0.8)), (2, None), (3, Some(0.25))],
        );
        let tiles = tiles_of(&b);
        let order: Vec<&str> = tiles.tiles.iter().map(|t| t.pupil_id.as_str()).collect();
        assert_eq!(order, ["b", "a", "c"]);
        assert_eq!(tiles.tiles[0].label, "bloqué");
        assert_eq!(tiles.tiles[0].icon, "⚠");
        // 08:10:00 − 08:09:18 = 42 s; 8 minutes for the stalled one.
        assert_eq!(
            tiles.tiles[1].last_activity,
            "dernière activité il y a 42 s"
        );
        assert_eq!(
            tiles.tiles[0].last_activity,
            "dernière activité il y a 8 min"
        );
        assert_eq!(tiles.tiles[2].last_activity, "aucune activité");
        assert_eq!(tiles.tiles[1].step, "Étape 2/4 : Vidéo");
        assert_eq!(tiles.tiles[1].time, "1,5 min");
        let questions: Vec<(i64, &str)> = tiles
            .questions
            .iter()
            .map(|q| (q.number, q.rate.as_str()))
            .collect();
        assert_eq!(
            questions,
            [
                (3, "25 % de bonnes réponses"),
                (1, "80 % de bonnes réponses"),
                (2, "pas encore de réponse")
            ]
        );
    }

    #[test]
    fn a_change_of_status_is_announced_by_name() {
        let before = board(
            &[("a", "PROGRESSING", None), ("b", "PROGRESSING", None)],
            &[],
        );
        let statuses: HashMap<String, String> = before
            .rows
            .iter()
            .map(|r| (r.pupil.id.clone(), r.status.clone()))
            .collect();
        let after = board(&[("a", "PROGRESSING", None), ("b", "STALLED", None)], &[]);
        assert_eq!(announcements(&statuses, &after), ["ÉLÈVE b : bloqué"]);
        assert!(announcements(&statuses, &before).is_empty());
        // The first board announces nothing: there was no status before.
        assert!(announcements(&HashMap::new(), &after).is_empty());
    }
}
