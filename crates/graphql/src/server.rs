//! The axum server: routes, the one place identities are extracted, graceful shutdown.
//!
//! Routes: `GET /` (and `GET /graphql`) the GraphiQL page; `POST /graphql` queries and
//! mutations; `GET /graphql/ws` (and `/ws`) subscriptions over `graphql-transport-ws`
//! (the legacy `graphql-ws` protocol is accepted too); `GET /health`.
//!
//! Shutdown (SIGINT or SIGTERM): the listener stops accepting, in-flight requests finish
//! (a mutation is only acknowledged after the store has committed it), subscriptions and
//! the demo simulation end, then the store is closed.

use crate::context::Services;
use crate::demo::{self, DemoLoader};
use crate::errors::BAD_USER_INPUT;
use crate::identity::{Identity, IdentitySource};
use crate::schema::{build_schema, ApiSchema};
use async_graphql::http::{GraphiQLSource, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::{BatchRequest, BatchResponse, Data, Response as GqlResponse};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::{FromRef, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::ids::SchoolId;
use suivi_projections::gateway::{CommandError, Gateway};
use suivi_projections::{ProjectionError, Projections};
use suivi_store::{EventStore, StoreError};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);

/// How `suivi serve` runs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// `sqlite:PATH` or `memory:`.
    pub store_url: String,
    pub addr: SocketAddr,
    /// Load the demo school into an empty store and run a simulated class session.
    pub demo: bool,
    /// The school requests act for; the only school in the store when absent.
    pub school: Option<SchoolId>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            store_url: "sqlite:suivi.db".to_owned(),
            addr: DEFAULT_ADDR,
            demo: false,
            school: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("write model: {0}")]
    Command(#[from] CommandError),
    #[error("projections: {0}")]
    Projections(#[from] ProjectionError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    #[error("loading the demo school: {0}")]
    Demo(String),
    #[error("the store holds {count} schools; say which one to serve (--school ID)")]
    WhichSchool { count: usize },
}

/// The server's shared state: the schema, where identities come from, the services.
#[derive(Clone)]
pub struct AppState {
    pub schema: ApiSchema,
    pub identities: Arc<IdentitySource>,
    pub services: Arc<Services>,
}

impl FromRef<AppState> for Arc<IdentitySource> {
    fn from_ref(state: &AppState) -> Self {
        state.identities.clone()
    }
}

/// A running application (no listener yet): gateway, projections, schema, and the
/// shutdown switch that ends subscriptions and the demo.
pub struct App {
    pub state: AppState,
    shutdown: watch::Sender<bool>,
}

impl App {
    /// Builds the write model and starts the projections, waiting until they have folded
    /// the whole log.
    pub async fn new(
        store: Arc<dyn EventStore>,
        identities: IdentitySource,
    ) -> Result<App, ServeError> {
        let (services, shutdown) = start_services(store).await?;
        Ok(App::assemble(services, shutdown, identities))
    }

    fn assemble(
        services: Arc<Services>,
        shutdown: watch::Sender<bool>,
        identities: IdentitySource,
    ) -> App {
        App {
            state: AppState {
                schema: build_schema(services.clone()),
                identities: Arc::new(identities),
                services,
            },
            shutdown,
        }
    }

    pub fn router(&self) -> Router {
        build_router(self.state.clone())
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.state.services
    }

    /// Ends subscriptions and the demo simulation.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Serves on `listener` until `signal` resolves, then shuts down gracefully.
    pub async fn serve_on(
        &self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let switch = self.shutdown.clone();
        let stop = async move {
            signal.await;
            tracing::info!("shutting down: finishing in-flight requests");
            switch.send_replace(true);
        };
        axum::serve(listener, self.router())
            .with_graceful_shutdown(stop)
            .await?;
        Ok(())
    }
}

async fn start_services(
    store: Arc<dyn EventStore>,
) -> Result<(Arc<Services>, watch::Sender<bool>), ServeError> {
    let gateway = Arc::new(Gateway::new(store.clone()).await?);
    let projections = Arc::new(Projections::start(store));
    projections.caught_up().await?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    Ok((
        Arc::new(Services::new(gateway, projections, shutdown_rx)),
        shutdown,
    ))
}

pub fn build_router(state: AppState) -> Router {
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphiql).post(graphql_http))
        .route("/graphql/ws", get(graphql_ws))
        .route("/ws", get(graphql_ws))
        .route("/health", get(health))
        .with_state(state)
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("suivi — GraphQL")
            .finish(),
    )
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "position": state.services.projections.position(),
    }))
}

