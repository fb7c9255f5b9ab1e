//! suivi's pages, in French, for the people who use it: the professeur principal's conseil
//! de classe board and pupil sheets, the teacher's live class board, the family's page.
//!
//! - Server-rendered HTML with askama: templates are compiled into the binary and checked
//!   at build time, and every value is HTML-escaped unless a template says otherwise (only
//!   the SVG this crate draws is inserted as is).
//! - One access path: every figure comes from the GraphQL schema executed in process with
//!   the signed-in person's identity (`api`), so the API's scope, journaling and families'
//!   view apply unchanged. Unknown and out-of-scope answer alike: 404 "Page introuvable".
//! - Sessions (`session`): a signed cookie opened from a bearer token (`POST /connexion`)
//!   or, with `--demo`, from a demo user (`POST /connexion/demo`); CSRF tokens on every
//!   form.
//! - Assets (`assets`): the stylesheet and two small scripts, embedded; nothing is loaded
//!   from another host, and the pages' Content-Security-Policy says so.
//! - The live board updates over server-sent events (`/seances/{id}/flux`), fed by the
//!   API's own `liveBoard` subscription.

pub mod api;
mod assets;
mod pages;
pub mod session;

use axum::routing::{get, post};
use axum::Router;
use session::Sessions;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use suivi_graphql::demo::tokens::DemoUser;
use suivi_graphql::AppState;

pub use pages::visits::Visits;

/// The default idle time after which a session ends.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(30 * 60);

/// How the pages are served.
#[derive(Clone, Debug)]
pub struct PageOptions {
    /// The demo's users, offered on `GET /connexion` (`--demo` only).
    pub demo_users: Option<Vec<DemoUser>>,
    /// A session ends after this long without a request.
    pub idle: Duration,
}

impl Default for PageOptions {
    fn default() -> Self {
        PageOptions {
            demo_users: None,
            idle: DEFAULT_IDLE,
        }
    }
}

/// What every page handler shares.
pub struct Pages {
    pub app: AppState,
    pub sessions: Sessions,
    pub demo_users: Option<Vec<DemoUser>>,
    /// Each person's last visit of their family page.
    pub visits: Mutex<Visits>,
}

/// The pages' routes, to merge with the API's router.
pub fn router(app: AppState, options: PageOptions) -> Router {
    let pages = Arc::new(Pages {
        app,
        sessions: Sessions::new(options.idle),
        demo_users: options.demo_users,
        visits: Mutex::new(Visits::default()),
    });
    Router::new()
        .route("/", get(pages::signin::home))
        .route(
            "/connexion",
            get(pages::signin::page).post(pages::signin::with_token),
        )
        .route("/connexion/demo", post(pages::signin::as_demo_user))
        .route("/deconnexion", post(pages::signin::sign_out))
        .route("/accueil", get(pages::home::page))
        .route("/classes/{class_id}/conseil", get(pages::conseil::page))
        .route("/eleves/{pupil_id}", get(pages::sheet::page))
        .route("/seances/{session_id}", get(pages::live::page))
        .route("/seances/{session_id}/flux", get(pages::live::stream))
        .route("/famille", get(pages::family::guardian))
        .route("/moi", get(pages::family::pupil))
        .route("/static/{file}", get(assets::serve))
        .fallback(pages::not_found)
        .with_state(pages)
}
