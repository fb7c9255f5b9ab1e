//! Setting the stage for the demo: a school year and period holding today, a class of the
//! demo school with its pupils in it today, a teacher and a subject; then, each round, a
//! quiz, a parcours and a class session. Everything goes through `Gateway::execute`.
//!
//! The demo school's fixtures cover a past school year; when today falls outside every
//! year, the stage defines the current year (September to August, without overlapping the
//! others), its trimesters, and a class of that year into which the pupils of a demo class
//! are transferred today. Their history stays in their previous class.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use std::collections::HashMap;
use suivi_domain::events::*;
use suivi_domain::identity::PupilIdentity;
use suivi_domain::ids::*;
use suivi_domain::reference::{PeriodKind, SubjectKind};
use suivi_domain::values::Coefficient;
use suivi_domain::{Actor, Command, Metadata, SchoolState};
use suivi_projections::gateway::{CommandError, Executed, Gateway};
use uuid::Uuid;

pub(super) fn meta(school: SchoolId) -> Metadata {
    Metadata {
        school_id: school,
        actor: Actor::System("demo-simulation".to_owned()),
        occurred_at: Utc::now(),
        correlation_id: None,
        causation_id: None,
    }
}

pub(super) async fn exec(
    gateway: &Gateway,
    school: SchoolId,
    command: Command,
) -> Result<Executed, CommandError> {
    gateway.execute(&meta(school), command).await
}

pub(super) fn new_id<T: From<Uuid>>() -> T {
    T::from(Uuid::now_v7())
}

/// Who and where the demo plays.
#[derive(Clone, Debug)]
pub(super) struct Stage {
    pub school: SchoolId,
    pub class_id: ClassId,
    pub teacher_id: TeacherId,
    pub subject_id: SubjectId,
    pub pupils: Vec<PupilId>,
}

fn year_of(state: &SchoolState, date: NaiveDate) -> Option<SchoolYearId> {
    state.year_of(date)
}

/// The school year (September to August) holding `today`, clipped so as not to overlap
/// the years already defined.
fn current_year_bounds(state: &SchoolState, today: NaiveDate) -> (NaiveDate, NaiveDate, String) {
    let first_year = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    let september = NaiveDate::from_ymd_opt(first_year, 9, 1).unwrap_or(today);
    let august = NaiveDate::from_ymd_opt(first_year + 1, 8, 31).unwrap_or(today);
    let start = state
        .years
        .values()
        .filter(|y| y.ends_on < today)
        .map(|y| y.ends_on + Duration::days(1))
        .fold(september, NaiveDate::max);
    let end = state
        .years
        .values()
        .filter(|y| y.starts_on > today)
        .map(|y| y.starts_on - Duration::days(1))
        .fold(august, NaiveDate::min);
    (start, end, format!("{}-{}", first_year, first_year + 1))
}

async fn ensure_year(
    gateway: &Gateway,
    school: SchoolId,
    today: NaiveDate,
) -> Result<SchoolYearId, CommandError> {
    let (known, bounds) = gateway
        .with_state(school, |s| {
            (year_of(s, today), current_year_bounds(s, today))
        })
        .await?;
    if let Some(year) = known {
        return Ok(year);
    }
    let (starts_on, ends_on, label) = bounds;
    let year_id: SchoolYearId = new_id();
    exec(
        gateway,
        school,
        Command::DefineSchoolYear(SchoolYearDefined {
            year_id,
            label,
            starts_on,
            ends_on,
        }),
    )
    .await?;
    tracing::info!(%year_id, %starts_on, %ends_on, "demo: defined the current school year");
    Ok(year_id)
}

