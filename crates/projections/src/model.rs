//! `ReadModels`: every read model folded from the log, and the one fold that feeds them.
//!
//! Shape: reference data (one `Arc`), then one `Arc<ClassModel>` per class (assessments,
//! homework, quizzes, parcours, sessions — each item itself behind an `Arc`) and one
//! `Arc<PupilModel>` per pupil (attendance, competencies). The fold changes a piece with
//! `Arc::make_mut`, so a published snapshot that shares it is never touched: the piece is
//! copied once per batch, and only the pieces a batch touched are copied. Readers hold an
//! `Arc<ReadModels>` and never wait for the fold.
//!
//! The fold stores facts (the latest grade of each pupil on each assessment, each pupil's
//! answers per question…); figures that depend on a set (averages, medians, ranks) or on
//! the time (homework pending or missing, parcours stalled) are computed when read, from
//! the facts of one class. Each event is also kept, decoded, in the journal of the class or
//! pupil it concerns (see `journal` and `as_of`).

pub(crate) mod memo;

use crate::attendance::AttendanceRecord;
use crate::competencies::Competencies;
use crate::grades::AssessmentModel;
use crate::homework::HomeworkModel;
use crate::journal::{Journal, Logged};
use crate::parcours::{ParcoursModel, SessionInfo};
use crate::qcm::QuizModel;
use crate::reference::Reference;
use crate::Spread;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use suivi_domain::events::Event;
use suivi_domain::ids::*;
use suivi_domain::RecordedEvent;

/// The hash map of the read models: foldhash (randomly seeded, several times faster than
/// SipHash on 16-byte ids, which matters at a million events per second).
pub type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The facts of one class: what was scheduled, assigned or published for it, and what its
/// pupils did with it.
#[derive(Clone, Debug, Default)]
pub struct ClassModel {
    pub(crate) assessments: Map<AssessmentId, Arc<AssessmentModel>>,
    pub(crate) homework: Map<HomeworkId, Arc<HomeworkModel>>,
    pub(crate) quizzes: Map<QuizId, Arc<QuizModel>>,
    pub(crate) parcours: Map<ParcoursId, Arc<ParcoursModel>>,
    pub(crate) sessions: Map<SessionId, SessionInfo>,
    pub(crate) journal: Journal,
    /// Some subjects' assessments were left out of this view of the class
    /// (`only_subjects`): figures across subjects (general averages, the profile)
    /// would mislead and are not given.
    pub(crate) partial: bool,
}

/// The facts kept per pupil rather than per class (their streams are the pupil's own).
#[derive(Clone, Debug, Default)]
pub struct PupilModel {
    pub(crate) attendance: Vec<AttendanceRecord>,
    pub(crate) competencies: Competencies,
    pub(crate) journal: Journal,
}

/// Which class an assessment, homework, quiz, parcours or session belongs to.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routes {
    pub(crate) assessments: Map<AssessmentId, ClassId>,
    pub(crate) homework: Map<HomeworkId, ClassId>,
    pub(crate) quizzes: Map<QuizId, ClassId>,
    pub(crate) parcours: Map<ParcoursId, ClassId>,
    pub(crate) sessions: Map<SessionId, ClassId>,
}

/// Where an event went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Reference,
    Class(ClassId),
    Pupil(PupilId),
    /// Refers to an assessment, quiz… that is not known (cannot happen in a log the domain
    /// checked; in an *as of* view, its parent occurred after the instant). Ignored.
    Orphan,
}

/// What one applied event touched, for change notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Touch {
    pub target: Target,
    pub pupil: Option<PupilId>,
    /// Classes whose dashboards may change: the event's class, or the classes an
    /// enrolment, transfer or assignment names.
    pub classes: [Option<ClassId>; 2],
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FoldStats {
    pub applied: u64,
    /// Events that did not decode (an unknown type from a newer version): skipped.
    pub undecodable: u64,
    pub orphans: u64,
}

