//! Small objects every dashboard shows (a pupil, a subject, a period, a class), and the
//! lookups that resolve a query's arguments within the request's school.

use crate::answers::{self, ClockUse};
use crate::context::services;
use crate::errors::{bad_input, coded, parse_id, NOT_FOUND};
use crate::identity::identity;
use crate::schema::types::SubjectKindGql;
use crate::scope::Scope;
use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use suivi_domain::ids::*;
use suivi_domain::reference::PeriodKind;
use suivi_projections::reference::{ClassInfo, PeriodInfo};
use suivi_projections::{Ratio, ReadModels, Spread};

/// Rounded to two decimals, half away from zero (the bulletin's rounding).
pub fn round(r: Ratio) -> f64 {
    r.rounded()
}

pub fn round_opt(r: Option<Ratio>) -> Option<f64> {
    r.map(round)
}

/// Mean, lowest and highest of a set of values, with how many there are.
#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "Spread")]
pub struct SpreadView {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub count: u32,
}

impl From<Spread> for SpreadView {
    fn from(s: Spread) -> Self {
        SpreadView {
            mean: round(s.mean),
            min: round(s.min),
            max: round(s.max),
            count: s.count,
        }
    }
}

/// A pupil as every dashboard lists them. The name is opened at read time with the
/// pupil's key ("Élève effacé" once erased).
#[derive(Clone)]
pub struct PupilRef {
    pub models: Arc<ReadModels>,
    pub pupil_id: PupilId,
}

#[Object(name = "PupilRef")]
impl PupilRef {
    async fn id(&self) -> ID {
        ID(self.pupil_id.to_string())
    }

    async fn external_id(&self) -> Option<String> {
        self.models
            .reference()
            .pupil(self.pupil_id)
            .map(|p| p.external_id.clone())
    }

