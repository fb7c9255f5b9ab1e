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
    /// Whether an instant falls in the period shown (every instant without a period).
    fn in_period(&self, at: DateTime<Utc>) -> bool {
        let day = suivi_present::paris::from_utc(at).date();
        self.pupil
            .period
            .as_ref()
            .is_none_or(|p| p.starts_on <= day && day <= p.ends_on)
    }

    /// The period's homework of a status; homework still to do whatever its due date.
    pub fn homework_of(&self, status: &str) -> Vec<&super::sheet::HomeworkLine> {
        self.pupil
            .homework
            .iter()
            .filter(|h| h.status.status == status)
            .filter(|h| status == "PENDING" || self.in_period(h.due_at))
            .collect()
    }

    /// The period's absences and latenesses, latest first.
    pub fn records(&self) -> Vec<&super::sheet::AttendanceRecord> {
        let mut records: Vec<_> = self
            .pupil
            .attendance_records
            .iter()
            .filter(|r| self.in_period(r.at))
            .collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.at));
        records
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
    static PUPIL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| QUERY.replace("PUPIL_FIELDS", PUPIL_FIELDS));
    let variables = serde_json::json!({
        "id": pupil,
        "period": null,
        "asOf": as_of.map(|t| t.to_rfc3339()),
    });
    api::query::<Answer>(
        &pages.app.schema,
        &session.identity,
        PUPIL.as_str(),
        variables,
    )
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
    let session = match signed(&pages, &headers).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pupil(
        grades: serde_json::Value,
        records: serde_json::Value,
        homework: serde_json::Value,
        level: Option<i64>,
    ) -> PupilData {
        serde_json::from_value(serde_json::json!({
            "id": "p", "externalId": null, "displayName": "MARTIN Léa", "class": null, "period": null,
            "average": null, "classAverage": null,
            "grades": [{ "subject": { "name": "Mathématiques" }, "average": null, "class": null, "grades": grades }],
            "absences": { "halfDays": 0, "halfDaysJustified": 0, "halfDaysUnjustified": 0, "latenesses": 0, "latenessesUnjustified": 0, "latenessMinutes": 0 },
            "attendanceRecords": records,
            "homework": homework,
            "homeworkSummary": { "onTime": 0, "late": 0, "missing": 0, "pending": 0 },
            "competencies": [{ "frameworkId": "f", "component": "D1.3", "label": "Langages mathématiques",
                "latest": level.map(|l| serde_json::json!({ "level": l, "levelLabel": null, "on": "2026-03-02" })) }],
        }))
        .expect("a pupil")
    }

    fn grade(id: &str, title: &str, score: &str, corrections: i64) -> serde_json::Value {
        serde_json::json!({ "assessmentId": id, "title": title, "date": "2026-03-12", "scale": 20,
            "coefficient": 1.0, "score": score, "mark": null, "corrections": corrections })
    }

    #[test]
    fn what_changed_is_said_once_naming_the_child() {
        let absence = |justified| {
            serde_json::json!([{ "id": "a1", "kind": "ABSENCE", "justified": justified,
            "at": "2026-03-10T07:00:00Z", "halfDays": 2, "minutes": null }])
        };
        let before = pupil(
            serde_json::json!([grade("g1", "DS 1", "12", 0), grade("g2", "DM 2", "14", 0)]),
            absence(false),
            serde_json::json!([]),
            Some(2),
        );
        // Since then: DS 1 corrected twice (12 → 13 → 15.5), DM 2 unchanged, a new DS 3,
        // the absence justified, a homework set, the competency assessed again.
        let now = pupil(
            serde_json::json!([
                grade("g1", "DS 1", "15.5", 2),
                grade("g2", "DM 2", "14", 0),
                grade("g3", "DS 3", "9", 0)
            ]),
            absence(true),
            serde_json::json!([{ "homeworkId": "h1", "title": "Exercices 4 à 9", "subject": { "name": "Mathématiques" },
                "dueAt": "2026-03-20T07:00:00Z", "status": { "status": "PENDING" } }]),
            Some(3),
        );
        let said = changes("MARTIN Léa", &before, &now);
        assert_eq!(
            said,
            [
                "MARTIN Léa — note corrigée en Mathématiques : DS 1 (12 mars 2026), désormais 15,5/20",
                "MARTIN Léa — nouvelle note en Mathématiques : DS 3 (12 mars 2026), 9/20",
                "MARTIN Léa — désormais justifiée : Absence (2 demi-journées) le 10 mars 2026 à 8 h 00, justifiée",
                "MARTIN Léa — nouveau devoir : Exercices 4 à 9 en Mathématiques, à rendre le 20 mars 2026 à 8 h 00 (à faire)",
                "MARTIN Léa — compétence « Langages mathématiques » : maîtrise satisfaisante",
            ]
        );
        // Nothing changed: nothing said.
        assert!(changes("MARTIN Léa", &now, &now).is_empty());
    }
}
