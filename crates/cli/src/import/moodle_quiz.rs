//! `--format moodle-quiz --quiz TITLE [--class NAME] [--subject NAME] [--create-missing]`:
//! a Moodle quiz report (see `moodle_report`) as suivi's QCM events.
//!
//! - The quiz: `QuizPublished` once, for the class, one question per report column
//!   (`Q. 1 /1.00` or `Response 1`), each with three choices — "juste" (full marks, the
//!   right choice), "partiellement juste", "faux" — since a report gives marks, not the
//!   options a pupil saw. At most 100 attempts: Moodle enforces its own limit.
//! - Pupils: by external id (the `ID number` column when the site shows it, else the
//!   e-mail address — as a pseudonym, `moodle-email:` and a SHA-256 prefix, since an
//!   address names the pupil and external ids are in the log in clear), else by surname
//!   and first name (case and accents aside) among the
//!   pupils of `--class`. One not found is registered in `--class` with
//!   `--create-missing` (enrolled from the day of their first attempt); otherwise every
//!   such row is listed and the file refused.
//! - Each attempt, in the order a pupil started them: `AttemptStarted`; if finished, a
//!   `QuestionAnswered` per question with a mark (the time taken shared equally among
//!   them, at most six hours each) and `AttemptSubmitted` at its completion. The score is
//!   the domain's: questions with full marks out of the quiz's questions. An attempt in
//!   progress is started only, and answered and submitted by a later import of the same
//!   quiz. Attempts already in the log are not written again.

use super::moodle_report::{self, Attempt, Mark};
use super::planner::{finish, school_for, state_of, Planner};
use super::{FileReport, Importer, LineError};
use chrono::Duration;
use std::collections::{BTreeMap, HashMap};
use suivi_domain::decide::{AnswerQuestion, StartAttempt, SubmitAttempt};
use suivi_domain::events::*;
use suivi_domain::identity::{open, PupilIdentity};
use suivi_domain::ids::*;
use suivi_domain::Command;

const CHOICES: [&str; 3] = ["juste", "partiellement juste", "faux"];
const MAX_ATTEMPTS: u16 = 100;
const MAX_ANSWER_MS: u64 = 6 * 3_600 * 1_000;