/// Every read model, as of `position()`. Cheap to clone (a few `Arc`s).
#[derive(Clone, Debug)]
pub struct ReadModels {
    pub(crate) position: u64,
    /// `Some(t)` for a view re-folded as of `t` (see `as_of`): journals then hide later events.
    pub(crate) as_of: Option<DateTime<Utc>>,
    pub(crate) journaling: bool,
    /// A view for families (`for_families`): class figures of small groups are hidden and
    /// no risk indicator is given.
    pub(crate) families: bool,
    pub(crate) reference: Arc<Reference>,
    pub(crate) routes: Arc<Routes>,
    pub(crate) classes: Arc<Map<ClassId, Arc<ClassModel>>>,
    pub(crate) pupils: Arc<Map<PupilId, Arc<PupilModel>>>,
    pub(crate) reference_journal: Journal,
    pub(crate) stats: FoldStats,
    /// Figures computed from this snapshot (class reports, spider charts), kept with it.
    pub(crate) memo: memo::Memo,
}

impl Default for ReadModels {
    fn default() -> Self {
        ReadModels::new()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("event at position {position} does not decode: {error}")]
pub struct UndecodableEvent {
    pub position: u64,
    pub error: suivi_domain::DecodeError,
}

impl ReadModels {
    pub fn new() -> ReadModels {
        ReadModels {
            position: 0,
            as_of: None,
            journaling: true,
            families: false,
            reference: Arc::default(),
            routes: Arc::default(),
            classes: Arc::default(),
            pupils: Arc::default(),
            reference_journal: Journal::default(),
            stats: FoldStats::default(),
            memo: memo::Memo::default(),
        }
    }

    /// Folds a whole log from scratch. Events that do not decode are skipped and counted
    /// (`stats().undecodable`).
    pub fn rebuild<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> ReadModels {
        let mut models = ReadModels::new();
        for recorded in events {
            let _ = models.apply_recorded(recorded);
        }
        models
    }

    /// Folds already-decoded events from scratch (benchmarks fold without decoding).
    pub fn rebuild_decoded(events: impl IntoIterator<Item = Logged>) -> ReadModels {
        let mut models = ReadModels::new();
        for logged in events {
            models.apply(logged);
        }
        models
    }

    /// The global position of the last event folded.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// `Some(t)` when this is a view of the log as of `t`.
    pub fn as_of(&self) -> Option<DateTime<Utc>> {
        self.as_of
    }

    pub fn stats(&self) -> FoldStats {
        self.stats
    }

