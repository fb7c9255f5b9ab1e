//! The pages' one way to the data: the GraphQL schema, executed in process with the
//! signed-in person's identity. Scope, journaling of staff reads, the families' view and
//! every other rule of the API apply to a page exactly as to an API client: a page cannot
//! show what the API would refuse.

use async_graphql::{Request, Variables};
use serde::de::DeserializeOwned;
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

/// Runs `query` with `variables` as `identity` and reads its `data` as `T`.
pub async fn query<T: DeserializeOwned>(
    schema: &ApiSchema,
    identity: &Identity,
    query: &str,
    variables: serde_json::Value,
) -> Result<T, Failure> {
    let request = Request::new(query)
        .variables(Variables::from_json(variables))
        .data(identity.clone());
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
    let data = response
        .data
        .into_json()
        .map_err(|e| Failure::Internal(format!("the answer is not JSON: {e}")))?;
    serde_json::from_value(data)
        .map_err(|e| Failure::Internal(format!("the answer has an unexpected shape: {e}")))
}
