//! The pages' one way to the data: the GraphQL schema, executed in process with the
//! signed-in person's identity. Scope, journaling of staff reads, the families' view and
//! every other rule of the API apply to a page exactly as to an API client: a page cannot
//! show what the API would refuse.

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Variables};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use suivi_graphql::{ApiSchema, Identity};

/// Why a page has no data.
#[derive(Debug)]
pub enum Failure {
    /// Unknown, or out of the person's scope: the page answers 404 either way.
    NotFound,
    /// The session's identity is refused (its scope is gone).
    Unauthenticated,
    /// Anything else: a 500 with the message logged, not shown.
    Internal(String),
}

/// The pages' queries, parsed once: they are constants of this crate, and parsing one
/// (a pest grammar) cost as much as a tenth of a board. Validation still runs on every
/// execution.
fn parsed(query: &'static str) -> Option<ExecutableDocument> {
    static PARSED: OnceLock<Mutex<HashMap<&'static str, ExecutableDocument>>> = OnceLock::new();
    let cache = PARSED.get_or_init(Default::default);
    let mut held = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(document) = held.get(query) {
        return Some(document.clone());
    }
    let document = async_graphql::parser::parse_query(query).ok()?;
    held.insert(query, document.clone());
    Some(document)
}

/// Runs `query` with `variables` as `identity` and reads its `data` as `T`.
pub async fn query<T: DeserializeOwned>(
    schema: &ApiSchema,
    identity: &Identity,
    query: &'static str,
    variables: serde_json::Value,
) -> Result<T, Failure> {
    let mut request = Request::new(query)
        .variables(Variables::from_json(variables))
        .data(identity.clone());
    // A query that does not parse is left to `execute`, which reports why.
    if let Some(document) = parsed(query) {
        request.set_parsed_query(document);
    }
    let response = schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|c| c.to_string().trim_matches('"').to_owned());
        return Err(match code.as_deref() {
            Some("NOT_FOUND" | "FORBIDDEN" | "BAD_USER_INPUT") => Failure::NotFound,
            Some("UNAUTHENTICATED" | "SCOPE_LOST") => Failure::Unauthenticated,
            _ => Failure::Internal(error.message.clone()),
        });
    }
    // Straight from the executor's value to our structs: no JSON tree in between.
    async_graphql::from_value(response.data)
        .map_err(|e| Failure::Internal(format!("the answer has an unexpected shape: {e}")))
}
