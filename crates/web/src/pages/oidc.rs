//! Sign-in with the school's OpenID Connect provider: the authorization code flow with
//! PKCE (S256). These two paths are a contract (the redirect URI is registered with the
//! provider):
//! - `GET /connexion/oidc`: makes a `state`, a `nonce` and a PKCE verifier, keeps them in
//!   the session table under the state's digest (ten minutes, used once, by whichever
//!   server gets the browser back), binds the state to this browser with a signed cookie,
//!   and sends the browser to the provider;
//! - `GET /connexion/oidc/retour`: the state must be this browser's and still kept (it is
//!   taken, so a replayed callback finds nothing), the `iss` parameter the provider's, the
//!   code is exchanged (once: the provider refuses a second use), the ID token checked
//!   (`suivi_graphql::oidc`), the account looked up in the administrator's links. Then a
//!   session opens (`signin::open_session`) and the person lands on their own page.
//!
//! Any failure answers a French page saying what went wrong, opens no session and shows
//! no data; an account with no link gets a page saying so and whom to ask.

use super::{respond, signin, Chrome};
use crate::session::{self, digest, random_hex, set_cookie, Link};
use crate::Pages;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use suivi_graphql::oidc::OidcError;

/// The cookie binding a sign-in under way to its browser.
pub const FLOW_COOKIE: &str = "suivi_oidc";
/// How long a sign-in may take at the provider.
const FLOW_TTL: chrono::Duration = chrono::Duration::minutes(10);

#[derive(Template)]
#[template(path = "oidc_echec.html")]
struct Failed {
    chrome: Chrome,
    reason: String,
}

#[derive(Template)]
#[template(path = "non_relie.html")]
struct NotLinked {
    chrome: Chrome,
    subject: String,
}

fn chrome(title: &str) -> Chrome {
    Chrome {
        title: title.to_owned(),
        who: None,
        csrf: String::new(),
        nav: vec![("/connexion".to_owned(), "Connexion".to_owned())],
    }
}

/// What is kept of a sign-in under way.
#[derive(Serialize, Deserialize)]
struct Flow {
    nonce: String,
    verifier: String,
    redirect_uri: String,
}

