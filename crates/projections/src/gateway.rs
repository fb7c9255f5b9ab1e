//! The command gateway: the one way in for writes.
//!
//! It keeps the write model (`SchoolState` per school and each stream's version) as a fold
//! of the log, decides a command against it, and appends the events with the stream's
//! version as the expected version. A concurrent writer on the same stream makes the append
//! fail with a conflict; the gateway then catches up and decides again, so the invariants a
//! stream protects hold across writers and servers. Cross-stream references (the pupil is
//! enrolled, the quiz exists) are checked against the state as of the catch-up.
//!
//! The lock is held while catching up and deciding, never across the append, so
//! concurrent appends reach the store together and share its group commit.

use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use suivi_domain::envelope::Metadata;
use suivi_domain::events::PupilRegistered;
use suivi_domain::identity::{seal, PupilIdentity, PupilKey, KEY_LEN, NONCE_LEN};
use suivi_domain::ids::{EventId, PupilId, SchoolId};
use suivi_domain::{
    check, decide, Command, DecodeError, DomainError, Event, NewEvent, RecordedEvent, SchoolState,
    StreamName,
};
use suivi_store::{AppendRequest, EventStore, ExpectedVersion, StoreError};
use tokio::sync::Mutex;

const MAX_RETRIES: usize = 8;
const CATCH_UP_BATCH: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event at position {position} does not decode: {error}")]
    Decode { position: u64, error: DecodeError },
    #[error("stream {0} kept changing under concurrent writers; try again")]
    Contended(StreamName),
    #[error("event {event_id} belongs in stream {expected}, not {given}")]
    WrongStream {
        event_id: EventId,
        expected: StreamName,
        given: StreamName,
    },
}

impl CommandError {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Domain(e) => e.code(),
            CommandError::Store(StoreError::WrongExpectedVersion { .. })
            | CommandError::Contended(_) => "CONFLICT",
            CommandError::Store(StoreError::IdempotencyMismatch { .. }) => "IDEMPOTENCY_MISMATCH",
            CommandError::Store(_) | CommandError::Decode { .. } => "INTERNAL",
            CommandError::WrongStream { .. } => "INVALID_INPUT",
        }
    }
}

/// A refused item of a batch: which one (0-based) and why. Nothing of the batch was written.
#[derive(Debug, thiserror::Error)]
#[error("item {index}: {error}")]
pub struct BatchError {
    pub index: usize,
    pub error: CommandError,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Executed {
    pub events: Vec<Event>,
    pub event_ids: Vec<EventId>,
    /// Global position of the last event written (wait for projections to reach it to read
    /// your own write).
    pub last_position: u64,
}

#[derive(Default)]
struct WriteModel {
    schools: HashMap<SchoolId, SchoolState>,
    versions: HashMap<StreamName, u64>,
    position: u64,
}

impl WriteModel {
    fn school(&self, id: SchoolId) -> SchoolState {
        self.schools
            .get(&id)
            .cloned()
            .unwrap_or_else(|| SchoolState::new(id))
    }

    fn expected(&self, stream: &StreamName) -> ExpectedVersion {
        match self.versions.get(stream) {
            Some(v) => ExpectedVersion::Exact(*v),
            None => ExpectedVersion::NoStream,
        }
    }
}

pub struct Gateway {
    store: Arc<dyn EventStore>,
    model: Mutex<WriteModel>,
}

/// Events decided for one batch, laid out as append requests: consecutive events of one
/// stream share a request, and the log keeps the order in which they were decided.
struct Plan {
    requests: Vec<AppendRequest>,
    events: Vec<Event>,
    ids: Vec<EventId>,
}

impl Plan {
    fn new() -> Self {
        Plan {
            requests: Vec::new(),
            events: Vec::new(),
            ids: Vec::new(),
        }
    }

    fn push(&mut self, stream: StreamName, expected: ExpectedVersion, new: NewEvent, event: Event) {
        self.ids.push(new.event_id);
        self.events.push(event);
        match self.requests.last_mut() {
            Some(last) if last.stream == stream => last.events.push(new),
            _ => self
                .requests
                .push(AppendRequest::new(stream, expected, vec![new])),
        }
    }

