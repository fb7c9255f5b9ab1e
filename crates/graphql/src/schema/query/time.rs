//! Time on task over a date range, in total or per day or week.

use super::common::{journal_rows, PupilRef};
use crate::errors::{bad_input, parse_opt_id};
use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use suivi_projections::time_on_task::{Activity, TimeOnTask};
use suivi_projections::{Bucket, ReadModels, TimeQuery};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(name = "TimeBucket")]
pub enum BucketGql {
    #[default]
    Total,
    Day,
    /// ISO weeks, from Monday.
    Week,
}

/// Which time to sum: `from <= at < to`, optionally one quiz or parcours.
pub fn time_query(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    bucket: Option<BucketGql>,
    quiz_id: Option<&ID>,
    parcours_id: Option<&ID>,
) -> Result<TimeQuery> {
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            return Err(bad_input(format!(
                "time range is empty: to {to} is not after from {from}"
            )));
        }
    }
    Ok(TimeQuery {
        from,
        to,
        pupil: None,
        quiz: parse_opt_id("quizId", quiz_id)?,
        parcours: parse_opt_id("parcoursId", parcours_id)?,
        bucket: match bucket.unwrap_or_default() {
            BucketGql::Total => Bucket::Total,
            BucketGql::Day => Bucket::Day,
            BucketGql::Week => Bucket::Week,
        },
    })
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Question,
    Step,
}

#[derive(SimpleObject)]
pub struct TimeEntryView {
    pub pupil_id: ID,
    /// First day of the bucket (null for TOTAL).
    pub bucket_start: Option<NaiveDate>,
    pub kind: ActivityKind,
    pub quiz_id: Option<ID>,
    pub question_id: Option<ID>,
    pub parcours_id: Option<ID>,
    pub step_id: Option<ID>,
    pub ms: u64,
    /// Answers given, or steps completed.
    pub count: u32,
}

pub struct PupilTime {
    models: Arc<ReadModels>,
    pupil_id: suivi_domain::ids::PupilId,
    bucket_start: Option<NaiveDate>,
    ms: u64,
}

#[Object]
impl PupilTime {
    async fn pupil(&self) -> PupilRef {
        PupilRef {
            models: self.models.clone(),
            pupil_id: self.pupil_id,
        }
    }
    async fn bucket_start(&self) -> Option<NaiveDate> {
        self.bucket_start
    }
    async fn ms(&self) -> u64 {
        self.ms
    }
}

pub struct TimeOnTaskView {
    models: Arc<ReadModels>,
    report: TimeOnTask,
}

impl TimeOnTaskView {
    pub fn new(models: Arc<ReadModels>, report: TimeOnTask) -> TimeOnTaskView {
        TimeOnTaskView { models, report }
    }

    /// The pupils the report names, once each.
    fn pupils(&self) -> Vec<suivi_domain::ids::PupilId> {
        let mut pupils: Vec<_> = self.report.entries.iter().map(|e| e.pupil_id).collect();
        pupils.sort();
        pupils.dedup();
        pupils
    }
}

#[Object(name = "TimeOnTask")]
impl TimeOnTaskView {
    async fn total_ms(&self) -> u64 {
        self.report.entries.iter().map(|e| e.ms).sum()
    }

    /// Per pupil (and bucket, for DAY or WEEK).
    async fn per_pupil(&self, ctx: &Context<'_>) -> Result<Vec<PupilTime>> {
        journal_rows(ctx, &self.pupils()).await?;
        Ok(self
            .report
            .per_pupil_and_bucket()
            .into_iter()
            .map(|((pupil_id, bucket_start), ms)| PupilTime {
                models: self.models.clone(),
                pupil_id,
                bucket_start,
                ms,
            })
            .collect())
    }

    /// Per bucket (day or week), all pupils together.
    async fn per_bucket(&self) -> Vec<BucketTime> {
        let mut totals = std::collections::BTreeMap::<Option<NaiveDate>, u64>::new();
        for e in &self.report.entries {
            *totals.entry(e.bucket_start).or_default() += e.ms;
        }
        totals
            .into_iter()
            .map(|(bucket_start, ms)| BucketTime { bucket_start, ms })
            .collect()
    }

    /// Every (pupil, bucket, question or step) with its time.
    async fn entries(&self, ctx: &Context<'_>) -> Result<Vec<TimeEntryView>> {
        journal_rows(ctx, &self.pupils()).await?;
        Ok(self
            .report
            .entries
            .iter()
            .map(|e| {
                let id = |x: &dyn ToString| Some(ID(x.to_string()));
                let (kind, quiz_id, question_id, parcours_id, step_id) = match e.activity {
                    Activity::Question {
                        quiz_id,
                        question_id,
                    } => (
                        ActivityKind::Question,
                        id(&quiz_id),
                        id(&question_id),
                        None,
                        None,
                    ),
                    Activity::Step {
                        parcours_id,
                        step_id,
                    } => (
                        ActivityKind::Step,
                        None,
                        None,
                        id(&parcours_id),
                        id(&step_id),
                    ),
                };
                TimeEntryView {
                    pupil_id: ID(e.pupil_id.to_string()),
                    bucket_start: e.bucket_start,
                    kind,
                    quiz_id,
                    question_id,
                    parcours_id,
                    step_id,
                    ms: e.ms,
                    count: e.count,
                }
            })
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct BucketTime {
    pub bucket_start: Option<NaiveDate>,
    pub ms: u64,
}