/// Base64url without padding (RFC 7636's `BASE64URL-ENCODE`).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The PKCE S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// Where the pages are reached: `--public-url`, else the request's scheme and host.
pub fn base_url(pages: &Pages, headers: &HeaderMap) -> String {
    if let Some(url) = &pages.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if super::over_https(headers) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// A failed sign-in: the page, no session, and the flow cookie cleared.
fn failed(headers: &HeaderMap, status: StatusCode, reason: &str) -> Response {
    let page = Failed {
        chrome: chrome("Connexion impossible"),
        reason: reason.to_owned(),
    };
    let mut response = respond(status, page.render());
    clear_flow(&mut response, headers);
    response
}

fn clear_flow(response: &mut Response, headers: &HeaderMap) {
    if let Ok(value) = HeaderValue::from_str(&set_cookie(
        FLOW_COOKIE,
        "",
        super::over_https(headers),
        Some(0),
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// What a refused token means, for the person who tried to sign in.
fn french(error: &OidcError) -> (StatusCode, &'static str) {
    match error {
        OidcError::Unreachable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "le service de connexion de l'ENT ne répond pas ; réessayez dans quelques minutes.",
        ),
        OidcError::BadAnswer(_) => (
            StatusCode::BAD_GATEWAY,
            "la réponse du service de connexion de l'ENT est inutilisable.",
        ),
        OidcError::CodeRefused(_) => (
            StatusCode::UNAUTHORIZED,
            "le service de connexion de l'ENT a refusé le code de connexion (déjà utilisé ou expiré).",
        ),
        OidcError::Malformed
        | OidcError::Algorithm(_)
        | OidcError::UnknownKey
        | OidcError::Signature => (
            StatusCode::UNAUTHORIZED,
            "le jeton d'identité reçu n'est pas signé par le service de connexion de l'ENT.",
        ),
        OidcError::Expired => (
            StatusCode::UNAUTHORIZED,
            "le jeton d'identité reçu a expiré.",
        ),
        OidcError::Issuer => (
            StatusCode::UNAUTHORIZED,
            "le jeton d'identité vient d'un autre fournisseur d'identité que celui de l'établissement.",
        ),
        OidcError::Audience => (
            StatusCode::UNAUTHORIZED,
            "le jeton d'identité est destiné à une autre application que suivi.",
        ),
        OidcError::Nonce => (
            StatusCode::UNAUTHORIZED,
            "le jeton d'identité ne correspond pas à cette connexion.",
        ),
        OidcError::NotAnAccessToken | OidcError::Claims(_) | OidcError::NoAccount(_) => (
            StatusCode::UNAUTHORIZED,
            "le jeton d'identité reçu est incomplet.",
        ),
    }
}

/// `GET /connexion/oidc`: off to the provider.
pub async fn start(State(pages): State<Arc<Pages>>, headers: HeaderMap) -> Response {
    let Some(oidc) = &pages.oidc else {
        return super::not_found_page();
    };
    let (state, nonce, verifier) = (random_hex(), random_hex(), random_hex());
    let redirect_uri = format!("{}/connexion/oidc/retour", base_url(&pages, &headers));
    let url = match oidc
        .provider
        .authorization_url(&redirect_uri, &state, &nonce, &challenge(&verifier))
        .await
    {
        Ok(url) => url,
        Err(error) => {
            tracing::warn!(%error, "starting an OpenID sign-in failed");
            let (status, reason) = french(&error);
            return failed(&headers, status, reason);
        }
    };
    let flow = Flow {
        nonce,
        verifier,
        redirect_uri,
    };
    pages.sessions.sweep_if_due(Utc::now()).await;
    let kept = match serde_json::to_string(&flow) {
        Ok(data) => {
            pages
                .sessions
                .table()
                .put_flow(&digest(&state), &data, Utc::now() + FLOW_TTL)
                .await
        }
        Err(e) => Err(suivi_store::StoreError::Backend(e.to_string())),
    };
    if let Err(error) = kept {
        tracing::error!(%error, "keeping a sign-in under way failed");
        return failed(
            &headers,
            StatusCode::SERVICE_UNAVAILABLE,
            "suivi n'a pas pu préparer la connexion ; réessayez.",
        );
    }
    let mut response = Redirect::to(&url).into_response();
    if let Ok(value) = HeaderValue::from_str(&set_cookie(
        FLOW_COOKIE,
        &pages.sessions.sign("oidc-flow", &state),
        super::over_https(&headers),
        Some(FLOW_TTL.num_seconds() as u64),
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    super::secure_headers(response.headers_mut());
    response
}

#[derive(Deserialize)]
pub struct Back {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// `GET /connexion/oidc/retour`: back from the provider.
pub async fn back(
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    Query(back): Query<Back>,
) -> Response {
    let Some(oidc) = &pages.oidc else {
        return super::not_found_page();
    };
    let provider = &oidc.provider;
    // The state must be the one this browser set off with…
    let ours = super::request_cookie(&headers, FLOW_COOKIE)
        .and_then(|c| pages.sessions.verify("oidc-flow", c));
    let state = match (ours, back.state.as_deref()) {
        (Some(ours), Some(theirs)) if session::same(ours, theirs) => theirs,
        _ => {
            return failed(
                &headers,
                StatusCode::BAD_REQUEST,
                "cette réponse de l'ENT ne correspond à aucune connexion demandée depuis ce navigateur (elle a expiré, ou elle vient d'ailleurs).",
            )
        }
    };
    // …and still kept: taken now, so the same answer cannot be used twice.
    let flow = match pages
        .sessions
        .table()
        .take_flow(&digest(state), Utc::now())
        .await
    {
        Ok(Some(data)) => serde_json::from_str::<Flow>(&data).ok(),
        Ok(None) => None,
        Err(error) => {
            tracing::error!(%error, "reading a sign-in under way failed");
            None
        }
    };
    let Some(flow) = flow else {
        return failed(
            &headers,
            StatusCode::BAD_REQUEST,
            "cette réponse de l'ENT a déjà servi ou a expiré.",
        );
    };
    // RFC 9207: an answer naming another issuer is not our provider's.
    if back
        .iss
        .as_deref()
        .is_some_and(|iss| iss != provider.issuer())
    {
        return failed(
            &headers,
            StatusCode::UNAUTHORIZED,
            french(&OidcError::Issuer).1,
        );
    }
    if let Some(error) = &back.error {
        tracing::info!(error = %error.chars().take(60).collect::<String>(), "the provider refused a sign-in");
        return failed(
            &headers,
            StatusCode::UNAUTHORIZED,
            "l'ENT n'a pas confirmé votre identité (connexion annulée ou refusée).",
        );
    }
    let Some(code) = back.code.as_deref().filter(|c| !c.is_empty()) else {
        return failed(
            &headers,
            StatusCode::BAD_REQUEST,
            "la réponse de l'ENT ne contient pas de code de connexion.",
        );
    };
    let checked = match provider
        .exchange(code, &flow.redirect_uri, &flow.verifier)
        .await
    {
        Ok(tokens) => {
            provider
                .verify_id_token(&tokens.id_token, &flow.nonce)
                .await
        }
        Err(error) => Err(error),
    };
    let claims = match checked {
        Ok(claims) => claims,
        Err(error) => {
            tracing::warn!(%error, "an OpenID sign-in was refused");
            let (status, reason) = french(&error);
            return failed(&headers, status, reason);
        }
    };
    let account = match provider.account(&claims) {
        Ok(account) => account,
        Err(error) => {
            let (status, reason) = french(&error);
            return failed(&headers, status, reason);
        }
    };
    let mut identity = (oidc.resolve)(account.clone()).await;
    if identity.is_none() {
        if let Some(first) = &oidc.first_sign_in {
            identity = first(account.clone(), claims.clone()).await;
        }
    }
    let Some(identity) = identity else {
        let page = NotLinked {
            chrome: chrome("Compte pas encore relié"),
            subject: account,
        };
        let mut response = respond(StatusCode::FORBIDDEN, page.render());
        clear_flow(&mut response, &headers);
        return response;
    };
    let link = Link {
        provider: provider.issuer().to_owned(),
        subject: account,
    };
    let mut response = signin::open_session(&pages, &headers, identity, Some(link), None).await;
    clear_flow(&mut response, &headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
