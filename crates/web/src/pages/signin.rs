//! Signing in and out: `GET /connexion` (the form, and the demo's users with `--demo`),
//! `POST /connexion` with a bearer token (what an ENT hands its users), `POST
//! /connexion/demo` with a demo role, `POST /deconnexion`. Every sign-in opens a new
//! session (the old one, if any, is ended); every form carries a CSRF token.
//! The OpenID Connect sign-in (`super::oidc`) ends, like them, in `open_session`; its
//! sessions sign out at the provider too (RP-initiated logout) when it offers it.

use super::{home_of, respond, role_label, secure_headers, signed, Chrome};
use crate::session::{self, set_cookie, Link};
use crate::Pages;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;
use suivi_domain::Role;
use suivi_graphql::Identity;

/// `/`: the signed-in person's home, or the sign-in page.
pub async fn home(State(pages): State<Arc<Pages>>, headers: HeaderMap) -> Response {
    match signed(&pages, &headers).await {
        Ok(session) => Redirect::to(home_of(session.identity.role)).into_response(),
        Err(_) => Redirect::to("/connexion").into_response(),
    }
}

pub struct DemoChoice {
    pub role: &'static str,
    pub label: &'static str,
    pub sees: String,
}

#[derive(Template)]
#[template(path = "connexion.html")]
struct SignIn {
    chrome: Chrome,
    token: String,
    demo: Vec<DemoChoice>,
    error: Option<String>,
    /// Whether the school's provider is offered ("Se connecter avec l'ENT").
    oidc: bool,
}

/// The form value of each role.
pub fn role_value(role: Role) -> &'static str {
    match role {
        Role::Admin => "administrator",
        Role::HeadTeacher => "professeur_principal",
        Role::Teacher => "teacher",
        Role::Guardian => "guardian",
        Role::Pupil => "pupil",
    }
}

