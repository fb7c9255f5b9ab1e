//! Who is asking. Every request carries an `Identity` (role, subject, school), extracted in
//! one place — the axum extractor below, used by the HTTP and the WebSocket endpoints — and
//! handed to the schema as request data. Resolvers read it with `identity(ctx)`; an event's
//! `actor` comes from it, never from the request body.
//!
//! `suivi serve` reads bearer tokens (`IdentitySource::Jwt`, see `jwt`); the in-process
//! `query` command and some tests act as a fixed identity (`IdentitySource::Fixed`).
//! What an identity may see and do is decided in `scope`, below the resolvers.

use crate::errors::UNAUTHENTICATED;
use crate::jwt::{JwtVerifier, TokenError};
use async_graphql::Context;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use suivi_domain::ids::{ClassId, CorrelationId, PupilId, SchoolId};
use suivi_domain::{Actor, Metadata, Role};
use uuid::Uuid;

/// The subject id of the configured administrator (no user directory exists yet).
pub const CONFIGURED_ADMIN: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_00ad_0000_0001);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    pub role: Role,
    /// The user: a staff member, a guardian or a pupil.
    pub subject_id: Uuid,
    /// The tenant every read and write of the request is scoped to.
    pub school_id: SchoolId,
    /// What the token's issuer narrowed the identity to, if anything.
    pub within: Within,
}

/// Scope ids a token may carry: the identity reaches at most these classes (staff) or
/// pupils (guardians), intersected with what the log grants — a school's identity
/// provider can hand out a token for one class only. `None`: the log alone decides.
/// Administrators' tokens are school-wide and pupils reach only themselves, so neither
/// is narrowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Within {
    pub classes: Option<Vec<ClassId>>,
    pub pupils: Option<Vec<PupilId>>,
}

impl Identity {
    pub fn admin(school_id: SchoolId) -> Identity {
        Identity {
            role: Role::Admin,
            subject_id: CONFIGURED_ADMIN,
            school_id,
            within: Within::default(),
        }
    }

    /// A new user (fresh id) of a new school with `role`, reaching what the log grants
    /// it: for tests and tools.
    pub fn fresh(role: Role) -> Identity {
        Identity {
            role,
            subject_id: Uuid::now_v7(),
            school_id: SchoolId(Uuid::now_v7()),
            within: Within::default(),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.subject_id,
            role: self.role,
        }
    }

    /// The envelope of the events one request writes.
    pub fn metadata(&self, occurred_at: DateTime<Utc>) -> Metadata {
        Metadata {
            school_id: self.school_id,
            actor: self.actor(),
            occurred_at,
            correlation_id: Some(CorrelationId(Uuid::now_v7())),
            causation_id: None,
        }
    }

    /// Whether the role may send any command at all (guardians only read). Which
    /// commands, on what, is `scope`'s decision.
    pub fn may_write(&self) -> bool {
        !matches!(self.role, Role::Guardian)
    }
}

/// Where a request's identity comes from.
#[derive(Clone, Debug)]
pub enum IdentitySource {
    /// Every request acts as this identity (the in-process `query` command, tests).
    Fixed(Identity),
    /// Every request carries a bearer token for this school, checked with this key — or,
    /// when the school's OpenID provider is configured, one of its access tokens.
    Jwt {
        verifier: JwtVerifier,
        school: SchoolId,
        provider: Option<Arc<crate::oidc::ApiTokens>>,
    },
}

