//! What an identity may see and do: the one place access is decided.
//!
//! A `Scope` is computed from the identity and the reference read model — who teaches
//! which class and subject, who leads which class, which pupils a guardian is linked to —
//! so it follows the log (a new teaching assignment takes effect at once, no new token).
//! A token's scope ids (`Within`) can only narrow that, never widen it.
//! Resolvers never check roles themselves: every read goes through `Services::class_view`
//! / `Services::pupil_view` (see `context`), which ask `Scope::class` / `Scope::pupil`, and
//! every write goes through `mutations::run`, which asks `Scope::command`.
//!
//! | role | reads | writes |
//! |---|---|---|
//! | administrator | the whole school | every command |
//! | professeur principal | the classes they lead or teach, their pupils | as a teacher, and absences in the classes they lead |
//! | teacher | the classes they teach, their pupils; grades, homework and quizzes of the subjects they teach there; the live board of their own sessions | assessments, grades, homework, quizzes in the (class, subject) pairs they teach; parcours, sessions (in their own name), absences and competencies in their classes |
//! | guardian | the pupils linked to them (their file only) | nothing |
//! | pupil | themself (their file only) | their own QCM attempts, deposits and parcours steps |
//!
//! Staff reach a pupil while the pupil is enrolled in one of their classes (on the day read,
//! or the `asOf` day), and write facts about the pupil dated on such a day.
//!
//! Refusals are uniform: an id the identity may not see is refused exactly like an id that
//! does not exist (`NOT_FOUND`, the same message), so a refusal says nothing about what
//! exists; an operation the role can never do is `FORBIDDEN` whatever its arguments.
//!
//! Within a class a teacher does not lead, grades, homework and quizzes are per subject:
//! `Scope::visible` leaves out those of the subjects they do not teach there, so the class dashboard,
//! the spider charts and a pupil's file show their subjects only (and no general average
//! or profile, which would be made of the other subjects too).
//!
//! "Published results": an assessment's results are published unless a teacher withheld
//! them (`withholdResults`, until `publishResults`); families (guardians and the pupil)
//! see only published results, and averages made of them alone. Their view also gives no
//! class figure (mean, lowest, highest) of fewer than 5 pupils graded, and no risk
//! indicator (`ReadModels::for_families`).

use crate::errors::{coded, not_found, FORBIDDEN};
use crate::identity::Identity;
use crate::schema::query::common::Now;
use async_graphql::Error;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use suivi_domain::ids::*;
use suivi_domain::{Command, Role};
use suivi_projections::ReadModels;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Reach {
    /// Administrators: every class and pupil of the school.
    School,
    /// Staff: classes led (professeur principal) and (class, subjects) taught.
    Staff {
        led: BTreeSet<ClassId>,
        taught: BTreeMap<ClassId, BTreeSet<SubjectId>>,
    },
    /// Guardians (their children) and pupils (themself): a pupil's own file only.
    Family(BTreeSet<PupilId>),
}

/// What one identity may read and write, as of one snapshot of the reference data.
#[derive(Clone, Debug)]
pub struct Scope {
    identity: Identity,
    reach: Reach,
    /// The day staff reach is computed on: a pupil is theirs while enrolled in one of
    /// their classes (see `sees_pupil_on`).
    today: NaiveDate,
}

fn forbidden(message: impl Into<String>) -> Error {
    coded(FORBIDDEN, message)
}

