//! `GET /famille` (a guardian: each of their children in turn) and `GET /moi` (a pupil):
//! the latest grades, the period's averages beside the class's, absences and lateness,
//! homework, competencies, and "Nouveau depuis votre dernière visite" — what changed
//! since this person last opened the page, each line naming the child, a grade corrected
//! twice shown once with its last value. The data is the families' view of the API:
//! withheld results stay hidden, class figures of small groups too.

use super::sheet::{Answer, Grade, PupilData, PUPIL_FIELDS};
use super::{avg, failure, respond, signed, Chrome};
use crate::api;
use crate::session::Session;
use crate::Pages;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use suivi_domain::Role;
use suivi_present::format::{date, date_time};

const FAMILY: &str = "{ family { id displayName } }";

const QUERY: &str = "query($id: ID!, $period: String, $asOf: DateTime) {
  pupil(id: $id, asOf: $asOf) { PUPIL_FIELDS }
}";

#[derive(Deserialize)]
struct Family {
    family: Vec<Member>,
}

#[derive(Deserialize)]
struct Member {
    id: String,
}

/// A grade as the family page lists it.
pub struct GradeLine {
    pub subject: String,
    pub title: String,
    pub date: String,
    pub coefficient: String,
    pub shown: String,
    pub class_mean: String,
}

pub struct Child {
    pub pupil: PupilData,
    pub latest: Vec<GradeLine>,
}

impl Child {
    pub fn homework_of(&self, status: &str) -> Vec<&super::sheet::HomeworkLine> {
        self.pupil
            .homework
            .iter()
            .filter(|h| h.status.status == status)
            .collect()
    }
}

#[derive(Template)]
#[template(path = "famille.html")]
struct FamilyPage {
    chrome: Chrome,
    heading: String,
    first_visit: bool,
    since: String,
    news: Vec<String>,
    children: Vec<Child>,
}

