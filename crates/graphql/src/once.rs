//! `suivi query`: one GraphQL request run in process, against projections folded from the
//! store, as the admin of the store's school. Mutations work too: they go through the
//! gateway like any other write.

use crate::identity::{Identity, IdentitySource};
use crate::server::{school_to_serve, App, ServeError};
use async_graphql::{Request, Variables};
use std::sync::Arc;
use suivi_domain::ids::SchoolId;
use suivi_store::EventStore;

/// Opens the store at `store_url`, runs `query` with `variables` (a JSON object), and
/// returns the GraphQL response (`{"data": …, "errors": […]}`) as JSON.
pub async fn query_once(
    store_url: &str,
    query: &str,
    variables: Option<serde_json::Value>,
) -> Result<serde_json::Value, ServeError> {
    let store = suivi_store::open(store_url).await?;
    let answer = query_store(store.clone(), None, query, variables).await;
    tokio::task::spawn_blocking(move || drop(store))
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
    answer
}

/// As `query_once`, on an open store; `school` defaults to the store's only school.
pub async fn query_store(
    store: Arc<dyn EventStore>,
    school: Option<SchoolId>,
    query: &str,
    variables: Option<serde_json::Value>,
) -> Result<serde_json::Value, ServeError> {
    let app = App::new(
        store.clone(),
        IdentitySource::Fixed(Identity::admin(SchoolId(uuid::Uuid::nil()))),
    )
    .await?;
    let school = school_to_serve(&app.services().projections, school)?;
    let identity = Identity::admin(school);
    let mut request = Request::new(query).data(identity);
    if let Some(variables) = variables {
        request = request.variables(Variables::from_json(variables));
    }
    let response = app.state.schema.execute(request).await;
    app.shutdown();
    app.services().projections.stop();
    serde_json::to_value(&response)
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))
}
