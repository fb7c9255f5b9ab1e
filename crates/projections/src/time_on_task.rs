//! Time on task, per pupil, quiz, parcours and question, over any date range, in total or
//! per day or week, so that a teacher can see who worked when.
//!
//! - QCM time is the sum of `QuestionAnswered.time_spent_ms`, dated by `answered_at`;
//! - parcours time is, for each completed step, the time from its latest `StepStarted` to
//!   its `StepCompleted`, capped at `STEP_TIME_CAP` (30 minutes) and dated by the
//!   completion (an unfinished step has no time yet).
//!
//! Ranges are half-open, `from <= at < to`; days and weeks are UTC dates, weeks start on
//! Monday (ISO). Computed when asked, by one pass over the class's journal: no per-range
//! state is kept.

use crate::model::{Map, ReadModels};
use crate::parcours::STEP_TIME_CAP;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use std::collections::BTreeMap;
use suivi_domain::events::Event;
use suivi_domain::ids::*;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Bucket {
    #[default]
    Total,
    Day,
    Week,
}

impl Bucket {
    /// The first day of the bucket holding `at` (`None` for `Total`).
    pub fn start(self, at: DateTime<Utc>) -> Option<NaiveDate> {
        let day = at.date_naive();
        match self {
            Bucket::Total => None,
            Bucket::Day => Some(day),
            Bucket::Week => {
                Some(day - Duration::days(i64::from(day.weekday().num_days_from_monday())))
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub pupil: Option<PupilId>,
    pub quiz: Option<QuizId>,
    pub parcours: Option<ParcoursId>,
    pub bucket: Bucket,
}

impl TimeQuery {
    fn keeps(&self, at: DateTime<Utc>, pupil: PupilId) -> bool {
        self.from.is_none_or(|f| f <= at)
            && self.to.is_none_or(|t| at < t)
            && self.pupil.is_none_or(|p| p == pupil)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activity {
    Question {
        quiz_id: QuizId,
        question_id: QuestionId,
    },
    Step {
        parcours_id: ParcoursId,
        step_id: StepId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TimeEntry {
    pub pupil_id: PupilId,
    pub bucket_start: Option<NaiveDate>,
    pub activity: Activity,
    pub ms: u64,
    /// Answers given, or steps completed.
    pub count: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TimeOnTask {
    /// By pupil, bucket, then activity.
    pub entries: Vec<TimeEntry>,
}

impl TimeOnTask {
    fn sum_by<K: Ord>(&self, key: impl Fn(&TimeEntry) -> Option<K>) -> BTreeMap<K, u64> {
        let mut totals = BTreeMap::new();
        for e in &self.entries {
            if let Some(k) = key(e) {
                *totals.entry(k).or_insert(0) += e.ms;
            }
        }
        totals
    }

    pub fn per_pupil(&self) -> BTreeMap<PupilId, u64> {
        self.sum_by(|e| Some(e.pupil_id))
    }

    pub fn per_pupil_and_bucket(&self) -> BTreeMap<(PupilId, Option<NaiveDate>), u64> {
        self.sum_by(|e| Some((e.pupil_id, e.bucket_start)))
    }

    pub fn per_quiz(&self) -> BTreeMap<QuizId, u64> {
        self.sum_by(|e| match e.activity {
            Activity::Question { quiz_id, .. } => Some(quiz_id),
            Activity::Step { .. } => None,
        })
    }

    pub fn per_question(&self) -> BTreeMap<(QuizId, QuestionId), u64> {
        self.sum_by(|e| match e.activity {
            Activity::Question {
                quiz_id,
                question_id,
            } => Some((quiz_id, question_id)),
            Activity::Step { .. } => None,
        })
    }

    pub fn per_parcours(&self) -> BTreeMap<ParcoursId, u64> {
        self.sum_by(|e| match e.activity {
            Activity::Step { parcours_id, .. } => Some(parcours_id),
            Activity::Question { .. } => None,
        })
    }
}

type Key = (PupilId, Option<NaiveDate>, Activity);

impl ReadModels {
    fn collect_time(&self, class: ClassId, query: &TimeQuery, out: &mut BTreeMap<Key, (u64, u32)>) {
        let Some(model) = self.class_model(class) else {
            return;
        };
        let mut starts: Map<(ParcoursId, PupilId, StepId), DateTime<Utc>> = Map::default();
        let mut add = |pupil: PupilId, at: DateTime<Utc>, activity: Activity, ms: u64| {
            if query.keeps(at, pupil) {
                let slot = out
                    .entry((pupil, query.bucket.start(at), activity))
                    .or_insert((0, 0));
                slot.0 += ms;
                slot.1 += 1;
            }
        };
        for logged in model.journal.visible(self.as_of) {
            match &logged.event {
                // Only the quizzes the view holds: a teacher's view leaves out the quizzes of
                // the subjects they do not teach, and their answers with them.
                Event::QuestionAnswered(e)
                    if query.quiz.is_none_or(|q| q == e.quiz_id)
                        && model.quizzes.contains_key(&e.quiz_id) =>
                {
                    add(
                        e.pupil_id,
                        e.answered_at,
                        Activity::Question {
                            quiz_id: e.quiz_id,
                            question_id: e.question_id,
                        },
                        u64::from(e.time_spent_ms),
                    )
                }
                // Only the parcours the view holds (a teacher's view holds none of a class
                // out of their reach).
                Event::StepStarted(e)
                    if query.parcours.is_none_or(|p| p == e.parcours_id)
                        && model.parcours.contains_key(&e.parcours_id) =>
                {
                    starts.insert((e.parcours_id, e.pupil_id, e.step_id), e.at);
                }
                Event::StepCompleted(e) => {
                    if let Some(started) = starts.remove(&(e.parcours_id, e.pupil_id, e.step_id)) {
                        let spent = (e.at - started).clamp(Duration::zero(), STEP_TIME_CAP);
                        add(
                            e.pupil_id,
                            e.at,
                            Activity::Step {
                                parcours_id: e.parcours_id,
                                step_id: e.step_id,
                            },
                            spent.num_milliseconds().unsigned_abs(),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn time_report(map: BTreeMap<Key, (u64, u32)>) -> TimeOnTask {
        TimeOnTask {
            entries: map
                .into_iter()
                .map(
                    |((pupil_id, bucket_start, activity), (ms, count))| TimeEntry {
                        pupil_id,
                        bucket_start,
                        activity,
                        ms,
                        count,
                    },
                )
                .collect(),
        }
    }

    /// Time on task in one class's quizzes and parcours.
    pub fn time_on_task(&self, class: ClassId, query: &TimeQuery) -> TimeOnTask {
        let mut map = BTreeMap::new();
        self.collect_time(class, query, &mut map);
        Self::time_report(map)
    }

    /// One pupil's time on task in every class they have been in.
    pub fn pupil_time_on_task(&self, pupil: PupilId, query: &TimeQuery) -> TimeOnTask {
        let query = TimeQuery {
            pupil: Some(pupil),
            ..*query
        };
        let mut classes: Vec<ClassId> = self
            .reference
            .pupil(pupil)
            .map(|p| p.enrolments.iter().map(|e| e.class_id).collect())
            .unwrap_or_default();
        classes.sort();
        classes.dedup();
        let mut map = BTreeMap::new();
        for class in classes {
            self.collect_time(class, &query, &mut map);
        }
        Self::time_report(map)
    }
}
