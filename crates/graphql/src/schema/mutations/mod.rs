//! Mutations: one per domain command. Each parses its input into a `Command` (malformed ids
//! and values are refused here with `BAD_USER_INPUT`), sends it through
//! `Gateway::execute` — the domain's `decide` is the only judge of the rules — and answers
//! once the store has committed. Before answering it waits for the projections to reach
//! the written position, so the affected objects it returns already show the write.

mod competencies;
mod grades;
mod parcours;
mod qcm;
mod reference;
mod rgpd;
mod school_work;

use crate::context::{services, Services};
use crate::errors::{self, coded, parse_id, FORBIDDEN};
use crate::identity::{identity, Identity};
use crate::limits::RateLimiter;
use crate::schema::query::{
    AssessmentView, ClassView, HomeworkView, LiveBoardView, PupilView, QuizView,
};
use async_graphql::{Context, MergedObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Instant;
use suivi_domain::identity::PupilKey;
use suivi_domain::ids::*;
use suivi_domain::{Command, Role};
use suivi_projections::gateway::{fingerprint, Executed};

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    reference::ReferenceMutations,
    grades::GradeMutations,
    school_work::SchoolWorkMutations,
    qcm::QcmMutations,
    competencies::CompetencyMutations,
    parcours::ParcoursMutations,
    rgpd::RgpdMutations,
);

/// What a write touched, so its result can show the object as it now stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Affected {
    Pupil(PupilId),
    Class(ClassId),
    Assessment(AssessmentId),
    Homework(HomeworkId),
    Quiz(QuizId),
    Session(SessionId),
}

/// The answer to every mutation: where the write landed, and the objects it touched as
/// the projections show them after it.
pub struct CommandResult {
    event_ids: Vec<EventId>,
    event_types: Vec<&'static str>,
    position: u64,
    id: Option<String>,
    affected: Vec<Affected>,
}

impl CommandResult {
    pub(crate) fn with_id(mut self, id: impl ToString) -> Self {
        self.id = Some(id.to_string());
        self
    }

    fn find<T>(&self, pick: impl Fn(&Affected) -> Option<T>) -> Option<T> {
        self.affected.iter().find_map(pick)
    }
}

#[Object]
impl CommandResult {
    /// Ids of the events written (the idempotency keys).
    async fn event_ids(&self) -> Vec<ID> {
        self.event_ids.iter().map(|id| ID(id.to_string())).collect()
    }

    async fn event_types(&self) -> Vec<&'static str> {
        self.event_types.clone()
    }

    /// Global position of the last event written.
    async fn position(&self) -> u64 {
        self.position
    }

    /// The id of what the command created or concerned (assessment, pupil, session…).
    async fn id(&self) -> Option<ID> {
        self.id
            .clone()
            .or_else(|| {
                self.affected.first().map(|a| match a {
                    Affected::Pupil(x) => x.to_string(),
                    Affected::Class(x) => x.to_string(),
                    Affected::Assessment(x) => x.to_string(),
                    Affected::Homework(x) => x.to_string(),
                    Affected::Quiz(x) => x.to_string(),
                    Affected::Session(x) => x.to_string(),
                })
            })
            .map(ID)
    }

    async fn pupil(&self, ctx: &Context<'_>) -> Result<Option<PupilView>> {
        match self.find(|a| match a {
            Affected::Pupil(p) => Some(*p),
            _ => None,
        }) {
            Some(p) => PupilView::load(ctx, p, None, None).await,
            None => Ok(None),
        }
    }

    async fn class(&self, ctx: &Context<'_>) -> Result<Option<ClassView>> {
        match self.find(|a| match a {
            Affected::Class(c) => Some(*c),
            _ => None,
        }) {
            Some(c) => ClassView::by_id(ctx, c, None, None).await,
            None => Ok(None),
        }
    }

    async fn assessment(&self, ctx: &Context<'_>) -> Result<Option<AssessmentView>> {
        match self.find(|a| match a {
            Affected::Assessment(x) => Some(*x),
            _ => None,
        }) {
            Some(x) => AssessmentView::load(ctx, x, None).await,
            None => Ok(None),
        }
    }

    async fn homework(&self, ctx: &Context<'_>) -> Result<Option<HomeworkView>> {
        match self.find(|a| match a {
            Affected::Homework(x) => Some(*x),
            _ => None,
        }) {
            Some(x) => HomeworkView::load(ctx, x, None).await,
            None => Ok(None),
        }
    }

    async fn quiz(&self, ctx: &Context<'_>) -> Result<Option<QuizView>> {
        match self.find(|a| match a {
            Affected::Quiz(x) => Some(*x),
            _ => None,
        }) {
            Some(x) => QuizView::load(ctx, x, None).await,
            None => Ok(None),
        }
    }

    async fn live_board(&self, ctx: &Context<'_>) -> Result<Option<LiveBoardView>> {
        match self.find(|a| match a {
            Affected::Session(x) => Some(*x),
            _ => None,
        }) {
            Some(x) => LiveBoardView::load(ctx, x).await,
            None => Ok(None),
        }
    }
}

/// The request's identity, if its role may write at all (which commands, on what, is
/// decided by `Scope::command` in `run`).
pub(crate) fn writer<'a>(ctx: &Context<'a>) -> Result<&'a Identity> {
    let identity = identity(ctx)?;
    if identity.may_write() {
        Ok(identity)
    } else {
        Err(coded(
            FORBIDDEN,
            format!(
                "a {} reads; they may not record anything",
                identity.role.as_str()
            ),
        ))
    }
}

