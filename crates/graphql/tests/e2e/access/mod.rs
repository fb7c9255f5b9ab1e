//! The access matrix: every query, mutation and subscription × every role × a target in
//! scope and out of it (another class, another family, another school, a guessed id).
//! A refusal must leak nothing: no data, and the very answer an unknown id gets
//! (`NOT_FOUND`, same message but for the id), or `FORBIDDEN` whatever the arguments.

mod differencing;
pub mod matrix;
mod matrix_live;
mod matrix_queries;
mod matrix_world;
pub mod paths;
mod published;
mod queries;
mod rgpd;
mod subjects;
mod subscriptions;
pub mod world;
mod writes;

pub use world::world;
