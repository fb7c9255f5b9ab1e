//! suivi's pure core: ids, reference data, events, commands and their validation.
//!
//! No IO, no async, no clock, no randomness: `now`, ids and key material are passed in.
//! The write side is `decide(&SchoolState, Command) -> Result<Vec<Event>, DomainError>`
//! and `SchoolState::evolve(&Event)`.

pub mod decide;
pub mod envelope;
pub mod error;
pub mod events;
pub mod identity;
pub mod ids;
pub mod reference;
pub mod state;
pub mod values;

pub use decide::{check, decide, Command};
pub use envelope::{Actor, Metadata, NewEvent, RecordedEvent, Role, StreamName};
pub use error::DomainError;
pub use events::{DecodeError, Event};
pub use state::SchoolState;