fn sign_in_page(
    pages: &Pages,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let (cookie, token) = pages.sessions.sign_in_token();
    let demo = pages
        .demo_users
        .iter()
        .flatten()
        .map(|user| DemoChoice {
            role: role_value(user.role),
            label: role_label(user.role),
            sees: demo_sees(user.role),
        })
        .collect();
    let page = SignIn {
        chrome: Chrome {
            title: "Connexion".to_owned(),
            who: None,
            csrf: String::new(),
            nav: Vec::new(),
        },
        token,
        demo,
        error,
        oidc: pages.oidc.is_some(),
    };
    let mut response = respond(status, page.render());
    if let Ok(value) = HeaderValue::from_str(&set_cookie(
        session::SIGN_IN_COOKIE,
        &cookie,
        super::over_https(headers),
        Some(3600),
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// What each demo user opens, in French.
fn demo_sees(role: Role) -> String {
    match role {
        Role::Admin => "toute l'école : chaque classe, chaque séance".to_owned(),
        Role::HeadTeacher => {
            "le conseil de classe de sa classe, les fiches de ses élèves, ses séances".to_owned()
        }
        Role::Teacher => "les colonnes de ses matières dans ses classes, ses séances".to_owned(),
        Role::Guardian => "la page famille de ses enfants".to_owned(),
        Role::Pupil => "sa propre page".to_owned(),
    }
}

pub async fn page(State(pages): State<Arc<Pages>>, headers: HeaderMap) -> Response {
    sign_in_page(&pages, &headers, StatusCode::OK, None)
}

/// Whether the form's token matches this browser's pre-session cookie.
fn sign_in_form_ok(pages: &Pages, headers: &HeaderMap, csrf: &str) -> bool {
    super::request_cookie(headers, session::SIGN_IN_COOKIE)
        .is_some_and(|c| pages.sessions.sign_in_token_matches(c, csrf))
}

/// Opens a session for `identity` (signed in through `link`, for the provider's
/// sign-ins), ends the browser's previous one, and sends the person home (303).
pub async fn open_session(
    pages: &Pages,
    headers: &HeaderMap,
    identity: Identity,
    link: Option<Link>,
    expires: Option<DateTime<Utc>>,
) -> Response {
    if let Some(old) = super::request_cookie(headers, session::COOKIE) {
        pages.sessions.close(old).await;
    }
    let home = home_of(identity.role);
    let cookie = match pages
        .sessions
        .open(identity, link, expires, Utc::now())
        .await
    {
        Ok(cookie) => cookie,
        Err(error) => {
            tracing::error!(%error, "opening a session failed");
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                "La session n'a pas pu être ouverte : réessayez dans un instant.",
            )
                .into_response();
            secure_headers(response.headers_mut());
            return response;
        }
    };
    let mut response = Redirect::to(home).into_response();
    let secure = super::over_https(headers);
    for value in [
        set_cookie(session::COOKIE, &cookie, secure, None),
        set_cookie(session::SIGN_IN_COOKIE, "", secure, Some(0)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    secure_headers(response.headers_mut());
    response
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

fn refused_form() -> Response {
    let mut response = (
        StatusCode::FORBIDDEN,
        "Formulaire refusé : il a expiré ou ne vient pas de cette page. Rechargez la page et recommencez.",
    )
        .into_response();
    secure_headers(response.headers_mut());
    response
}

/// `POST /connexion`: a bearer token (as an ENT hands it) opens a session.
pub async fn with_token(
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if !sign_in_form_ok(&pages, &headers, &form.csrf) {
        return refused_form();
    }
    let token = form.token.trim();
    let bearer = format!("Bearer {}", token.strip_prefix("Bearer ").unwrap_or(token));
    match pages.app.identities.identify_bearer(Some(&bearer)).await {
        Ok((identity, until)) => {
            let expires = (until < DateTime::<Utc>::MAX_UTC).then_some(until);
            // The provider's own access token: the session lasts while its link does, as a
            // sign-in through the provider's pages would.
            let token = bearer.trim_start_matches("Bearer ");
            let link = match &pages.oidc {
                Some(oidc) if oidc.provider.claims_to_be_ours(token) => oidc
                    .provider
                    .verify_access_token(token)
                    .await
                    .ok()
                    .and_then(|claims| oidc.provider.account(&claims).ok())
                    .map(|subject| Link {
                        provider: oidc.provider.issuer().to_owned(),
                        subject,
                    }),
                _ => None,
            };
            open_session(&pages, &headers, identity, link, expires).await
        }
        Err(error) => sign_in_page(
            &pages,
            &headers,
            StatusCode::UNAUTHORIZED,
            Some(format!("Ce jeton n'ouvre pas de session : {error}.")),
        ),
    }
}

#[derive(Deserialize)]
pub struct DemoForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /connexion/demo` (with `--demo` only): signs in as the demo's user of a role.
pub async fn as_demo_user(
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    Form(form): Form<DemoForm>,
) -> Response {
    let Some(users) = &pages.demo_users else {
        return super::not_found_page();
    };
    if !sign_in_form_ok(&pages, &headers, &form.csrf) {
        return refused_form();
    }
    let Some(user) = users.iter().find(|u| role_value(u.role) == form.role) else {
        return sign_in_page(
            &pages,
            &headers,
            StatusCode::BAD_REQUEST,
            Some(format!(
                "Rôle inconnu « {} » : choisissez l'un des utilisateurs de la démonstration.",
                form.role.chars().take(40).collect::<String>()
            )),
        );
    };
    let identity = Identity {
        role: user.role,
        subject_id: user.subject,
        school_id: pages.app.identities.school_id(),
        within: Default::default(),
    };
    open_session(&pages, &headers, identity, None, None).await
}

#[derive(Template)]
#[template(path = "deconnexion.html")]
struct SignedOut {
    chrome: Chrome,
    /// The provider's logout address.
    next: String,
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /deconnexion`: ends the session; its cookie opens nothing afterwards.
pub async fn sign_out(
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    let Ok(session) = signed(&pages, &headers).await else {
        return Redirect::to("/connexion").into_response();
    };
    if !session::same(&form.csrf, &session.csrf) {
        return refused_form();
    }
    if let Some(cookie) = super::request_cookie(&headers, session::COOKIE) {
        pages.sessions.close(cookie).await;
    }
    // Signed in through the provider: out there too, if it offers it. A page that moves on
    // by itself rather than a redirect: the pages' policy lets forms post only here
    // (`form-action 'self'`), and a browser holds a form's redirects to it.
    let at_provider = match (&session.link, &pages.oidc) {
        (Some(_), Some(oidc)) => {
            let back = format!("{}/connexion", super::oidc::base_url(&pages, &headers));
            oidc.provider.end_session_url(&back).await
        }
        _ => None,
    };
    let mut response = match at_provider {
        Some(next) => {
            let page = SignedOut {
                chrome: Chrome {
                    title: "Déconnexion".to_owned(),
                    who: None,
                    csrf: String::new(),
                    nav: vec![("/connexion".to_owned(), "Connexion".to_owned())],
                },
                next,
            };
            respond(StatusCode::OK, page.render())
        }
        None => Redirect::to("/connexion").into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&set_cookie(
        session::COOKIE,
        "",
        super::over_https(&headers),
        Some(0),
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
