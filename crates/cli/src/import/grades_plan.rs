//! From grade rows to commands. Whatever a row names and the school lacks is created through
//! the ordinary commands, so a grades file imports into an empty store:
//!
//! - the school (`--school-name`, id a UUID v5 of the name) when the store has none;
//! - the school year, when the school has none, inferred from the rows' dates (see
//!   `calendar`: 1 September to the first Saturday of July; the year most rows fall in);
//! - periods by name in the row's year (`T1`…`T3`, `S1`, `S2`, bounds from `calendar`);
//! - subjects by name (kind from `subject_kind`, coefficient 1), classes by name in the year;
//! - pupils by `pupil_id` (the external id): registered with their names sealed, then
//!   enrolled in the row's class from the first day of the school year;
//! - assessments by class + subject + title + date (scale and coefficient from the row).
//!
//! Then one `RecordGrade` per row. Ids of created things are UUID v5 of what identifies them,
//! so the same file gives the same ids in any store. Every command is decided against a copy
//! of the school's state as it goes: a row is refused with the domain's reason.
//!
//! `occurred_at`: reference data at 07:00 UTC on the first day of the school year, an
//! assessment at 07:00 UTC on its date, a grade at 17:00 UTC on the assessment's date.

use super::csv_grades::Row;
use super::LineError;
use crate::calendar;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use suivi_domain::events::*;
use suivi_domain::identity::PupilIdentity;
use suivi_domain::ids::*;
use suivi_domain::values::{Coefficient, Grade};
use suivi_domain::{decide, Command, SchoolState};
use uuid::Uuid;

/// Namespace of the ids the grades importer derives.
const NAMESPACE: Uuid = Uuid::from_u128(0x7c3e_51a0_4b8e_4f6a_9d0c_2e61_b5f3_a8d4);

pub fn school_id_for(name: &str) -> SchoolId {
    SchoolId(Uuid::new_v5(
        &NAMESPACE,
        format!("school/{}", name.trim()).as_bytes(),
    ))
}

pub use super::write::{Planned, Step};

#[derive(Default)]
pub struct Plan {
    pub items: Vec<Planned>,
    pub errors: Vec<LineError>,
    /// Rows whose grade is already recorded, identical.
    pub already: usize,
}

pub struct Input<'a> {
    pub school_id: SchoolId,
    pub school_name: &'a str,
    pub state: &'a SchoolState,
    /// Current grade per (assessment, pupil) in the log.
    pub grades: &'a HashMap<(AssessmentId, PupilId), Grade>,
}

/// Plans the rows; under `skip_bad`, plans again without the bad rows until none is left
/// (a bad row may have created a class or a pupil that only it needed).
pub fn plan(rows: &[Row], input: &Input, skip_bad: bool) -> Plan {
    let mut excluded = BTreeSet::new();
    let mut errors: BTreeMap<usize, LineError> = BTreeMap::new();
    loop {
        let mut plan = Planner::new(input).run(rows, &excluded);
        if !skip_bad || plan.errors.is_empty() {
            plan.errors.extend(errors.into_values());
            return plan;
        }
        for e in plan.errors {
            excluded.insert(e.line);
            errors.insert(e.line, e);
        }
    }
}

struct Planner<'a> {
    input: &'a Input<'a>,
    state: SchoolState,
    grades: HashMap<(AssessmentId, PupilId), Grade>,
    coefficients: HashMap<AssessmentId, Coefficient>,
    plan: Plan,
}

fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    date.and_hms_opt(hour, 0, 0).unwrap_or_default().and_utc()
}

/// The id the importers derive for a thing of `school` identified by `what`.
pub fn derived_id(school: SchoolId, what: &str) -> Uuid {
    v5(school, what)
}

fn v5(school: SchoolId, what: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{school}/{what}").as_bytes())
}

impl<'a> Planner<'a> {
    fn new(input: &'a Input<'a>) -> Self {
        Planner {
            input,
            state: input.state.clone(),
            grades: input.grades.clone(),
            coefficients: HashMap::new(),
            plan: Plan::default(),
        }
    }

    fn run(mut self, rows: &[Row], excluded: &BTreeSet<usize>) -> Plan {
        let rows: Vec<&Row> = rows
            .iter()
            .filter(|r| !excluded.contains(&r.line))
            .collect();
        if let Err(e) = self.school_and_year(&rows) {
            self.plan.errors.push(e);
            return self.plan;
        }
        for row in rows {
            if let Err(reason) = self.row(row) {
                self.plan.errors.push(LineError {
                    line: row.line,
                    reason: format!(
                        "{reason} ({}, {}, {:?} of {}, pupil {})",
                        row.class, row.subject, row.assessment, row.date, row.external_id
                    ),
                });
            }
        }
        self.plan
    }

