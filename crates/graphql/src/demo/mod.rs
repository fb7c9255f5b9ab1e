//! `--demo`: the demo school, and a simulated class session running in real time.
//!
//! The demo school itself (fixtures) is loaded by the CLI through a `DemoLoader` (the CLI
//! owns the fixtures; this crate must not depend on it). The simulation then sets the stage
//! for today (`setup`) and plays rounds: each round publishes a quiz and a parcours, starts
//! a class session, and lets simulated pupils work (`pupils`) — every write through
//! `Gateway::execute`, dated now — until the round is over; the session is then ended and
//! a new round begins. The live board moves from the first seconds.

mod family;
mod pupils;
mod round;
mod setup;
pub mod tokens;

use crate::context::Services;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::events::SessionEnded;
use suivi_domain::ids::{ClassId, SchoolId, TeacherId};
use suivi_domain::Command;
use suivi_store::EventStore;
use tokio::sync::watch;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Loads the demo school into an empty store (the CLI's `load_demo`).
pub type DemoLoader =
    Box<dyn FnOnce(Arc<dyn EventStore>) -> BoxFuture<'static, Result<(), BoxError>> + Send>;

/// Pause between the end of a round and the next one, so the final board can be seen.
const BETWEEN_ROUNDS: Duration = Duration::from_secs(45);

/// Runs the simulation until `shutdown` turns true. Errors are logged, never fatal to the
/// server.
pub async fn run(services: Arc<Services>, school: SchoolId, shutdown: watch::Receiver<bool>) {
    run_with(services, school, shutdown, None).await
}

/// As `run`, telling `staged` which class the sessions run in and its teacher once the
/// stage is set (the demo's tokens are picked from it), or `None` if it could not be.
pub async fn run_with(
    services: Arc<Services>,
    school: SchoolId,
    mut shutdown: watch::Receiver<bool>,
    staged: Option<tokio::sync::oneshot::Sender<Option<(ClassId, TeacherId)>>>,
) {
    let gateway = services.gateway.clone();
    let prepared = setup::prepare(&gateway, school).await;
    // Before the stage is announced: the demo's tokens are picked from the family.
    if let Ok(stage) = &prepared {
        if let Err(error) = family::link(&gateway, stage).await {
            tracing::warn!(code = error.code(), %error, "demo: could not link the family's second child");
        }
    }
    if let Some(staged) = staged {
        let _ = staged.send(prepared.as_ref().ok().map(|s| (s.class_id, s.teacher_id)));
    }
    let stage = match prepared {
        Ok(stage) => stage,
        Err(error) => {
            tracing::error!(code = error.code(), %error, "demo: could not set the stage; no simulation");
            return;
        }
    };
    if stage.pupils.is_empty() {
        tracing::warn!(class_id = %stage.class_id, "demo: the class has no pupil; no simulation");
        return;
    }
    let mut number = 1;
    loop {
        let round = match round::start_round(&gateway, &stage, number).await {
            Ok(round) => round,
            Err(error) => {
                tracing::error!(code = error.code(), %error, "demo: could not start a session");
                return;
            }
        };
        tracing::info!(
            session_id = %round.session_id,
            class_id = %stage.class_id,
            pupils = stage.pupils.len(),
            "demo: class session {number} started; watch it with subscription {{ liveBoard(sessionId: \"{}\") {{ counts {{ progressing stalled finished finishedEarly }} }} }}",
            round.session_id
        );
        let outcome = pupils::play(&gateway, &stage, &round, &mut shutdown).await;
        if outcome == pupils::Outcome::Finished {
            tokio::select! {
                _ = tokio::time::sleep(BETWEEN_ROUNDS) => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
        }
        let end = Command::EndSession(SessionEnded {
            session_id: round.session_id,
            ended_at: chrono::Utc::now(),
        });
        if let Err(error) = setup::exec(&gateway, school, end).await {
            tracing::warn!(code = error.code(), %error, "demo: could not end the session");
        }
        if *shutdown.borrow() {
            tracing::info!("demo: simulation stopped");
            return;
        }
        number += 1;
    }
}
