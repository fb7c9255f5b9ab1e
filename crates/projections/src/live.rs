//! The live board of a class session: the whole roster from the first second (pupils who
//! have not logged in included), each pupil's parcours status and progress and QCM progress
//! for the session's parcours and quiz. Evaluated at `now`; `next_change` says when the
//! board changes with no new event (a pupil turning stalled).

use crate::model::ReadModels;
use crate::parcours::{self, ParcoursConfig, ParcoursRow, SessionInfo, StatusCounts};
use crate::qcm::{self, AttemptProgress, Score};
use chrono::{DateTime, Utc};
use suivi_domain::ids::*;

/// A pupil's progress on the session's quiz.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct QcmLive {
    pub attempts_used: u16,
    pub attempts_allowed: u16,
    /// The open attempt, or the last one.
    pub current: Option<AttemptProgress>,
    /// Distinct questions answered at least once, over all attempts.
    pub questions_answered: u16,
    /// Questions whose latest answer is right.
    pub questions_correct: u16,
    pub question_count: u16,
    /// Answers given, all attempts and questions.
    pub answers: u32,
    pub best: Option<Score>,
    pub time_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LiveRow {
    pub pupil_id: PupilId,
    pub parcours: Option<ParcoursRow>,
    pub qcm: Option<QcmLive>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LiveBoard {
    pub session: SessionInfo,
    pub now: DateTime<Utc>,
    /// The class roster on `now`'s date, in enrolment order.
    pub rows: Vec<LiveRow>,
    pub parcours_counts: Option<StatusCounts>,
    pub next_change: Option<DateTime<Utc>>,
}

impl ReadModels {
    pub fn live_board(
        &self,
        session: SessionId,
        now: DateTime<Utc>,
        config: &ParcoursConfig,
    ) -> Option<LiveBoard> {
        let info = *self.session(session)?;
        let roster = self.reference.roster(info.class_id, now.date_naive());
        let board = info
            .parcours_id
            .and_then(|p| self.parcours(p))
            .map(|model| parcours::board(model, &roster, now, config));
        let quiz = info.quiz_id.and_then(|q| self.quiz(q));
        let mut parcours_rows = board.as_ref().map(|b| b.rows.iter());
        let rows = roster
            .iter()
            .map(|pupil_id| LiveRow {
                pupil_id: *pupil_id,
                parcours: parcours_rows.as_mut().and_then(|rows| rows.next()).cloned(),
                qcm: quiz.map(|q| {
                    let p = q.pupil(*pupil_id);
                    let result = qcm::pupil_result(q, *pupil_id, p);
                    let answered = result.questions.iter().filter(|x| x.times_answered > 0);
                    QcmLive {
                        attempts_used: result.attempts_used,
                        attempts_allowed: result.attempts_allowed,
                        current: result.current,
                        questions_answered: answered.clone().count() as u16,
                        questions_correct: answered
                            .clone()
                            .filter(|x| x.last_correct == Some(true))
                            .count() as u16,
                        question_count: q.questions.len().min(usize::from(u16::MAX)) as u16,
                        answers: answered.map(|x| x.times_answered).sum(),
                        best: result.best,
                        time_ms: result.time_ms,
                    }
                }),
            })
            .collect();
        Some(LiveBoard {
            session: info,
            now,
            rows,
            parcours_counts: board.as_ref().map(|b| b.counts),
            next_change: board.and_then(|b| b.next_change),
        })
    }
}
