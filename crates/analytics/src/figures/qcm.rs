//! QCM engagement by polars: per pupil and quiz, attempts used, best and last submitted
//! score, answers and time spent; per question, answers, correct answers, pupils who
//! answered and the median of their time on it; per pupil and period, what the conseil de
//! classe reads (attempts started, quizzes tried, time, success rate).

use super::{join_on, last_by_pos, lazy, Cols};
use crate::error::Result;
use crate::log::Log;
use polars::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PupilQuizFig {
    pub attempts_used: u32,
    /// Correct answers of the best and of the latest submitted attempt.
    pub best: Option<u32>,
    pub last: Option<u32>,
    pub answers: u32,
    pub time_ms: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuestionFig {
    pub pupils_answered: u32,
    pub answers: u32,
    pub correct_answers: u32,
    pub pupils_correct: u32,
    pub median_time_ms: Option<u64>,
}

fn quizzes(log: &Log) -> LazyFrame {
    lazy(&log.frames.quizzes)
        .select([col("quiz"), col("class")])
        .unique(None, UniqueKeepStrategy::First)
}

/// Per (quiz, pupil) who has done anything on the quiz.
pub fn by_pupil_quiz(log: &Log) -> Result<HashMap<(u32, u32), PupilQuizFig>> {
    let f = &log.frames;
    let attempts = lazy(&f.attempts).inner_join(quizzes(log), col("quiz"), col("quiz"));
    let used = attempts
        .clone()
        .group_by([col("quiz"), col("pupil")])
        .agg([col("attempt_no").max().alias("attempts_used")]);
    // A submission counts for the attempt it names; the latest attempt (in log order of
    // starts) that was submitted is the last score.
    let submitted = join_on(
        attempts.select([col("quiz"), col("pupil"), col("attempt"), col("pos")]),
        lazy(&f.submissions)
            .group_by([col("quiz"), col("pupil"), col("attempt")])
            .agg([last_by_pos("correct_count")]),
        &["quiz", "pupil", "attempt"],
        JoinType::Inner,
    )
    .group_by([col("quiz"), col("pupil")])
    .agg([
        col("correct_count").max().alias("best"),
        last_by_pos("correct_count").alias("last"),
    ]);
    let answered = lazy(&f.answers)
        .inner_join(quizzes(log), col("quiz"), col("quiz"))
        .group_by([col("quiz"), col("pupil")])
        .agg([
            len().alias("answers"),
            col("time_ms").sum().alias("time_ms"),
        ]);
    let keys = concat(
        [
            used.clone().select([col("quiz"), col("pupil")]),
            answered.clone().select([col("quiz"), col("pupil")]),
        ],
        UnionArgs::default(),
    )?
    .unique(None, UniqueKeepStrategy::First);
    let df = join_on(
        join_on(
            join_on(keys, used, &["quiz", "pupil"], JoinType::Left),
            submitted,
            &["quiz", "pupil"],
            JoinType::Left,
        ),
        answered,
        &["quiz", "pupil"],
        JoinType::Left,
    )
    .collect()?;
    let t = Cols::new(&df, "qcm");
    let (quiz, pupil, used, best, last, answers, time) = (
        t.ids("quiz")?,
        t.ids("pupil")?,
        t.u32("attempts_used")?,
        t.u32("best")?,
        t.u32("last")?,
        t.u32("answers")?,
        t.i64("time_ms")?,
    );
    let mut out = HashMap::with_capacity(t.height());
    for i in 0..t.height() {
        out.insert(
            (quiz[i], pupil[i]),
            PupilQuizFig {
                attempts_used: used[i].unwrap_or(0),
                best: best[i],
                last: last[i],
                answers: answers[i].unwrap_or(0),
                time_ms: time[i].unwrap_or(0),
            },
        );
    }
    Ok(out)
}

/// Per (quiz, question) of the quiz's own questions.
pub fn by_question(log: &Log) -> Result<HashMap<(u32, u32), QuestionFig>> {
    let f = &log.frames;
    let questions = lazy(&f.questions).select([col("quiz"), col("question")]);
    let per_pupil = join_on(
        lazy(&f.answers),
        questions,
        &["quiz", "question"],
        JoinType::Inner,
    )
    .inner_join(quizzes(log), col("quiz"), col("quiz"))
    .group_by([col("quiz"), col("question"), col("pupil")])
    .agg([
        len().alias("times"),
        col("correct").cast(DataType::UInt32).sum().alias("correct"),
        col("time_ms").sum().alias("time"),
        last_by_pos("correct")
            .cast(DataType::UInt32)
            .alias("last_correct"),
    ]);
    let df = per_pupil
        .group_by([col("quiz"), col("question")])
        .agg([
            len().alias("pupils_answered"),
            col("times").sum().alias("answers"),
            col("correct").sum().alias("correct_answers"),
            col("last_correct").sum().alias("pupils_correct"),
            col("time").cast(DataType::Float64).median().alias("median"),
        ])
        .collect()?;
    let t = Cols::new(&df, "questions");
    let (quiz, question) = (t.ids("quiz")?, t.ids("question")?);
    let (pa, a, c, pc, m) = (
        t.u32("pupils_answered")?,
        t.u32("answers")?,
        t.u32("correct_answers")?,
        t.u32("pupils_correct")?,
        t.f64("median")?,
    );
    let mut out = HashMap::with_capacity(t.height());
    for i in 0..t.height() {
        out.insert(
            (quiz[i], question[i]),
            QuestionFig {
                pupils_answered: pa[i].unwrap_or(0),
                answers: a[i].unwrap_or(0),
                correct_answers: c[i].unwrap_or(0),
                pupils_correct: pc[i].unwrap_or(0),
                // The median of whole milliseconds, a half rounded up.
                median_time_ms: m[i].map(|x| x.ceil() as u64),
            },
        );
    }
    Ok(out)
}

/// A pupil's QCM work on a class's quizzes over a period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EngagementFig {
    pub attempts: u32,
    pub quizzes_tried: u32,
    pub answers: u32,
    pub correct: u32,
    pub time_ms: i64,
}

