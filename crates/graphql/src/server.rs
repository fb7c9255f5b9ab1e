//! The axum server: routes, the one place identities are extracted, graceful shutdown.
//!
//! Routes: `GET /` (and `GET /graphql`) the GraphiQL page; `POST /graphql` queries and
//! mutations; `GET /graphql/ws` (and `/ws`) subscriptions over `graphql-transport-ws`
//! (the legacy `graphql-ws` protocol is accepted too); `GET /health`.
//!
//! `POST /graphql` and the WebSocket need a bearer token (`Authorization: Bearer …`; on
//! the WebSocket it may come instead in the `connection_init` payload, as
//! `{"Authorization": "Bearer …"}`, since browsers cannot set its headers). The GraphiQL
//! page and `/health` need none. A missing or refused token is a 401 with a GraphQL-style
//! body (`extensions.code = UNAUTHENTICATED`); on a WebSocket without a header, a refused
//! `connection_init` closes the socket (code 4403, reason `UNAUTHENTICATED: …`; see `ws`).
//!
//! Shutdown (SIGINT or SIGTERM): the listener stops accepting, in-flight requests finish
//! (a mutation is only acknowledged after the store has committed it), subscriptions and
//! the demo simulation end, then the store is closed.

use crate::answers::{self, AnswerCache, Basis, Trace};
use crate::audit::AccessJournal;
use crate::context::Services;
use crate::demo::{self, DemoLoader};
use crate::errors::{BAD_USER_INPUT, PAYLOAD_TOO_LARGE, TIMEOUT};
use crate::identity::{Identity, IdentitySource, UpgradeIdentity};
use crate::jwt::JwtVerifier;
use crate::limits::{Limits, MAX_BATCH, MAX_BODY_BYTES, REQUEST_TIMEOUT};
use crate::oidc::{ApiTokens, OidcConfig, Provider};
use crate::schema::{build_schema_with, ApiSchema};
use async_graphql::http::{GraphiQLSource, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::{BatchRequest, BatchResponse, Response as GqlResponse};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRef, State, WebSocketUpgrade};
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
    /// How bearer tokens are checked.
    pub auth: AuthConfig,
    /// Schema introspection (what GraphiQL's explorer reads). `None`: on in `--demo`,
    /// off otherwise (production).
    pub introspection: Option<bool>,
    /// Mutations one identity may send at once, and per second after that.
    pub write_burst: u32,
    pub writes_per_second: u32,
    /// `--no-answer-cache` turns it off.
    pub answer_cache: bool,
    /// How long without progress makes a pupil "bloqué" on the live boards (5 minutes
    /// by default).
    pub stall_after: Option<Duration>,
    /// Sign-in with the school's OpenID Connect provider (`--oidc-issuer` …).
    pub oidc: Option<OidcConfig>,
}

/// The key bearer tokens are checked with: an HS256 secret or an identity provider's
/// public key (RS256 or ES256, PEM). Exactly one outside `--demo`; the demo makes up a
/// secret when given none.
#[derive(Clone, Debug, Default)]
pub struct AuthConfig {
    /// `SUIVI_JWT_SECRET` / `--jwt-secret`.
    pub jwt_secret: Option<String>,
    /// `SUIVI_JWT_PUBLIC_KEY` / `--jwt-public-key`: a PEM file.
    pub jwt_public_key: Option<std::path::PathBuf>,
    /// `SUIVI_JWT_ISSUER` / `--jwt-issuer`: the `iss` every token must carry.
    pub jwt_issuer: Option<String>,
    /// `SUIVI_JWT_AUDIENCE` / `--jwt-audience`: the `aud` every token must carry.
    pub jwt_audience: Option<String>,
}

impl AuthConfig {
    /// The verifier, and the HS256 secret when there is one (to sign the demo's tokens).
    /// With `oidc`, the school's provider signs people in and no local key is needed: the
    /// server then accepts no token of its own (a random secret nobody holds).
    pub fn verifier(
        &self,
        demo: bool,
        oidc: bool,
    ) -> Result<(JwtVerifier, Option<String>), ServeError> {
        let (verifier, secret) = self.key(demo || oidc)?;
        let secret = secret.filter(|_| demo || self.jwt_secret.is_some());
        let verifier = verifier.expecting(self.jwt_issuer.clone(), self.jwt_audience.clone());
        Ok((verifier, secret))
    }

