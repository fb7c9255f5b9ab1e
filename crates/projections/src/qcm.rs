//! QCM: per pupil and quiz, attempts used of those allowed, best and last score, time spent;
//! per question, how many pupils answered it, how many times each did, the rate of correct
//! answers and the median time.
//!
//! Definitions: a score is an attempt's `correct_count / question_count` as submitted (the
//! last answer to each question counts); *best* is the submitted attempt with the most
//! correct answers (the first of equals), *last* the latest submitted. Time spent is the
//! sum of `QuestionAnswered.time_spent_ms`. A question's *correct rate* is correct answers
//! over all answers (every try counts); its *median time* is the median, over the pupils
//! who answered it, of the time each spent on it in all, in whole milliseconds (the mean
//! of the two middle values, rounded half up, for an even count).

use crate::exact::Ratio;
use crate::model::{Map, ReadModels};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use suivi_domain::events::Event;
use suivi_domain::ids::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    pub attempt_id: AttemptId,
    pub attempt_no: u16,
    pub started_at: DateTime<Utc>,
    pub session_id: Option<SessionId>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub correct_count: Option<u16>,
    pub answers: u32,
    pub time_ms: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct QuestionProgress {
    pub times_answered: u32,
    pub correct_answers: u32,
    pub time_ms: u64,
    /// The attempt of the latest answer (0: never answered).
    pub last_attempt_no: u16,
    pub last_correct: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PupilQuiz {
    pub attempts: Vec<Attempt>,
    /// By question, in quiz order.
    pub questions: Vec<QuestionProgress>,
    pub time_ms: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QuizModel {
    pub quiz_id: QuizId,
    pub class_id: ClassId,
    pub subject_id: SubjectId,
    pub title: String,
    pub max_attempts: u16,
    pub questions: Vec<QuestionId>,
    question_index: Map<QuestionId, usize>,
    pub(crate) pupils: Map<PupilId, PupilQuiz>,
}

impl QuizModel {
    fn pupil_mut(&mut self, pupil: PupilId) -> &mut PupilQuiz {
        let questions = self.questions.len();
        self.pupils.entry(pupil).or_insert_with(|| PupilQuiz {
            attempts: Vec::new(),
            questions: vec![QuestionProgress::default(); questions],
            time_ms: 0,
        })
    }

    pub fn pupil(&self, pupil: PupilId) -> Option<&PupilQuiz> {
        self.pupils.get(&pupil)
    }
}

pub(crate) fn apply(quizzes: &mut Map<QuizId, Arc<QuizModel>>, event: &Event) {
    let quiz_id = match event {
        Event::QuizPublished(e) => {
            let questions: Vec<QuestionId> = e.questions.iter().map(|q| q.question_id).collect();
            let question_index = questions.iter().enumerate().map(|(i, q)| (*q, i)).collect();
            quizzes.insert(
                e.quiz_id,
                Arc::new(QuizModel {
                    quiz_id: e.quiz_id,
                    class_id: e.class_id,
                    subject_id: e.subject_id,
                    title: e.title.clone(),
                    max_attempts: e.max_attempts,
                    questions,
                    question_index,
                    pupils: Map::default(),
                }),
            );
            return;
        }
        Event::AttemptStarted(e) => e.quiz_id,
        Event::QuestionAnswered(e) => e.quiz_id,
        Event::AttemptSubmitted(e) => e.quiz_id,
        _ => return,
    };
    let Some(quiz) = quizzes.get_mut(&quiz_id) else {
        return;
    };
    let quiz = Arc::make_mut(quiz);
    match event {
        Event::AttemptStarted(e) => quiz.pupil_mut(e.pupil_id).attempts.push(Attempt {
            attempt_id: e.attempt_id,
            attempt_no: e.attempt_no,
            started_at: e.started_at,
            session_id: e.session_id,
            submitted_at: None,
            correct_count: None,
            answers: 0,
            time_ms: 0,
        }),
        Event::QuestionAnswered(e) => {
            let index = quiz.question_index.get(&e.question_id).copied();
            let pupil = quiz.pupil_mut(e.pupil_id);
            let ms = u64::from(e.time_spent_ms);
            pupil.time_ms += ms;
            let attempt_no = match pupil
                .attempts
                .iter_mut()
                .rev()
                .find(|a| a.attempt_id == e.attempt_id)
            {
                Some(a) => {
                    a.answers += 1;
                    a.time_ms += ms;
                    a.attempt_no
                }
                None => 0,
            };
            if let Some(q) = index.and_then(|i| pupil.questions.get_mut(i)) {
                q.times_answered += 1;
                q.correct_answers += u32::from(e.correct);
                q.time_ms += ms;
                q.last_attempt_no = attempt_no;
                q.last_correct = e.correct;
            }
        }
        Event::AttemptSubmitted(e) => {
            let pupil = quiz.pupil_mut(e.pupil_id);
            if let Some(a) = pupil
                .attempts
                .iter_mut()
                .rev()
                .find(|a| a.attempt_id == e.attempt_id)
            {
                a.submitted_at = Some(e.submitted_at);
                a.correct_count = Some(e.correct_count);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Score {
    pub correct: u16,
    pub out_of: u16,
}

impl Score {
    /// The score brought to /20.
    pub fn on_twenty(self) -> Ratio {
        Ratio::new(i128::from(self.correct) * 20, i128::from(self.out_of))
    }
}

/// The attempt a pupil is on (open) or last made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AttemptProgress {
    pub attempt_no: u16,
    pub open: bool,
    /// Distinct questions answered in this attempt, and how many of them rightly (last answer).
    pub answered: u16,
    pub correct: u16,
    pub question_count: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PupilQuestion {
    pub question_id: QuestionId,
    pub times_answered: u32,
    pub time_ms: u64,
    pub last_correct: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PupilQuizResult {
    pub quiz_id: QuizId,
    pub pupil_id: PupilId,
    pub attempts_used: u16,
    pub attempts_allowed: u16,
    pub best: Option<Score>,
    pub last: Option<Score>,
    pub time_ms: u64,
    pub current: Option<AttemptProgress>,
    pub questions: Vec<PupilQuestion>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct QuestionStats {
    pub question_id: QuestionId,
    pub pupils_answered: u32,
    pub answers: u32,
    pub correct_answers: u32,
    /// Correct answers over all answers.
    pub correct_rate: Option<Ratio>,
    /// Pupils whose latest answer is right.
    pub pupils_correct: u32,
    pub median_time_ms: Option<u64>,
    /// How many times each pupil answered.
    pub answers_per_pupil: BTreeMap<PupilId, u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct QuizReport {
    pub quiz_id: QuizId,
    pub class_id: ClassId,
    pub max_attempts: u16,
    /// Pupils who started an attempt, by pupil id.
    pub pupils: Vec<PupilQuizResult>,
    /// In quiz order.
    pub questions: Vec<QuestionStats>,
}

pub(crate) fn pupil_result(
    quiz: &QuizModel,
    pupil_id: PupilId,
    p: Option<&PupilQuiz>,
) -> PupilQuizResult {
    let question_count = quiz.questions.len().min(usize::from(u16::MAX)) as u16;
    let empty = PupilQuiz::default();
    let p = p.unwrap_or(&empty);
    let score = |a: &Attempt| {
        a.correct_count.map(|correct| Score {
            correct,
            out_of: question_count,
        })
    };
    let mut best: Option<Score> = None;
    for s in p.attempts.iter().filter_map(score) {
        if best.is_none_or(|b| s.correct > b.correct) {
            best = Some(s);
        }
    }
    let current = p.attempts.last().map(|a| {
        let mut progress = AttemptProgress {
            attempt_no: a.attempt_no,
            open: a.submitted_at.is_none(),
            answered: 0,
            correct: 0,
            question_count,
        };
        for q in p
            .questions
            .iter()
            .filter(|q| q.last_attempt_no == a.attempt_no && q.times_answered > 0)
        {
            progress.answered += 1;
            progress.correct += u16::from(q.last_correct);
        }
        progress
    });
    PupilQuizResult {
        quiz_id: quiz.quiz_id,
        pupil_id,
        attempts_used: p.attempts.iter().map(|a| a.attempt_no).max().unwrap_or(0),
        attempts_allowed: quiz.max_attempts,
        best,
        last: p.attempts.iter().rev().find_map(score),
        time_ms: p.time_ms,
        current,
        questions: quiz
            .questions
            .iter()
            .enumerate()
            .map(|(i, question_id)| {
                let q = p.questions.get(i).copied().unwrap_or_default();
                PupilQuestion {
                    question_id: *question_id,
                    times_answered: q.times_answered,
                    time_ms: q.time_ms,
                    last_correct: (q.times_answered > 0).then_some(q.last_correct),
                }
            })
            .collect(),
    }
}

/// Median of whole numbers, the two middle ones averaged and rounded half up.
pub fn median_ms(values: &mut [u64]) -> Option<u64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]).div_ceil(2)),
    }
}

impl ReadModels {
    pub fn quiz(&self, id: QuizId) -> Option<&QuizModel> {
        let class = self.class_of_quiz(id)?;
        self.class_model(class)?
            .quizzes
            .get(&id)
            .map(|q| q.as_ref())
    }

    /// A class's quizzes, by title.
    pub fn quizzes_of(&self, class: ClassId) -> Vec<&QuizModel> {
        let Some(model) = self.class_model(class) else {
            return Vec::new();
        };
        let mut list: Vec<&QuizModel> = model.quizzes.values().map(|q| q.as_ref()).collect();
        list.sort_by(|a, b| (&a.title, a.quiz_id).cmp(&(&b.title, b.quiz_id)));
        list
    }

    /// One pupil's results on a quiz (zeros when they have not started it).
    pub fn pupil_quiz(&self, quiz: QuizId, pupil: PupilId) -> Option<PupilQuizResult> {
        let q = self.quiz(quiz)?;
        Some(pupil_result(q, pupil, q.pupils.get(&pupil)))
    }

    pub fn quiz_report(&self, quiz: QuizId) -> Option<QuizReport> {
        let q = self.quiz(quiz)?;
        let mut pupil_ids: Vec<PupilId> = q.pupils.keys().copied().collect();
        pupil_ids.sort();
        let pupils = pupil_ids
            .iter()
            .map(|p| pupil_result(q, *p, q.pupils.get(p)))
            .collect();
        let questions = q
            .questions
            .iter()
            .enumerate()
            .map(|(i, question_id)| {
                let mut stats = QuestionStats {
                    question_id: *question_id,
                    pupils_answered: 0,
                    answers: 0,
                    correct_answers: 0,
                    correct_rate: None,
                    pupils_correct: 0,
                    median_time_ms: None,
                    answers_per_pupil: BTreeMap::new(),
                };
                let mut times = Vec::new();
                for pupil in &pupil_ids {
                    let Some(progress) = q.pupils.get(pupil).and_then(|p| p.questions.get(i))
                    else {
                        continue;
                    };
                    if progress.times_answered == 0 {
                        continue;
                    }
                    stats.pupils_answered += 1;
                    stats.answers += progress.times_answered;
                    stats.correct_answers += progress.correct_answers;
                    stats.pupils_correct += u32::from(progress.last_correct);
                    stats
                        .answers_per_pupil
                        .insert(*pupil, progress.times_answered);
                    times.push(progress.time_ms);
                }
                stats.correct_rate = (stats.answers > 0).then(|| {
                    Ratio::new(i128::from(stats.correct_answers), i128::from(stats.answers))
                });
                stats.median_time_ms = median_ms(&mut times);
                stats
            })
            .collect();
        Some(QuizReport {
            quiz_id: quiz,
            class_id: q.class_id,
            max_attempts: q.max_attempts,
            pupils,
            questions,
        })
    }
}