/// Per pupil: attempts started and answers given in `[from_ms, to_ms)` on `class`'s quizzes.
pub fn engagement(
    log: &Log,
    class: u32,
    from_ms: i64,
    to_ms: i64,
) -> Result<HashMap<u32, EngagementFig>> {
    let f = &log.frames;
    let class_quizzes = quizzes(log).filter(col("class").eq(lit(class)));
    let within = |c: &str| {
        col(c)
            .cast(DataType::Int64)
            .gt_eq(lit(from_ms))
            .and(col(c).cast(DataType::Int64).lt(lit(to_ms)))
    };
    let attempts = lazy(&f.attempts)
        .filter(within("started_at"))
        .inner_join(class_quizzes.clone(), col("quiz"), col("quiz"))
        .group_by([col("pupil")])
        .agg([
            len().alias("attempts"),
            col("quiz").n_unique().alias("quizzes"),
        ]);
    let answers = lazy(&f.answers)
        .filter(within("answered_at"))
        .inner_join(class_quizzes, col("quiz"), col("quiz"))
        .group_by([col("pupil")])
        .agg([
            len().alias("answers"),
            col("correct").cast(DataType::UInt32).sum().alias("correct"),
            col("time_ms").sum().alias("time_ms"),
        ]);
    let df = attempts
        .join(
            answers,
            [col("pupil")],
            [col("pupil")],
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .collect()?;
    let t = Cols::new(&df, "engagement");
    let (pupil, attempts, quizzes, answers, correct, time) = (
        t.ids("pupil")?,
        t.u32("attempts")?,
        t.u32("quizzes")?,
        t.u32("answers")?,
        t.u32("correct")?,
        t.i64("time_ms")?,
    );
    let mut out = HashMap::new();
    for i in 0..t.height() {
        out.insert(
            pupil[i],
            EngagementFig {
                attempts: attempts[i].unwrap_or(0),
                quizzes_tried: quizzes[i].unwrap_or(0),
                answers: answers[i].unwrap_or(0),
                correct: correct[i].unwrap_or(0),
                time_ms: time[i].unwrap_or(0),
            },
        );
    }
    Ok(out)
}
