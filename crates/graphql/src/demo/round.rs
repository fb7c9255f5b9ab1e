//! One round of the demo: a quiz and a parcours published for the class, and a class
//! session started with them.

use super::setup::{exec, new_id, Stage};
use chrono::Utc;
use suivi_domain::events::*;
use suivi_domain::ids::*;
use suivi_domain::Command;
use suivi_projections::gateway::{CommandError, Gateway};

/// One class session of the demo.
#[derive(Clone, Debug)]
pub(super) struct Round {
    pub session_id: SessionId,
    pub quiz_id: QuizId,
    /// (question, right choice, number of choices), in quiz order.
    pub questions: Vec<(QuestionId, u16, u16)>,
    pub max_attempts: u16,
    pub parcours_id: ParcoursId,
    /// Steps in order; a quiz step names the quiz.
    pub steps: Vec<(StepId, Option<QuizId>)>,
}

const QUESTIONS: [(&str, [&str; 4], u16); 6] = [
    ("1/2 + 1/4 = ?", ["3/4", "2/6", "1/6", "2/4"], 0),
    (
        "Quelle fraction est égale à 0,75 ?",
        ["3/5", "3/4", "7/5", "1/4"],
        1,
    ),
    ("2/3 × 3/4 = ?", ["5/7", "1/2", "6/7", "9/8"], 1),
    (
        "Forme irréductible de 12/18 ?",
        ["2/3", "3/4", "6/9", "4/6"],
        0,
    ),
    ("Combien font les 3/5 de 40 ?", ["24", "15", "20", "12"], 0),
    (
        "Quel nombre est le plus grand ?",
        ["5/8", "2/3", "3/5", "7/12"],
        1,
    ),
];

/// Publishes a quiz and a parcours for the class and starts a session with them.
pub(super) async fn start_round(
    gateway: &Gateway,
    stage: &Stage,
    number: u32,
) -> Result<Round, CommandError> {
    let school = stage.school;
    let quiz_id: QuizId = new_id();
    let questions: Vec<QuizQuestion> = QUESTIONS
        .iter()
        .map(|(prompt, choices, right)| QuizQuestion {
            question_id: new_id(),
            prompt: (*prompt).to_owned(),
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            correct_choice: *right,
        })
        .collect();
    let key = questions
        .iter()
        .map(|q| (q.question_id, q.correct_choice, q.choices.len() as u16))
        .collect();
    let max_attempts = 3;
    exec(
        gateway,
        school,
        Command::PublishQuiz(QuizPublished {
            quiz_id,
            class_id: stage.class_id,
            subject_id: stage.subject_id,
            title: format!("QCM fractions — séance {number}"),
            max_attempts,
            questions,
        }),
    )
    .await?;
    let parcours_id: ParcoursId = new_id();
    let step = |title: &str, kind: StepKind| ParcoursStep {
        step_id: new_id(),
        title: title.to_owned(),
        kind,
    };
    let steps = vec![
        step("Vidéo : additionner des fractions", StepKind::Resource),
        step("QCM : fractions", StepKind::Quiz { quiz_id }),
        step("Exercices guidés", StepKind::Resource),
        step("Problème : la recette", StepKind::Resource),
        step("Défi : fractions égyptiennes", StepKind::Resource),
    ];
    let step_ids = steps
        .iter()
        .map(|s| {
            (
                s.step_id,
                match s.kind {
                    StepKind::Quiz { quiz_id } => Some(quiz_id),
                    _ => None,
                },
            )
        })
        .collect();
    exec(
        gateway,
        school,
        Command::PublishParcours(ParcoursPublished {
            parcours_id,
            class_id: stage.class_id,
            title: format!("Parcours fractions — séance {number}"),
            steps,
        }),
    )
    .await?;
    let session_id: SessionId = new_id();
    exec(
        gateway,
        school,
        Command::StartSession(SessionStarted {
            session_id,
            class_id: stage.class_id,
            teacher_id: stage.teacher_id,
            quiz_id: Some(quiz_id),
            parcours_id: Some(parcours_id),
            started_at: Utc::now(),
        }),
    )
    .await?;
    Ok(Round {
        session_id,
        quiz_id,
        questions: key,
        max_attempts,
        parcours_id,
        steps: step_ids,
    })
}
