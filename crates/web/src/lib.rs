//! suivi's pages, in French, for the people who use it: the professeur principal's conseil
//! de classe board and pupil sheets, the teacher's live class board, the family's page.
//!
//! - Server-rendered HTML with askama: templates are compiled into the binary and checked
//!   at build time, and every value is HTML-escaped unless a template says otherwise (only
//!   the SVG this crate draws is inserted as is).
//! - One access path: every figure comes from the GraphQL schema executed in process with
//!   the signed-in person's identity (`api`), so the API's scope, journaling and families'
//!   view apply unchanged. Unknown and out-of-scope answer alike: 404 "Page introuvable".
//! - Sign-in (`pages::signin`, `pages::oidc`): with the school's OpenID Connect provider
//!   (`GET /connexion/oidc`, back on `GET /connexion/oidc/retour`), with a bearer token
//!   (`POST /connexion`) or, with `--demo`, as a demo user (`POST /connexion/demo`).
//! - Sessions (`session`): a signed cookie naming a session kept beside the log; CSRF
//!   tokens on every form.
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
use chrono::Utc;
use session::{Session, Sessions};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use suivi_graphql::demo::tokens::DemoUser;
use suivi_graphql::oidc::ApiTokens;
use suivi_graphql::AppState;

pub use pages::oidc::challenge as pkce_challenge;
pub use pages::visits::Visits;

/// The default idle time after which a session ends.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(30 * 60);

/// How the pages are served.
#[derive(Clone, Debug)]
pub struct PageOptions {
    /// The demo's users, offered on `GET /connexion` (`--demo` only).
    pub demo_users: Option<Vec<DemoUser>>,
    /// A session ends after this long without a request…
    pub idle: Duration,
    /// …and this long after it opened, whatever the activity.
    pub absolute: Duration,
    /// The address people reach the pages at (`--public-url`), for the redirect URI
    /// given to the identity provider; the request's `Host` when absent.
    pub public_url: Option<String>,
}

impl Default for PageOptions {
    fn default() -> Self {
        PageOptions {
            demo_users: None,
            idle: DEFAULT_IDLE,
            absolute: session::DEFAULT_ABSOLUTE,
            public_url: None,
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
    /// The school's identity provider, when sign-in goes through it.
    pub oidc: Option<Arc<ApiTokens>>,
    pub public_url: Option<String>,
}

impl Pages {
    /// The live session a cookie names. A session opened through the provider lasts only
    /// while the account is still linked to the same person: an unlink ends it here, at
    /// the next request, on every server.
    pub async fn session_of(&self, cookie: &str) -> Option<Session> {
        let session = self.sessions.get(cookie, Utc::now()).await?;
        if let Some(link) = &session.link {
            let still = match &self.oidc {
                Some(oidc) if oidc.provider.issuer() == link.provider => {
                    (oidc.resolve)(link.subject.clone()).await.as_ref() == Some(&session.identity)
                }
                _ => false,
            };
            if !still {
                self.sessions.close_session(&session).await;
                return None;
            }
        }
        Some(session)
    }
}

/// The pages' routes, to merge with the API's router, keeping sessions in `sessions`.
pub fn router(app: AppState, options: PageOptions, sessions: Sessions) -> Router {
    let pages = Arc::new(Pages {
        oidc: app.oidc.clone(),
        app,
        sessions,
        demo_users: options.demo_users,
        visits: Mutex::new(Visits::default()),
        public_url: options.public_url,
    });
    Router::new()
        .route("/", get(pages::signin::home))
        .route(
            "/connexion",
            get(pages::signin::page).post(pages::signin::with_token),
        )
        .route("/connexion/demo", post(pages::signin::as_demo_user))
        .route("/connexion/oidc", get(pages::oidc::start))
        .route("/connexion/oidc/retour", get(pages::oidc::back))
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
