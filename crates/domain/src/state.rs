//! The write model of one school: what `decide` needs to validate a command, folded from
//! the school's events by `evolve`. It keeps only what rules read (ids, dates, sets), never
//! read-model figures.

use crate::events::*;
use crate::ids::*;
use crate::reference::{
    socle_commun_components, SubjectKind, SOCLE_COMMUN_ID, SOCLE_COMMUN_LEVELS,
};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug)]
pub struct Year {
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct Period {
    pub year_id: SchoolYearId,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct Subject {
    pub name: String,
    pub kind: SubjectKind,
}

#[derive(Clone, Debug)]
pub struct Class {
    pub year_id: SchoolYearId,
    pub name: String,
}

/// One enrolment: in `class` from `from` (inclusive) until `until` (exclusive) if
/// transferred or ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub class_id: ClassId,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

#[derive(Clone, Debug, Default)]
pub struct Pupil {
    pub external_id: String,
    pub enrolments: Vec<Enrolment>,
}

impl Pupil {
    pub fn current_class(&self) -> Option<ClassId> {
        self.enrolments
            .iter()
            .find(|e| e.until.is_none())
            .map(|e| e.class_id)
    }

    pub fn class_on(&self, date: NaiveDate) -> Option<ClassId> {
        self.enrolments
            .iter()
            .find(|e| e.from <= date && e.until.is_none_or(|u| date < u))
            .map(|e| e.class_id)
    }
}

#[derive(Clone, Debug)]
pub struct Assessment {
    pub class_id: ClassId,
    pub date: NaiveDate,
    pub scale: u16,
    pub graded: HashSet<PupilId>,
    /// Held back from families (`ResultsWithheld`).
    pub withheld: bool,
}

#[derive(Clone, Debug)]
pub struct Homework {
    pub class_id: ClassId,
}

#[derive(Clone, Debug)]
pub struct Quiz {
    pub class_id: ClassId,
    pub max_attempts: u16,
    /// question → (number of choices, right choice), in quiz order.
    pub key: Vec<(QuestionId, u16, u16)>,
}

#[derive(Clone, Debug, Default)]
pub struct Attempts {
    pub started: u16,
    pub open: Option<OpenAttempt>,
}

#[derive(Clone, Debug)]
pub struct OpenAttempt {
    pub attempt_id: AttemptId,
    /// Last answer's correctness per question.
    pub last_correct: HashMap<QuestionId, bool>,
}

#[derive(Clone, Debug)]
pub struct Parcours {
    pub class_id: ClassId,
    pub steps: Vec<StepId>,
}

#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub started: HashSet<StepId>,
    pub completed: HashSet<StepId>,
}

#[derive(Clone, Debug)]
pub struct Framework {
    pub components: HashSet<String>,
    pub levels: u8,
}

#[derive(Clone, Debug)]
pub struct AttendanceRecord {
    pub pupil_id: PupilId,
    pub is_absence: bool,
    pub justified: bool,
}

#[derive(Clone, Debug)]
pub struct SchoolState {
    pub school_id: SchoolId,
    pub registered: bool,
    pub nr_counts_as_zero: bool,
    pub years: HashMap<SchoolYearId, Year>,
    pub periods: HashMap<PeriodId, Period>,
    pub subjects: HashMap<SubjectId, Subject>,
    pub classes: HashMap<ClassId, Class>,
    pub teachers: HashSet<TeacherId>,
    pub teaching: HashSet<(TeacherId, ClassId, SubjectId)>,
    pub head_teachers: HashMap<ClassId, TeacherId>,
    pub pupils: HashMap<PupilId, Pupil>,
    pub pupils_by_external_id: HashMap<String, PupilId>,
    pub guardians: HashSet<(GuardianId, PupilId)>,
    /// (provider, subject) → (role, person): who an identity provider's account is.
    pub identity_links: HashMap<(String, String), (crate::Role, uuid::Uuid)>,
    pub frameworks: HashMap<FrameworkId, Framework>,
    pub assessments: HashMap<AssessmentId, Assessment>,
    pub attendance: HashMap<AttendanceId, AttendanceRecord>,
    pub homework: HashMap<HomeworkId, Homework>,
    pub quizzes: HashMap<QuizId, Quiz>,
    pub attempts: HashMap<(QuizId, PupilId), Attempts>,
    pub parcours: HashMap<ParcoursId, Parcours>,
    pub progress: HashMap<(ParcoursId, PupilId), Progress>,
    /// session → (class, ended)
    pub sessions: HashMap<SessionId, (ClassId, bool)>,
}

impl SchoolState {
    pub fn new(school_id: SchoolId) -> Self {
        let mut frameworks = HashMap::new();
        frameworks.insert(
            SOCLE_COMMUN_ID,
            Framework {
                components: socle_commun_components()
                    .into_iter()
                    .map(|c| c.code)
                    .collect(),
                levels: SOCLE_COMMUN_LEVELS.len() as u8,
            },
        );
        Self {
            school_id,
            registered: false,
            nr_counts_as_zero: true,
            years: HashMap::new(),
            periods: HashMap::new(),
            subjects: HashMap::new(),
            classes: HashMap::new(),
            teachers: HashSet::new(),
            teaching: HashSet::new(),
            head_teachers: HashMap::new(),
            pupils: HashMap::new(),
            pupils_by_external_id: HashMap::new(),
            guardians: HashSet::new(),
            identity_links: HashMap::new(),
            frameworks,
            assessments: HashMap::new(),
            attendance: HashMap::new(),
            homework: HashMap::new(),
            quizzes: HashMap::new(),
            attempts: HashMap::new(),
            parcours: HashMap::new(),
            progress: HashMap::new(),
            sessions: HashMap::new(),
        }
    }

