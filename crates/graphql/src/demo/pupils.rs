//! Simulated pupils working through a round in real time. Each pupil has a persona that
//! sets their pace and accuracy: some race ahead and finish early, most progress steadily,
//! some struggle (wrong answers, retries, repeated failures on a step), some stop halfway
//! and turn STALLED five minutes later, one or two never log in.

use super::round::Round;
use super::setup::{exec, Stage};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use suivi_domain::decide::{AnswerQuestion, StartAttempt, SubmitAttempt};
use suivi_domain::events::{StepCompleted, StepFailed, StepStarted};
use suivi_domain::ids::*;
use suivi_domain::Command;
use suivi_projections::gateway::Gateway;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Persona {
    Fast,
    Regular,
    Struggling,
    /// Stops for good once this step is started.
    Staller {
        stops_at: usize,
    },
    Absent,
}

impl Persona {
    fn pace(self) -> (u64, u64) {
        match self {
            Persona::Fast => (2_000, 5_000),
            Persona::Regular => (5_000, 12_000),
            Persona::Struggling => (7_000, 16_000),
            Persona::Staller { .. } => (5_000, 10_000),
            Persona::Absent => (u64::MAX / 4, u64::MAX / 4),
        }
    }

    fn accuracy(self) -> f64 {
        match self {
            Persona::Fast => 0.9,
            Persona::Regular => 0.7,
            Persona::Struggling => 0.35,
            Persona::Staller { .. } => 0.6,
            Persona::Absent => 0.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    StartStep,
    /// Working on a resource step; `failures` StepFailed still to come.
    Work {
        failures: u16,
    },
    StartAttempt,
    Answer {
        attempt: AttemptId,
        question: usize,
        correct: usize,
    },
    Submit {
        attempt: AttemptId,
        correct: usize,
    },
    Complete,
    Done,
}

struct Sim {
    pupil: PupilId,
    persona: Persona,
    step: usize,
    phase: Phase,
    attempts: u16,
    next_at: Instant,
    last_action: DateTime<Utc>,
    stopped_at: Option<Instant>,
}

/// How a round ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Finished,
    Stopped,
}

fn cast(pupils: &[PupilId], rng: &mut StdRng) -> Vec<Persona> {
    let n = pupils.len();
    let mut personas = Vec::with_capacity(n);
    let absent = (n / 12).max(1).min(n);
    let fast = (n / 6).max(1);
    let struggling = (n / 8).max(1);
    let stallers = (n / 8).max(1);
    for i in 0..n {
        personas.push(if i < absent {
            Persona::Absent
        } else if i < absent + fast {
            Persona::Fast
        } else if i < absent + fast + struggling {
            Persona::Struggling
        } else if i < absent + fast + struggling + stallers {
            Persona::Staller {
                stops_at: rng.gen_range(1..3),
            }
        } else {
            Persona::Regular
        });
    }
    personas.shuffle(rng);
    personas
}

fn delay(persona: Persona, rng: &mut StdRng) -> Duration {
    let (lo, hi) = persona.pace();
    Duration::from_millis(rng.gen_range(lo..=hi))
}

impl Sim {
    /// The next command this pupil sends, advancing their state. `None` when they do
    /// nothing this time.
    fn next_command(
        &mut self,
        round: &Round,
        now: DateTime<Utc>,
        rng: &mut StdRng,
    ) -> Option<Command> {
        let parcours_id = round.parcours_id;
        let (step_id, quiz) = *round.steps.get(self.step)?;
        let spent_ms = (now - self.last_action)
            .num_milliseconds()
            .clamp(500, 600_000) as u32;
        match self.phase {
            Phase::Done => None,
            Phase::StartStep => {
                if let Persona::Staller { stops_at } = self.persona {
                    if self.step == stops_at {
                        self.phase = Phase::Done;
                        self.stopped_at = Some(Instant::now());
                    }
                }
                if self.phase != Phase::Done {
                    self.phase = match quiz {
                        Some(_) => Phase::StartAttempt,
                        None if self.persona == Persona::Struggling && self.step == 2 => {
                            Phase::Work { failures: 3 }
                        }
                        None => Phase::Work { failures: 0 },
                    };
                }
                Some(Command::StartStep(StepStarted {
                    parcours_id,
                    pupil_id: self.pupil,
                    step_id,
                    at: now,
                    session_id: Some(round.session_id),
                }))
            }
            Phase::Work { failures } if failures > 0 => {
                self.phase = Phase::Work {
                    failures: failures - 1,
                };
                Some(Command::FailStep(StepFailed {
                    parcours_id,
                    pupil_id: self.pupil,
                    step_id,
                    at: now,
                }))
            }
            Phase::Work { .. } | Phase::Complete => {
                self.step += 1;
                self.attempts = 0;
                self.phase = if self.step >= round.steps.len() {
                    Phase::Done
                } else {
                    Phase::StartStep
                };
                Some(Command::CompleteStep(StepCompleted {
                    parcours_id,
                    pupil_id: self.pupil,
                    step_id,
                    at: now,
                }))
            }
            Phase::StartAttempt => {
                let attempt: AttemptId = AttemptId(Uuid::now_v7());
                self.attempts += 1;
                self.phase = Phase::Answer {
                    attempt,
                    question: 0,
                    correct: 0,
                };
                Some(Command::StartAttempt(StartAttempt {
                    quiz_id: round.quiz_id,
                    pupil_id: self.pupil,
                    attempt_id: attempt,
                    started_at: now,
                    session_id: Some(round.session_id),
                }))
            }
            Phase::Answer {
                attempt,
                question,
                correct,
            } => {
                let (question_id, right, choices) = *round.questions.get(question)?;
                // Each new attempt goes a little better.
                let accuracy =
                    (self.persona.accuracy() + 0.15 * f64::from(self.attempts - 1)).min(0.98);
                let answer = if rng.gen_bool(accuracy) {
                    right
                } else {
                    (right + rng.gen_range(1..choices.max(2))) % choices.max(1)
                };
                let correct = correct + usize::from(answer == right);
                self.phase = if question + 1 < round.questions.len() {
                    Phase::Answer {
                        attempt,
                        question: question + 1,
                        correct,
                    }
                } else {
                    Phase::Submit { attempt, correct }
                };
                Some(Command::AnswerQuestion(AnswerQuestion {
                    quiz_id: round.quiz_id,
                    pupil_id: self.pupil,
                    attempt_id: attempt,
                    question_id,
                    answer,
                    time_spent_ms: spent_ms,
                    answered_at: now,
                }))
            }
            Phase::Submit { attempt, correct } => {
                let passed = correct * 10 >= round.questions.len() * 6;
                self.phase = if passed || self.attempts >= round.max_attempts {
                    Phase::Complete
                } else {
                    Phase::StartAttempt
                };
                Some(Command::SubmitAttempt(SubmitAttempt {
                    quiz_id: round.quiz_id,
                    pupil_id: self.pupil,
                    attempt_id: attempt,
                    submitted_at: now,
                }))
            }
        }
    }
}

/// The stall rule's delay, plus a margin so that the board shows stallers as STALLED
/// before the round ends.
const STALL_SHOWN_FOR: Duration = Duration::from_secs(5 * 60 + 45);

/// Plays a round until every pupil who works has finished and stallers have shown as
/// stalled for a while, or until shutdown.
pub(super) async fn play(
    gateway: &Gateway,
    stage: &Stage,
    round: &Round,
    shutdown: &mut watch::Receiver<bool>,
) -> Outcome {
    let mut rng = StdRng::from_entropy();
    let personas = cast(&stage.pupils, &mut rng);
    let start = Instant::now();
    let mut sims: Vec<Sim> = stage
        .pupils
        .iter()
        .zip(personas)
        .map(|(pupil, persona)| Sim {
            pupil: *pupil,
            persona,
            step: 0,
            phase: if persona == Persona::Absent {
                Phase::Done
            } else {
                Phase::StartStep
            },
            attempts: 0,
            next_at: start + Duration::from_millis(rng.gen_range(0..4_000)),
            last_action: Utc::now(),
            stopped_at: None,
        })
        .collect();
    loop {
        if *shutdown.borrow() {
            return Outcome::Stopped;
        }
        let now_instant = Instant::now();
        for sim in sims
            .iter_mut()
            .filter(|s| s.phase != Phase::Done && s.next_at <= now_instant)
        {
            let now = Utc::now();
            let Some(command) = sim.next_command(round, now, &mut rng) else {
                sim.phase = Phase::Done;
                continue;
            };
            match exec(gateway, stage.school, command).await {
                Ok(_) => {
                    sim.last_action = now;
                    sim.next_at = Instant::now() + delay(sim.persona, &mut rng);
                }
                Err(error) => {
                    tracing::warn!(pupil_id = %sim.pupil, code = error.code(), %error, "demo: a simulated pupil's command was refused; they stop");
                    sim.phase = Phase::Done;
                }
            }
            if *shutdown.borrow() {
                return Outcome::Stopped;
            }
        }
        let workers_done = sims.iter().all(|s| s.phase == Phase::Done);
        let stalls_shown = sims
            .iter()
            .filter_map(|s| s.stopped_at)
            .all(|at| at.elapsed() >= STALL_SHOWN_FOR);
        if workers_done && stalls_shown {
            return Outcome::Finished;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return Outcome::Stopped,
        }
    }
}
