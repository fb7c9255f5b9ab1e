//! The GraphQL schema: queries (`query`), mutations (`mutations`), subscriptions
//! (`subscription`). Resolvers hold no rule of their own: reads come from projection
//! snapshots, writes go through the gateway to the domain's `decide`.

pub mod mutations;
pub mod query;
pub mod subscription;

use crate::context::Services;
use async_graphql::Schema;
use mutations::MutationRoot;
use query::QueryRoot;
use std::sync::Arc;
use subscription::SubscriptionRoot;

pub type ApiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Nesting and cost limits: a dashboard query is a few levels deep; nothing legitimate
/// needs more.
const MAX_DEPTH: usize = 16;
const MAX_COMPLEXITY: usize = 20_000;

pub fn build_schema(services: Arc<Services>) -> ApiSchema {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .data(services)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema in SDL, for clients and documentation.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .finish()
        .sdl()
}

#[cfg(test)]
mod tests {
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