    /// "NOM Prénom".
    async fn display_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        services(ctx)?
            .display_name(&self.models, self.pupil_id)
            .await
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Subject")]
pub struct SubjectRef {
    pub id: ID,
    pub name: String,
    pub kind: Option<SubjectKindGql>,
    /// Weight in the general average.
    pub coefficient: Option<f64>,
}

impl SubjectRef {
    pub fn of(models: &ReadModels, subject: SubjectId) -> SubjectRef {
        let info = models.reference().subject(subject);
        SubjectRef {
            id: ID(subject.to_string()),
            name: info.map_or_else(|| subject.to_string(), |s| s.name.clone()),
            kind: info.map(|s| s.kind.into()),
            coefficient: info.map(|s| s.coefficient.0.as_f64()),
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKindGql {
    Trimestre,
    Semestre,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Period")]
pub struct PeriodRef {
    pub id: ID,
    pub name: String,
    pub kind: PeriodKindGql,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

impl From<&PeriodInfo> for PeriodRef {
    fn from(p: &PeriodInfo) -> Self {
        PeriodRef {
            id: ID(p.period_id.to_string()),
            name: p.name.clone(),
            kind: match p.kind {
                PeriodKind::Trimestre => PeriodKindGql::Trimestre,
                PeriodKind::Semestre => PeriodKindGql::Semestre,
            },
            starts_on: p.starts_on,
            ends_on: p.ends_on,
        }
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "ClassRef")]
pub struct ClassRef {
    pub id: ID,
    pub name: String,
}

impl ClassRef {
    pub fn of(models: &ReadModels, class: ClassId) -> ClassRef {
        ClassRef {
            id: ID(class.to_string()),
            name: models
                .reference()
                .class(class)
                .map_or_else(|| class.to_string(), |c| c.name.clone()),
        }
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Teacher")]
pub struct TeacherRef {
    pub id: ID,
    pub display_name: String,
}

impl TeacherRef {
    pub fn of(models: &ReadModels, teacher: TeacherId) -> TeacherRef {
        TeacherRef {
            id: ID(teacher.to_string()),
            display_name: models
                .reference()
                .teacher(teacher)
                .map_or_else(|| teacher.to_string(), |t| t.display_name.clone()),
        }
    }
}

/// The request's school.
/// A board's rows show each of `pupils`' data: journaled for staff, as one read each
/// (`Services::journal_reads`).
pub async fn journal_rows(ctx: &Context<'_>, pupils: &[PupilId]) -> Result<()> {
    services(ctx)?.journal_reads(identity(ctx)?, pupils).await
}

pub fn school(ctx: &Context<'_>) -> Result<SchoolId> {
    Ok(identity(ctx)?.school_id)
}

/// The instant time-dependent figures are computed at: `asOf`, or now. Resolvers read
/// the clock only through this, which tells the answer cache (`crate::answers`) how an
/// answer depends on it: `date()` for the day alone, `instant()` to the instant. With
/// `asOf` the answer does not depend on the clock at all.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    as_of: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
}

impl Now {
    pub fn of(as_of: Option<DateTime<Utc>>) -> Now {
        Now {
            as_of,
            at: as_of.unwrap_or_else(Utc::now),
        }
    }

    /// The day (UTC) figures are computed on: which class year, which period, which roster.
    pub fn date(&self) -> NaiveDate {
        if self.as_of.is_none() {
            answers::clock_read(ClockUse::Day);
        }
        self.at.date_naive()
    }

    /// The instant itself: lateness, live statuses, time since the last progress.
    pub fn instant(&self) -> DateTime<Utc> {
        if self.as_of.is_none() {
            answers::clock_read(ClockUse::Instant);
        }
        self.at
    }
}

/// A class of the request's school, by id or by name. Several classes may share a name
/// across school years: the one whose year holds `date` wins, else the latest.
pub fn find_class<'a>(
    models: &'a ReadModels,
    scope: &Scope,
    name_or_id: &str,
    date: NaiveDate,
) -> Result<&'a ClassInfo> {
    let reference = models.reference();
    let wanted = name_or_id.trim();
    // A role that never reads classes is refused before anything is looked up.
    scope.class_reads()?;
    if let Ok(id) = wanted.parse::<ClassId>() {
        let id = scope.class(models, Some(id), "class", id)?;
        return reference
            .class(id)
            .ok_or_else(|| coded(NOT_FOUND, format!("unknown class {id}")));
    }
    // Classes out of reach are not candidates: their names say nothing either.
    let mut matches: Vec<&ClassInfo> = reference
        .classes_of(scope.school())
        .into_iter()
        .filter(|c| scope.sees_class(models, c.class_id))
        .filter(|c| c.name == wanted || c.name.eq_ignore_ascii_case(wanted))
        .collect();
    let year_start = |c: &ClassInfo| reference.year(c.year_id).map(|y| y.starts_on);
    if let Some(current) = matches.iter().copied().find(|c| {
        reference
            .year(c.year_id)
            .is_some_and(|y| y.starts_on <= date && date <= y.ends_on)
    }) {
        return Ok(current);
    }
    matches.sort_by_key(|c| year_start(c));
    matches
        .pop()
        .ok_or_else(|| coded(NOT_FOUND, format!("no class named {wanted:?}")))
}

/// A class within the request's scope, by id (`NOT_FOUND` like an unknown one otherwise).
pub fn class_by_id<'a>(models: &'a ReadModels, scope: &Scope, id: &ID) -> Result<&'a ClassInfo> {
    let class: ClassId = parse_id("classId", id)?;
    let class = scope.class(models, Some(class), "class", class)?;
    models
        .reference()
        .class(class)
        .ok_or_else(|| coded(NOT_FOUND, format!("unknown class {class}")))
}

/// The period a class dashboard shows: the one named or given by id, else the period of
/// the class's year holding `date`, else the latest one started by then, else the first.
pub fn resolve_period(
    models: &ReadModels,
    class: &ClassInfo,
    wanted: Option<&str>,
    date: NaiveDate,
) -> Result<Option<PeriodId>> {
    let periods: Vec<&PeriodInfo> = models
        .reference()
        .periods_of(class.school_id)
        .into_iter()
        .filter(|p| p.year_id == class.year_id)
        .collect();
    if let Some(wanted) = wanted {
        let wanted = wanted.trim();
        if wanted.is_empty() {
            return Err(bad_input("period must not be empty"));
        }
        return periods
            .iter()
            .find(|p| {
                p.period_id.to_string() == wanted
                    || p.name == wanted
                    || p.name.eq_ignore_ascii_case(wanted)
            })
            .map(|p| Some(p.period_id))
            .ok_or_else(|| {
                coded(
                    NOT_FOUND,
                    format!(
                        "class {} has no period {wanted:?} (its periods: {})",
                        class.name,
                        periods
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            });
    }
    Ok(periods
        .iter()
        .find(|p| p.contains(date))
        .or_else(|| periods.iter().rev().find(|p| p.starts_on <= date))
        .or_else(|| periods.first())
        .map(|p| p.period_id))
}