    /// Events kept in journals (for as-of views and time on task).
    pub fn journaled_events(&self) -> usize {
        self.reference_journal.len()
            + self
                .classes
                .values()
                .map(|c| c.journal.len())
                .sum::<usize>()
            + self.pupils.values().map(|p| p.journal.len()).sum::<usize>()
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// Decodes and folds one stored event. An undecodable event still advances the position.
    pub fn apply_recorded(&mut self, recorded: &RecordedEvent) -> Result<Touch, UndecodableEvent> {
        match Logged::decode(recorded) {
            Ok(logged) => Ok(self.apply(logged)),
            Err(error) => {
                self.skip_undecodable(recorded.global_position);
                Err(UndecodableEvent {
                    position: recorded.global_position,
                    error,
                })
            }
        }
    }

    /// Moves past an event that does not decode (counted in the stats).
    pub fn skip_undecodable(&mut self, position: u64) {
        self.position = self.position.max(position);
        self.stats.undecodable += 1;
    }

    /// Folds one decoded event and keeps it in its journal.
    pub fn apply(&mut self, logged: Logged) -> Touch {
        let journaling = self.journaling;
        let (touch, journal) = self.fold_inner(&logged);
        match journal {
            Some(journal) if journaling => journal.push(logged),
            _ => {}
        }
        touch
    }

    pub(crate) fn class_model(&self, class: ClassId) -> Option<&ClassModel> {
        self.classes.get(&class).map(|c| c.as_ref())
    }

    pub(crate) fn pupil_model(&self, pupil: PupilId) -> Option<&PupilModel> {
        self.pupils.get(&pupil).map(|p| p.as_ref())
    }

    fn class_mut(&mut self, class: ClassId) -> &mut ClassModel {
        Arc::make_mut(Arc::make_mut(&mut self.classes).entry(class).or_default())
    }

    fn pupil_mut(&mut self, pupil: PupilId) -> &mut PupilModel {
        Arc::make_mut(Arc::make_mut(&mut self.pupils).entry(pupil).or_default())
    }

    /// Folds an event without journaling it.
    pub(crate) fn fold(&mut self, logged: &Logged) -> Touch {
        self.fold_inner(logged).0
    }

    /// Folds an event; returns what it touched and the journal it belongs in.
    fn fold_inner(&mut self, logged: &Logged) -> (Touch, Option<&mut Journal>) {
        self.memo.clear();
        self.position = self.position.max(logged.position);
        self.stats.applied += 1;
        let event = &logged.event;
        let target = self.target(event);
        let classes = match (target, event) {
            (Target::Class(class), _) => [Some(class), None],
            (_, Event::ClassOpened(e)) => [Some(e.class_id), None],
            (_, Event::PupilEnrolled(e)) => [Some(e.class_id), None],
            (_, Event::PupilTransferred(e)) => [Some(e.from_class_id), Some(e.to_class_id)],
            (_, Event::EnrolmentEnded(e)) => [Some(e.class_id), None],
            (_, Event::TeachingAssigned(e)) => [Some(e.class_id), None],
            (_, Event::HeadTeacherAssigned(e)) => [Some(e.class_id), None],
            _ => [None, None],
        };
        let touch = Touch {
            target,
            pupil: pupil_of(event),
            classes,
        };
        let journal = match target {
            Target::Reference => {
                Arc::make_mut(&mut self.reference).apply(logged.school_id, event);
                Some(&mut self.reference_journal)
            }
            Target::Class(class) => {
                let model = self.class_mut(class);
                model.apply(class, event);
                Some(&mut model.journal)
            }
            Target::Pupil(pupil) => {
                let model = self.pupil_mut(pupil);
                model.apply(event);
                Some(&mut model.journal)
            }
            Target::Orphan => {
                self.stats.orphans += 1;
                None
            }
        };
        (touch, journal)
    }

    /// Where an event goes; definitions of class items record their route.
    fn target(&mut self, event: &Event) -> Target {
        use Event as E;
        match event {
            E::SchoolRegistered(_)
            | E::SchoolYearDefined(_)
            | E::PeriodDefined(_)
            | E::SubjectDefined(_)
            | E::ClassOpened(_)
            | E::TeacherRegistered(_)
            | E::TeachingAssigned(_)
            | E::HeadTeacherAssigned(_)
            | E::PupilRegistered(_)
            | E::PupilEnrolled(_)
            | E::PupilTransferred(_)
            | E::EnrolmentEnded(_)
            | E::GuardianLinked(_)
            | E::FrameworkDefined(_)
            | E::IdentityLinked(_)
            | E::IdentityUnlinked(_) => Target::Reference,
            E::AssessmentScheduled(e) => {
                Arc::make_mut(&mut self.routes)
                    .assessments
                    .insert(e.assessment_id, e.class_id);
                Target::Class(e.class_id)
            }
            E::GradeRecorded(e) => routed(&self.routes.assessments, &e.assessment_id),
            E::GradeCorrected(e) => routed(&self.routes.assessments, &e.assessment_id),
            E::ResultsWithheld(e) => routed(&self.routes.assessments, &e.assessment_id),
            E::ResultsPublished(e) => routed(&self.routes.assessments, &e.assessment_id),
            E::HomeworkAssigned(e) => {
                Arc::make_mut(&mut self.routes)
                    .homework
                    .insert(e.homework_id, e.class_id);
                Target::Class(e.class_id)
            }
            E::HomeworkDeposited(e) => routed(&self.routes.homework, &e.homework_id),
            E::QuizPublished(e) => {
                Arc::make_mut(&mut self.routes)
                    .quizzes
                    .insert(e.quiz_id, e.class_id);
                Target::Class(e.class_id)
            }
            E::AttemptStarted(e) => routed(&self.routes.quizzes, &e.quiz_id),
            E::QuestionAnswered(e) => routed(&self.routes.quizzes, &e.quiz_id),
            E::AttemptSubmitted(e) => routed(&self.routes.quizzes, &e.quiz_id),
            E::ParcoursPublished(e) => {
                Arc::make_mut(&mut self.routes)
                    .parcours
                    .insert(e.parcours_id, e.class_id);
                Target::Class(e.class_id)
            }
            E::StepStarted(e) => routed(&self.routes.parcours, &e.parcours_id),
            E::StepFailed(e) => routed(&self.routes.parcours, &e.parcours_id),
            E::StepCompleted(e) => routed(&self.routes.parcours, &e.parcours_id),
            E::SessionStarted(e) => {
                Arc::make_mut(&mut self.routes)
                    .sessions
                    .insert(e.session_id, e.class_id);
                Target::Class(e.class_id)
            }
            E::SessionEnded(e) => routed(&self.routes.sessions, &e.session_id),
            E::AbsenceRecorded(e) => Target::Pupil(e.pupil_id),
            E::LatenessRecorded(e) => Target::Pupil(e.pupil_id),
            E::AbsenceJustified(e) => Target::Pupil(e.pupil_id),
            E::CompetencyAssessed(e) => Target::Pupil(e.pupil_id),
            E::CompetencyValidated(e) => Target::Pupil(e.pupil_id),
        }
    }

    /// The class an assessment, homework, quiz, parcours or session belongs to.
    pub fn class_of_assessment(&self, id: AssessmentId) -> Option<ClassId> {
        self.routes.assessments.get(&id).copied()
    }
    pub fn class_of_homework(&self, id: HomeworkId) -> Option<ClassId> {
        self.routes.homework.get(&id).copied()
    }
    pub fn class_of_quiz(&self, id: QuizId) -> Option<ClassId> {
        self.routes.quizzes.get(&id).copied()
    }
    pub fn class_of_parcours(&self, id: ParcoursId) -> Option<ClassId> {
        self.routes.parcours.get(&id).copied()
    }
    pub fn class_of_session(&self, id: SessionId) -> Option<ClassId> {
        self.routes.sessions.get(&id).copied()
    }
}

/// Class figures (mean, lowest, highest, median) are shown to families only for groups of
/// at least this many pupils (or grades): in a group of two, the class's lowest and highest
/// give a family the other pupil's result.
pub const FAMILY_MIN_GROUP: u32 = 5;

impl ReadModels {
    /// What families (guardians and pupils) see: each assessment's results as a whole
    /// (`AssessmentModel::for_families`) — once every pupil on its roster is graded, or as
    /// they stood when a teacher published them — and none withheld, now (`live`, the
    /// current models) or then. Every figure (averages, class means, spider charts) is made
    /// of those results alone, so class figures move only when a whole assessment's
    /// results do; a class figure of fewer than `FAMILY_MIN_GROUP` pupils is not given
    /// (`class_figure`), nor is the risk indicator (a conseil de classe tool). Only the
    /// classes `concerns` accepts (the family's children's) are looked at.
    pub fn for_families(
        &self,
        live: &ReadModels,
        concerns: impl Fn(ClassId) -> bool,
    ) -> ReadModels {
        use crate::grades::FamilyResults;
        let reference = self.reference.clone();
        let seen = |a: &AssessmentModel| {
            let withheld_now = live
                .assessment(a.assessment_id)
                .is_some_and(|now| now.withheld);
            let roster = reference.roster(a.class_id, a.date);
            match a.for_families(&roster, withheld_now) {
                FamilyResults::Hidden => None,
                FamilyResults::Whole => Some(None),
                FamilyResults::Published(grades) => Some(Some(grades.to_vec())),
            }
        };
        let mut view = self
            .narrowed(
                |id, c| concerns(id) && c.assessments.values().any(|a| seen(a) != Some(None)),
                |_, c| {
                    c.assessments.retain(|_, a| match seen(a) {
                        None => false,
                        Some(None) => true,
                        Some(Some(grades)) => {
                            Arc::make_mut(a).grades = grades;
                            true
                        }
                    });
                },
            )
            // Nothing hidden or replaced: a copy all the same (a few `Arc`s), marked.
            .unwrap_or_else(|| self.clone());
        view.families = true;
        view
    }