/// Errors the engine raises before any resolver runs (syntax, unknown field, a variable of
/// the wrong type) are the client's: they get `BAD_USER_INPUT`.
fn tag_uncoded(response: &mut GqlResponse) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", BAD_USER_INPUT);
        }
    }
}

fn bad_request(message: String) -> Response {
    let body = serde_json::json!({
        "errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn graphql_http(State(state): State<AppState>, identity: Identity, body: Bytes) -> Response {
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(error) => {
            return bad_request(format!(
                "the body is not a GraphQL request (JSON with a \"query\" string and optional \
                 \"variables\" object): {error}"
            ))
        }
    };
    let mut response = state.schema.execute_batch(batch.data(identity)).await;
    match &mut response {
        BatchResponse::Single(r) => tag_uncoded(r),
        BatchResponse::Batch(list) => list.iter_mut().for_each(tag_uncoded),
    }
    Json(response).into_response()
}

async fn graphql_ws(
    State(state): State<AppState>,
    identity: Identity,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let mut data = Data::default();
            data.insert(identity);
            GraphQLWebSocket::new(socket, schema, protocol)
                .with_data(data)
                .serve()
        })
}

/// Resolves when the process gets SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// The school requests act for: the configured one, else the only one in the store, else
/// a fresh id (an empty store: `registerSchool` registers it).
pub fn school_to_serve(
    projections: &Projections,
    configured: Option<SchoolId>,
) -> Result<SchoolId, ServeError> {
    if let Some(school) = configured {
        return Ok(school);
    }
    let models = projections.snapshot();
    let schools = models.reference().schools();
    match schools.as_slice() {
        [] => {
            let fresh = SchoolId(uuid::Uuid::now_v7());
            tracing::warn!(school_id = %fresh, "the store holds no school yet: requests act for a new school id; registerSchool registers it");
            Ok(fresh)
        }
        [only] => Ok(only.school_id),
        many => Err(ServeError::WhichSchool { count: many.len() }),
    }
}

/// `suivi serve`: opens the store, loads the demo school if asked (into an empty store),
/// serves GraphQL on `config.addr` until SIGINT/SIGTERM, and shuts down gracefully.
pub async fn serve(config: ServeConfig, demo_loader: Option<DemoLoader>) -> Result<(), ServeError> {
    let store = suivi_store::open(&config.store_url).await?;
    if config.demo && store.head().await? == 0 {
        match demo_loader {
            Some(load) => {
                tracing::info!("loading the demo school");
                load(store.clone())
                    .await
                    .map_err(|e| ServeError::Demo(e.to_string()))?;
            }
            None => tracing::info!("no demo school loader: the simulation defines its own school"),
        }
    }
    let position = store.head().await?;
    tracing::info!(store = %config.store_url, position, "store opened");

    let (services, shutdown) = start_services(store.clone()).await?;
    let school = match school_to_serve(&services.projections, config.school) {
        Ok(school) => school,
        // The demo serves the first school when a store holds several.
        Err(ServeError::WhichSchool { count }) if config.demo => services
            .snapshot()
            .reference()
            .schools()
            .first()
            .map(|s| s.school_id)
            .ok_or(ServeError::WhichSchool { count })?,
        Err(e) => return Err(e),
    };
    let app = App::assemble(
        services,
        shutdown,
        IdentitySource::Fixed(Identity::admin(school)),
    );
    let simulation = config.demo.then(|| {
        tokio::spawn(demo::run(
            app.services().clone(),
            school,
            app.services().shutdown.clone(),
        ))
    });

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.addr,
            source,
        })?;
    let local = listener.local_addr()?;
    tracing::info!(school_id = %school, "acting as the admin of school {school}");
    tracing::info!("suivi is up: open http://{local}/ (GraphiQL); POST http://{local}/graphql; subscriptions on ws://{local}/graphql/ws");
    app.serve_on(listener, shutdown_signal()).await?;

    app.shutdown();
    if let Some(simulation) = simulation {
        if tokio::time::timeout(Duration::from_secs(10), simulation)
            .await
            .is_err()
        {
            tracing::warn!("the demo simulation did not stop in time");
        }
    }
    app.services().projections.stop();
    drop(app);
    // Dropping the last handle closes the store: its writer finishes what is queued.
    tokio::task::spawn_blocking(move || drop(store))
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(format!("closing the store: {e}"))))?;
    tracing::info!("stopped");
    Ok(())
}