    pub fn year_of(&self, date: NaiveDate) -> Option<SchoolYearId> {
        self.years
            .iter()
            .find(|(_, y)| y.starts_on <= date && date <= y.ends_on)
            .map(|(id, _)| *id)
    }

    /// Folds one event into the state. Events reaching here have passed `check`, but a
    /// fold never panics on odd data: it records what it can.
    pub fn evolve(&mut self, event: &Event) {
        use Event as E;
        match event {
            E::SchoolRegistered(e) => {
                self.registered = true;
                self.nr_counts_as_zero = e.nr_counts_as_zero;
            }
            E::SchoolYearDefined(e) => {
                self.years.insert(
                    e.year_id,
                    Year {
                        label: e.label.clone(),
                        starts_on: e.starts_on,
                        ends_on: e.ends_on,
                    },
                );
            }
            E::PeriodDefined(e) => {
                self.periods.insert(
                    e.period_id,
                    Period {
                        year_id: e.year_id,
                        name: e.name.clone(),
                        starts_on: e.starts_on,
                        ends_on: e.ends_on,
                    },
                );
            }
            E::SubjectDefined(e) => {
                self.subjects.insert(
                    e.subject_id,
                    Subject {
                        name: e.name.clone(),
                        kind: e.kind,
                    },
                );
            }
            E::ClassOpened(e) => {
                self.classes.insert(
                    e.class_id,
                    Class {
                        year_id: e.year_id,
                        name: e.name.clone(),
                    },
                );
            }
            E::TeacherRegistered(e) => {
                self.teachers.insert(e.teacher_id);
            }
            E::TeachingAssigned(e) => {
                self.teaching
                    .insert((e.teacher_id, e.class_id, e.subject_id));
            }
            E::HeadTeacherAssigned(e) => {
                self.head_teachers.insert(e.class_id, e.teacher_id);
            }
            E::PupilRegistered(e) => {
                self.pupils_by_external_id
                    .insert(e.external_id.clone(), e.pupil_id);
                self.pupils.entry(e.pupil_id).or_default().external_id = e.external_id.clone();
            }
            E::PupilEnrolled(e) => {
                self.pupils
                    .entry(e.pupil_id)
                    .or_default()
                    .enrolments
                    .push(Enrolment {
                        class_id: e.class_id,
                        from: e.on,
                        until: None,
                    });
            }
            E::PupilTransferred(e) => {
                let pupil = self.pupils.entry(e.pupil_id).or_default();
                for enrolment in pupil.enrolments.iter_mut() {
                    if enrolment.until.is_none() && enrolment.class_id == e.from_class_id {
                        enrolment.until = Some(e.on);
                    }
                }
                pupil.enrolments.push(Enrolment {
                    class_id: e.to_class_id,
                    from: e.on,
                    until: None,
                });
            }
            E::EnrolmentEnded(e) => {
                if let Some(pupil) = self.pupils.get_mut(&e.pupil_id) {
                    for enrolment in pupil.enrolments.iter_mut() {
                        if enrolment.until.is_none() && enrolment.class_id == e.class_id {
                            enrolment.until = Some(e.on);
                        }
                    }
                }
            }
            E::GuardianLinked(e) => {
                self.guardians.insert((e.guardian_id, e.pupil_id));
            }
            E::IdentityLinked(e) => {
                self.identity_links.insert(
                    (e.provider.clone(), e.subject.clone()),
                    (e.role, e.person_id),
                );
            }
            E::IdentityUnlinked(e) => {
                self.identity_links
                    .remove(&(e.provider.clone(), e.subject.clone()));
            }
            E::FrameworkDefined(e) => {
                self.frameworks.insert(
                    e.framework_id,
                    Framework {
                        components: e.components.iter().map(|c| c.code.clone()).collect(),
                        levels: e.levels.len().min(u8::MAX as usize) as u8,
                    },
                );
            }
            E::AssessmentScheduled(e) => {
                self.assessments.insert(
                    e.assessment_id,
                    Assessment {
                        class_id: e.class_id,
                        date: e.date,
                        scale: e.scale,
                        graded: HashSet::new(),
                        withheld: false,
                    },
                );
            }
            E::GradeRecorded(e) => {
                if let Some(a) = self.assessments.get_mut(&e.assessment_id) {
                    a.graded.insert(e.pupil_id);
                }
            }
            E::GradeCorrected(_) => {}
            E::ResultsWithheld(e) => {
                if let Some(a) = self.assessments.get_mut(&e.assessment_id) {
                    a.withheld = true;
                }
            }
            E::ResultsPublished(e) => {
                if let Some(a) = self.assessments.get_mut(&e.assessment_id) {
                    a.withheld = false;
                }
            }
            E::AbsenceRecorded(e) => {
                self.attendance.insert(
                    e.absence_id,
                    AttendanceRecord {
                        pupil_id: e.pupil_id,
                        is_absence: true,
                        justified: false,
                    },
                );
            }
            E::LatenessRecorded(e) => {
                self.attendance.insert(
                    e.lateness_id,
                    AttendanceRecord {
                        pupil_id: e.pupil_id,
                        is_absence: false,
                        justified: false,
                    },
                );
            }
            E::AbsenceJustified(e) => {
                if let Some(r) = self.attendance.get_mut(&e.record_id) {
                    r.justified = true;
                }
            }
            E::HomeworkAssigned(e) => {
                self.homework.insert(
                    e.homework_id,
                    Homework {
                        class_id: e.class_id,
                    },
                );
            }
            E::HomeworkDeposited(_) => {}
            E::QuizPublished(e) => {
                self.quizzes.insert(
                    e.quiz_id,
                    Quiz {
                        class_id: e.class_id,
                        max_attempts: e.max_attempts,
                        key: e
                            .questions
                            .iter()
                            .map(|q| {
                                (
                                    q.question_id,
                                    q.choices.len().min(u16::MAX as usize) as u16,
                                    q.correct_choice,
                                )
                            })
                            .collect(),
                    },
                );
            }
            E::AttemptStarted(e) => {
                let attempts = self.attempts.entry((e.quiz_id, e.pupil_id)).or_default();
                attempts.started = attempts.started.max(e.attempt_no);
                attempts.open = Some(OpenAttempt {
                    attempt_id: e.attempt_id,
                    last_correct: HashMap::new(),
                });
            }
            E::QuestionAnswered(e) => {
                if let Some(open) = self
                    .attempts
                    .get_mut(&(e.quiz_id, e.pupil_id))
                    .and_then(|a| a.open.as_mut())
                {
                    open.last_correct.insert(e.question_id, e.correct);
                }
            }
            E::AttemptSubmitted(e) => {
                if let Some(a) = self.attempts.get_mut(&(e.quiz_id, e.pupil_id)) {
                    a.open = None;
                }
            }
            E::CompetencyAssessed(_) | E::CompetencyValidated(_) => {}
            E::ParcoursPublished(e) => {
                self.parcours.insert(
                    e.parcours_id,
                    Parcours {
                        class_id: e.class_id,
                        steps: e.steps.iter().map(|s| s.step_id).collect(),
                    },
                );
            }
            E::StepStarted(e) => {
                self.progress
                    .entry((e.parcours_id, e.pupil_id))
                    .or_default()
                    .started
                    .insert(e.step_id);
            }
            E::StepFailed(_) => {}
            E::StepCompleted(e) => {
                self.progress
                    .entry((e.parcours_id, e.pupil_id))
                    .or_default()
                    .completed
                    .insert(e.step_id);
            }
            E::SessionStarted(e) => {
                self.sessions.insert(e.session_id, (e.class_id, false));
            }
            E::SessionEnded(e) => {
                if let Some(s) = self.sessions.get_mut(&e.session_id) {
                    s.1 = true;
                }
            }
        }
    }
}