    fn key(&self, demo: bool) -> Result<(JwtVerifier, Option<String>), ServeError> {
        match (&self.jwt_secret, &self.jwt_public_key) {
            (Some(_), Some(_)) => Err(ServeError::Auth(
                "give either a JWT secret (SUIVI_JWT_SECRET / --jwt-secret) or a public key \
                 (SUIVI_JWT_PUBLIC_KEY / --jwt-public-key), not both"
                    .to_owned(),
            )),
            (Some(secret), None) => JwtVerifier::hs256(secret.as_bytes())
                .map(|v| (v, Some(secret.clone())))
                .map_err(|e| ServeError::Auth(e.to_string())),
            (None, Some(path)) => {
                let pem = std::fs::read(path).map_err(|e| {
                    ServeError::Auth(format!(
                        "reading the JWT public key {}: {e}",
                        path.display()
                    ))
                })?;
                JwtVerifier::public_key_pem(&pem)
                    .map(|v| (v, None))
                    .map_err(|e| ServeError::Auth(format!("{}: {e}", path.display())))
            }
            (None, None) if demo => {
                let secret = crate::jwt::random_secret();
                let verifier = JwtVerifier::hs256(secret.as_bytes())
                    .map_err(|e| ServeError::Auth(e.to_string()))?;
                Ok((verifier, Some(secret)))
            }
            (None, None) => Err(ServeError::Auth(
                "no way to check bearer tokens: set SUIVI_JWT_SECRET (or --jwt-secret) to a \
                 secret of at least 32 bytes, or SUIVI_JWT_PUBLIC_KEY (or --jwt-public-key) \
                 to your identity provider's public key (PEM); `suivi serve --demo` makes up \
                 a secret and prints ready tokens"
                    .to_owned(),
            )),
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            store_url: "sqlite:suivi.db".to_owned(),
            addr: DEFAULT_ADDR,
            demo: false,
            school: None,
            auth: AuthConfig::default(),
            introspection: None,
            write_burst: Limits::default().burst,
            writes_per_second: Limits::default().per_second,
            answer_cache: Limits::default().answer_cache,
            stall_after: None,
            oidc: None,
        }
    }
}

