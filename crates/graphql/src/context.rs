//! What resolvers share: the command gateway, the running projections, the key ring that
//! opens pupils' names, and the live-board rules. One `Arc<Services>` is schema data.

use crate::audit::AccessJournal;
use crate::errors::{coded, UNAVAILABLE};
use crate::identity::{identity, Identity};
use crate::scope::Scope;
use async_graphql::Context;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::ids::*;
use suivi_projections::gateway::Gateway;
use suivi_projections::{KeyRing, ParcoursConfig, Projections, PupilName, ReadModels};
use suivi_store::EventStore;
use tokio::sync::watch;

/// How long a mutation waits for the projections to show its write before answering
/// anyway (the write is durable either way).
pub const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(5);

/// What a class-level read is about; each resolves to its class.
#[derive(Clone, Copy, Debug)]
pub enum ClassTarget {
    Class(ClassId),
    Assessment(AssessmentId),
    Homework(HomeworkId),
    Quiz(QuizId),
    Parcours(ParcoursId),
    Session(SessionId),
}

pub struct Services {
    pub gateway: Arc<Gateway>,
    pub projections: Arc<Projections>,
    pub keys: KeyRing,
    pub parcours: ParcoursConfig,
    /// Turns true when the server shuts down: subscriptions end.
    pub shutdown: watch::Receiver<bool>,
    /// Who on the staff opened which pupil's file (`pupil_view` records it).
    pub journal: AccessJournal,
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
            journal: AccessJournal::in_memory(),
        }
    }

    /// The same services, journaling pupil-file reads in `journal`.
    pub fn with_journal(self, journal: AccessJournal) -> Services {
        Services { journal, ..self }
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        self.gateway.store()
    }

    /// The latest read models, unscoped: for the server's own work (the demo, the
    /// subscriptions' change detection). Resolvers read through `class_view`,
    /// `pupil_view` or `scope`, which apply the identity's scope.
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

    /// The identity's scope, computed on the latest read models (returned with it).
    pub fn scope(&self, identity: &Identity) -> (Arc<ReadModels>, Scope) {
        let live = self.snapshot();
        let scope = Scope::of(identity, &live);
        (live, scope)
    }

    /// The read models a class-level view reads (a class, or the class of an assessment,
    /// homework, quiz, parcours or session): live, or re-folded as of an instant. The
    /// scope is checked here, for every resolver: an id out of reach is `NOT_FOUND` like
    /// an unknown one.
    pub fn class_view(
        &self,
        identity: &Identity,
        target: ClassTarget,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<(ClassId, Arc<ReadModels>)> {
        let (live, scope) = self.scope(identity);
        let (class, kind, id) = match target {
            ClassTarget::Class(c) => (Some(c), "class", c.to_string()),
            ClassTarget::Assessment(a) => {
                (live.class_of_assessment(a), "assessment", a.to_string())
            }
            ClassTarget::Homework(h) => (live.class_of_homework(h), "homework", h.to_string()),
            ClassTarget::Quiz(q) => (live.class_of_quiz(q), "quiz", q.to_string()),
            ClassTarget::Parcours(p) => (live.class_of_parcours(p), "parcours", p.to_string()),
            ClassTarget::Session(s) => (live.class_of_session(s), "session", s.to_string()),
        };
        let class = match target {
            ClassTarget::Assessment(a) => scope.assessment(&live, a)?,
            ClassTarget::Session(s) => scope.session(&live, s)?,
            _ => scope.class(&live, class, kind, id)?,
        };
        let models = match as_of {
            Some(at) => Arc::new(live.as_of_class(class, at)),
            None => live.clone(),
        };
        Ok((class, scope.visible(models, &live)))
    }

    /// The read models a pupil's file reads: live, or re-folded as of an instant. The
    /// scope is checked here: a pupil out of reach is `NOT_FOUND` like an unknown one. A
    /// staff member's read is recorded in the access journal.
    pub async fn pupil_view(
        &self,
        identity: &Identity,
        pupil: PupilId,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Arc<ReadModels>> {
        let (live, scope) = self.scope(identity);
        match as_of {
            Some(at) => scope.pupil_on(&live, pupil, at.date_naive())?,
            None => scope.pupil(&live, pupil)?,
        }
        self.journal_read(identity, pupil).await?;
        let models = match as_of {
            Some(at) => Arc::new(live.as_of_pupil(pupil, at)),
            None => live.clone(),
        };
        Ok(scope.visible(models, &live))
    }

    /// Records a staff member's read of a pupil's individual data in the access journal
    /// (families' reads are not journaled), durably before the answer can leave (a staff
    /// read is never shown unrecorded), and marks the answer as holding it. Every path
    /// that shows one pupil's data to staff comes here: `pupil_view`, a class's pupil rows,
    /// a pupil's time on task in a class.
    pub async fn journal_read(
        &self,
        identity: &Identity,
        pupil: PupilId,
    ) -> async_graphql::Result<()> {
        self.journal_reads(identity, &[pupil]).await
    }

    /// `journal_read` for each pupil of a board's rows (an assessment's grades, a
    /// homework's or a quiz's pupils, a live or parcours board, time per pupil): one
    /// durable write for all of them.
    pub async fn journal_reads(
        &self,
        identity: &Identity,
        pupils: &[PupilId],
    ) -> async_graphql::Result<()> {
        self.journal
            .record_all(identity, pupils)
            .await
            .map_err(|error| {
                tracing::error!(%error, pupils = pupils.len(), "journaling a staff read failed");
                coded(
                    UNAVAILABLE,
                    "the access journal could not record this read, so the pupil's data is \
                     not shown; try again",
                )
            })?;
        for pupil in pupils {
            crate::answers::journaled(*pupil);
        }
        Ok(())
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

/// The request's scope and the read models it was computed on.
pub fn scope(ctx: &Context<'_>) -> async_graphql::Result<(Arc<ReadModels>, Scope)> {
    Ok(services(ctx)?.scope(identity(ctx)?))
}