async fn ensure_period(
    gateway: &Gateway,
    school: SchoolId,
    year: SchoolYearId,
    today: NaiveDate,
) -> Result<(), CommandError> {
    let (covered, names, bounds) = gateway
        .with_state(school, |s| {
            let periods: Vec<_> = s.periods.values().filter(|p| p.year_id == year).collect();
            (
                periods
                    .iter()
                    .any(|p| p.starts_on <= today && today <= p.ends_on),
                periods.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
                s.years.get(&year).map(|y| (y.starts_on, y.ends_on)),
            )
        })
        .await?;
    let Some((year_start, year_end)) = bounds else {
        return Ok(());
    };
    if covered {
        return Ok(());
    }
    let first = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    let date = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(today);
    let mut periods: Vec<(String, NaiveDate, NaiveDate)> = vec![
        ("Trimestre 1".into(), date(first, 9, 1), date(first, 11, 30)),
        (
            "Trimestre 2".into(),
            date(first, 12, 1),
            date(first + 1, 3, 31),
        ),
        (
            "Trimestre 3".into(),
            date(first + 1, 4, 1),
            date(first + 1, 8, 31),
        ),
    ];
    if names.iter().any(|n| n.starts_with("Trimestre")) {
        periods.clear();
    }
    let clipped: Vec<_> = periods
        .into_iter()
        .map(|(n, s, e)| (n, s.max(year_start), e.min(year_end)))
        .filter(|(_, s, e)| s <= e)
        .collect();
    let holds_today = clipped.iter().any(|(_, s, e)| *s <= today && today <= *e);
    let mut to_define = clipped;
    if !holds_today {
        to_define = vec![(
            format!("Période de démonstration {today}"),
            (today - Duration::days(30)).max(year_start),
            (today + Duration::days(30)).min(year_end),
        )];
    }
    for (name, starts_on, ends_on) in to_define {
        exec(
            gateway,
            school,
            Command::DefinePeriod(PeriodDefined {
                period_id: new_id(),
                year_id: year,
                name,
                kind: PeriodKind::Trimestre,
                starts_on,
                ends_on,
            }),
        )
        .await?;
    }
    Ok(())
}

/// What the stage reads of the write model.
struct Casting {
    /// Classes of the current year by pupils enrolled today.
    current: Vec<(ClassId, Vec<PupilId>)>,
    /// Classes of other years by pupils still enrolled (open enrolment starting before today).
    past: Vec<(ClassId, String, Vec<PupilId>)>,
    names_this_year: Vec<String>,
    head_teachers: HashMap<ClassId, TeacherId>,
    teaching: Vec<(TeacherId, ClassId, SubjectId)>,
    teachers: Vec<TeacherId>,
    subjects: Vec<(SubjectId, SubjectKind)>,
}

fn casting(s: &SchoolState, year: SchoolYearId, today: NaiveDate) -> Casting {
    let mut current: HashMap<ClassId, Vec<PupilId>> = HashMap::new();
    let mut past: HashMap<ClassId, Vec<PupilId>> = HashMap::new();
    for (id, pupil) in &s.pupils {
        if let Some(class) = pupil
            .class_on(today)
            .filter(|c| s.classes.get(c).is_some_and(|c| c.year_id == year))
        {
            current.entry(class).or_default().push(*id);
        } else if let Some(open) = pupil
            .enrolments
            .iter()
            .find(|e| e.until.is_none() && e.from < today)
        {
            past.entry(open.class_id).or_default().push(*id);
        }
    }
    let sorted = |m: HashMap<ClassId, Vec<PupilId>>| {
        let mut v: Vec<(ClassId, Vec<PupilId>)> = m
            .into_iter()
            .map(|(c, mut p)| {
                p.sort();
                (c, p)
            })
            .collect();
        v.sort_by_key(|(c, p)| (std::cmp::Reverse(p.len()), *c));
        v
    };
    let mut teachers: Vec<TeacherId> = s.teachers.iter().copied().collect();
    teachers.sort();
    let mut subjects: Vec<(SubjectId, SubjectKind)> =
        s.subjects.iter().map(|(id, x)| (*id, x.kind)).collect();
    subjects.sort_by_key(|(id, kind)| (*kind != SubjectKind::General, *id));
    Casting {
        current: sorted(current),
        past: sorted(past)
            .into_iter()
            .map(|(c, p)| {
                (
                    c,
                    s.classes
                        .get(&c)
                        .map_or_else(|| "Classe".to_owned(), |x| x.name.clone()),
                    p,
                )
            })
            .collect(),
        names_this_year: s
            .classes
            .values()
            .filter(|c| c.year_id == year)
            .map(|c| c.name.clone())
            .collect(),
        head_teachers: s.head_teachers.clone(),
        teaching: s.teaching.iter().copied().collect(),
        teachers,
        subjects,
    }
}

const DEMO_NAMES: [(&str, &str); 24] = [
    ("Martin", "Léa"),
    ("Bernard", "Hugo"),
    ("Dubois", "Chloé"),
    ("Thomas", "Lucas"),
    ("Robert", "Manon"),
    ("Richard", "Nathan"),
    ("Petit", "Camille"),
    ("Durand", "Enzo"),
    ("Leroy", "Sarah"),
    ("Moreau", "Louis"),
    ("Simon", "Inès"),
    ("Laurent", "Jules"),
    ("Lefebvre", "Jade"),
    ("Michel", "Gabriel"),
    ("Garcia", "Lina"),
    ("David", "Adam"),
    ("Bertrand", "Zoé"),
    ("Roux", "Raphaël"),
    ("Vincent", "Emma"),
    ("Fournier", "Arthur"),
    ("Morel", "Louise"),
    ("Girard", "Noah"),
    ("André", "Alice"),
    ("Mercier", "Ethan"),
];