impl ServeConfig {
    pub fn limits(&self) -> Limits {
        Limits {
            introspection: self.introspection.unwrap_or(self.demo),
            burst: self.write_burst,
            per_second: self.writes_per_second,
            answer_cache: self.answer_cache,
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
    #[error("{0}")]
    Auth(String),
}

/// The server's shared state: the schema, where identities come from, the services.
#[derive(Clone)]
pub struct AppState {
    pub schema: ApiSchema,
    pub identities: Arc<IdentitySource>,
    pub services: Arc<Services>,
    pub answers: Arc<AnswerCache>,
    /// The school's OpenID provider, when configured (its access tokens on the API, and
    /// the pages' sign-in).
    pub oidc: Option<Arc<ApiTokens>>,
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
        App::with_limits(store, identities, &Limits::default()).await
    }

    /// As `new`, with the request limits `limits`.
    pub async fn with_limits(
        store: Arc<dyn EventStore>,
        identities: IdentitySource,
        limits: &Limits,
    ) -> Result<App, ServeError> {
        App::with_journal(store, identities, limits, AccessJournal::in_memory()).await
    }

    /// As `with_limits`, journaling staff reads in `journal` (the journal of the store, as
    /// `serve` opens it, rather than one in memory).
    pub async fn with_journal(
        store: Arc<dyn EventStore>,
        identities: IdentitySource,
        limits: &Limits,
        journal: AccessJournal,
    ) -> Result<App, ServeError> {
        let (services, shutdown) = start_services(store, journal, Default::default()).await?;
        Ok(App::assemble(services, shutdown, identities, limits))
    }

    fn assemble(
        services: Arc<Services>,
        shutdown: watch::Sender<bool>,
        identities: IdentitySource,
        limits: &Limits,
    ) -> App {
        App {
            state: AppState {
                schema: build_schema_with(services.clone(), limits),
                identities: Arc::new(identities),
                answers: Arc::new(AnswerCache::new(limits.answer_cache, services.keys.ttl())),
                services,
                oidc: None,
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
        self.serve_router_on(listener, self.router(), signal).await
    }

    /// As `serve_on`, serving `router` (the API's routes merged with others, the pages').
    pub async fn serve_router_on(
        &self,
        listener: TcpListener,
        router: Router,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let switch = self.shutdown.clone();
        let stop = async move {
            signal.await;
            tracing::info!("shutting down: finishing in-flight requests");
            switch.send_replace(true);
        };
        axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await?;
        Ok(())
    }
}

async fn start_services(
    store: Arc<dyn EventStore>,
    journal: AccessJournal,
    parcours: suivi_projections::ParcoursConfig,
) -> Result<(Arc<Services>, watch::Sender<bool>), ServeError> {
    // The projections fold the log on their own task while the gateway folds it into the
    // write model here: on two cores the two catch-ups overlap.
    let projections = Arc::new(Projections::start(store.clone()));
    let gateway = Arc::new(Gateway::new(store).await?);
    projections.caught_up().await?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    Ok((
        Arc::new(Services {
            parcours,
            ..Services::new(gateway, projections, shutdown_rx).with_journal(journal)
        }),
        shutdown,
    ))
}

/// The API's routes with GraphiQL on `/` too (the router tests and `App::router` use).
pub fn build_router(state: AppState) -> Router {
    api_router(state).route("/", get(graphiql))
}

/// The API's routes: `POST /graphql`, GraphiQL on `GET /graphql`, the WebSocket,
/// `/health`; `/` is left to the pages.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql_http))
        .route("/graphql/ws", get(graphql_ws))
        .route("/ws", get(graphql_ws))
        .route("/health", get(health))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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
    let answers = state.answers.stats();
    Json(serde_json::json!({
        "status": "ok",
        "position": state.services.projections.position(),
        "answerCache": {
            "enabled": state.answers.enabled(),
            "hits": answers.hits,
            "misses": answers.misses,
            "kept": answers.kept,
        },
    }))
}

/// The longest error message an answer carries: a message quoting a huge argument back
/// is cut (an error never echoes a large input).
pub const MAX_ERROR_CHARS: usize = 300;

/// Errors as every answer (HTTP and WebSocket) carries them. Those the engine raises before
/// any resolver runs (syntax, unknown field, a variable of the wrong type) are the
/// client's: they get `BAD_USER_INPUT`. A message is at most `MAX_ERROR_CHARS`.
pub fn tidy(response: &mut GqlResponse) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", BAD_USER_INPUT);
        }
        if let Some((cut, _)) = error.message.char_indices().nth(MAX_ERROR_CHARS) {
            let dropped = error.message.len() - cut;
            error.message.truncate(cut);
            error
                .message
                .push_str(&format!("… ({dropped} more bytes not shown)"));
        }
    }
}

fn bad_request(message: String) -> Response {
    let body = serde_json::json!({
        "errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn graphql_http(
    State(state): State<AppState>,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return coded_response(
                rejection.status(),
                PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is refused ({rejection}); at most {MAX_BODY_BYTES} bytes"
                ),
            )
        }
    };
    let basis = Basis {
        position: state.services.snapshot().position(),
        keys: state.services.keys.generation(),
    };
    if let Some(answer) = state.answers.get(&identity, &body, basis) {
        // A served copy is a read like a computed one: journaled, durably, before it leaves.
        for pupil in &answer.journaled {
            if let Err(error) = state.services.journal.record(&identity, *pupil).await {
                tracing::error!(%error, pupil = %pupil, "journaling a served staff read failed");
                return coded_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    crate::errors::UNAVAILABLE,
                    "the access journal could not record this read, so the answer is not \
                     shown; try again"
                        .to_owned(),
                );
            }
        }
        return json_bytes(answer.body.clone());
    }
    let mut batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(error) => {
            return bad_request(format!(
                "the body is not a GraphQL request (JSON with a \"query\" string and optional \
                 \"variables\" object): {error}"
            ))
        }
    };
    if let BatchRequest::Batch(list) = &batch {
        if list.len() > MAX_BATCH {
            return bad_request(format!(
                "a batch of {} operations; at most {MAX_BATCH} in one request",
                list.len()
            ));
        }
    }
    // One operation (not a batch) whose document holds only queries.
    let keepable = state.answers.enabled()
        && match &mut batch {
            BatchRequest::Single(request) => answers::only_queries(request),
            BatchRequest::Batch(_) => false,
        };
    let trace = Arc::new(Trace::default());
    let execution = answers::traced(
        trace.clone(),
        state.schema.execute_batch(batch.data(identity.clone())),
    );
    let mut response = match tokio::time::timeout(REQUEST_TIMEOUT, execution).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_s = REQUEST_TIMEOUT.as_secs(), "request timed out");
            return coded_response(
                StatusCode::SERVICE_UNAVAILABLE,
                TIMEOUT,
                format!(
                    "the request took longer than {} s and was abandoned; a mutation sent \
                     with an idempotencyKey can be sent again safely",
                    REQUEST_TIMEOUT.as_secs()
                ),
            );
        }
    };
    match &mut response {
        BatchResponse::Single(r) => tidy(r),
        BatchResponse::Batch(list) => list.iter_mut().for_each(tidy),
    }
    let Ok(answer) = serde_json::to_vec(&response) else {
        return coded_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::errors::INTERNAL,
            "the answer could not be written as JSON".to_owned(),
        );
    };
    let answer = Bytes::from(answer);
    // Kept only if every resolver saw the snapshot the basis names (see `answers`).
    let unmoved = state.services.snapshot().position() == basis.position;
    if keepable && unmoved && response.is_ok() {
        state
            .answers
            .keep(&identity, body, basis, &trace, answer.clone());
    }
    json_bytes(answer)
}