impl Scope {
    pub fn of(identity: &Identity, models: &ReadModels) -> Scope {
        let reference = models.reference();
        let school = identity.school_id;
        let reach = match identity.role {
            Role::Admin => Reach::School,
            Role::HeadTeacher | Role::Teacher => {
                let me = TeacherId(identity.subject_id);
                let mut led = BTreeSet::new();
                let mut taught: BTreeMap<ClassId, BTreeSet<SubjectId>> = BTreeMap::new();
                for class in reference.classes_of(school) {
                    if class.head_teacher == Some(me) {
                        led.insert(class.class_id);
                    }
                    for (teacher, subject) in &class.teaching {
                        if *teacher == me {
                            taught.entry(class.class_id).or_default().insert(*subject);
                        }
                    }
                }
                if let Some(allowed) = &identity.within.classes {
                    led.retain(|c| allowed.contains(c));
                    taught.retain(|c, _| allowed.contains(c));
                }
                Reach::Staff { led, taught }
            }
            Role::Guardian => Reach::Family(
                reference
                    .children_of(GuardianId(identity.subject_id))
                    .iter()
                    .copied()
                    .filter(|p| reference.pupil(*p).is_some_and(|p| p.school_id == school))
                    .filter(|p| {
                        identity
                            .within
                            .pupils
                            .as_ref()
                            .is_none_or(|allowed| allowed.contains(p))
                    })
                    .collect(),
            ),
            Role::Pupil => {
                let me = PupilId(identity.subject_id);
                Reach::Family(
                    reference
                        .pupil(me)
                        .filter(|p| p.school_id == school)
                        .map(|_| me)
                        .into_iter()
                        .collect(),
                )
            }
        };
        Scope {
            identity: identity.clone(),
            reach,
            today: Now::of(None).date(),
        }
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn school(&self) -> SchoolId {
        self.identity.school_id
    }

    /// The pupils a family (a guardian, or a pupil themself) reaches; `None` for staff.
    pub fn family(&self) -> Option<&BTreeSet<PupilId>> {
        match &self.reach {
            Reach::Family(pupils) => Some(pupils),
            _ => None,
        }
    }

    /// Whether the identity reaches the whole school (an administrator).
    pub fn reads_all(&self) -> bool {
        matches!(self.reach, Reach::School)
    }

    /// Whether the role reads class-level views (dashboards, assessments, boards) at all.
    pub fn reads_classes(&self) -> bool {
        !matches!(self.reach, Reach::Family(_))
    }

    /// `FORBIDDEN` for the roles that never read class-level views.
    pub fn class_reads(&self) -> Result<(), Error> {
        if self.reads_classes() {
            return Ok(());
        }
        Err(forbidden(format!(
            "a {} reads only a pupil's own file (pupil, competencies, timeOnTask by pupilId, \
             gradeRecorded), not class-level views",
            self.identity.role.as_str()
        )))
    }

    /// Whether the class exists in the school and is within reach.
    pub fn sees_class(&self, models: &ReadModels, class: ClassId) -> bool {
        let in_school = models
            .reference()
            .class(class)
            .is_some_and(|c| c.school_id == self.school());
        in_school
            && match &self.reach {
                Reach::School => true,
                Reach::Staff { led, taught } => led.contains(&class) || taught.contains_key(&class),
                Reach::Family(_) => false,
            }
    }

    /// Whether the pupil exists in the school and is within reach today: staff see the
    /// pupils enrolled in one of their classes today.
    pub fn sees_pupil(&self, models: &ReadModels, pupil: PupilId) -> bool {
        self.sees_pupil_on(models, pupil, self.today)
    }

    /// Whether the pupil is within reach on `date`: staff reach a pupil on the days they are
    /// enrolled in one of their classes — not a pupil who has left them (nor that pupil's
    /// new class), except as of a day they were theirs.
    pub fn sees_pupil_on(&self, models: &ReadModels, pupil: PupilId, date: NaiveDate) -> bool {
        let Some(info) = models
            .reference()
            .pupil(pupil)
            .filter(|p| p.school_id == self.school())
        else {
            return false;
        };
        match &self.reach {
            Reach::School => true,
            Reach::Staff { led, taught } => info.enrolments.iter().any(|e| {
                e.covers(date) && (led.contains(&e.class_id) || taught.contains_key(&e.class_id))
            }),
            Reach::Family(pupils) => pupils.contains(&pupil),
        }
    }

    /// A class-level read: `FORBIDDEN` for guardians and pupils, `NOT_FOUND` (as `kind id`)
    /// when the class is unknown or out of reach.
    pub fn class(
        &self,
        models: &ReadModels,
        class: Option<ClassId>,
        kind: &str,
        id: impl std::fmt::Display,
    ) -> Result<ClassId, Error> {
        self.class_reads()?;
        class
            .filter(|c| self.sees_class(models, *c))
            .ok_or_else(|| not_found(kind, id))
    }

    /// One assessment's detail (every pupil's grade): its class's professeur principal and
    /// the teachers of its subject in that class; a teacher of another subject gets the
    /// `NOT_FOUND` an unknown id gets. Administrators see every assessment of the school.
    pub fn assessment(
        &self,
        models: &ReadModels,
        assessment: AssessmentId,
    ) -> Result<ClassId, Error> {
        let model = models.assessment(assessment);
        let class = self.class(models, model.map(|m| m.class_id), "assessment", assessment)?;
        match (&self.reach, model) {
            (Reach::Staff { led, taught }, Some(m)) if !led.contains(&class) => {
                if taught
                    .get(&class)
                    .is_some_and(|s| s.contains(&m.subject_id))
                {
                    Ok(class)
                } else {
                    Err(not_found("assessment", assessment))
                }
            }
            _ => Ok(class),
        }
    }

    /// A class session's live board: its class's professeur principal and the teacher who
    /// runs it; another teacher of the class gets the `NOT_FOUND` an unknown id gets.
    pub fn session(&self, models: &ReadModels, session: SessionId) -> Result<ClassId, Error> {
        let class = self.class(models, models.class_of_session(session), "session", session)?;
        match &self.reach {
            Reach::Staff { led, .. } if !led.contains(&class) => {
                let theirs = models
                    .session(session)
                    .is_some_and(|s| s.teacher_id == TeacherId(self.identity.subject_id));
                if theirs {
                    Ok(class)
                } else {
                    Err(not_found("session", session))
                }
            }
            _ => Ok(class),
        }
    }

    /// What of `models` the identity may read: a teacher sees, in a class they do not
    /// lead, only the assessments, homework and quizzes of the subjects they teach there
    /// (and the figures made of them; no general average, no profile); guardians and pupils see published
    /// results only (not those a teacher withheld); administrators and professeurs
    /// principaux of the class see the models as they are. Every class-level and pupil-level read goes through it (`Services::class_view`,
    /// `Services::pupil_view`, the grade subscriptions).
    ///
    /// `models` is what the read is about (the live models, or a re-fold `asOf`); `live` the
    /// current models, for what applies to every instant (a withhold).
    pub fn visible(&self, models: Arc<ReadModels>, live: &ReadModels) -> Arc<ReadModels> {
        let (led, taught) = match &self.reach {
            Reach::School => return models,
            // Families: results published as a whole only, and every figure made of them
            // (the averages a family sees are those of the published grades: not partial);
            // no class figure of a group under 5, no risk indicator.
            Reach::Family(pupils) => {
                let reference = models.reference();
                let classes: BTreeSet<ClassId> = pupils
                    .iter()
                    .filter_map(|p| reference.pupil(*p))
                    .flat_map(|info| info.enrolments.iter().map(|e| e.class_id))
                    .collect();
                return Arc::new(models.for_families(live, |c| classes.contains(&c)));
            }
            Reach::Staff { led, taught } => (led, taught),
        };
        let mine = |class: ClassId, subject: SubjectId| {
            led.contains(&class) || taught.get(&class).is_some_and(|s| s.contains(&subject))
        };
        let reaches = |class: ClassId| led.contains(&class) || taught.contains_key(&class);
        match models.only_subjects(mine, reaches) {
            Some(view) => Arc::new(view),
            None => models,
        }
    }

    /// A pupil-level read: `NOT_FOUND` when the pupil is unknown or out of reach.
    pub fn pupil(&self, models: &ReadModels, pupil: PupilId) -> Result<(), Error> {
        self.pupil_on(models, pupil, self.today)
    }

    /// A pupil-level read of the pupil as they stood on `date` (a view `asOf`).
    pub fn pupil_on(
        &self,
        models: &ReadModels,
        pupil: PupilId,
        date: NaiveDate,
    ) -> Result<(), Error> {
        if self.sees_pupil_on(models, pupil, date) {
            Ok(())
        } else {
            Err(not_found("pupil", pupil))
        }
    }

    /// The class a staff member works in (leads or teaches any subject in).
    fn staff_class(&self, models: &ReadModels, class: ClassId) -> Result<(), Error> {
        match &self.reach {
            Reach::School => Ok(()),
            _ if self.sees_class(models, class) => Ok(()),
            _ => Err(not_found("class", class)),
        }
    }

    /// A (class, subject) pair the teacher teaches. Unknown or out of reach: `NOT_FOUND`
    /// naming `kind id`.
    fn teaches(
        &self,
        models: &ReadModels,
        class: ClassId,
        subject: SubjectId,
        kind: &str,
        id: impl std::fmt::Display,
    ) -> Result<(), Error> {
        match &self.reach {
            Reach::School => Ok(()),
            Reach::Staff { taught, .. }
                if self.sees_class(models, class)
                    && taught.get(&class).is_some_and(|s| s.contains(&subject)) =>
            {
                Ok(())
            }
            _ => Err(not_found(kind, id)),
        }
    }

    /// A fact about a pupil dated `date`: staff write it only for a day the pupil was in
    /// one of their classes (a correction of a period they taught them), not for a pupil
    /// who has left them.
    fn staff_pupil(
        &self,
        models: &ReadModels,
        pupil: PupilId,
        date: NaiveDate,
    ) -> Result<(), Error> {
        match &self.reach {
            Reach::School => Ok(()),
            _ => self.pupil_on(models, pupil, date),
        }
    }

    /// The pupil's own work: the pupil themself (or an administrator).
    fn own_work(&self, models: &ReadModels, pupil: PupilId, what: &str) -> Result<(), Error> {
        match (&self.reach, self.identity.role) {
            (Reach::School, _) => Ok(()),
            (Reach::Family(_), Role::Pupil) => self.pupil(models, pupil),
            _ => Err(forbidden(format!(
                "only the pupil records their own {what}; a {} may not",
                self.identity.role.as_str()
            ))),
        }
    }

    fn staff_only(&self, what: &str) -> Result<(), Error> {
        match self.reach {
            Reach::Staff { .. } | Reach::School => Ok(()),
            Reach::Family(_) => Err(forbidden(format!(
                "a {} may not {what}",
                self.identity.role.as_str()
            ))),
        }
    }

    /// Whether the identity may send this command. Checked before the command reaches the
    /// domain, against the same snapshot the scope was computed from.
    pub fn command(&self, models: &ReadModels, command: &Command) -> Result<(), Error> {
        use Command as C;
        if self.identity.role == Role::Guardian {
            return Err(forbidden("a guardian reads; they may not record anything"));
        }
        let admin_only = |what: &str| -> Result<(), Error> {
            match self.reach {
                Reach::School => Ok(()),
                _ => Err(forbidden(format!(
                    "only an administrator may {what}; a {} may not",
                    self.identity.role.as_str()
                ))),
            }
        };
        match command {
            C::RegisterSchool(_)
            | C::DefineSchoolYear(_)
            | C::DefinePeriod(_)
            | C::DefineSubject(_)
            | C::OpenClass(_)
            | C::RegisterTeacher(_)
            | C::AssignTeaching(_)
            | C::AssignHeadTeacher(_)
            | C::RegisterPupil(_)
            | C::EnrolPupil(_)
            | C::TransferPupil(_)
            | C::EndEnrolment(_)
            | C::LinkGuardian(_)
            | C::DefineFramework(_) => admin_only("change the school's reference data"),
            C::LinkIdentity(_) | C::UnlinkIdentity(_) => {
                admin_only("link accounts of the identity provider")
            }
            C::ScheduleAssessment(e) => {
                self.staff_only("schedule assessments")?;
                self.teaches(models, e.class_id, e.subject_id, "class", e.class_id)
            }
            C::RecordGrade(e) => self.grade(models, e.assessment_id),
            C::CorrectGrade(e) => self.grade(models, e.assessment_id),
            // Whoever may grade an assessment decides when families see its results.
            C::WithholdResults(e) => self.grade(models, e.assessment_id),
            C::PublishResults(e) => self.grade(models, e.assessment_id),
            C::RecordAbsence(e) => {
                self.staff_only("record absences")?;
                self.staff_pupil(models, e.pupil_id, e.starts_at.date_naive())
            }
            C::RecordLateness(e) => {
                self.staff_only("record lateness")?;
                self.staff_pupil(models, e.pupil_id, e.at.date_naive())
            }
            C::JustifyAbsence(e) => {
                self.staff_only("justify absences")?;
                let date = models
                    .attendance_records(e.pupil_id)
                    .iter()
                    .find(|r| r.record_id == e.record_id)
                    .map_or(self.today, |r| r.date());
                self.staff_pupil(models, e.pupil_id, date)
            }
            C::AssignHomework(e) => {
                self.staff_only("assign homework")?;
                self.teaches(models, e.class_id, e.subject_id, "class", e.class_id)
            }
            C::DepositHomework(e) => self.own_work(models, e.pupil_id, "homework deposits"),
            C::PublishQuiz(e) => {
                self.staff_only("publish quizzes")?;
                self.teaches(models, e.class_id, e.subject_id, "class", e.class_id)
            }
            C::StartAttempt(c) => self.own_work(models, c.pupil_id, "QCM attempts"),
            C::AnswerQuestion(c) => self.own_work(models, c.pupil_id, "QCM answers"),
            C::SubmitAttempt(c) => self.own_work(models, c.pupil_id, "QCM attempts"),
            C::AssessCompetency(e) => {
                self.staff_only("assess competencies")?;
                self.staff_pupil(models, e.pupil_id, e.on)
            }
            C::ValidateCompetency(e) => {
                self.staff_only("validate competencies")?;
                self.staff_pupil(models, e.pupil_id, e.on)
            }
            C::PublishParcours(e) => {
                self.staff_only("publish parcours")?;
                self.staff_class(models, e.class_id)
            }
            C::StartStep(e) => self.own_work(models, e.pupil_id, "parcours steps"),
            C::FailStep(e) => self.own_work(models, e.pupil_id, "parcours steps"),
            C::CompleteStep(e) => self.own_work(models, e.pupil_id, "parcours steps"),
            C::StartSession(e) => {
                self.staff_only("start class sessions")?;
                self.staff_class(models, e.class_id)?;
                if !matches!(self.reach, Reach::School)
                    && e.teacher_id != TeacherId(self.identity.subject_id)
                {
                    return Err(forbidden(
                        "a teacher starts sessions in their own name (teacherId is theirs)",
                    ));
                }
                Ok(())
            }
            // Ended by whoever sees its live board: the teacher who runs it, the class's
            // professeur principal, an administrator — not a colleague of the class.
            C::EndSession(e) => {
                self.staff_only("end class sessions")?;
                self.session(models, e.session_id).map(|_| ())
            }
        }
    }

    /// Grades: in an assessment of a (class, subject) the teacher teaches.
    fn grade(&self, models: &ReadModels, assessment: AssessmentId) -> Result<(), Error> {
        self.staff_only("record grades")?;
        if matches!(self.reach, Reach::School) {
            return Ok(());
        }
        let Some(model) = models.assessment(assessment) else {
            return Err(not_found("assessment", assessment));
        };
        self.teaches(
            models,
            model.class_id,
            model.subject_id,
            "assessment",
            assessment,
        )
    }
}