/// Lowercase, without accents, hyphens or extra spaces: how names are compared.
fn fold(name: &str) -> String {
    let plain: String = name
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            '-' | '\'' | '’' => ' ',
            c => c,
        })
        .collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) async fn import(
    importer: &mut Importer<'_>,
    bytes: &[u8],
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let (parsed, errors) = moodle_report::parse(bytes);
    report.errors.extend(errors);
    let Some(parsed) = parsed else {
        return Ok(());
    };
    report.lines = parsed.rows;
    let skip_bad = importer.options.skip_bad;
    if !report.errors.is_empty() && !skip_bad {
        return Ok(());
    }
    let header = parsed.header_line;
    let fail = |reason: String| LineError {
        line: header,
        reason,
    };
    let Some(title) = importer
        .options
        .quiz
        .clone()
        .filter(|t| !t.trim().is_empty())
    else {
        report.errors.push(fail(
            "say which quiz this report is with --quiz TITLE".into(),
        ));
        return Ok(());
    };
    let Some(first) = parsed.attempts.iter().map(|a| a.started_at).min() else {
        report.written = report.errors.is_empty() || skip_bad;
        return Ok(());
    };
    let Some(school_id) = school_for(importer, report) else {
        return Ok(());
    };
    let state = state_of(importer, school_id).await?;
    let Some(year_id) = state.year_of(first.date_naive()) else {
        report.errors.push(fail(format!(
            "the first attempt, on {}, is in no school year of the school (import the SIECLE roster first)",
            first.date_naive()
        )));
        return Ok(());
    };
    let mut planner = Planner::new(school_id, state);

    let class = match importer.options.class.as_deref() {
        None => None,
        Some(name) => match planner.find_class(year_id, name) {
            Some(id) => Some(id),
            None => {
                report.errors.push(fail(format!(
                    "--class {name:?}: no such class this school year"
                )));
                return Ok(());
            }
        },
    };

    // Who each attempt is.
    let roster_names = match class {
        Some(class_id) => names_in(importer, &planner, class_id).await?,
        None => HashMap::new(),
    };
    let mut who: Vec<Option<PupilId>> = Vec::with_capacity(parsed.attempts.len());
    let mut missing: BTreeMap<String, Vec<&Attempt>> = BTreeMap::new();
    for attempt in &parsed.attempts {
        let by_id = planner
            .state
            .pupils_by_external_id
            .get(&attempt.external_id())
            .copied();
        let by_name = || {
            let key = (fold(&attempt.surname), fold(&attempt.first_name));
            match roster_names.get(&key).map(Vec::as_slice) {
                Some([one]) => Some(*one),
                _ => None,
            }
        };
        let found = by_id.or_else(by_name);
        if found.is_none() {
            missing
                .entry(attempt.external_id())
                .or_default()
                .push(attempt);
        }
        who.push(found);
    }
    let mut registered: HashMap<String, PupilId> = HashMap::new();
    for (external_id, attempts) in &missing {
        let line = attempts.first().map_or(header, |a| a.line);
        let shown = attempts
            .first()
            .map_or(external_id.as_str(), |a| a.shown_id());
        let (Some(class_id), true) = (class, importer.options.create_missing) else {
            for a in attempts {
                report.errors.push(LineError {
                    line: a.line,
                    reason: format!(
                        "pupil {shown:?} is unmatched: no pupil has this external id{}; --create-missing registers them in --class",
                        class.map_or(String::new(), |c| format!(
                            " nor this name in {}",
                            planner.class_name(c)
                        ))
                    ),
                });
            }
            continue;
        };
        let Some(attempt) = attempts.first() else {
            continue;
        };
        let since = attempts
            .iter()
            .map(|a| a.started_at.date_naive())
            .min()
            .unwrap_or(first.date_naive());
        let identity = PupilIdentity {
            last_name: attempt.surname.clone(),
            first_name: attempt.first_name.clone(),
            birth_date: None,
        };
        let result = planner
            .register_pupil(line, attempt.started_at, external_id, identity)
            .and_then(|pupil_id| {
                planner.decide(
                    line,
                    attempt.started_at,
                    Command::EnrolPupil(PupilEnrolled {
                        pupil_id,
                        class_id,
                        on: since,
                    }),
                )?;
                Ok(pupil_id)
            });
        match result {
            Ok(pupil_id) => {
                planner.changes.push(format!(
                    "new pupil {external_id} in {} from {since}",
                    planner.class_name(class_id)
                ));
                registered.insert(external_id.clone(), pupil_id);
            }
            Err(reason) => report.errors.push(LineError {
                line,
                reason: format!("registering pupil {shown:?}: {reason}"),
            }),
        }
    }
    if !report.errors.is_empty() && !skip_bad {
        return Ok(());
    }

    // The quiz's class and subject, then the quiz.
    let class_id = match class {
        Some(c) => c,
        None => {
            let mut classes: Vec<ClassId> = who
                .iter()
                .flatten()
                .filter_map(|p| planner.state.pupils.get(p)?.class_on(first.date_naive()))
                .collect();
            classes.sort();
            classes.dedup();
            match classes.as_slice() {
                [one] => *one,
                _ => {
                    report.errors.push(fail(format!(
                        "the report's pupils are in {} classes: say which class the quiz is for with --class",
                        classes.len()
                    )));
                    return Ok(());
                }
            }
        }
    };
    let subject_id = match subject(importer, &planner, class_id) {
        Ok(id) => id,
        Err(reason) => {
            report.errors.push(fail(reason));
            return Ok(());
        }
    };
    let quiz_id = QuizId(planner.id(&format!("quiz/{class_id}/{}", title.trim())));
    let questions: Vec<QuestionId> = (0..parsed.questions.len())
        .map(|n| QuestionId(planner.id(&format!("quiz/{quiz_id}/q{}", n + 1))))
        .collect();
    match planner.state.quizzes.get(&quiz_id) {
        Some(quiz) if quiz.key.len() != questions.len() => {
            report.errors.push(fail(format!(
                "quiz {title:?} has {} questions in suivi, this report {}",
                quiz.key.len(),
                questions.len()
            )));
            return Ok(());
        }
        Some(_) => {}
        None => {
            let command = Command::PublishQuiz(QuizPublished {
                quiz_id,
                class_id,
                subject_id,
                title: title.trim().to_owned(),
                max_attempts: MAX_ATTEMPTS,
                questions: parsed
                    .questions
                    .iter()
                    .zip(&questions)
                    .map(|(q, id)| QuizQuestion {
                        question_id: *id,
                        prompt: q.header.clone(),
                        choices: CHOICES.iter().map(|c| (*c).to_owned()).collect(),
                        correct_choice: 0,
                    })
                    .collect(),
            });
            if let Err(reason) = planner.decide(header, first, command) {
                report
                    .errors
                    .push(fail(format!("quiz {title:?}: {reason}")));
                return Ok(());
            }
            planner.changes.push(format!(
                "new quiz {title:?} in {}",
                planner.class_name(class_id)
            ));
        }
    }

    // The attempts, pupil by pupil, in the order they were started.
    let mut by_pupil: BTreeMap<PupilId, Vec<&Attempt>> = BTreeMap::new();
    for (attempt, found) in parsed.attempts.iter().zip(&who) {
        let pupil = found.or_else(|| registered.get(&attempt.external_id()).copied());
        if let Some(pupil) = pupil {
            by_pupil.entry(pupil).or_default().push(attempt);
        }
    }
    let mut already = 0;
    for (pupil_id, mut attempts) in by_pupil {
        attempts.sort_by_key(|a| a.started_at);
        for (index, attempt) in attempts.into_iter().enumerate() {
            match plan_attempt(&mut planner, quiz_id, &questions, pupil_id, index, attempt) {
                Ok(true) => {}
                Ok(false) => already += 1,
                Err(reason) => report.errors.push(LineError {
                    line: attempt.line,
                    reason: format!("attempt of {}: {reason}", attempt.shown_id()),
                }),
            }
        }
    }
    report.already_present = already;
    finish(importer, planner, "moodle-quiz", report).await
}