/// The request's identity, if it is an administrator's: for the mutations that do work
/// (sealing, key lookups) before their command reaches `run`.
pub(crate) fn administrator<'a>(ctx: &Context<'a>) -> Result<&'a Identity> {
    let identity = writer(ctx)?;
    if identity.role == suivi_domain::Role::Admin {
        Ok(identity)
    } else {
        Err(coded(
            FORBIDDEN,
            format!(
                "only an administrator may change the school's reference data; a {} may not",
                identity.role.as_str()
            ),
        ))
    }
}

/// Decides and appends one command as the request's identity. `occurred_at` is the instant
/// the fact happened at school when the command carries one, now otherwise.
pub(crate) async fn run(
    ctx: &Context<'_>,
    occurred_at: Option<DateTime<Utc>>,
    command: Command,
    idempotency_key: Option<ID>,
    affected: Vec<Affected>,
) -> Result<CommandResult> {
    run_keyed(
        ctx,
        occurred_at,
        command,
        idempotency_key,
        affected,
        Vec::new(),
    )
    .await
}

/// `run`, storing pupils' data `keys` in the same commit as the command's events (a
/// registration's key): nothing is written before the command is decided.
pub(crate) async fn run_keyed(
    ctx: &Context<'_>,
    occurred_at: Option<DateTime<Utc>>,
    mut command: Command,
    idempotency_key: Option<ID>,
    affected: Vec<Affected>,
    keys: Vec<(PupilId, PupilKey)>,
) -> Result<CommandResult> {
    let identity = writer(ctx)?;
    let services = services(ctx)?;
    // The key names the request as sent: the mutation and its arguments, before the server
    // fills in ids and stamps its own times.
    let sent = match &idempotency_key {
        Some(_) => Some(sent_fingerprint(ctx)?),
        None => None,
    };
    let now = Utc::now();
    let occurred_at = if server_timed(identity, &mut command, now) {
        now
    } else {
        occurred_at.unwrap_or(now)
    };
    // The one place writes are authorised: before the command reaches the domain.
    let (live, scope) = services.scope(identity);
    scope.command(&live, &command)?;
    drop(live);
    // Then the identity's write budget: a refused write costs nothing.
    if let Ok(limiter) = ctx.data::<Arc<RateLimiter>>() {
        if let Err(limited) =
            limiter.take((identity.subject_id, identity.school_id), Instant::now())
        {
            return Err(errors::rate_limited(limited.retry_after));
        }
    }
    let mut meta = identity.metadata(occurred_at);
    meta.causation_id = sent;
    let event_id = match &idempotency_key {
        Some(key) => parse_id("idempotencyKey", key)?,
        None => EventId::new_v7(),
    };
    let executed = services
        .gateway
        .execute_keyed(&meta, command, event_id, keys)
        .await
        .map_err(errors::command)?;
    finish(services, executed, affected).await
}

/// The fingerprint of the mutation as the client sent it: its name and its arguments
/// (variables substituted), the idempotency key left out.
fn sent_fingerprint(ctx: &Context<'_>) -> Result<EventId> {
    let field = ctx.field();
    let mut arguments = field
        .arguments()
        .map_err(|e| errors::bad_input(e.message))?;
    arguments.retain(|(name, _)| name.as_str() != "idempotencyKey");
    let sent = serde_json::json!({
        "mutation": field.name(),
        "arguments": arguments
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.into_json().unwrap_or_default()))
            .collect::<std::collections::BTreeMap<_, _>>(),
    });
    Ok(fingerprint(&sent))
}

/// Times a pupil sends are not trusted: their commands (the only ones their scope allows:
/// deposits, QCM attempts and answers, parcours steps) are dated by the server's clock when
/// they arrive, whatever the client says — so a deposit cannot be backdated before its due
/// date, an answer cannot precede its attempt nor lie in the future. An offline client's
/// queued answers are dated when they reach the server (their order kept). Staff may date a
/// fact in the past (an absence typed in the next morning): the actor and `recorded_at`
/// still say who wrote it and when. Returns whether the command was stamped.
fn server_timed(identity: &Identity, command: &mut Command, now: DateTime<Utc>) -> bool {
    if !matches!(identity.role, Role::Pupil | Role::Guardian) {
        return false;
    }
    match command {
        Command::DepositHomework(e) => e.deposited_at = now,
        Command::StartAttempt(c) => c.started_at = now,
        Command::AnswerQuestion(c) => c.answered_at = now,
        Command::SubmitAttempt(c) => c.submitted_at = now,
        Command::StartStep(e) => e.at = now,
        Command::FailStep(e) => e.at = now,
        Command::CompleteStep(e) => e.at = now,
        // Nothing else is within a family's scope (`Scope::command` refuses it).
        _ => {}
    }
    true
}

/// Waits for the projections to show the write, then builds the answer.
pub(crate) async fn finish(
    services: &Services,
    executed: Executed,
    affected: Vec<Affected>,
) -> Result<CommandResult> {
    services.caught_up(executed.last_position).await;
    tracing::debug!(
        position = executed.last_position,
        events = executed.event_ids.len(),
        "command written"
    );
    Ok(CommandResult {
        event_types: executed.events.iter().map(|e| e.event_type()).collect(),
        event_ids: executed.event_ids,
        position: executed.last_position,
        id: None,
        affected,
    })
}
