//! Reference data (schools, periods, subjects, classes, teachers, pupils) as plain maps:
//! names and settings to label and scope the figures. The latest definition of an id wins,
//! as in the projections.

use super::{lazy, Cols};
use crate::error::Result;
use crate::log::Log;
use chrono::NaiveDate;
use polars::prelude::*;
use std::collections::HashMap;
use suivi_domain::reference::SubjectKind;

#[derive(Clone, Debug)]
pub struct SchoolRow {
    pub name: String,
    pub nr_zero: bool,
}

#[derive(Clone, Debug)]
pub struct PeriodRow {
    pub name: String,
    pub school: u32,
    pub year: u32,
    pub kind: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct SubjectRow {
    pub name: String,
    pub school: u32,
    pub kind: Option<SubjectKind>,
    /// Hundredths.
    pub coefficient: u32,
}

#[derive(Clone, Debug)]
pub struct ClassRow {
    pub name: String,
    pub school: u32,
    pub year: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub schools: HashMap<u32, SchoolRow>,
    pub periods: HashMap<u32, PeriodRow>,
    pub subjects: HashMap<u32, SubjectRow>,
    pub classes: HashMap<u32, ClassRow>,
    pub teachers: HashMap<u32, String>,
    /// (teacher, class, subject), each once, in log order.
    pub teaching: Vec<(u32, u32, u32)>,
    pub head_teacher: HashMap<u32, u32>,
    /// Pupil → external id.
    pub pupils: HashMap<u32, String>,
}

fn sorted(df: &DataFrame) -> PolarsResult<DataFrame> {
    lazy(df)
        .sort(["pos"], SortMultipleOptions::default())
        .collect()
}

impl Catalog {
    pub fn of(log: &Log) -> Result<Catalog> {
        let f = &log.frames;
        let mut c = Catalog::default();

        let df = sorted(&f.schools)?;
        let t = Cols::new(&df, "schools");
        for ((id, name), nr) in t
            .ids("school")?
            .into_iter()
            .zip(t.str("name")?)
            .zip(t.bool("nr_zero")?)
        {
            c.schools.insert(
                id,
                SchoolRow {
                    name: name.unwrap_or_default(),
                    nr_zero: nr.unwrap_or(true),
                },
            );
        }

        let df = sorted(&f.periods)?;
        let t = Cols::new(&df, "periods");
        let (ids, names, schools, years, kinds) = (
            t.ids("period")?,
            t.str("name")?,
            t.ids("school")?,
            t.ids("year")?,
            t.str("kind")?,
        );
        let (starts, ends) = (t.date("starts_on")?, t.date("ends_on")?);
        for i in 0..t.height() {
            let (Some(starts_on), Some(ends_on)) = (starts[i], ends[i]) else {
                continue;
            };
            c.periods.insert(
                ids[i],
                PeriodRow {
                    name: names[i].clone().unwrap_or_default(),
                    school: schools[i],
                    year: years[i],
                    kind: kinds[i].clone().unwrap_or_default(),
                    starts_on,
                    ends_on,
                },
            );
        }

        let df = sorted(&f.subjects)?;
        let t = Cols::new(&df, "subjects");
        let (ids, names, schools, kinds, coefs) = (
            t.ids("subject")?,
            t.str("name")?,
            t.ids("school")?,
            t.str("kind")?,
            t.u32("coefficient")?,
        );
        for i in 0..t.height() {
            c.subjects.insert(
                ids[i],
                SubjectRow {
                    name: names[i].clone().unwrap_or_default(),
                    school: schools[i],
                    kind: kinds[i].as_deref().and_then(SubjectKind::parse),
                    coefficient: coefs[i].unwrap_or(100),
                },
            );
        }

        let df = sorted(&f.classes)?;
        let t = Cols::new(&df, "classes");
        let (ids, names, schools, years) = (
            t.ids("class")?,
            t.str("name")?,
            t.ids("school")?,
            t.ids("year")?,
        );
        for i in 0..t.height() {
            c.classes.insert(
                ids[i],
                ClassRow {
                    name: names[i].clone().unwrap_or_default(),
                    school: schools[i],
                    year: years[i],
                },
            );
        }

        let df = sorted(&f.teachers)?;
        let t = Cols::new(&df, "teachers");
        for (id, name) in t.ids("teacher")?.into_iter().zip(t.str("name")?) {
            c.teachers.insert(id, name.unwrap_or_default());
        }

        let df = sorted(&f.teaching)?;
        let t = Cols::new(&df, "teaching");
        for ((teacher, class), subject) in t
            .ids("teacher")?
            .into_iter()
            .zip(t.ids("class")?)
            .zip(t.ids("subject")?)
        {
            if !c.teaching.contains(&(teacher, class, subject)) {
                c.teaching.push((teacher, class, subject));
            }
        }

        let df = sorted(&f.head_teachers)?;
        let t = Cols::new(&df, "head_teachers");
        for (teacher, class) in t.ids("teacher")?.into_iter().zip(t.ids("class")?) {
            c.head_teacher.insert(class, teacher);
        }

        let df = sorted(&f.pupils)?;
        let t = Cols::new(&df, "pupils");
        for (pupil, external) in t.ids("pupil")?.into_iter().zip(t.str("external_id")?) {
            c.pupils.insert(pupil, external.unwrap_or_default());
        }
        Ok(c)
    }

    /// The teachers of a subject in a class, in assignment order.
    pub fn teachers_of(&self, class: u32, subject: u32) -> Vec<&str> {
        self.teaching
            .iter()
            .filter(|(_, c, s)| *c == class && *s == subject)
            .filter_map(|(t, _, _)| self.teachers.get(t).map(String::as_str))
            .collect()
    }

    /// The school setting for `NR` in a class's averages (true when unknown, as the domain's
    /// default).
    pub fn nr_zero_in(&self, class: u32) -> bool {
        self.classes
            .get(&class)
            .and_then(|c| self.schools.get(&c.school))
            .is_none_or(|s| s.nr_zero)
    }
}
