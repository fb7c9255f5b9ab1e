//! `suivi link --store URL --provider ISSUER FILE`: who signs in as whom, from a CSV
//! with the columns `subject,role,external_id` (a header line; `,` or `;`).
//!
//! - `subject`: the account's identifier at the identity provider (its `sub` claim),
//!   matched exactly;
//! - `role`: `administrator`, `professeur_principal`, `teacher`, `guardian` or `pupil`
//!   (as in tokens);
//! - `external_id`: for a pupil, the external id of the rosters (SIECLE); for a teacher,
//!   the STSWeb id the STS import registered them under; for anyone, suivi's own id (a
//!   UUID).
//!
//! All or nothing: every line is resolved and checked by the domain rules first; one bad
//! line and nothing is written, each bad line named. A line already linked to the same
//! person is left as it is (a second run writes nothing); a subject linked to someone
//! else must be unlinked first (`unlinkIdentity`); a subject twice in one file is an
//! error; an erased pupil (no data key) cannot be linked.

use crate::import::{derived_id, read_table, LineError};
use chrono::Utc;
use suivi_domain::events::IdentityLinked;
use suivi_domain::ids::{CorrelationId, PupilId, SchoolId, TeacherId};
use suivi_domain::{Actor, Command, Metadata, Role, SchoolState};
use suivi_projections::gateway::Gateway;

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LinkReport {
    pub linked: usize,
    pub already: usize,
    pub errors: Vec<LineError>,
}

/// Reads `bytes` and links each account at `provider` in school `school`.
pub async fn link(
    gateway: &Gateway,
    school: SchoolId,
    provider: &str,
    bytes: &[u8],
) -> anyhow::Result<LinkReport> {
    let mut report = LinkReport::default();
    let table = match read_table(bytes) {
        Ok(t) => t,
        Err(e) => {
            report.errors.push(e);
            return Ok(report);
        }
    };
    let column = |name: &str| table.column(name);
    let (Some(subject_at), Some(role_at), Some(external_at)) =
        (column("subject"), column("role"), column("external_id"))
    else {
        report.errors.push(LineError {
            line: table.header_line,
            reason: format!(
                "the header must name the columns subject, role and external_id (it has {})",
                table.header.join(", ")
            ),
        });
        return Ok(report);
    };
    let plan = gateway
        .with_state(school, |state| {
            let mut state = state.clone();
            let mut commands = Vec::new();
            let mut seen: std::collections::HashMap<String, usize> = Default::default();
            for (line, row) in &table.rows {
                let cell = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
                if let Some(first) = seen.insert(cell(subject_at).to_owned(), *line) {
                    report.errors.push(LineError {
                        line: *line,
                        reason: format!(
                            "subject {:?} is already on line {first} of this file",
                            cell(subject_at)
                        ),
                    });
                    continue;
                }
                let outcome = line_command(
                    &state,
                    school,
                    provider,
                    cell(subject_at),
                    cell(role_at),
                    cell(external_at),
                );
                match outcome {
                    Ok(None) => report.already += 1,
                    Ok(Some(command)) => match suivi_domain::decide(&state, command.clone()) {
                        Ok(events) => {
                            for event in &events {
                                state.evolve(event);
                            }
                            commands.push((*line, command));
                        }
                        Err(e) => report.errors.push(LineError {
                            line: *line,
                            reason: e.to_string(),
                        }),
                    },
                    Err(reason) => report.errors.push(LineError {
                        line: *line,
                        reason,
                    }),
                }
            }
            commands
        })
        .await?;
    // An erased pupil keeps their place in the log but has no key: nobody is linked to them.
    for (line, command) in &plan {
        if let Command::LinkIdentity(e) = command {
            if e.role == Role::Pupil
                && gateway
                    .store()
                    .get_key(PupilId(e.person_id))
                    .await?
                    .is_none()
            {
                report.errors.push(LineError {
                    line: *line,
                    reason: format!("pupil {} has no data key (erased)", e.person_id),
                });
            }
        }
    }
    if !report.errors.is_empty() || plan.is_empty() {
        return Ok(report);
    }
    let meta = Metadata {
        school_id: school,
        actor: Actor::Importer("link".into()),
        occurred_at: Utc::now(),
        correlation_id: Some(CorrelationId(uuid::Uuid::now_v7())),
        causation_id: None,
    };
    report.linked = plan.len();
    let lines: Vec<usize> = plan.iter().map(|(line, _)| *line).collect();
    gateway
        .execute_batch(plan.into_iter().map(|(_, c)| (meta.clone(), c)).collect())
        .await
        .map_err(|e| {
            let line = lines.get(e.index).copied().unwrap_or_default();
            anyhow::anyhow!("line {line}: {}", e.error)
        })?;
    Ok(report)
}

/// The command a line asks for: `None` when it is linked so already.
fn line_command(
    state: &SchoolState,
    school: SchoolId,
    provider: &str,
    subject: &str,
    role: &str,
    external_id: &str,
) -> Result<Option<Command>, String> {
    if subject.is_empty() {
        return Err("subject is empty".into());
    }
    let role = suivi_graphql::jwt::parse_role(role)?;
    let person = person_of(state, school, role, external_id)?;
    if let Some((linked_role, linked_person)) = state
        .identity_links
        .get(&(provider.to_owned(), subject.to_owned()))
    {
        return if *linked_role == role && *linked_person == person {
            Ok(None)
        } else {
            Err(format!(
                "subject {subject:?} is already linked to someone else; unlink it first"
            ))
        };
    }
    Ok(Some(Command::LinkIdentity(IdentityLinked {
        provider: provider.to_owned(),
        subject: subject.to_owned(),
        role,
        person_id: person,
    })))
}

/// suivi's id of the person `external_id` names in `role`.
fn person_of(
    state: &SchoolState,
    school: SchoolId,
    role: Role,
    external_id: &str,
) -> Result<uuid::Uuid, String> {
    if external_id.is_empty() {
        return Err("external_id is empty".into());
    }
    if let Ok(id) = external_id.parse::<uuid::Uuid>() {
        return Ok(id);
    }
    match role {
        Role::Pupil => state
            .pupils_by_external_id
            .get(external_id)
            .map(|p: &PupilId| p.0)
            .ok_or_else(|| format!("no pupil has the external id {external_id:?}")),
        Role::Teacher | Role::HeadTeacher | Role::Admin => {
            let id = TeacherId(derived_id(school, &format!("teacher/sts/{external_id}")));
            if state.teachers.contains(&id) {
                Ok(id.0)
            } else {
                Err(format!(
                    "no teacher was imported from STSWeb with the id {external_id:?}"
                ))
            }
        }
        Role::Guardian => Err(format!(
            "a guardian is named by suivi's id (a UUID), not {external_id:?}"
        )),
    }
}
