//! JSON Lines event files. Each non-blank line is one of:
//!
//! - an envelope: a `RecordedEvent` as `suivi export` writes it, a `NewEvent`, or a
//!   generated fixture line — recognised by `event_type` and `payload`. Its `event_id` is
//!   kept (importing twice writes nothing twice); a `stream`, when present, must be the
//!   event's stream; positions, stream versions and `recorded_at` are the new store's own.
//! - a command in its tagged form, `{"command": "RecordGrade", …}`. It may carry
//!   `"occurred_at"` (RFC 3339; default: the time of the import, the same for the whole
//!   file) and `"school_id"` (default: the school of the previous lines, else the store's
//!   only school). It is decided by the domain and recorded by the actor `importer:jsonl`.
//!
//! Every line is validated against the domain in order (an envelope by `check`, a command by
//! `decide`) before anything is written. A file of envelopes is written with
//! `Gateway::import_events`, a file of commands with `Gateway::execute_batch`, a mix by
//! importing the commands' decided events with the envelopes, in line order: in every case
//! in one atomic append.

use super::catalog::{fingerprint, Presence};
use super::{batch_failure, FileReport, Importer, LineError};
use crate::progress;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use suivi_domain::ids::{CorrelationId, EventId, SchoolId};
use suivi_domain::{
    check, decide, Actor, Command, Event, Metadata, NewEvent, SchoolState, StreamName,
};

/// Just enough of a line to tell what it is.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default)]
    command: Option<&'a RawValue>,
    #[serde(borrow, default)]
    event_type: Option<&'a RawValue>,
}

/// An envelope line: a `RecordedEvent`'s fields, the store-assigned ones optional.
#[derive(Deserialize)]
struct EnvelopeLine {
    #[serde(default)]
    stream: Option<StreamName>,
    event_id: EventId,
    event_type: String,
    schema_version: u16,
    occurred_at: DateTime<Utc>,
    school_id: SchoolId,
    actor: Actor,
    #[serde(default)]
    correlation_id: Option<CorrelationId>,
    #[serde(default)]
    causation_id: Option<EventId>,
    payload: Box<RawValue>,
}

#[derive(Deserialize)]
struct CommandExtras {
    #[serde(default)]
    occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    school_id: Option<SchoolId>,
}

enum Line {
    Envelope(Option<StreamName>, NewEvent),
    Command(Box<Command>, CommandExtras),
}

fn parse_line(text: &str) -> Result<Line, String> {
    let probe: Probe = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match (probe.command.is_some(), probe.event_type.is_some()) {
        (true, true) => Err("has both \"command\" and \"event_type\": a line is either a command or an event".into()),
        (true, false) => {
            let command: Command =
                serde_json::from_str(text).map_err(|e| format!("not a valid command: {e}"))?;
            let extras: CommandExtras = serde_json::from_str(text)
                .map_err(|e| format!("not a valid command: {e}"))?;
            Ok(Line::Command(Box::new(command), extras))
        }
        (false, true) => {
            let e: EnvelopeLine =
                serde_json::from_str(text).map_err(|e| format!("not a valid event envelope: {e}"))?;
            Ok(Line::Envelope(
                e.stream,
                NewEvent {
                    event_id: e.event_id,
                    event_type: e.event_type,
                    schema_version: e.schema_version,
                    occurred_at: e.occurred_at,
                    school_id: e.school_id,
                    actor: e.actor,
                    correlation_id: e.correlation_id,
                    causation_id: e.causation_id,
                    payload: e.payload,
                },
            ))
        }
        (false, false) => Err(
            "is neither an event envelope (with \"event_type\" and \"payload\") nor a command (with \"command\")"
                .into(),
        ),
    }
}

/// A line that passed validation.
enum Valid {
    Envelope(usize, Option<StreamName>, NewEvent),
    Command(usize, Metadata, Command, Vec<Event>),
}

