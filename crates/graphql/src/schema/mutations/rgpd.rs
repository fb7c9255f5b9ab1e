//! The RGPD rights an administrator exercises for a pupil: access and portability (the
//! whole file, decrypted) and erasure (the pupil's key destroyed: crypto-shredding — the
//! log is not rewritten, statistics keep their figures, the identity reads as erased).

use super::administrator;
use crate::context::services;
use crate::errors::{coded, parse_id, INTERNAL};
use async_graphql::{Context, Json, Object, Result, SimpleObject, ID};
use chrono::Utc;
use suivi_domain::ids::PupilId;
use suivi_projections::pupil_file::pupil_file;

#[derive(Default)]
pub struct RgpdMutations;

/// What an erasure did.
#[derive(SimpleObject)]
pub struct ErasureResult {
    pub pupil_id: ID,
    /// False when the key was already destroyed (a repeated erasure changes nothing).
    pub key_destroyed: bool,
}

#[Object]
impl RgpdMutations {
    /// Everything the school holds about a pupil, as one JSON document: identity and
    /// guardians' contacts decrypted, and every event naming the pupil. The right of
    /// access and portability. Administrators only; the same as `suivi export-pupil`.
    async fn export_pupil(
        &self,
        ctx: &Context<'_>,
        pupil_id: ID,
    ) -> Result<Json<serde_json::Value>> {
        let identity = administrator(ctx)?;
        let pupil: PupilId = parse_id("pupilId", &pupil_id)?;
        let services = services(ctx)?;
        // In scope (the administrator's own school) or the same NOT_FOUND as an unknown id.
        services.pupil_view(identity, pupil, None).await?;
        let file = pupil_file(services.store().as_ref(), pupil, Utc::now())
            .await
            .map_err(|error| {
                tracing::error!(pupil = %pupil, error = %error, "pupil export failed");
                coded(INTERNAL, "the pupil's file could not be read; try again")
            })?;
        tracing::info!(pupil = %pupil, admin = %identity.subject_id, events = file.events.len(), "pupil file exported");
        let value = serde_json::to_value(&file)
            .map_err(|_| coded(INTERNAL, "the pupil's file could not be written as JSON"))?;
        Ok(Json(value))
    }

    /// Erases a pupil: destroys their data key. From then on their identity and their
    /// guardians' contacts read as erased everywhere, in every export and backup; grades
    /// and class statistics stay as they were. Cannot be undone. Administrators only.
    async fn erase_pupil(&self, ctx: &Context<'_>, pupil_id: ID) -> Result<ErasureResult> {
        let identity = administrator(ctx)?;
        let pupil: PupilId = parse_id("pupilId", &pupil_id)?;
        let services = services(ctx)?;
        services.pupil_view(identity, pupil, None).await?;
        let destroyed = services.store().destroy_key(pupil).await.map_err(|error| {
            tracing::error!(pupil = %pupil, error = %error, "erasure failed");
            coded(
                INTERNAL,
                "the key could not be destroyed; nothing changed, try again",
            )
        })?;
        services.keys.forget(pupil);
        tracing::info!(pupil = %pupil, admin = %identity.subject_id, destroyed, "pupil erased");
        Ok(ErasureResult {
            pupil_id,
            key_destroyed: destroyed,
        })
    }
}