fn json_bytes(body: Bytes) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn coded_response(status: StatusCode, code: &str, message: String) -> Response {
    let body = serde_json::json!({
        "errors": [{"message": message, "extensions": {"code": code}}]
    });
    (status, Json(body)).into_response()
}

async fn graphql_ws(
    State(state): State<AppState>,
    UpgradeIdentity(bearer): UpgradeIdentity,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // The body limit of `POST /graphql`, per message.
        .max_message_size(MAX_BODY_BYTES)
        .max_frame_size(MAX_BODY_BYTES)
        .on_upgrade(move |socket| crate::ws::serve(socket, state, bearer))
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
/// serves GraphQL on `config.addr` until SIGINT/SIGTERM, and shuts down gracefully. The
/// demo's ready tokens are logged; `serve_with` hands them to the caller instead.
pub async fn serve(config: ServeConfig, demo_loader: Option<DemoLoader>) -> Result<(), ServeError> {
    serve_with(config, demo_loader, |text| {
        tracing::info!("{text}");
    })
    .await
}

/// `serve`, handing `announce` the text a newcomer needs once the server is ready: with
/// `--demo`, a ready token per role and how to use it (the CLI prints it on stdout).
pub async fn serve_with(
    config: ServeConfig,
    demo_loader: Option<DemoLoader>,
    announce: impl FnOnce(&str) + Send,
) -> Result<(), ServeError> {
    serve_pages(config, demo_loader, None, announce).await
}

/// What the pages are built from: the server's state, the demo's users (with `--demo`),
/// and the session table of the store with the deployment's session key.
pub struct PagesSetup {
    pub state: AppState,
    pub demo_users: Option<Vec<crate::demo::tokens::DemoUser>>,
    pub sessions: suivi_store::sessions::SessionTable,
    pub session_key: [u8; 32],
}

/// The pages' routes, built once the server knows its state and (with `--demo`) its demo
/// users: `suivi-web` provides it, the CLI passes it in (the API crate does not depend on
/// the pages).
pub type PagesFactory = Box<dyn FnOnce(PagesSetup) -> Router + Send>;

/// `serve_with`, serving the pages `pages` builds beside the API (on `/`).
pub async fn serve_pages(
    config: ServeConfig,
    demo_loader: Option<DemoLoader>,
    pages: Option<PagesFactory>,
    announce: impl FnOnce(&str) + Send,
) -> Result<(), ServeError> {
    // Refuse before touching the store: a server without a key would serve no one.
    let (verifier, secret) = config.auth.verifier(config.demo, config.oidc.is_some())?;
    let provider = match &config.oidc {
        Some(oidc) => Some(Arc::new(
            Provider::new(oidc.clone()).map_err(ServeError::Auth)?,
        )),
        None => None,
    };
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

    let journal = AccessJournal::for_store(&config.store_url)
        .await
        .map_err(|e| {
            ServeError::Io(std::io::Error::other(format!(
                "opening the access journal beside {}: {e}",
                config.store_url
            )))
        })?;
    let mut parcours = suivi_projections::ParcoursConfig::default();
    if let Some(after) = config
        .stall_after
        .and_then(|a| chrono::Duration::from_std(a).ok())
    {
        parcours.stall_after = after;
    }
    let (services, shutdown) = start_services(store.clone(), journal, parcours).await?;
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
    let limits = config.limits();
    tracing::info!(
        introspection = limits.introspection,
        write_burst = limits.burst,
        writes_per_second = limits.per_second,
        answer_cache = limits.answer_cache,
        "request limits"
    );
    let match_email = config.oidc.as_ref().is_some_and(|o| o.match_email);
    let oidc = provider.map(|provider| {
        let issuer = provider.issuer().to_owned();
        Arc::new(ApiTokens {
            resolve: crate::oidc::resolver(services.clone(), school, issuer.clone()),
            first_sign_in: match_email
                .then(|| crate::oidc::email_matcher(services.clone(), school, issuer)),
            provider,
        })
    });
    if let Some(oidc) = &oidc {
        tracing::info!(
            issuer = oidc.provider.issuer(),
            "sign-in through the school's OpenID provider"
        );
        // Discovery now, so the first sign-in does not wait for it; a provider that is
        // down is tried again at each sign-in.
        let provider = oidc.provider.clone();
        tokio::spawn(async move {
            if let Err(error) = provider.discovery().await {
                tracing::warn!(%error, "the OpenID provider's discovery failed; retried at the next sign-in");
            }
        });
    }
    let mut app = App::assemble(
        services,
        shutdown,
        IdentitySource::Jwt {
            verifier,
            school,
            provider: oidc.clone(),
        },
        &limits,
    );
    app.state.oidc = oidc;
    let (staged, stage) = tokio::sync::oneshot::channel();
    let simulation = config.demo.then(|| {
        tokio::spawn(demo::run_with(
            app.services().clone(),
            school,
            app.services().shutdown.clone(),
            Some(staged),
        ))
    });
    // The demo's tokens are picked once the simulation has set its stage (and the
    // projections show it), so the professeur principal's is the one of the live class.
    let mut live_class = None;
    let (demo_tokens, demo_users) = match (&secret, config.demo) {
        (Some(secret), true) => {
            let live = tokio::time::timeout(Duration::from_secs(30), stage)
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            if let Ok(head) = app.services().store().head().await {
                app.services().caught_up(head).await;
            }
            let snapshot = app.services().snapshot();
            live_class = live;
            (
                Some(demo::tokens::announce(
                    &snapshot,
                    school,
                    live,
                    secret.as_bytes(),
                )),
                Some(demo::tokens::demo_users(&snapshot, school, live)),
            )
        }
        _ => (None, None),
    };
    let with_pages = pages.is_some();
    let router = match pages {
        Some(pages) => {
            let sessions =
                suivi_store::sessions::SessionTable::for_store(&config.store_url).await?;
            let mut candidate = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut candidate);
            let session_key = sessions.key_or(candidate).await?;
            api_router(app.state.clone()).merge(pages(PagesSetup {
                state: app.state.clone(),
                demo_users,
                sessions,
                session_key,
            }))
        }
        None => app.router(),
    };

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.addr,
            source,
        })?;
    let local = listener.local_addr()?;
    tracing::info!(school_id = %school, "serving school {school}: requests need a bearer token");
    if with_pages {
        tracing::info!("suivi is up: open http://{local}/ (the pages; sign in at http://{local}/connexion); GraphiQL on http://{local}/graphql; POST http://{local}/graphql; subscriptions on ws://{local}/graphql/ws");
    } else {
        tracing::info!("suivi is up: open http://{local}/ (GraphiQL); POST http://{local}/graphql; subscriptions on ws://{local}/graphql/ws");
    }
    if let Some(text) = demo_tokens {
        let pages_text = if with_pages {
            demo::tokens::page_addresses(
                &app.services().snapshot(),
                school,
                live_class,
                &format!("http://{local}"),
            )
        } else {
            String::new()
        };
        announce(&format!(
            "suivi demo on http://{local}/\n\n{pages_text}{text}"
        ));
    }
    app.serve_router_on(listener, router, shutdown_signal())
        .await?;

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