    /// Whether this is a view for families (`for_families`).
    pub fn is_family_view(&self) -> bool {
        self.families
    }

    /// A class figure as this view gives it: in a view for families, nothing for a group
    /// of fewer than `FAMILY_MIN_GROUP`. Every class figure a family can reach (a
    /// subject's class mean, the general one, an assessment's statistics, the spider
    /// chart's class band) comes through here.
    pub(crate) fn class_figure(&self, figure: Option<Spread>) -> Option<Spread> {
        figure.filter(|s| !self.families || s.count >= FAMILY_MIN_GROUP)
    }

    /// A view of the classes through some subjects only (a teacher's): the assessments,
    /// homework and quizzes of the subjects `mine(class, subject)` refuses are left out,
    /// and a class that lost assessments is marked partial (no general average, no
    /// profile: both would mix in the hidden subjects). `None` when nothing is hidden.
    ///
    /// Parcours have no subject: they stay in the classes `reaches` accepts (a teacher's
    /// classes) and are left out of the others, with their sessions.
    pub fn only_subjects(
        &self,
        mine: impl Fn(ClassId, SubjectId) -> bool,
        reaches: impl Fn(ClassId) -> bool,
    ) -> Option<ReadModels> {
        self.narrowed(
            |id, c| {
                c.assessments
                    .values()
                    .any(|a| !mine(a.class_id, a.subject_id))
                    || c.homework.values().any(|h| !mine(h.class_id, h.subject_id))
                    || c.quizzes.values().any(|q| !mine(q.class_id, q.subject_id))
                    || (!reaches(id) && (!c.parcours.is_empty() || !c.sessions.is_empty()))
            },
            |id, c| {
                let graded = c.assessments.len();
                c.assessments.retain(|_, a| mine(a.class_id, a.subject_id));
                c.partial |= c.assessments.len() != graded;
                c.homework.retain(|_, h| mine(h.class_id, h.subject_id));
                c.quizzes.retain(|_, q| mine(q.class_id, q.subject_id));
                if !reaches(id) {
                    c.parcours.clear();
                    c.sessions.clear();
                }
            },
        )
    }

