//! The GraphQL schema: queries (`query`), mutations (`mutations`), subscriptions
//! (`subscription`). Resolvers hold no rule of their own: reads come from projection
//! snapshots, writes go through the gateway to the domain's `decide`.

pub mod mutations;
pub mod query;
pub mod subscription;
pub mod types;

use crate::context::Services;
use crate::limits::{Limits, RateLimiter, MAX_COMPLEXITY, MAX_DEPTH};
use async_graphql::Schema;
use mutations::MutationRoot;
use query::QueryRoot;
use std::sync::Arc;
use subscription::SubscriptionRoot;

pub type ApiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The schema with the default limits (`Limits::default()`: introspection on).
pub fn build_schema(services: Arc<Services>) -> ApiSchema {
    build_schema_with(services, &Limits::default())
}

/// The schema with nesting and cost limits (a dashboard query is a few levels deep;
/// nothing legitimate needs more), the per-identity write budget, and introspection as
/// `limits` says.
pub fn build_schema_with(services: Arc<Services>, limits: &Limits) -> ApiSchema {
    let builder = Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .data(services)
        .data(Arc::new(RateLimiter::new(limits.burst, limits.per_second)))
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    if limits.introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema in SDL, for clients and documentation.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .finish()
        .sdl()
}

#[cfg(test)]
mod tests {
    /// The schema clients are built against, checked in as `crates/graphql/schema.graphql`:
    /// a change to the served schema fails here until the file is updated with
    /// `SUIVI_UPDATE_SCHEMA=1 cargo test -p suivi-graphql --lib schema_file`, so every
    /// change to the API boundary shows in review.
    #[test]
    fn the_schema_file_is_the_served_schema() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
        let served = super::sdl();
        if std::env::var_os("SUIVI_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &served).expect("writing schema.graphql");
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == served,
            "crates/graphql/schema.graphql differs from the served schema: update it with \
             `SUIVI_UPDATE_SCHEMA=1 cargo test -p suivi-graphql --lib schema_file` and review \
             the diff"
        );
    }

    /// The operation names and arguments the dashboards are built against.
    #[test]
    fn the_contract_holds() {
        let sdl = super::sdl();
        for needle in [
            "class(name: String!, period: String, asOf: DateTime): Class!",
            "pupil(id: ID!, asOf: DateTime): Pupil!",
            "liveBoard(sessionId: ID!, asOf: DateTime): LiveBoard!",
            "liveBoard(sessionId: ID!): LiveBoard!",
            "gradeRecorded(pupilId: ID!): GradeChange!",
            "spider: Spider",
            "profile: ProfileLabel!",
            "gradedCount: Int!",
            "enum ParcoursStatus",
            "FINISHED_EARLY",
            "enum GradeMark",
            "recordGrade(input: RecordGradeInput!, idempotencyKey: ID): CommandResult!",
        ] {
            assert!(sdl.contains(needle), "the schema lacks {needle:?}");
        }
    }
}