/// Makes sure the school, today's year and period, a class with pupils, a teacher and a
/// subject exist, and says which the demo uses.
pub(super) async fn prepare(gateway: &Gateway, school: SchoolId) -> Result<Stage, CommandError> {
    let today = Utc::now().date_naive();
    if !gateway.with_state(school, |s| s.registered).await? {
        exec(
            gateway,
            school,
            Command::RegisterSchool(SchoolRegistered {
                school_id: school,
                name: "Lycée de démonstration".to_owned(),
                nr_counts_as_zero: true,
            }),
        )
        .await?;
    }
    let year = ensure_year(gateway, school, today).await?;
    ensure_period(gateway, school, year, today).await?;
    let cast = gateway
        .with_state(school, |s| casting(s, year, today))
        .await?;

    let teacher_id = match cast.teachers.first() {
        Some(t) => *t,
        None => {
            let teacher_id = new_id();
            exec(
                gateway,
                school,
                Command::RegisterTeacher(TeacherRegistered {
                    teacher_id,
                    display_name: "Mme Durand".to_owned(),
                    email: None,
                }),
            )
            .await?;
            teacher_id
        }
    };
    let subject_id = match cast.subjects.first() {
        Some((s, _)) => *s,
        None => {
            let subject_id = new_id();
            exec(
                gateway,
                school,
                Command::DefineSubject(SubjectDefined {
                    subject_id,
                    name: "Mathématiques".to_owned(),
                    kind: SubjectKind::General,
                    coefficient: Coefficient::ONE,
                }),
            )
            .await?;
            subject_id
        }
    };

    let (class_id, pupils, source) = if let Some((class, pupils)) = cast.current.first() {
        (*class, pupils.clone(), None)
    } else {
        let (name, source, movers) = match cast.past.first() {
            Some((c, name, p)) => (name.clone(), Some(*c), p.clone()),
            None => ("2nde Démo".to_owned(), None, Vec::new()),
        };
        // Never the past class's own name: `class(name: "1re MELEC")` must keep meaning
        // the class of the fixture's year, with its grades and periods.
        let name = if source.is_some() || cast.names_this_year.contains(&name) {
            format!("{name} (en direct)")
        } else {
            name
        };
        let class_id: ClassId = new_id();
        exec(
            gateway,
            school,
            Command::OpenClass(ClassOpened {
                class_id,
                year_id: year,
                name,
            }),
        )
        .await?;
        let mut pupils = Vec::new();
        for pupil in movers {
            if let Some(from) = source {
                exec(
                    gateway,
                    school,
                    Command::TransferPupil(PupilTransferred {
                        pupil_id: pupil,
                        from_class_id: from,
                        to_class_id: class_id,
                        on: today,
                    }),
                )
                .await?;
                pupils.push(pupil);
            }
        }
        if pupils.is_empty() {
            for (i, (last, first)) in DEMO_NAMES.iter().enumerate() {
                let pupil_id: PupilId = new_id();
                let identity = PupilIdentity {
                    last_name: (*last).to_owned(),
                    first_name: (*first).to_owned(),
                    birth_date: None,
                };
                gateway
                    .register_pupil(
                        &meta(school),
                        pupil_id,
                        format!("DEMO{:04}", i + 1),
                        &identity,
                    )
                    .await?;
                exec(
                    gateway,
                    school,
                    Command::EnrolPupil(PupilEnrolled {
                        pupil_id,
                        class_id,
                        on: today,
                    }),
                )
                .await?;
                pupils.push(pupil_id);
            }
        }
        tracing::info!(%class_id, pupils = pupils.len(), "demo: opened a class for the current year");
        (class_id, pupils, source)
    };

    let head = cast
        .head_teachers
        .get(&class_id)
        .or_else(|| source.and_then(|s| cast.head_teachers.get(&s)))
        .copied()
        .unwrap_or(teacher_id);
    if !cast.head_teachers.contains_key(&class_id) {
        exec(
            gateway,
            school,
            Command::AssignHeadTeacher(HeadTeacherAssigned {
                teacher_id: head,
                class_id,
            }),
        )
        .await?;
    }
    if !cast.teaching.contains(&(head, class_id, subject_id)) {
        exec(
            gateway,
            school,
            Command::AssignTeaching(TeachingAssigned {
                teacher_id: head,
                class_id,
                subject_id,
            }),
        )
        .await?;
    }
    Ok(Stage {
        school,
        class_id,
        teacher_id: head,
        subject_id,
        pupils,
    })
}
