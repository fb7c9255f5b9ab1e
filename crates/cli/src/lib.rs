//! The `suivi` binary's commands as a library, so that other front ends (the server's
//! `serve --demo`, benchmarks, tests) call the same code: importing event and grade files,
//! exporting the log, generating fixtures, loading the demo school.

pub mod calendar;
pub mod demo;
pub mod export;
pub mod fixtures;
pub mod import;
pub mod link;
pub mod migrate;
pub mod progress;
pub mod restore;

pub use demo::{load_demo, load_demo_into, DemoSummary};