/// The opened identities of the pupils in `class`, by folded (surname, first name).
async fn names_in(
    importer: &Importer<'_>,
    planner: &Planner,
    class: ClassId,
) -> anyhow::Result<HashMap<(String, String), Vec<PupilId>>> {
    let mut names: HashMap<(String, String), Vec<PupilId>> = HashMap::new();
    let store = importer.gateway.store();
    for (pupil_id, pupil) in &planner.state.pupils {
        if !pupil.enrolments.iter().any(|e| e.class_id == class) {
            continue;
        }
        let Some(sealed) = importer.catalog.identities.get(pupil_id) else {
            continue;
        };
        let Some(key) = store.get_key(*pupil_id).await? else {
            continue; // erased: no name to match
        };
        if let Ok(identity) = open::<PupilIdentity>(&key, *pupil_id, sealed) {
            names
                .entry((fold(&identity.last_name), fold(&identity.first_name)))
                .or_default()
                .push(*pupil_id);
        }
    }
    Ok(names)
}

/// `--subject`, else the one subject taught in the class, else the school's only subject.
fn subject(
    importer: &Importer<'_>,
    planner: &Planner,
    class: ClassId,
) -> Result<SubjectId, String> {
    let state = &planner.state;
    if let Some(name) = importer.options.subject.as_deref() {
        return state
            .subjects
            .iter()
            .find(|(_, s)| s.name.to_lowercase() == name.trim().to_lowercase())
            .map(|(id, _)| *id)
            .ok_or_else(|| format!("--subject {name:?}: no such subject in the school"));
    }
    let mut taught: Vec<SubjectId> = state
        .teaching
        .iter()
        .filter(|(_, c, _)| *c == class)
        .map(|(_, _, s)| *s)
        .collect();
    taught.sort();
    taught.dedup();
    if let [one] = taught.as_slice() {
        return Ok(*one);
    }
    let all: Vec<&SubjectId> = state.subjects.keys().collect();
    match all.as_slice() {
        [one] => Ok(**one),
        _ => {
            let mut names: Vec<&str> = state.subjects.values().map(|s| s.name.as_str()).collect();
            names.sort();
            Err(format!(
                "say which subject the quiz is in with --subject (one of: {})",
                names.join(", ")
            ))
        }
    }
}

/// Plans one attempt (the `index`-th the pupil started); `false` when the log has it all.
fn plan_attempt(
    planner: &mut Planner,
    quiz_id: QuizId,
    questions: &[QuestionId],
    pupil_id: PupilId,
    index: usize,
    attempt: &Attempt,
) -> Result<bool, String> {
    let attempt_id = AttemptId(planner.id(&format!(
        "attempt/{quiz_id}/{pupil_id}/{}",
        attempt.started_at.timestamp()
    )));
    let line = attempt.line;
    let known = planner.state.attempts.get(&(quiz_id, pupil_id));
    let started = known.map_or(0, |a| usize::from(a.started));
    let open_here = known
        .and_then(|a| a.open.as_ref())
        .is_some_and(|o| o.attempt_id == attempt_id);
    if index < started && !(open_here && attempt.submitted_at.is_some()) {
        return Ok(false);
    }
    if index >= started {
        planner.decide(
            line,
            attempt.started_at,
            Command::StartAttempt(StartAttempt {
                quiz_id,
                pupil_id,
                attempt_id,
                started_at: attempt.started_at,
                session_id: None,
            }),
        )?;
    }
    let Some(submitted_at) = attempt.submitted_at else {
        return Ok(true);
    };
    let answered: Vec<(QuestionId, Mark)> = questions
        .iter()
        .zip(&attempt.marks)
        .filter_map(|(q, m)| m.map(|m| (*q, m)))
        .collect();
    let total_ms = attempt.time_taken_secs.unwrap_or(0).saturating_mul(1_000);
    let share = u64::try_from(answered.len())
        .ok()
        .filter(|n| *n > 0)
        .map_or(0, |n| (total_ms / n).min(MAX_ANSWER_MS));
    for (i, (question_id, mark)) in answered.into_iter().enumerate() {
        let elapsed = share.saturating_mul(u64::try_from(i + 1).unwrap_or(u64::MAX));
        let answered_at = (attempt.started_at
            + Duration::milliseconds(i64::try_from(elapsed).unwrap_or(i64::MAX / 2)))
        .min(submitted_at);
        planner.decide(
            line,
            answered_at,
            Command::AnswerQuestion(AnswerQuestion {
                quiz_id,
                pupil_id,
                attempt_id,
                question_id,
                answer: match mark {
                    Mark::Right => 0,
                    Mark::Partial => 1,
                    Mark::Wrong => 2,
                },
                time_spent_ms: u32::try_from(share).unwrap_or(u32::MAX),
                answered_at,
            }),
        )?;
    }
    planner.decide(
        line,
        submitted_at,
        Command::SubmitAttempt(SubmitAttempt {
            quiz_id,
            pupil_id,
            attempt_id,
            submitted_at,
        }),
    )?;
    Ok(true)
}