pub(super) async fn import(
    importer: &mut Importer<'_>,
    bytes: &[u8],
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let correlation = CorrelationId(uuid::Uuid::now_v7());
    let bar = progress::bar(importer.options.progress, bytes.len() as u64, "checking");
    let mut states: HashMap<SchoolId, SchoolState> = HashMap::new();
    let mut seen: HashMap<EventId, (u64, usize)> = HashMap::new();
    let mut current_school: Option<SchoolId> = None;
    let mut valid = Vec::new();
    let mut offset = 0u64;
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        offset += raw.len() as u64 + 1;
        if line % 1024 == 0 {
            bar.set_position(offset);
        }
        let raw = if line == 1 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            report.lines += 1;
            report.errors.push(LineError {
                line,
                reason: "is not valid UTF-8".into(),
            });
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        report.lines += 1;
        let fail = |reason: String| LineError { line, reason };
        let parsed = match parse_line(text) {
            Ok(parsed) => parsed,
            Err(reason) => {
                report.errors.push(fail(reason));
                continue;
            }
        };
        match parsed {
            Line::Envelope(stream, event) => {
                current_school = Some(event.school_id);
                let decoded = match event.decode() {
                    Ok(decoded) => decoded,
                    Err(e) => {
                        report.errors.push(fail(e.to_string()));
                        continue;
                    }
                };
                let expected = decoded.stream(event.school_id);
                if let Some(given) = &stream {
                    if *given != expected {
                        report.errors.push(fail(format!(
                            "{} {} belongs in stream {expected}, not {given}",
                            event.event_type, event.event_id
                        )));
                        continue;
                    }
                }
                match importer.catalog.presence(&event) {
                    Presence::Same => {
                        report.already_present += 1;
                        continue;
                    }
                    Presence::Different => {
                        report.errors.push(fail(format!(
                            "event {} is already in the log with other content; an event id is used once",
                            event.event_id
                        )));
                        continue;
                    }
                    Presence::New => {}
                }
                let print = fingerprint(&event);
                if let Some((other, first)) = seen.get(&event.event_id) {
                    if *other == print {
                        report.already_present += 1;
                    } else {
                        report.errors.push(fail(format!(
                            "event {} was already given on line {first} with other content",
                            event.event_id
                        )));
                    }
                    continue;
                }
                let state = state_of(importer, &mut states, event.school_id).await?;
                if let Err(e) = check(state, &decoded) {
                    report.errors.push(fail(e.to_string()));
                    continue;
                }
                state.evolve(&decoded);
                seen.insert(event.event_id, (print, line));
                valid.push(Valid::Envelope(line, stream, event));
            }
            Line::Command(command, extras) => {
                let from_command = match command.as_ref() {
                    Command::RegisterSchool(e) => Some(e.school_id),
                    _ => None,
                };
                let Some(school) = extras
                    .school_id
                    .or(from_command)
                    .or(current_school)
                    .or_else(|| importer.catalog.only_school())
                else {
                    report.errors.push(fail(format!(
                        "which school? add \"school_id\" to the line (the store holds {} schools)",
                        importer.catalog.schools.len()
                    )));
                    continue;
                };
                current_school = Some(school);
                let meta = Metadata {
                    school_id: school,
                    actor: Actor::Importer("jsonl".into()),
                    occurred_at: extras.occurred_at.unwrap_or(now),
                    correlation_id: Some(correlation),
                    causation_id: None,
                };
                let state = state_of(importer, &mut states, school).await?;
                match decide(state, (*command).clone()) {
                    Ok(events) => {
                        for event in &events {
                            state.evolve(event);
                        }
                        valid.push(Valid::Command(line, meta, *command, events));
                    }
                    Err(e) => report.errors.push(fail(e.to_string())),
                }
            }
        }
    }
    bar.finish_and_clear();
    if !report.errors.is_empty() && !importer.options.skip_bad {
        return Ok(());
    }
    if valid.is_empty() {
        report.written = true;
        return Ok(());
    }
    let spinner = progress::spinner(importer.options.progress, "writing");
    let result = write(importer, valid).await;
    spinner.finish_and_clear();
    match result? {
        Ok(executed) => report.record(&executed),
        Err(line_error) => report.errors.push(line_error),
    }
    Ok(())
}

async fn state_of<'s>(
    importer: &Importer<'_>,
    states: &'s mut HashMap<SchoolId, SchoolState>,
    school: SchoolId,
) -> anyhow::Result<&'s mut SchoolState> {
    match states.entry(school) {
        std::collections::hash_map::Entry::Occupied(slot) => Ok(slot.into_mut()),
        std::collections::hash_map::Entry::Vacant(slot) => {
            let state = importer
                .gateway
                .with_state(school, |s| s.clone())
                .await
                .map_err(|e| anyhow::anyhow!("reading the log: {e}"))?;
            Ok(slot.insert(state))
        }
    }
}

/// Writes the valid lines in one atomic append; `Ok(Err(_))` when the gateway refused a line
/// (the log changed since it was checked).
async fn write(
    importer: &Importer<'_>,
    valid: Vec<Valid>,
) -> anyhow::Result<Result<suivi_projections::gateway::Executed, LineError>> {
    let gateway = importer.gateway;
    let all_commands = valid.iter().all(|v| matches!(v, Valid::Command(..)));
    let mut lines = Vec::with_capacity(valid.len());
    let result = if all_commands {
        let mut batch = Vec::with_capacity(valid.len());
        for v in valid {
            if let Valid::Command(line, meta, command, _) = v {
                lines.push(line);
                batch.push((meta, command));
            }
        }
        gateway.execute_batch(batch).await
    } else {
        let mut events = Vec::with_capacity(valid.len());
        for v in valid {
            match v {
                Valid::Envelope(line, stream, event) => {
                    lines.push(line);
                    events.push((stream, event));
                }
                Valid::Command(line, meta, _, decided) => {
                    for event in decided {
                        lines.push(line);
                        events.push((None, NewEvent::new(EventId::new_v7(), &event, &meta)));
                    }
                }
            }
        }
        gateway.import_events(events).await
    };
    match result {
        Ok(executed) => Ok(Ok(executed)),
        Err(error) => batch_failure(error, &lines).map(Err),
    }
}