    /// Stores `keys` in the same commit as the plan's events: only if they are written.
    fn with_keys(mut self, keys: Vec<(PupilId, PupilKey)>) -> Self {
        if let Some(first) = self.requests.first_mut() {
            first.keys = keys;
        }
        self
    }
}

impl Gateway {
    /// Builds the write model from the whole log.
    pub async fn new(store: Arc<dyn EventStore>) -> Result<Self, CommandError> {
        let gateway = Gateway {
            store,
            model: Mutex::new(WriteModel::default()),
        };
        {
            let mut model = gateway.model.lock().await;
            gateway.catch_up(&mut model).await?;
        }
        Ok(gateway)
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    async fn catch_up(&self, model: &mut WriteModel) -> Result<(), CommandError> {
        loop {
            let batch = self.store.read_all(model.position, CATCH_UP_BATCH).await?;
            if batch.is_empty() {
                return Ok(());
            }
            for recorded in &batch {
                let event = recorded.decode().map_err(|error| CommandError::Decode {
                    position: recorded.global_position,
                    error,
                })?;
                model
                    .schools
                    .entry(recorded.school_id)
                    .or_insert_with(|| SchoolState::new(recorded.school_id))
                    .evolve(&event);
                model
                    .versions
                    .insert(recorded.stream.clone(), recorded.stream_version);
                model.position = recorded.global_position;
            }
        }
    }

    /// Reads the current write model of a school (after catching up with the log).
    pub async fn with_state<R>(
        &self,
        school: SchoolId,
        read: impl FnOnce(&SchoolState) -> R,
    ) -> Result<R, CommandError> {
        let mut model = self.model.lock().await;
        self.catch_up(&mut model).await?;
        let empty;
        let state = match model.schools.get(&school) {
            Some(state) => state,
            None => {
                empty = SchoolState::new(school);
                &empty
            }
        };
        Ok(read(state))
    }

    /// Decides one command and appends its events. Retries on a concurrent-writer conflict.
    pub async fn execute(
        &self,
        meta: &Metadata,
        command: Command,
    ) -> Result<Executed, CommandError> {
        self.execute_with_id(meta, command, EventId::new_v7()).await
    }

    /// As `execute`, with the caller's event id: a retried request with the same id is
    /// answered with the first result and writes nothing twice.
    pub async fn execute_with_id(
        &self,
        meta: &Metadata,
        command: Command,
        event_id: EventId,
    ) -> Result<Executed, CommandError> {
        self.execute_keyed(meta, command, event_id, Vec::new())
            .await
    }

    /// As `execute_with_id`, storing pupils' data `keys` in the same commit as the
    /// command's events: a refused command (or a retry answered from the log) writes no
    /// key, so it can neither replace a registered pupil's key nor bring an erased one back.
    pub async fn execute_keyed(
        &self,
        meta: &Metadata,
        command: Command,
        event_id: EventId,
        keys: Vec<(PupilId, PupilKey)>,
    ) -> Result<Executed, CommandError> {
        let mut last_stream = None;
        for _ in 0..MAX_RETRIES {
            let plan = {
                let mut model = self.model.lock().await;
                self.catch_up(&mut model).await?;
                let state = match model.schools.get(&meta.school_id) {
                    Some(s) => s,
                    None => &SchoolState::new(meta.school_id),
                };
                let decided = decide(state, command.clone());
                let events = match decided {
                    Ok(events) => events,
                    Err(e) => {
                        // A retry of an already-applied command is refused by the rules
                        // (e.g. "already graded"); the store answers it by event id.
                        if let Some(found) = self.replayed(meta, event_id).await? {
                            return Ok(found);
                        }
                        return Err(e.into());
                    }
                };
                let mut plan = Plan::new();
                for (i, event) in events.into_iter().enumerate() {
                    let stream = event.stream(meta.school_id);
                    let id = if i == 0 { event_id } else { EventId::new_v7() };
                    let new = NewEvent::new(id, &event, meta);
                    let expected = model.expected(&stream);
                    plan.push(stream, expected, new, event);
                }
                plan.with_keys(keys.clone())
            };
            last_stream = plan.requests.first().map(|r| r.stream.clone());
            match self.store.append_all(plan.requests).await {
                Ok(results) => {
                    let last_position = results.iter().map(|r| r.last_position).max().unwrap_or(0);
                    return Ok(Executed {
                        events: plan.events,
                        event_ids: plan.ids,
                        last_position,
                    });
                }
                Err(e) if e.is_conflict() => continue,
                // The id is taken: a retry of a command whose first attempt was committed
                // (its events differ only by when they were decided) gets the first answer.
                Err(StoreError::IdempotencyMismatch { .. }) => {
                    if let Some(found) = self.replayed(meta, event_id).await? {
                        return Ok(found);
                    }
                    return Err(StoreError::IdempotencyMismatch { event_id }.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CommandError::Contended(
            last_stream.unwrap_or_else(|| StreamName::new("unknown")),
        ))
    }

    /// The answer to a retried command whose first attempt was committed: the log holds an
    /// event with the command's id. The command's events are that one and those appended
    /// with it (contiguous, same correlation and recording instant). Another school's or
    /// another actor's event under that id is an id reused, not a retry.
    async fn replayed(
        &self,
        meta: &Metadata,
        event_id: EventId,
    ) -> Result<Option<Executed>, CommandError> {
        let Some(first) = self.store.find_event(event_id).await? else {
            return Ok(None);
        };
        // The key names one command: the same key with another command or other arguments
        // (another fingerprint, see `fingerprint`) is a key reused, whoever sends it.
        let other_command = meta.causation_id.is_some() && first.causation_id != meta.causation_id;
        if first.school_id != meta.school_id || first.actor != meta.actor || other_command {
            return Err(StoreError::IdempotencyMismatch { event_id }.into());
        }
        let decode = |recorded: &suivi_domain::RecordedEvent| {
            recorded.decode().map_err(|error| CommandError::Decode {
                position: recorded.global_position,
                error,
            })
        };
        let mut executed = Executed {
            events: vec![decode(&first)?],
            event_ids: vec![first.event_id],
            last_position: first.global_position,
        };
        let following = self.store.read_all(first.global_position, 64).await?;
        for recorded in following.iter().take_while(|e| {
            e.correlation_id == first.correlation_id
                && e.recorded_at == first.recorded_at
                && e.actor == first.actor
        }) {
            executed.events.push(decode(recorded)?);
            executed.event_ids.push(recorded.event_id);
            executed.last_position = recorded.global_position;
        }
        Ok(Some(executed))
    }

    /// Decides every command against the state left by the previous ones and appends all
    /// their events in one atomic append: all or nothing.
    pub async fn execute_batch(
        &self,
        commands: Vec<(Metadata, Command)>,
    ) -> Result<Executed, BatchError> {
        self.execute_batch_keyed(commands, Vec::new()).await
    }

    /// As `execute_batch`, storing pupils' data `keys` in the same commit (the keys of the
    /// pupils the batch registers): all or nothing, keys included.
    pub async fn execute_batch_keyed(
        &self,
        commands: Vec<(Metadata, Command)>,
        keys: Vec<(PupilId, PupilKey)>,
    ) -> Result<Executed, BatchError> {
        let fail = |index, error: CommandError| BatchError { index, error };
        let mut model = self.model.lock().await;
        self.catch_up(&mut model).await.map_err(|e| fail(0, e))?;
        let mut schools: HashMap<SchoolId, SchoolState> = HashMap::new();
        let mut versions: HashMap<StreamName, u64> = HashMap::new();
        let mut plan = Plan::new();
        for (index, (meta, command)) in commands.into_iter().enumerate() {
            let state = schools
                .entry(meta.school_id)
                .or_insert_with(|| model.school(meta.school_id));
            let events = decide(state, command).map_err(|e| fail(index, e.into()))?;
            for event in events {
                state.evolve(&event);
                let stream = event.stream(meta.school_id);
                let new = NewEvent::new(EventId::new_v7(), &event, &meta);
                plan_push(&mut plan, &model, &mut versions, stream, new, event);
            }
        }
        drop(model);
        self.commit(plan.with_keys(keys))
            .await
            .map_err(|e| fail(0, e))
    }

    /// Appends events recorded elsewhere (an export, another store), each checked by the
    /// domain rules first: all or nothing. Event ids are kept, so importing the same file
    /// twice writes nothing the second time.
    pub async fn import_events(
        &self,
        events: Vec<(Option<StreamName>, NewEvent)>,
    ) -> Result<Executed, BatchError> {
        let fail = |index, error: CommandError| BatchError { index, error };
        let mut model = self.model.lock().await;
        self.catch_up(&mut model).await.map_err(|e| fail(0, e))?;
        let mut schools: HashMap<SchoolId, SchoolState> = HashMap::new();
        let mut versions: HashMap<StreamName, u64> = HashMap::new();
        let mut plan = Plan::new();
        for (index, (given_stream, new)) in events.into_iter().enumerate() {
            let event = new
                .decode()
                .map_err(|error| fail(index, CommandError::Decode { position: 0, error }))?;
            let stream = event.stream(new.school_id);
            if let Some(given) = given_stream {
                if given != stream {
                    return Err(fail(
                        index,
                        CommandError::WrongStream {
                            event_id: new.event_id,
                            expected: stream,
                            given,
                        },
                    ));
                }
            }
            let state = schools
                .entry(new.school_id)
                .or_insert_with(|| model.school(new.school_id));
            check(state, &event).map_err(|e| fail(index, e.into()))?;
            state.evolve(&event);
            plan_push(&mut plan, &model, &mut versions, stream, new, event);
        }
        drop(model);
        self.commit(plan).await.map_err(|e| fail(0, e))
    }

    /// Restores events exactly as another store recorded them (`suivi import --restore`):
    /// each is checked by the domain rules like an imported one, then all are written with
    /// their positions, stream versions and `recorded_at` (`EventStore::restore`), or none
    /// is. Returns the position of the last one.
    pub async fn restore_events(&self, events: Vec<RecordedEvent>) -> Result<u64, BatchError> {
        let fail = |index, error: CommandError| BatchError { index, error };
        let mut model = self.model.lock().await;
        self.catch_up(&mut model).await.map_err(|e| fail(0, e))?;
        let mut schools: HashMap<SchoolId, SchoolState> = HashMap::new();
        for (index, recorded) in events.iter().enumerate() {
            let event = recorded.decode().map_err(|error| {
                fail(
                    index,
                    CommandError::Decode {
                        position: recorded.global_position,
                        error,
                    },
                )
            })?;
            let stream = event.stream(recorded.school_id);
            if stream != recorded.stream {
                return Err(fail(
                    index,
                    CommandError::WrongStream {
                        event_id: recorded.event_id,
                        expected: stream,
                        given: recorded.stream.clone(),
                    },
                ));
            }
            let state = schools
                .entry(recorded.school_id)
                .or_insert_with(|| model.school(recorded.school_id));
            check(state, &event).map_err(|e| fail(index, e.into()))?;
            state.evolve(&event);
        }
        // Held across the write: the write model catches up with exactly these events next.
        let restored = self.store.restore(events).await;
        drop(model);
        restored.map_err(|e| fail(0, e.into()))
    }

    async fn commit(&self, plan: Plan) -> Result<Executed, CommandError> {
        if plan.requests.is_empty() {
            return Ok(Executed {
                events: vec![],
                event_ids: vec![],
                last_position: self.store.head().await?,
            });
        }
        let results = self.store.append_all(plan.requests).await?;
        Ok(Executed {
            events: plan.events,
            event_ids: plan.ids,
            last_position: results.iter().map(|r| r.last_position).max().unwrap_or(0),
        })
    }

    /// Registers a pupil: mints their data key, seals the identity with it, and decides
    /// `RegisterPupil`; the key reaches the key table in the same commit as the event, so
    /// an acknowledged pupil always has a key and a refused registration writes none.
    pub async fn register_pupil(
        &self,
        meta: &Metadata,
        pupil_id: PupilId,
        external_id: String,
        identity: &PupilIdentity,
    ) -> Result<Executed, CommandError> {
        let (command, key) = sealed_registration(pupil_id, external_id, identity);
        self.execute_keyed(meta, command, EventId::new_v7(), vec![(pupil_id, key)])
            .await
    }
}

/// A `RegisterPupil` command with the identity sealed under a fresh key, and that key (to
/// be stored with the event: `execute_keyed`, `execute_batch_keyed`).
pub fn sealed_registration(
    pupil_id: PupilId,
    external_id: String,
    identity: &PupilIdentity,
) -> (Command, PupilKey) {
    let (key, nonce) = fresh_key_material();
    let command = Command::RegisterPupil(PupilRegistered {
        pupil_id,
        external_id,
        identity: seal(&key, nonce, pupil_id, identity),
    });
    (command, key)
}

fn plan_push(
    plan: &mut Plan,
    model: &WriteModel,
    versions: &mut HashMap<StreamName, u64>,
    stream: StreamName,
    new: NewEvent,
    event: Event,
) {
    let current = versions
        .get(&stream)
        .copied()
        .or_else(|| model.versions.get(&stream).copied());
    let expected = match current {
        Some(v) => ExpectedVersion::Exact(v),
        None => ExpectedVersion::NoStream,
    };
    versions.insert(stream.clone(), current.unwrap_or(0) + 1);
    plan.push(stream, expected, new, event);
}

/// The fingerprint of a request as its sender sent it (a mutation and its arguments): a
/// UUID made of the first 16 bytes of the SHA-256 of its JSON. A command sent with an
/// idempotency key carries it as the causation id of its events, so a retry (same
/// fingerprint) is told from another command sent with the same key.
pub fn fingerprint(sent: &impl serde::Serialize) -> EventId {
    let json = serde_json::to_vec(sent).unwrap_or_default();
    let digest = Sha256::digest(&json);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    EventId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// A fresh pupil key and nonce from the OS's CSPRNG.
pub fn fresh_key_material() -> (PupilKey, [u8; NONCE_LEN]) {
    let mut key = [0u8; KEY_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    let mut rng = rand::rngs::OsRng;
    rng.fill_bytes(&mut key);
    rng.fill_bytes(&mut nonce);
    (PupilKey(key), nonce)
}
