//! One event → one row of its family's table (a quiz or parcours also lists its questions
//! or steps). Pure: the caller decodes the envelope.

use super::frames::Builders;
use super::ids::Ids;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use suivi_domain::events::{Event, StepKind};
use suivi_domain::identity::Sealed;
use suivi_domain::ids::PupilId;
use suivi_domain::reference::{PeriodKind, SubjectKind};

pub(crate) struct Flattener {
    pub(crate) ids: Ids,
    pub(crate) b: Builders,
    /// Each pupil's sealed identity (the latest registration): never put in a table.
    pub(crate) identities: HashMap<PupilId, Sealed>,
}

fn period_kind(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Trimestre => "trimestre",
        PeriodKind::Semestre => "semestre",
    }
}

pub fn subject_kind(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::General => "general",
        SubjectKind::Vocational => "vocational",
    }
}

impl Flattener {
    pub(crate) fn new() -> Flattener {
        Flattener {
            ids: Ids::default(),
            b: Builders::new(),
            identities: HashMap::new(),
        }
    }

    pub(crate) fn push(&mut self, pos: u64, at: DateTime<Utc>, school: &uuid::Uuid, event: &Event) {
        use Event as E;
        let ids = &mut self.ids;
        let b = &mut self.b;
        let school = ids.key(school);
        match event {
            E::SchoolRegistered(e) => {
                let s = ids.key(&e.school_id.0);
                b.schools
                    .row(pos, at)
                    .u32(s)
                    .str(&e.name)
                    .bool(e.nr_counts_as_zero);
            }
            E::SchoolYearDefined(e) => {
                b.years
                    .row(pos, at)
                    .u32(ids.key(&e.year_id.0))
                    .u32(school)
                    .str(&e.label)
                    .date(e.starts_on)
                    .date(e.ends_on);
            }
            E::PeriodDefined(e) => {
                b.periods
                    .row(pos, at)
                    .u32(ids.key(&e.period_id.0))
                    .u32(school)
                    .u32(ids.key(&e.year_id.0))
                    .str(&e.name)
                    .str(period_kind(e.kind))
                    .date(e.starts_on)
                    .date(e.ends_on);
            }
            E::SubjectDefined(e) => {
                b.subjects
                    .row(pos, at)
                    .u32(ids.key(&e.subject_id.0))
                    .u32(school)
                    .str(&e.name)
                    .str(subject_kind(e.kind))
                    .u32(e.coefficient.0 .0);
            }
            E::ClassOpened(e) => {
                b.classes
                    .row(pos, at)
                    .u32(ids.key(&e.class_id.0))
                    .u32(school)
                    .u32(ids.key(&e.year_id.0))
                    .str(&e.name);
            }
            E::TeacherRegistered(e) => {
                b.teachers
                    .row(pos, at)
                    .u32(ids.key(&e.teacher_id.0))
                    .u32(school)
                    .str(&e.display_name);
            }
            E::TeachingAssigned(e) => {
                b.teaching
                    .row(pos, at)
                    .u32(ids.key(&e.teacher_id.0))
                    .u32(ids.key(&e.class_id.0))
                    .u32(ids.key(&e.subject_id.0));
            }
            E::HeadTeacherAssigned(e) => {
                b.head_teachers
                    .row(pos, at)
                    .u32(ids.key(&e.teacher_id.0))
                    .u32(ids.key(&e.class_id.0));
            }
            E::PupilRegistered(e) => {
                self.identities.insert(e.pupil_id, e.identity.clone());
                b.pupils
                    .row(pos, at)
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(school)
                    .str(&e.external_id);
            }
            E::PupilEnrolled(e) => {
                b.placements
                    .row(pos, at)
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.class_id.0))
                    .u32(None)
                    .date(e.on);
            }
            E::PupilTransferred(e) => {
                b.placements
                    .row(pos, at)
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.to_class_id.0))
                    .u32(ids.key(&e.from_class_id.0))
                    .date(e.on);
            }
            E::EnrolmentEnded(e) => {
                b.departures
                    .row(pos, at)
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.class_id.0))
                    .date(e.on);
            }
            E::GuardianLinked(e) => {
                b.guardians
                    .row(pos, at)
                    .u32(ids.key(&e.guardian_id.0))
                    .u32(ids.key(&e.pupil_id.0));
            }
            // Not school data: who signs in as whom.
            E::FrameworkDefined(_) | E::IdentityLinked(_) | E::IdentityUnlinked(_) => {}
            E::AssessmentScheduled(e) => {
                b.assessments
                    .row(pos, at)
                    .u32(ids.key(&e.assessment_id.0))
                    .u32(ids.key(&e.class_id.0))
                    .u32(ids.key(&e.subject_id.0))
                    .u32(ids.key(&e.period_id.0))
                    .str(&e.title)
                    .date(e.date)
                    .u32(u32::from(e.scale))
                    .u32(e.coefficient.0 .0);
            }
            E::GradeRecorded(e) => {
                let (points, mark) = grade_cells(e.grade);
                b.grades
                    .row(pos, at)
                    .u32(ids.key(&e.assessment_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(points)
                    .opt_str(mark)
                    .bool(false)
                    .opt_str(None);
            }
            E::GradeCorrected(e) => {
                let (points, mark) = grade_cells(e.grade);
                b.grades
                    .row(pos, at)
                    .u32(ids.key(&e.assessment_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(points)
                    .opt_str(mark)
                    .bool(true)
                    .opt_str(e.reason.as_deref());
            }
            // Whether families see an assessment's results changes no figure the staff's
            // analytics compute.
            E::ResultsWithheld(_) | E::ResultsPublished(_) => {}
            E::AbsenceRecorded(e) => {
                b.absences
                    .row(pos, at)
                    .u32(ids.key(&e.absence_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .time(e.starts_at)
                    .time(e.ends_at)
                    .date(e.starts_at.date_naive())
                    .u32(u32::from(e.half_days))
                    .u32(u32::from(e.lessons));
            }
            E::LatenessRecorded(e) => {
                b.latenesses
                    .row(pos, at)
                    .u32(ids.key(&e.lateness_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .time(e.at)
                    .date(e.at.date_naive())
                    .u32(u32::from(e.minutes));
            }
            E::AbsenceJustified(e) => {
                b.justifications
                    .row(pos, at)
                    .u32(ids.key(&e.record_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .str(&e.reason);
            }
            E::HomeworkAssigned(e) => {
                b.homework
                    .row(pos, at)
                    .u32(ids.key(&e.homework_id.0))
                    .u32(ids.key(&e.class_id.0))
                    .u32(ids.key(&e.subject_id.0))
                    .str(&e.title)
                    .date(e.assigned_on)
                    .time(e.due_at);
            }
            E::HomeworkDeposited(e) => {
                b.deposits
                    .row(pos, at)
                    .u32(ids.key(&e.homework_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .time(e.deposited_at)
                    .str(&e.file_name)
                    .i64(i64::try_from(e.size_bytes).unwrap_or(i64::MAX))
                    .str(&e.sha256);
            }
            E::QuizPublished(e) => {
                let quiz = ids.key(&e.quiz_id.0);
                b.quizzes
                    .row(pos, at)
                    .u32(quiz)
                    .u32(ids.key(&e.class_id.0))
                    .u32(ids.key(&e.subject_id.0))
                    .str(&e.title)
                    .u32(u32::from(e.max_attempts))
                    .u32(e.questions.len() as u32);
                for (i, q) in e.questions.iter().enumerate() {
                    b.questions
                        .row(pos, at)
                        .u32(quiz)
                        .u32(ids.key(&q.question_id.0))
                        .u32(i as u32)
                        .u32(u32::from(q.correct_choice));
                }
            }
            E::AttemptStarted(e) => {
                let session = e.session_id.map(|s| ids.key(&s.0));
                b.attempts
                    .row(pos, at)
                    .u32(ids.key(&e.quiz_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.attempt_id.0))
                    .u32(u32::from(e.attempt_no))
                    .time(e.started_at)
                    .u32(session);
            }
            E::QuestionAnswered(e) => {
                b.answers
                    .row(pos, at)
                    .u32(ids.key(&e.quiz_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.attempt_id.0))
                    .u32(ids.key(&e.question_id.0))
                    .u32(u32::from(e.answer))
                    .bool(e.correct)
                    .i64(i64::from(e.time_spent_ms))
                    .time(e.answered_at);
            }
            E::AttemptSubmitted(e) => {
                b.submissions
                    .row(pos, at)
                    .u32(ids.key(&e.quiz_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.attempt_id.0))
                    .time(e.submitted_at)
                    .u32(u32::from(e.correct_count))
                    .u32(u32::from(e.question_count));
            }
            E::CompetencyAssessed(e) => {
                let teacher = e.teacher_id.map(|t| ids.key(&t.0));
                b.competencies
                    .row(pos, at)
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.framework_id.0))
                    .str(&e.component)
                    .u32(u32::from(e.level.0))
                    .date(e.on)
                    .bool(false)
                    .u32(teacher);
            }
            E::CompetencyValidated(e) => {
                b.competencies
                    .row(pos, at)
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.framework_id.0))
                    .str(&e.component)
                    .u32(u32::from(e.level.0))
                    .date(e.on)
                    .bool(true)
                    .u32(None);
            }
            E::ParcoursPublished(e) => {
                let parcours = ids.key(&e.parcours_id.0);
                b.parcours
                    .row(pos, at)
                    .u32(parcours)
                    .u32(ids.key(&e.class_id.0))
                    .str(&e.title)
                    .u32(e.steps.len() as u32);
                for (i, s) in e.steps.iter().enumerate() {
                    let (kind, quiz, homework) = match &s.kind {
                        StepKind::Resource => ("resource", None, None),
                        StepKind::Quiz { quiz_id } => ("quiz", Some(ids.key(&quiz_id.0)), None),
                        StepKind::Homework { homework_id } => {
                            ("homework", None, Some(ids.key(&homework_id.0)))
                        }
                    };
                    b.parcours_steps
                        .row(pos, at)
                        .u32(parcours)
                        .u32(ids.key(&s.step_id.0))
                        .u32(i as u32)
                        .str(&s.title)
                        .str(kind)
                        .u32(quiz)
                        .u32(homework);
                }
            }
            E::StepStarted(e) => {
                let session = e.session_id.map(|s| ids.key(&s.0));
                b.step_events
                    .row(pos, at)
                    .u32(ids.key(&e.parcours_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.step_id.0))
                    .str("started")
                    .time(e.at)
                    .u32(session);
            }
            E::StepFailed(e) => {
                b.step_events
                    .row(pos, at)
                    .u32(ids.key(&e.parcours_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.step_id.0))
                    .str("failed")
                    .time(e.at)
                    .u32(None);
            }
            E::StepCompleted(e) => {
                b.step_events
                    .row(pos, at)
                    .u32(ids.key(&e.parcours_id.0))
                    .u32(ids.key(&e.pupil_id.0))
                    .u32(ids.key(&e.step_id.0))
                    .str("completed")
                    .time(e.at)
                    .u32(None);
            }
            E::SessionStarted(e) => {
                let quiz = e.quiz_id.map(|q| ids.key(&q.0));
                let parcours = e.parcours_id.map(|p| ids.key(&p.0));
                b.sessions
                    .row(pos, at)
                    .u32(ids.key(&e.session_id.0))
                    .u32(ids.key(&e.class_id.0))
                    .u32(ids.key(&e.teacher_id.0))
                    .u32(quiz)
                    .u32(parcours)
                    .time(e.started_at);
            }
            E::SessionEnded(e) => {
                b.session_ends
                    .row(pos, at)
                    .u32(ids.key(&e.session_id.0))
                    .time(e.ended_at);
            }
        }
    }
}

fn grade_cells(grade: suivi_domain::values::Grade) -> (Option<u32>, Option<&'static str>) {
    match grade {
        suivi_domain::values::Grade::Score(h) => (Some(h.0), None),
        other => (None, other.code()),
    }
}
