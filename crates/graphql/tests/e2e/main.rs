//! End to end: the real server on a free port, a real SQLite store in a temporary
//! directory, HTTP and graphql-transport-ws clients.

mod access;
mod answers;
mod audit;
mod auth;
mod bad_input;
mod dashboards;
mod demo;
mod harness;
mod holes;
mod journal_durable;
mod limits;
mod live;
mod risk;
mod seed;
mod small_groups;
mod sockets;
