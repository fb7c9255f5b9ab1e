//! Who is asking. Every request carries an `Identity` (role, subject, school), extracted in
//! one place — the axum extractor below, used by the HTTP and the WebSocket endpoints — and
//! handed to the schema as request data. Resolvers read it with `identity(ctx)`; an event's
//! `actor` comes from it, never from the request body.
//!
//! Today the identity is fixed by the server configuration (the demo runs as the admin of
//! the demo school). A token-based source (JWT) plugs in as another `IdentitySource`
//! variant without touching the resolvers.

use async_graphql::Context;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use suivi_domain::ids::{CorrelationId, SchoolId};
use suivi_domain::{Actor, Metadata, Role};
use uuid::Uuid;

/// The subject id of the configured administrator (no user directory exists yet).
pub const CONFIGURED_ADMIN: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_00ad_0000_0001);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub role: Role,
    /// The user: a staff member, a guardian or a pupil.
    pub subject_id: Uuid,
    /// The tenant every read and write of the request is scoped to.
    pub school_id: SchoolId,
}

impl Identity {
    pub fn admin(school_id: SchoolId) -> Identity {
        Identity {
            role: Role::Admin,
            subject_id: CONFIGURED_ADMIN,
            school_id,
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

    /// Staff write; guardians and pupils only read (their own scope comes with JWT).
    pub fn may_write(&self) -> bool {
        matches!(self.role, Role::Admin | Role::HeadTeacher | Role::Teacher)
    }
}

/// Where a request's identity comes from.
#[derive(Clone, Debug)]
pub enum IdentitySource {
    /// Every request acts as this identity (development, demo, the `query` command).
    Fixed(Identity),
}

impl IdentitySource {
    pub fn identify(&self, _parts: &Parts) -> Result<Identity, IdentityRejection> {
        match self {
            IdentitySource::Fixed(identity) => Ok(identity.clone()),
        }
    }

    pub fn school_id(&self) -> SchoolId {
        match self {
            IdentitySource::Fixed(identity) => identity.school_id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityRejection {
    #[error("no valid identity in the request")]
    Unauthenticated,
}

impl axum::response::IntoResponse for IdentityRejection {
    fn into_response(self) -> axum::response::Response {
        let body = serde_json::json!({
            "errors": [{"message": self.to_string(), "extensions": {"code": "UNAUTHENTICATED"}}]
        });
        (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    }
}

impl<S> FromRequestParts<S> for Identity
where
    Arc<IdentitySource>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = IdentityRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Arc::<IdentitySource>::from_ref(state).identify(parts)
    }
}

/// The request's identity inside a resolver.
pub fn identity<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Identity> {
    ctx.data::<Identity>()
        .map_err(|_| crate::errors::coded("UNAUTHENTICATED", "the request carries no identity"))
}
