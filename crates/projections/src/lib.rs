//! Read models folded from the event log, the projection runner, and the command gateway
//! (the write side's fold + decide + append).
//!
//! - `model::ReadModels`: every read model, folded incrementally, checkpointed by global
//!   position, rebuilt by replay (`ReadModels::rebuild`); queries live beside each concept
//!   (`grades`, `spider`, `attendance`, `homework`, `qcm`, `parcours`, `live`,
//!   `time_on_task`, `competencies`) as methods of `ReadModels`;
//! - `as_of`: any dashboard as it stood at a past instant, re-folded from the log;
//! - `runner::Projections`: catch-up then live, copy-on-write snapshots for readers;
//! - `names::KeyRing`: pupils' names opened at read time, "Élève effacé" once erased;
//! - `risk`: the décrochage risk indicator's rules, and their inputs from the read models;
//! - `exact::Ratio`: exact figures, rounded half away from zero to two decimals when shown.

pub mod as_of;
pub mod attendance;
pub mod competencies;
pub mod exact;
pub mod gateway;
pub mod grades;
pub mod homework;
pub mod journal;
pub mod live;
pub mod model;
pub mod names;
pub mod parcours;
pub mod pupil_file;
pub mod qcm;
pub mod reference;
pub mod risk;
pub mod runner;
pub mod spider;
pub mod time_on_task;

pub use exact::{Ratio, Spread};
pub use journal::Logged;
pub use model::{FoldStats, ReadModels, Target, Touch, FAMILY_MIN_GROUP};
pub use names::{KeyRing, PupilName, ERASED_PUPIL};
pub use parcours::{ParcoursConfig, ParcoursStatus};
pub use runner::{Applied, ProjectionError, Projections, RunnerOptions};
pub use spider::{ProfileLabel, PROFILE_GAP_POINTS};
pub use time_on_task::{Bucket, TimeQuery};
