//! The figures of one conseil de classe, gathered from polars over the log (as of the
//! requested instant), never from the projections.

use super::names::{PupilNames, ERASED};
use super::risk::{BatchRiskFigures, Risk};
use crate::error::{AnalyticsError, Result};
use crate::figures::attendance::{self, AttendanceFig};
use crate::figures::catalog::Catalog;
use crate::figures::competencies::levels_by_period;
use crate::figures::enrolments::Enrolments;
use crate::figures::grades::{profile_of, GradeFigures, Profile, Scope};
use crate::figures::homework::{self, HomeworkFig};
use crate::figures::qcm::{self, EngagementFig};
use crate::figures::Spread;
use crate::log::{epoch_days, Log};
use chrono::{DateTime, NaiveDate, Utc};
use suivi_domain::ids::*;
use suivi_domain::reference::{SubjectKind, SOCLE_COMMUN_COMPONENTS, SOCLE_COMMUN_ID};

/// Which conseil: a class and a period by name (or id), as of an instant.
#[derive(Clone, Debug)]
pub struct ConseilRequest {
    pub class: String,
    pub period: String,
    /// The log as it stood then (the day of the conseil); the whole log when `None`.
    pub as_of: Option<DateTime<Utc>>,
    /// The instant homework status is judged at when there is no `as_of`.
    pub now: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct SubjectLine {
    pub subject_id: SubjectId,
    pub name: String,
    pub kind: Option<SubjectKind>,
    pub coefficient: f64,
    pub teachers: Vec<String>,
    pub class: Option<Spread>,
}

#[derive(Clone, Debug)]
pub struct CompetencyLine {
    pub code: &'static str,
    pub label: &'static str,
    pub level: Option<u32>,
    pub class_mean: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct PupilSheet {
    pub pupil_id: PupilId,
    pub name: String,
    pub external_id: String,
    /// One per subject of `ConseilData::subjects`, in that order.
    pub averages: Vec<Option<f64>>,
    pub general: Option<f64>,
    pub previous_general: Option<f64>,
    pub general_mean: Option<f64>,
    pub vocational_mean: Option<f64>,
    pub profile: Profile,
    pub attendance: AttendanceFig,
    pub homework: HomeworkFig,
    pub qcm: EngagementFig,
    pub competencies: Vec<CompetencyLine>,
    pub risk: Risk,
}

#[derive(Clone, Debug)]
pub struct ConseilData {
    pub school: String,
    pub class_id: ClassId,
    pub class_name: String,
    pub period_id: PeriodId,
    pub period_name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub head_teacher: Option<String>,
    pub as_of: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    /// General subjects first, then vocational, each by name.
    pub subjects: Vec<SubjectLine>,
    pub general_class: Option<Spread>,
    /// By name.
    pub pupils: Vec<PupilSheet>,
    /// QCMs of the class with an attempt in the period.
    pub quizzes_in_period: u32,
}

/// The class and period a request names, and the pupils of the class during the period.
pub(crate) struct Resolved {
    pub class: u32,
    pub period: u32,
    pub pupils: Vec<u32>,
}

fn matches(name: &str, wanted: &str, key: u32, log: &Log) -> bool {
    name.trim().eq_ignore_ascii_case(wanted.trim())
        || log.ids.uuid(key).to_string() == wanted.trim()
}

pub(crate) fn resolve(
    log: &Log,
    catalog: &Catalog,
    enrolments: &Enrolments,
    req: &ConseilRequest,
) -> Result<Resolved> {
    let mut classes: Vec<(&u32, &String)> =
        catalog.classes.iter().map(|(k, c)| (k, &c.name)).collect();
    classes.sort_by(|a, b| a.1.cmp(b.1));
    let class = classes
        .iter()
        .find(|(k, name)| matches(name, &req.class, **k, log))
        .map(|(k, _)| **k)
        .ok_or_else(|| AnalyticsError::UnknownClass {
            name: req.class.clone(),
            known: classes
                .iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let info = &catalog.classes[&class];
    let mut periods: Vec<(&u32, &crate::figures::catalog::PeriodRow)> = catalog
        .periods
        .iter()
        .filter(|(_, p)| p.school == info.school && p.year == info.year)
        .collect();
    periods.sort_by_key(|(_, p)| p.starts_on);
    let period = periods
        .iter()
        .find(|(k, p)| matches(&p.name, &req.period, **k, log))
        .map(|(k, _)| **k)
        .ok_or_else(|| AnalyticsError::UnknownPeriod {
            name: req.period.clone(),
            class: info.name.clone(),
            known: periods
                .iter()
                .map(|(_, p)| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let p = &catalog.periods[&period];
    let pupils = enrolments.members_during(
        class,
        i64::from(epoch_days(p.starts_on)),
        i64::from(epoch_days(p.ends_on)),
    );
    Ok(Resolved {
        class,
        period,
        pupils,
    })
}

/// The period before `period` in the same year and of the same kind, for the trend.
pub(crate) fn previous_period(catalog: &Catalog, period: u32) -> Option<u32> {
    let row = catalog.periods.get(&period)?;
    catalog
        .periods
        .iter()
        .filter(|(_, p)| {
            p.school == row.school
                && p.year == row.year
                && p.kind == row.kind
                && p.ends_on < row.starts_on
        })
        .max_by_key(|(_, p)| p.starts_on)
        .map(|(k, _)| *k)
}

/// A period's days as UTC milliseconds, `[first day 00:00, day after the last 00:00)`.
pub(crate) fn period_window(row: &crate::figures::catalog::PeriodRow) -> (i64, i64) {
    let from_ms = row
        .starts_on
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    let to_ms = row
        .ends_on
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(i64::MAX, |t| t.and_utc().timestamp_millis());
    (from_ms, to_ms)
}

/// Gathers the figures. `log` is already cut as of the request's instant.
pub(crate) fn gather(log: &Log, req: &ConseilRequest, names: &PupilNames) -> Result<ConseilData> {
    let catalog = Catalog::of(log)?;
    let enrolments = Enrolments::of(log)?;
    let r = resolve(log, &catalog, &enrolments, req)?;
    let class_row = &catalog.classes[&r.class];
    let period_row = &catalog.periods[&r.period];
    let now = req.as_of.unwrap_or(req.now);

    let grades = GradeFigures::compute(
        log,
        Scope {
            class: Some(r.class),
            period: None,
        },
    )?;
    let previous = previous_period(&catalog, r.period);

    let mut subjects: Vec<SubjectLine> = grades
        .class_subject
        .iter()
        .filter(|((c, p, _), _)| *c == r.class && *p == r.period)
        .map(|((_, _, s), spread)| {
            let row = catalog.subjects.get(s);
            SubjectLine {
                subject_id: SubjectId(log.ids.uuid(*s)),
                name: row.map_or_else(|| "Matière inconnue".to_owned(), |x| x.name.clone()),
                kind: row.and_then(|x| x.kind),
                coefficient: row.map_or(1.0, |x| f64::from(x.coefficient) / 100.0),
                teachers: catalog
                    .teachers_of(r.class, *s)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                class: Some(*spread),
            }
        })
        .collect();
    subjects.sort_by(|a, b| {
        let rank = |k: Option<SubjectKind>| match k {
            Some(SubjectKind::General) => 0,
            Some(SubjectKind::Vocational) => 1,
            None => 2,
        };
        (rank(a.kind), &a.name).cmp(&(rank(b.kind), &b.name))
    });

    let attendance = attendance::by_pupil_period(log, Some(&r.pupils))?;
    let homework = homework::by_pupil_period(log, now)?;
    let (from_ms, to_ms) = period_window(period_row);
    let engagement = qcm::engagement(log, r.class, from_ms, to_ms)?;
    let levels = match log.key(&SOCLE_COMMUN_ID.0) {
        Some(socle) => levels_by_period(log, socle)?,
        None => Default::default(),
    };
    let class_attempts: Vec<u32> = r
        .pupils
        .iter()
        .map(|u| engagement.get(u).map_or(0, |e| e.attempts))
        .collect();

    let mut pupils = Vec::with_capacity(r.pupils.len());
    for u in &r.pupils {
        let pupil_id = log.pupil_id(*u);
        let averages: Vec<Option<f64>> = subjects
            .iter()
            .map(|s| {
                let k = log.key(&s.subject_id.0).unwrap_or(u32::MAX);
                grades
                    .pupil_subject
                    .get(&(r.class, r.period, k, *u))
                    .copied()
            })
            .collect();
        let (general_mean, vocational_mean) = grades
            .profile
            .get(&(r.class, r.period, *u))
            .copied()
            .unwrap_or((None, None));
        let attendance = attendance.get(&(*u, r.period)).copied().unwrap_or_default();
        let homework = homework.get(&(*u, r.period)).copied().unwrap_or_default();
        let qcm = engagement.get(u).copied().unwrap_or_default();
        let competencies: Vec<CompetencyLine> = SOCLE_COMMUN_COMPONENTS
            .iter()
            .map(|(code, label)| {
                let class_levels: Vec<f64> = r
                    .pupils
                    .iter()
                    .filter_map(|m| levels.get(&(*m, r.period, (*code).to_owned())))
                    .map(|l| f64::from(*l))
                    .collect();
                CompetencyLine {
                    code,
                    label,
                    level: levels.get(&(*u, r.period, (*code).to_owned())).copied(),
                    class_mean: (!class_levels.is_empty())
                        .then(|| class_levels.iter().sum::<f64>() / class_levels.len() as f64),
                }
            })
            .collect();
        let general = grades.general.get(&(r.class, r.period, *u)).copied();
        let previous_general =
            previous.and_then(|p| grades.general.get(&(r.class, p, *u)).copied());
        let risk = BatchRiskFigures {
            general,
            previous_general,
            subject_averages: &averages,
            attendance: &attendance,
            homework: &homework,
            qcm_attempts: qcm.attempts,
            class_attempts: class_attempts.clone(),
            competencies_insufficient: competencies.iter().filter(|c| c.level == Some(1)).count(),
        }
        .assess();
        pupils.push(PupilSheet {
            pupil_id,
            name: names
                .get(&pupil_id)
                .cloned()
                .unwrap_or_else(|| ERASED.to_owned()),
            external_id: catalog.pupils.get(u).cloned().unwrap_or_default(),
            averages,
            general,
            previous_general,
            general_mean,
            vocational_mean,
            profile: profile_of(general_mean, vocational_mean),
            attendance,
            homework,
            qcm,
            competencies,
            risk,
        });
    }
    // Alphabetical, erased pupils last.
    pupils.sort_by(|a, b| ((a.name == ERASED), &a.name).cmp(&((b.name == ERASED), &b.name)));

    Ok(ConseilData {
        school: catalog
            .schools
            .get(&class_row.school)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        class_id: ClassId(log.ids.uuid(r.class)),
        class_name: class_row.name.clone(),
        period_id: PeriodId(log.ids.uuid(r.period)),
        period_name: period_row.name.clone(),
        starts_on: period_row.starts_on,
        ends_on: period_row.ends_on,
        head_teacher: catalog
            .head_teacher
            .get(&r.class)
            .and_then(|t| catalog.teachers.get(t))
            .cloned(),
        as_of: req.as_of,
        now,
        subjects,
        general_class: grades.general_class.get(&(r.class, r.period)).copied(),
        pupils,
        quizzes_in_period: engagement
            .values()
            .map(|e| e.quizzes_tried)
            .max()
            .unwrap_or(0),
    })
}
