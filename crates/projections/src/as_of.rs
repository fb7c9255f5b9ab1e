//! Dashboards *as of* a past instant, computed from the log: the events with
//! `occurred_at <= as_of`, folded afresh.
//!
//! Every event is kept, decoded, in the journal of the one class or pupil it concerns (or
//! in the reference journal). An as-of view of a class folds only the school's reference
//! events, that class's journal and the journals of the pupils ever enrolled in it —
//! about 1/30 of a 30-class school's log — so one class of a school of a million events is
//! re-folded in a few milliseconds. The folds of different journals never read each other
//! (an assessment and its grades share a journal; a pupil's class is looked up when read),
//! so folding journal after journal gives what folding the filtered log in order would.
//!
//! The view is an ordinary `ReadModels`: every query works on it the same way, with
//! `now = as_of` for the figures that depend on time. Its journals are those of the live
//! model (shared, not copied) seen through the same `occurred_at <= as_of` filter.
//! An event whose parent (the assessment of a grade, the quiz of an answer) occurred after
//! `as_of` is left out.

use crate::model::ReadModels;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;
use suivi_domain::ids::*;

impl ReadModels {
    fn as_of_view(&self, at: DateTime<Utc>) -> ReadModels {
        ReadModels {
            as_of: Some(at),
            journaling: false,
            ..ReadModels::new()
        }
    }

    fn fold_visible(
        &self,
        view: &mut ReadModels,
        schools: Option<&BTreeSet<SchoolId>>,
        classes: &BTreeSet<ClassId>,
        pupils: &BTreeSet<PupilId>,
    ) {
        let at = view.as_of;
        for logged in self.reference_journal.visible(at) {
            if schools.is_none_or(|s| s.contains(&logged.school_id)) {
                view.fold(logged);
            }
        }
        for class in classes {
            let Some(source) = self.class_model(*class) else {
                continue;
            };
            for logged in source.journal.visible(at) {
                view.fold(logged);
            }
            let target = Arc::make_mut(&mut view.classes).entry(*class).or_default();
            Arc::make_mut(target).journal = source.journal.clone();
        }
        for pupil in pupils {
            let Some(source) = self.pupil_model(*pupil) else {
                continue;
            };
            for logged in source.journal.visible(at) {
                view.fold(logged);
            }
            let target = Arc::make_mut(&mut view.pupils).entry(*pupil).or_default();
            Arc::make_mut(target).journal = source.journal.clone();
        }
    }

    /// The given classes (and their pupils' attendance and competencies) as they stood at
    /// `at`. Queries about other classes answer as if they were empty.
    pub fn as_of_classes(&self, classes: &[ClassId], at: DateTime<Utc>) -> ReadModels {
        let classes: BTreeSet<ClassId> = classes.iter().copied().collect();
        let schools: BTreeSet<SchoolId> = classes
            .iter()
            .filter_map(|c| self.reference.school_of_class(*c))
            .collect();
        let pupils: BTreeSet<PupilId> = classes
            .iter()
            .flat_map(|c| self.reference.members(*c).iter().copied())
            .collect();
        let mut view = self.as_of_view(at);
        self.fold_visible(&mut view, Some(&schools), &classes, &pupils);
        view
    }

    /// One class as it stood at `at` (the class on the day of the conseil de classe).
    pub fn as_of_class(&self, class: ClassId, at: DateTime<Utc>) -> ReadModels {
        self.as_of_classes(&[class], at)
    }

    /// What a pupil's dashboards showed at `at`: every class they have been in, with its
    /// class figures, and their own records.
    pub fn as_of_pupil(&self, pupil: PupilId, at: DateTime<Utc>) -> ReadModels {
        let mut classes: Vec<ClassId> = self
            .reference
            .pupil(pupil)
            .map(|p| p.enrolments.iter().map(|e| e.class_id).collect())
            .unwrap_or_default();
        classes.sort();
        classes.dedup();
        let mut view = self.as_of_classes(&classes, at);
        if !classes
            .iter()
            .any(|c| self.reference.members(*c).contains(&pupil))
        {
            if let Some(source) = self.pupil_model(pupil) {
                for logged in source.journal.visible(Some(at)) {
                    view.fold(logged);
                }
            }
        }
        view
    }

    /// The whole log as it stood at `at` (every school): the cost of a full rebuild.
    pub fn as_of_all(&self, at: DateTime<Utc>) -> ReadModels {
        let classes: BTreeSet<ClassId> = self.classes.keys().copied().collect();
        let pupils: BTreeSet<PupilId> = self.pupils.keys().copied().collect();
        let mut view = self.as_of_view(at);
        self.fold_visible(&mut view, None, &classes, &pupils);
        view
    }
}
