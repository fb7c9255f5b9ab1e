//! Figures computed from a snapshot, kept as long as the snapshot.
//!
//! A class dashboard needs the class report once for the class and once more per pupil
//! (each spider chart shows the class's mean, lowest and highest beside the pupil's value),
//! and many clients ask for the same dashboard between two batches of the fold. A published
//! snapshot never changes, so what is computed from it can live with it: the first reader
//! computes, the others share the result. A memo never outlives the facts it was computed
//! from: the fold clears the memo of the model it changes, and a clone starts with an
//! empty one.

use crate::grades::ClassReport;
use crate::model::Map;
use crate::spider::ClassSpiders;
use std::sync::{Arc, Mutex};
use suivi_domain::ids::{ClassId, PeriodId};

#[derive(Default)]
pub(crate) struct Memo(Mutex<Figures>);

#[derive(Default)]
struct Figures {
    reports: Map<(ClassId, PeriodId), Arc<ClassReport>>,
    spiders: Map<(ClassId, PeriodId), Arc<ClassSpiders>>,
}

impl Memo {
    fn figures(&self) -> std::sync::MutexGuard<'_, Figures> {
        // The lock only guards map lookups and inserts: a panic cannot leave them half done.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The memoised report of a class and period, or `compute`'s (outside the lock: two
    /// readers may both compute it; the first one kept wins).
    pub(crate) fn report(
        &self,
        key: (ClassId, PeriodId),
        compute: impl FnOnce() -> ClassReport,
    ) -> Arc<ClassReport> {
        if let Some(report) = self.figures().reports.get(&key) {
            return report.clone();
        }
        let report = Arc::new(compute());
        self.figures().reports.entry(key).or_insert(report).clone()
    }

    pub(crate) fn spiders(
        &self,
        key: (ClassId, PeriodId),
        compute: impl FnOnce() -> ClassSpiders,
    ) -> Arc<ClassSpiders> {
        if let Some(spiders) = self.figures().spiders.get(&key) {
            return spiders.clone();
        }
        let spiders = Arc::new(compute());
        self.figures().spiders.entry(key).or_insert(spiders).clone()
    }

    /// Forgets everything; free when there is nothing to forget (no lock is taken).
    pub(crate) fn clear(&mut self) {
        let figures = self.0.get_mut().unwrap_or_else(|e| e.into_inner());
        if !figures.reports.is_empty() || !figures.spiders.is_empty() {
            *figures = Figures::default();
        }
    }
}

/// A clone is the model the fold changes next: it starts with nothing memoised.
impl Clone for Memo {
    fn clone(&self) -> Memo {
        Memo::default()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let figures = self.figures();
        f.debug_struct("Memo")
            .field("reports", &figures.reports.len())
            .field("spiders", &figures.spiders.len())
            .finish()
    }
}