impl IdentitySource {
    /// The identity of an HTTP request or WebSocket upgrade, from its `Authorization`
    /// header.
    pub async fn identify(&self, parts: &Parts) -> Result<Identity, IdentityRejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or(""));
        self.identify_header(header).await
    }

    /// The identity an `Authorization` value (`Bearer <token>`) stands for. The one place
    /// a token becomes an identity: HTTP, the WebSocket upgrade and the WebSocket
    /// `connection_init` payload all come here.
    pub async fn identify_header(
        &self,
        header: Option<&str>,
    ) -> Result<Identity, IdentityRejection> {
        self.identify_bearer(header)
            .await
            .map(|(identity, _)| identity)
    }

    /// As `identify_header`, with the instant the token expires (a fixed identity never
    /// does): an open WebSocket closes then.
    pub async fn identify_bearer(
        &self,
        header: Option<&str>,
    ) -> Result<(Identity, DateTime<Utc>), IdentityRejection> {
        match self {
            IdentitySource::Fixed(identity) => Ok((identity.clone(), DateTime::<Utc>::MAX_UTC)),
            IdentitySource::Jwt {
                verifier,
                school,
                provider,
            } => {
                let header = header.ok_or(TokenError::Missing)?;
                let token = header
                    .trim()
                    .strip_prefix("Bearer ")
                    .or_else(|| header.trim().strip_prefix("bearer "))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or(TokenError::NotBearer)?;
                if let Some(api) = provider
                    .as_ref()
                    .filter(|p| p.provider.claims_to_be_ours(token))
                {
                    return api.identify(token).await;
                }
                let (identity, until) = verifier.verify_until(token)?;
                if identity.school_id != *school {
                    return Err(IdentityRejection::OtherSchool(identity.school_id));
                }
                Ok((identity, until))
            }
        }
    }

    /// Whether requests must carry a token.
    pub fn needs_token(&self) -> bool {
        matches!(self, IdentitySource::Jwt { .. })
    }

    pub fn school_id(&self) -> SchoolId {
        match self {
            IdentitySource::Fixed(identity) => identity.school_id,
            IdentitySource::Jwt { school, .. } => *school,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityRejection {
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("the token is for school {0}, not the one this server serves")]
    OtherSchool(SchoolId),
    #[error("the identity provider's token is refused: {}", provider_reason(.0))]
    Provider(#[from] crate::oidc::OidcError),
    #[error(
        "the identity provider's account is not linked to anyone in this school: an \
         administrator links it (linkIdentity, or `suivi link`)"
    )]
    NotLinked,
}

/// What a refused provider token's 401 says: the token's fault in full, the provider's
/// outage without its URLs or the HTTP client's details (those go to the log).
fn provider_reason(error: &crate::oidc::OidcError) -> String {
    if crate::oidc::Provider::is_outage(error) {
        tracing::warn!(%error, "a provider token could not be checked");
        "the identity provider could not be reached to check it; try again later".to_owned()
    } else {
        error.to_string()
    }
}

impl IdentityRejection {
    /// The GraphQL-style body of a 401.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "errors": [{"message": self.to_string(), "extensions": {"code": UNAUTHENTICATED}}]
        })
    }
}

impl axum::response::IntoResponse for IdentityRejection {
    fn into_response(self) -> axum::response::Response {
        let mut response = (StatusCode::UNAUTHORIZED, axum::Json(self.body())).into_response();
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
        response
    }
}

impl<S> FromRequestParts<S> for Identity
where
    Arc<IdentitySource>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = IdentityRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Arc::<IdentitySource>::from_ref(state).identify(parts).await
    }
}

/// A WebSocket upgrade's identity: from its header when it has one (a bad one is refused
/// with 401), else `None` — browsers cannot set headers on a WebSocket, so the token then
/// comes in the `connection_init` payload (`{"Authorization": "Bearer …"}`).
pub struct UpgradeIdentity(pub Option<(Identity, DateTime<Utc>)>);

impl<S> FromRequestParts<S> for UpgradeIdentity
where
    Arc<IdentitySource>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = IdentityRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let source = Arc::<IdentitySource>::from_ref(state);
        if source.needs_token() && !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(UpgradeIdentity(None));
        }
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or(""));
        source
            .identify_bearer(header)
            .await
            .map(|bearer| UpgradeIdentity(Some(bearer)))
    }
}

/// The `Authorization` value of a `connection_init` payload (the key in any case).
pub fn init_authorization(payload: &serde_json::Value) -> Option<&str> {
    payload.as_object()?.iter().find_map(|(k, v)| {
        k.eq_ignore_ascii_case("authorization")
            .then(|| v.as_str())
            .flatten()
    })
}

/// The request's identity inside a resolver.
pub fn identity<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Identity> {
    ctx.data::<Identity>()
        .map_err(|_| crate::errors::coded(UNAUTHENTICATED, "the request carries no identity"))
}
