//! suivi's GraphQL API: the async-graphql schema (queries for every read model, a mutation
//! for every command, subscriptions over graphql-transport-ws), the axum router, the
//! request identity, and the `--demo` simulation.
//!
//! What the CLI calls:
//! - `serve(ServeConfig, Option<DemoLoader>)`: `suivi serve [--demo]`;
//! - `query_once(store_url, query, variables)`: `suivi query`;
//! - `App::new` + `App::serve_on` / `build_router`: tests bind their own listener.

pub mod answers;
pub mod audit;
pub mod context;
pub mod demo;
pub mod errors;
pub mod identity;
pub mod jwt;
pub mod limits;
pub mod oidc;
mod once;
pub mod schema;
pub mod scope;
pub mod server;
mod ws;

pub use context::Services;
pub use demo::{BoxError, DemoLoader};
pub use identity::{Identity, IdentitySource};
pub use limits::Limits;
pub use once::{query_once, query_store};
pub use schema::{build_schema, build_schema_with, sdl, ApiSchema};
pub use server::{
    api_router, build_router, serve, serve_pages, serve_with, shutdown_signal, App, AppState,
    AuthConfig, PagesFactory, PagesSetup, ServeConfig, ServeError, DEFAULT_ADDR,
};