async fn load(
    pages: &Pages,
    session: &Session,
    pupil: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<PupilData, Response> {
    let query = QUERY.replace("PUPIL_FIELDS", PUPIL_FIELDS);
    let variables = serde_json::json!({
        "id": pupil,
        "period": null,
        "asOf": as_of.map(|t| t.to_rfc3339()),
    });
    api::query::<Answer>(&pages.app.schema, &session.identity, &query, variables)
        .await
        .map(|a| a.pupil)
        .map_err(failure)
}

fn grades_by_id(pupil: &PupilData) -> HashMap<&str, (&str, &Grade)> {
    pupil
        .grades
        .iter()
        .flat_map(|s| {
            let subject = s.subject.as_ref().map_or("", |x| x.name.as_str());
            s.grades
                .iter()
                .map(move |g| (g.assessment_id.as_str(), (subject, g)))
        })
        .collect()
}

/// What changed for one child between two views of their file, in French, naming them.
pub fn changes(child: &str, before: &PupilData, now: &PupilData) -> Vec<String> {
    let mut out = Vec::new();
    let old = grades_by_id(before);
    let mut new: Vec<(&str, (&str, &Grade))> = grades_by_id(now).into_iter().collect();
    new.sort_by_key(|(_, (_, g))| (g.date, g.assessment_id.clone()));
    for (id, (subject, grade)) in new {
        match old.get(id) {
            None => out.push(format!(
                "{child} — nouvelle note en {subject} : {} ({}), {}",
                grade.title_or_default(),
                date(grade.date),
                grade.shown()
            )),
            Some((_, was)) if was.shown() != grade.shown() => out.push(format!(
                "{child} — note corrigée en {subject} : {} ({}), désormais {}",
                grade.title_or_default(),
                date(grade.date),
                grade.shown()
            )),
            Some(_) => {}
        }
    }
    let old_records: HashMap<&str, bool> = before
        .attendance_records
        .iter()
        .map(|r| (r.id.as_str(), r.justified))
        .collect();
    for record in &now.attendance_records {
        match old_records.get(record.id.as_str()) {
            None => out.push(format!("{child} — {}", record.shown())),
            Some(false) if record.justified => out.push(format!(
                "{child} — désormais justifiée : {}",
                record.shown()
            )),
            Some(_) => {}
        }
    }
    let old_homework: HashMap<&str, &str> = before
        .homework
        .iter()
        .map(|h| (h.homework_id.as_str(), h.status.status.as_str()))
        .collect();
    for h in &now.homework {
        let line = format!(
            "{} en {}, à rendre le {}",
            h.title_or_default(),
            h.subject.name,
            h.due()
        );
        match old_homework.get(h.homework_id.as_str()) {
            None => out.push(format!(
                "{child} — nouveau devoir : {line} ({})",
                h.status_text()
            )),
            Some(was) if *was != h.status.status => {
                out.push(format!("{child} — devoir {} : {line}", h.status_text()))
            }
            Some(_) => {}
        }
    }
    let old_competencies: HashMap<(&str, &str), Option<&super::sheet::CompetencyMark>> = before
        .competencies
        .iter()
        .map(|c| {
            (
                (c.framework_id.as_str(), c.component.as_str()),
                c.latest.as_ref(),
            )
        })
        .collect();
    for c in &now.competencies {
        let key = (c.framework_id.as_str(), c.component.as_str());
        if c.latest.is_some() && old_competencies.get(&key).copied().flatten() != c.latest.as_ref()
        {
            out.push(format!(
                "{child} — compétence « {} » : {}",
                c.name(),
                c.level_text()
            ));
        }
    }
    out
}

fn latest_grades(pupil: &PupilData) -> Vec<GradeLine> {
    let mut all: Vec<(&str, Option<f64>, &Grade)> = pupil
        .grades
        .iter()
        .flat_map(|s| {
            let subject = s.subject.as_ref().map_or("", |x| x.name.as_str());
            let mean = s.class.map(|c| c.mean);
            s.grades.iter().map(move |g| (subject, mean, g))
        })
        .collect();
    all.sort_by_key(|g| std::cmp::Reverse(g.2.date));
    all.into_iter()
        .take(10)
        .map(|(subject, mean, g)| GradeLine {
            subject: subject.to_owned(),
            title: g.title_or_default(),
            date: date(g.date),
            coefficient: suivi_present::format::decimal(g.coefficient),
            shown: g.shown(),
            class_mean: avg(mean),
        })
        .collect()
}

async fn family_page(pages: Arc<Pages>, headers: HeaderMap, role: Role) -> Response {
    let session = match signed(&pages, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if session.identity.role != role {
        return Redirect::to(super::home_of(session.identity.role)).into_response();
    }
    let family: Family = match api::query(
        &pages.app.schema,
        &session.identity,
        FAMILY,
        serde_json::json!({}),
    )
    .await
    {
        Ok(f) => f,
        Err(f) => return failure(f),
    };
    let now = Utc::now();
    let last = pages
        .visits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .visit(session.identity.subject_id, now);
    let mut children = Vec::new();
    let mut news = Vec::new();
    for member in &family.family {
        let pupil = match load(&pages, &session, &member.id, None).await {
            Ok(p) => p,
            Err(r) => return r,
        };
        if let Some(last) = last {
            let before = match load(&pages, &session, &member.id, Some(last)).await {
                Ok(p) => p,
                Err(r) => return r,
            };
            news.extend(changes(&pupil.name(), &before, &pupil));
        }
        children.push(Child {
            latest: latest_grades(&pupil),
            pupil,
        });
    }
    let heading = match role {
        Role::Pupil => "Mon suivi".to_owned(),
        _ => "Suivi de mes enfants".to_owned(),
    };
    let page = FamilyPage {
        chrome: Chrome::new(heading.clone(), &session),
        heading,
        first_visit: last.is_none(),
        since: last.map(date_time).unwrap_or_default(),
        news,
        children,
    };
    respond(StatusCode::OK, page.render())
}

pub async fn guardian(State(pages): State<Arc<Pages>>, headers: HeaderMap) -> Response {
    family_page(pages, headers, Role::Guardian).await
}

pub async fn pupil(State(pages): State<Arc<Pages>>, headers: HeaderMap) -> Response {
    family_page(pages, headers, Role::Pupil).await
}
