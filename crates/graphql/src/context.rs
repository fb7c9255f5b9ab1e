//! What resolvers share: the command gateway, the running projections, the key ring that
//! opens pupils' names, and the live-board rules. One `Arc<Services>` is schema data.

use crate::errors::{coded, UNAVAILABLE};
use async_graphql::Context;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::ids::{ClassId, PupilId};
use suivi_projections::gateway::Gateway;
use suivi_projections::{KeyRing, ParcoursConfig, Projections, PupilName, ReadModels};
use suivi_store::EventStore;
use tokio::sync::watch;

/// How long a mutation waits for the projections to show its write before answering
/// anyway (the write is durable either way).
pub const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Services {
    pub gateway: Arc<Gateway>,
    pub projections: Arc<Projections>,
    pub keys: KeyRing,
    pub parcours: ParcoursConfig,
    /// Turns true when the server shuts down: subscriptions end.
    pub shutdown: watch::Receiver<bool>,
}

impl Services {
    pub fn new(
        gateway: Arc<Gateway>,
        projections: Arc<Projections>,
        shutdown: watch::Receiver<bool>,
    ) -> Services {
        let store: Arc<dyn EventStore> = gateway.store().clone();
        Services {
            keys: KeyRing::new(store),
            gateway,
            projections,
            parcours: ParcoursConfig::default(),
            shutdown,
        }
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        self.gateway.store()
    }

    /// The latest read models.
    pub fn snapshot(&self) -> Arc<ReadModels> {
        self.projections.snapshot()
    }

    /// Waits (bounded) until the projections have folded `position`.
    pub async fn caught_up(&self, position: u64) {
        let waited = tokio::time::timeout(
            READ_YOUR_WRITES_TIMEOUT,
            self.projections.wait_for(position),
        )
        .await;
        if !matches!(waited, Ok(Ok(_))) {
            tracing::warn!(
                position,
                "projections did not reach a written position in time"
            );
        }
    }

    /// The read models a class's dashboards read: live, or re-folded as of an instant.
    pub fn class_view(&self, class: ClassId, as_of: Option<DateTime<Utc>>) -> Arc<ReadModels> {
        let live = self.snapshot();
        match as_of {
            Some(at) => Arc::new(live.as_of_class(class, at)),
            None => live,
        }
    }

    /// The read models a pupil's dashboards read: live, or re-folded as of an instant.
    pub fn pupil_view(&self, pupil: PupilId, as_of: Option<DateTime<Utc>>) -> Arc<ReadModels> {
        let live = self.snapshot();
        match as_of {
            Some(at) => Arc::new(live.as_of_pupil(pupil, at)),
            None => live,
        }
    }

    /// "NOM Prénom" of a pupil, opened with their key; "Élève effacé" once erased.
    pub async fn display_name(
        &self,
        models: &ReadModels,
        pupil: PupilId,
    ) -> async_graphql::Result<Option<String>> {
        let name = self.keys.name(models, pupil).await.map_err(|error| {
            tracing::error!(%error, pupil = %pupil, "reading a pupil key failed");
            coded(UNAVAILABLE, "the key table could not be read")
        })?;
        Ok(name.as_ref().map(PupilName::display))
    }
}

pub fn services<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<Services>> {
    ctx.data::<Arc<Services>>()
        .map_err(|_| coded(crate::errors::INTERNAL, "the schema has no services"))
}
