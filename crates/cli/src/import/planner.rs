//! What the roster and results importers share while planning a file: a copy of the
//! school's write model that every planned command is decided against (so a file is
//! refused with the domain's own reason before anything is written), the list of planned
//! writes, and the human-readable changes `--dry-run` prints (ids and codes, never names).
//!
//! Ids of the things an importer creates are UUID v5 of what identifies them (the same
//! namespace as the grades importer), so two importers, or the same file in two stores,
//! agree on them.

use super::grades_plan::derived_id;
use super::write::{stand_in_seal, write_plan, Planned, Step};
use super::{FileReport, Importer, LineError};
use crate::calendar::{self, YearBounds};
use crate::progress;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use suivi_domain::events::*;
use suivi_domain::identity::PupilIdentity;
use suivi_domain::ids::*;
use suivi_domain::{decide, Command, SchoolState};

/// 07:00 UTC on `date`: when reference data read from an export is said to have happened.
pub fn morning(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(7, 0, 0).unwrap_or_default().and_utc()
}

pub struct Planner {
    pub school_id: SchoolId,
    pub state: SchoolState,
    pub items: Vec<Planned>,
    pub changes: Vec<String>,
    /// Events the planned commands decided, by type (what a dry run reports).
    pub by_type: BTreeMap<&'static str, usize>,
}

impl Planner {
    pub fn new(school_id: SchoolId, state: SchoolState) -> Self {
        Planner {
            school_id,
            state,
            items: Vec::new(),
            changes: Vec::new(),
            by_type: BTreeMap::new(),
        }
    }

    pub fn id(&self, what: &str) -> uuid::Uuid {
        derived_id(self.school_id, what)
    }

    /// Decides `command` against the planned state and keeps it, or says why not.
    pub fn decide(
        &mut self,
        line: usize,
        occurred_at: DateTime<Utc>,
        command: Command,
    ) -> Result<(), String> {
        let events = decide(&self.state, command.clone()).map_err(|e| e.to_string())?;
        for event in &events {
            self.state.evolve(event);
            *self.by_type.entry(event.event_type()).or_default() += 1;
        }
        self.items.push(Planned {
            line,
            occurred_at,
            step: Step::Command(command),
        });
        Ok(())
    }

    /// Plans a new pupil's registration (sealed with their key when written).
    pub fn register_pupil(
        &mut self,
        line: usize,
        occurred_at: DateTime<Utc>,
        external_id: &str,
        identity: PupilIdentity,
    ) -> Result<PupilId, String> {
        let pupil_id = PupilId(self.id(&format!("pupil/{external_id}")));
        let events = decide(
            &self.state,
            Command::RegisterPupil(PupilRegistered {
                pupil_id,
                external_id: external_id.to_owned(),
                identity: stand_in_seal(),
            }),
        )
        .map_err(|e| e.to_string())?;
        for event in &events {
            self.state.evolve(event);
            *self.by_type.entry(event.event_type()).or_default() += 1;
        }
        self.items.push(Planned {
            line,
            occurred_at,
            step: Step::NewPupil {
                pupil_id,
                external_id: external_id.to_owned(),
                identity,
            },
        });
        Ok(pupil_id)
    }

    /// Registers the school (named `name`) and defines the school year beginning in
    /// `first_year` when they are missing; returns the year.
    pub fn school_and_year(
        &mut self,
        line: usize,
        name: &str,
        first_year: i32,
    ) -> Result<SchoolYearId, String> {
        let year: YearBounds = calendar::school_year(first_year)
            .ok_or_else(|| format!("school year {first_year} is out of range"))?;
        if !self.state.registered {
            let school_id = self.school_id;
            self.decide(
                line,
                morning(year.starts_on),
                Command::RegisterSchool(SchoolRegistered {
                    school_id,
                    name: name.trim().to_owned(),
                    nr_counts_as_zero: true,
                }),
            )?;
            self.changes.push(format!("new school {:?}", name.trim()));
        }
        if let Some(id) = self.state.year_of(year.starts_on) {
            return Ok(id);
        }
        let year_id = SchoolYearId(self.id(&format!("year/{}", year.label)));
        self.decide(
            line,
            morning(year.starts_on),
            Command::DefineSchoolYear(SchoolYearDefined {
                year_id,
                label: year.label.clone(),
                starts_on: year.starts_on,
                ends_on: year.ends_on,
            }),
        )?;
        self.changes.push(format!("new school year {}", year.label));
        Ok(year_id)
    }

    /// The class named `name` in the year, opened when missing.
    pub fn class(
        &mut self,
        line: usize,
        year_id: SchoolYearId,
        name: &str,
    ) -> Result<ClassId, String> {
        if let Some(id) = self.find_class(year_id, name) {
            return Ok(id);
        }
        let starts_on = self
            .state
            .years
            .get(&year_id)
            .map(|y| y.starts_on)
            .ok_or("the school year vanished")?;
        let class_id = ClassId(self.id(&format!("class/{year_id}/{name}")));
        self.decide(
            line,
            morning(starts_on),
            Command::OpenClass(ClassOpened {
                class_id,
                year_id,
                name: name.to_owned(),
            }),
        )?;
        self.changes.push(format!("new class {name}"));
        Ok(class_id)
    }

    pub fn find_class(&self, year_id: SchoolYearId, name: &str) -> Option<ClassId> {
        self.state
            .classes
            .iter()
            .find(|(_, c)| c.year_id == year_id && c.name == name)
            .map(|(id, _)| *id)
    }

    pub fn class_name(&self, class: ClassId) -> String {
        self.state
            .classes
            .get(&class)
            .map_or_else(|| class.to_string(), |c| c.name.clone())
    }
}

/// Which school a file is for: the one named `--school-name` if the store has it, the
/// store's only school, or a new one when the store has none.
pub fn school_for(importer: &Importer<'_>, report: &mut FileReport) -> Option<SchoolId> {
    let name = &importer.options.school_name;
    let named = super::grades_plan::school_id_for(name);
    let schools = &importer.catalog.schools;
    if schools.contains(&named) || schools.is_empty() {
        Some(named)
    } else if let Some(only) = importer.catalog.only_school() {
        Some(only)
    } else {
        report.errors.push(LineError {
            line: 1,
            reason: format!(
                "the store holds {} schools and none is named {name:?}: say which with --school-name",
                schools.len()
            ),
        });
        None
    }
}

/// The school's write model as the gateway last caught up with the log.
pub async fn state_of(importer: &Importer<'_>, school: SchoolId) -> anyhow::Result<SchoolState> {
    importer
        .gateway
        .with_state(school, |s| s.clone())
        .await
        .map_err(|e| anyhow::anyhow!("reading the log: {e}"))
}

/// `DD/MM/YYYY`, the exports' date format.
pub fn french_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%d/%m/%Y").ok()
}

/// Ends a planned file: nothing when it has bad elements (unless `--skip-bad`), the changes
/// and the events it would write under `--dry-run`, else one atomic batch.
pub async fn finish(
    importer: &Importer<'_>,
    planner: Planner,
    actor: &str,
    report: &mut FileReport,
) -> anyhow::Result<()> {
    if !report.errors.is_empty() && !importer.options.skip_bad {
        return Ok(());
    }
    report.changes = planner.changes;
    if importer.options.dry_run {
        report.dry_run = true;
        report.by_type = planner.by_type;
        return Ok(());
    }
    let spinner = progress::spinner(importer.options.progress, "writing");
    let result = write_plan(
        importer.gateway,
        planner.school_id,
        actor,
        planner.items,
        report,
    )
    .await;
    spinner.finish_and_clear();
    result
}
