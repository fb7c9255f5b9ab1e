//! What the importers need to know about the log beyond the write model: which event ids it
//! already holds (and with what content), which schools are registered, and the current
//! grade of each pupil on each assessment. Built by one scan of the log, then kept up to
//! date incrementally from the last position seen.

use chrono::NaiveDate;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use suivi_domain::events::Event;
use suivi_domain::identity::Sealed;
use suivi_domain::ids::{AssessmentId, EventId, FrameworkId, PupilId, SchoolId};
use suivi_domain::values::Grade;
use suivi_domain::NewEvent;
use suivi_store::{EventStore, StoreError};

const BATCH: usize = 10_000;

#[derive(Default)]
pub struct Catalog {
    position: u64,
    ids: HashMap<EventId, u64>,
    pub schools: BTreeSet<SchoolId>,
    pub grades: HashMap<(AssessmentId, PupilId), Grade>,
    /// Competency assessments already recorded: (pupil, framework, component, date) → level.
    pub competencies: HashMap<(PupilId, FrameworkId, String, NaiveDate), u8>,
    /// Each pupil's sealed identity (to match a report's names within a class).
    pub identities: HashMap<PupilId, Sealed>,
}

/// Whether an event id is new to the log, already there with the same content, or there
/// with other content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    New,
    Same,
    Different,
}

impl Catalog {
    /// Reads the log from where the last refresh stopped.
    pub async fn refresh(&mut self, store: &dyn EventStore) -> Result<(), StoreError> {
        loop {
            let batch = store.read_all(self.position, BATCH).await?;
            let Some(last) = batch.last() else {
                return Ok(());
            };
            self.position = last.global_position;
            for recorded in &batch {
                let new = recorded.to_new_event();
                self.ids.insert(new.event_id, fingerprint(&new));
                self.note(&new);
            }
        }
    }

    pub fn presence(&self, event: &NewEvent) -> Presence {
        match self.ids.get(&event.event_id) {
            None => Presence::New,
            Some(f) if *f == fingerprint(event) => Presence::Same,
            Some(_) => Presence::Different,
        }
    }

    /// The one school of the log, if there is exactly one.
    pub fn only_school(&self) -> Option<SchoolId> {
        match (self.schools.first(), self.schools.len()) {
            (Some(id), 1) => Some(*id),
            _ => None,
        }
    }

    fn note(&mut self, event: &NewEvent) {
        match event.event_type.as_str() {
            "SchoolRegistered" => {
                self.schools.insert(event.school_id);
            }
            "PupilRegistered" => {
                if let Ok(Event::PupilRegistered(p)) = event.decode() {
                    self.identities.insert(p.pupil_id, p.identity);
                }
            }
            "CompetencyAssessed" => {
                if let Ok(Event::CompetencyAssessed(c)) = event.decode() {
                    self.competencies
                        .insert((c.pupil_id, c.framework_id, c.component, c.on), c.level.0);
                }
            }
            "GradeRecorded" | "GradeCorrected" => match event.decode() {
                Ok(Event::GradeRecorded(g)) => {
                    self.grades.insert((g.assessment_id, g.pupil_id), g.grade);
                }
                Ok(Event::GradeCorrected(g)) => {
                    self.grades.insert((g.assessment_id, g.pupil_id), g.grade);
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// Everything an importer controls about an event, at the store's precision (microseconds).
pub fn fingerprint(event: &NewEvent) -> u64 {
    let mut h = DefaultHasher::new();
    event.event_type.hash(&mut h);
    event.schema_version.hash(&mut h);
    event.occurred_at.timestamp_micros().hash(&mut h);
    event.school_id.hash(&mut h);
    event.actor.to_string().hash(&mut h);
    event.correlation_id.hash(&mut h);
    event.causation_id.hash(&mut h);
    event.payload.get().hash(&mut h);
    h.finish()
}