    /// A copy in which `narrow` changed the classes `hides` picks (their `Arc`s copied, the
    /// others shared); `None` when it picks none. The copy's memo starts empty.
    fn narrowed(
        &self,
        hides: impl Fn(ClassId, &ClassModel) -> bool,
        narrow: impl Fn(ClassId, &mut ClassModel),
    ) -> Option<ReadModels> {
        let picked: Vec<ClassId> = self
            .classes
            .iter()
            .filter(|(id, c)| hides(**id, c))
            .map(|(id, _)| *id)
            .collect();
        if picked.is_empty() {
            return None;
        }
        let mut view = self.clone();
        let classes = Arc::make_mut(&mut view.classes);
        for id in picked {
            if let Some(class) = classes.get_mut(&id) {
                narrow(id, Arc::make_mut(class));
            }
        }
        Some(view)
    }
}

impl ClassModel {
    fn apply(&mut self, class: ClassId, event: &Event) {
        use Event as E;
        match event {
            E::AssessmentScheduled(_)
            | E::GradeRecorded(_)
            | E::GradeCorrected(_)
            | E::ResultsWithheld(_)
            | E::ResultsPublished(_) => crate::grades::apply(&mut self.assessments, event),
            E::HomeworkAssigned(_) | E::HomeworkDeposited(_) => {
                crate::homework::apply(&mut self.homework, event)
            }
            E::QuizPublished(_)
            | E::AttemptStarted(_)
            | E::QuestionAnswered(_)
            | E::AttemptSubmitted(_) => crate::qcm::apply(&mut self.quizzes, event),
            E::ParcoursPublished(_)
            | E::StepStarted(_)
            | E::StepFailed(_)
            | E::StepCompleted(_) => crate::parcours::apply(&mut self.parcours, event),
            E::SessionStarted(_) | E::SessionEnded(_) => {
                crate::parcours::apply_session(&mut self.sessions, class, event)
            }
            _ => {}
        }
    }
}

impl PupilModel {
    fn apply(&mut self, event: &Event) {
        use Event as E;
        match event {
            E::AbsenceRecorded(_) | E::LatenessRecorded(_) | E::AbsenceJustified(_) => {
                crate::attendance::apply(&mut self.attendance, event)
            }
            E::CompetencyAssessed(_) | E::CompetencyValidated(_) => self.competencies.apply(event),
            _ => {}
        }
    }
}

fn routed<K: std::hash::Hash + Eq>(map: &Map<K, ClassId>, id: &K) -> Target {
    map.get(id).copied().map_or(Target::Orphan, Target::Class)
}

/// The pupil an event is about, if any.
pub(crate) fn pupil_of(event: &Event) -> Option<PupilId> {
    use Event as E;
    Some(match event {
        E::PupilRegistered(e) => e.pupil_id,
        E::PupilEnrolled(e) => e.pupil_id,
        E::PupilTransferred(e) => e.pupil_id,
        E::EnrolmentEnded(e) => e.pupil_id,
        E::GuardianLinked(e) => e.pupil_id,
        E::GradeRecorded(e) => e.pupil_id,
        E::GradeCorrected(e) => e.pupil_id,
        E::AbsenceRecorded(e) => e.pupil_id,
        E::LatenessRecorded(e) => e.pupil_id,
        E::AbsenceJustified(e) => e.pupil_id,
        E::HomeworkDeposited(e) => e.pupil_id,
        E::AttemptStarted(e) => e.pupil_id,
        E::QuestionAnswered(e) => e.pupil_id,
        E::AttemptSubmitted(e) => e.pupil_id,
        E::CompetencyAssessed(e) => e.pupil_id,
        E::CompetencyValidated(e) => e.pupil_id,
        E::StepStarted(e) => e.pupil_id,
        E::StepFailed(e) => e.pupil_id,
        E::StepCompleted(e) => e.pupil_id,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ratio;

    fn spread_of(count: u32) -> Option<Spread> {
        Spread::of((1..=i64::from(count)).map(Ratio::from_int))
    }

    #[test]
    fn families_get_class_figures_of_five_pupils_or_more() {
        let staff = ReadModels::new();
        let families = ReadModels::new().for_families(&staff, |_| true);
        assert!(families.is_family_view() && !staff.is_family_view());
        // 4 pupils: hidden from families only; 5: shown to both (mean of 1..5 is 3).
        assert_eq!(families.class_figure(spread_of(4)), None);
        assert_eq!(staff.class_figure(spread_of(4)), spread_of(4));
        let five = families.class_figure(spread_of(5)).expect("shown");
        assert_eq!((five.mean, five.count), (Ratio::from_int(3), 5));
        assert_eq!(families.class_figure(None), None);
    }
}