    fn decide(
        &mut self,
        line: usize,
        occurred_at: DateTime<Utc>,
        command: Command,
    ) -> Result<(), String> {
        let events = decide(&self.state, command.clone()).map_err(|e| e.to_string())?;
        for event in &events {
            self.state.evolve(event);
        }
        self.plan.items.push(Planned {
            line,
            occurred_at,
            step: Step::Command(command),
        });
        Ok(())
    }

    /// Registers the school and defines the school year when they are missing.
    fn school_and_year(&mut self, rows: &[&Row]) -> Result<(), LineError> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let mut years: BTreeMap<NaiveDate, (usize, usize, calendar::YearBounds)> = BTreeMap::new();
        for row in rows {
            if let Some(year) = calendar::school_year_of(row.date) {
                years.entry(year.starts_on).or_insert((0, row.line, year)).0 += 1;
            }
        }
        let inferred = years
            .into_values()
            .max_by_key(|(count, line, _)| (*count, std::cmp::Reverse(*line)));
        let fail = |line: usize, reason: String| LineError { line, reason };
        if !self.state.registered {
            let start = inferred
                .as_ref()
                .map_or(first.date, |(_, _, y)| y.starts_on);
            let school_id = self.input.school_id;
            self.decide(
                first.line,
                at(start, 7),
                Command::RegisterSchool(SchoolRegistered {
                    school_id,
                    name: self.input.school_name.trim().to_owned(),
                    nr_counts_as_zero: true,
                }),
            )
            .map_err(|e| fail(first.line, e))?;
        }
        if self.state.years.is_empty() {
            let Some((_, line, year)) = inferred else {
                return Err(fail(
                    first.line,
                    format!(
                        "date {} is in no school year (1 September to early July) and the school has none",
                        first.date
                    ),
                ));
            };
            let year_id = SchoolYearId(v5(self.input.school_id, &format!("year/{}", year.label)));
            self.decide(
                line,
                at(year.starts_on, 7),
                Command::DefineSchoolYear(SchoolYearDefined {
                    year_id,
                    label: year.label,
                    starts_on: year.starts_on,
                    ends_on: year.ends_on,
                }),
            )
            .map_err(|e| fail(line, e))?;
        }
        Ok(())
    }

    fn row(&mut self, row: &Row) -> Result<(), String> {
        let school = self.input.school_id;
        let year_id = self.state.year_of(row.date).ok_or_else(|| {
            format!(
                "date {} is outside every school year of the school{}",
                row.date,
                self.describe_years()
            )
        })?;
        let (year_start, year_end) = self
            .state
            .years
            .get(&year_id)
            .map(|y| (y.starts_on, y.ends_on))
            .ok_or("the school year vanished")?;
        let reference_at = at(year_start, 7);

        let period_id = match self.find_period(year_id, &row.period) {
            Some(id) => id,
            None => {
                let (kind, starts_on, ends_on) = calendar::period_bounds(&row.period, year_start, year_end)
                    .ok_or_else(|| format!(
                        "period {:?} is unknown: name it T1, T2, T3 (trimestres) or S1, S2 (semestres), or define it first",
                        row.period
                    ))?;
                let period_id = PeriodId(v5(school, &format!("period/{year_id}/{}", row.period)));
                self.decide(
                    row.line,
                    reference_at,
                    Command::DefinePeriod(PeriodDefined {
                        period_id,
                        year_id,
                        name: row.period.clone(),
                        kind,
                        starts_on,
                        ends_on,
                    }),
                )?;
                period_id
            }
        };

        let subject_id = match self
            .state
            .subjects
            .iter()
            .find(|(_, s)| s.name == row.subject)
        {
            Some((id, s)) if s.kind == row.kind => *id,
            Some((_, s)) => {
                return Err(format!(
                    "subject {:?} is {} in the school, not {}",
                    row.subject,
                    kind_name(s.kind),
                    kind_name(row.kind)
                ))
            }
            None => {
                let subject_id = SubjectId(v5(school, &format!("subject/{}", row.subject)));
                self.decide(
                    row.line,
                    reference_at,
                    Command::DefineSubject(SubjectDefined {
                        subject_id,
                        name: row.subject.clone(),
                        kind: row.kind,
                        coefficient: Coefficient::ONE,
                    }),
                )?;
                subject_id
            }
        };

        let class_id = match self
            .state
            .classes
            .iter()
            .find(|(_, c)| c.year_id == year_id && c.name == row.class)
        {
            Some((id, _)) => *id,
            None => {
                let class_id = ClassId(v5(school, &format!("class/{year_id}/{}", row.class)));
                self.decide(
                    row.line,
                    reference_at,
                    Command::OpenClass(ClassOpened {
                        class_id,
                        year_id,
                        name: row.class.clone(),
                    }),
                )?;
                class_id
            }
        };

        let pupil_id = match self.state.pupils_by_external_id.get(&row.external_id) {
            Some(id) => *id,
            None => self.register_pupil(row, reference_at)?,
        };
        let enrolled = self
            .state
            .pupils
            .get(&pupil_id)
            .and_then(|p| p.current_class())
            .is_some();
        if !enrolled {
            self.decide(
                row.line,
                reference_at,
                Command::EnrolPupil(PupilEnrolled {
                    pupil_id,
                    class_id,
                    on: year_start,
                }),
            )?;
        }

        let assessment_id = AssessmentId(v5(
            school,
            &format!(
                "assessment/{class_id}/{subject_id}/{}/{}",
                row.date, row.assessment
            ),
        ));
        match self.state.assessments.get(&assessment_id) {
            Some(existing) if existing.scale != row.scale => {
                return Err(format!(
                    "the assessment is out of /{}, this row says /{}",
                    existing.scale, row.scale
                ))
            }
            Some(_) => {
                if let Some(c) = self.coefficients.get(&assessment_id) {
                    if *c != row.coefficient {
                        return Err(format!(
                            "the assessment has coefficient {}, this row says {}",
                            c.0, row.coefficient.0
                        ));
                    }
                }
            }
            None => {
                self.decide(
                    row.line,
                    at(row.date, 7),
                    Command::ScheduleAssessment(AssessmentScheduled {
                        assessment_id,
                        class_id,
                        subject_id,
                        period_id,
                        title: row.assessment.clone(),
                        date: row.date,
                        scale: row.scale,
                        coefficient: row.coefficient,
                    }),
                )?;
                self.coefficients.insert(assessment_id, row.coefficient);
            }
        }

        let graded = self
            .state
            .assessments
            .get(&assessment_id)
            .is_some_and(|a| a.graded.contains(&pupil_id));
        if graded {
            return match self.grades.get(&(assessment_id, pupil_id)) {
                Some(g) if *g == row.grade => {
                    self.plan.already += 1;
                    Ok(())
                }
                Some(g) => Err(format!(
                    "pupil {} already has {g} for this assessment, this row says {}: record a correction instead",
                    row.external_id, row.grade
                )),
                None => Err(format!(
                    "pupil {} already has a grade for this assessment",
                    row.external_id
                )),
            };
        }
        self.decide(
            row.line,
            at(row.date, 17),
            Command::RecordGrade(GradeRecorded {
                assessment_id,
                pupil_id,
                grade: row.grade,
            }),
        )?;
        self.grades.insert((assessment_id, pupil_id), row.grade);
        Ok(())
    }

    fn find_period(&self, year: SchoolYearId, name: &str) -> Option<PeriodId> {
        self.state
            .periods
            .iter()
            .find(|(_, p)| p.year_id == year && p.name.trim() == name)
            .map(|(id, _)| *id)
    }

    fn register_pupil(&mut self, row: &Row, occurred_at: DateTime<Utc>) -> Result<PupilId, String> {
        if row.last_name.is_empty() || row.first_name.is_empty() {
            return Err(format!(
                "pupil {} is new: last_name and first_name are needed to register them",
                row.external_id
            ));
        }
        let pupil_id = PupilId(v5(
            self.input.school_id,
            &format!("pupil/{}", row.external_id),
        ));
        let stand_in = super::write::stand_in_seal();
        let events = decide(
            &self.state,
            Command::RegisterPupil(PupilRegistered {
                pupil_id,
                external_id: row.external_id.clone(),
                identity: stand_in,
            }),
        )
        .map_err(|e| e.to_string())?;
        for event in &events {
            self.state.evolve(event);
        }
        self.plan.items.push(Planned {
            line: row.line,
            occurred_at,
            step: Step::NewPupil {
                pupil_id,
                external_id: row.external_id.clone(),
                identity: PupilIdentity {
                    last_name: row.last_name.clone(),
                    first_name: row.first_name.clone(),
                    birth_date: None,
                },
            },
        });
        Ok(pupil_id)
    }

    fn describe_years(&self) -> String {
        let mut years: Vec<String> = self
            .state
            .years
            .values()
            .map(|y| format!("{} ({} to {})", y.label, y.starts_on, y.ends_on))
            .collect();
        years.sort();
        if years.is_empty() {
            String::new()
        } else {
            format!(": {}", years.join(", "))
        }
    }
}

fn kind_name(kind: suivi_domain::reference::SubjectKind) -> &'static str {
    match kind {
        suivi_domain::reference::SubjectKind::General => "general",
        suivi_domain::reference::SubjectKind::Vocational => "vocational",
    }
}
