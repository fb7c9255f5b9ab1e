//! The flattened log: one table per family of events, with typed columns.
//!
//! Ids are dense `UInt32` keys (see `ids`); `pos` and `at` (global position, `occurred_at`)
//! lead every table. Dates are `Date`, instants `Datetime(ms)` in UTC. Free text that may
//! hold personal data (justification reasons, deposited file names, correction reasons) is
//! kept for the report's own use and dropped by pseudonymised exports.

use super::table::{Kind, Table};
use crate::error::Result;
use polars::prelude::*;

macro_rules! frames {
    ($( $(#[$doc:meta])* $field:ident : [ $( $col:literal : $kind:ident ),* $(,)? ] ),* $(,)?) => {
        /// Every table of the flattened log.
        #[derive(Clone, Debug)]
        pub struct Frames {
            $( $(#[$doc])* pub $field: DataFrame, )*
        }

        pub(crate) struct Builders {
            $( pub(crate) $field: Table, )*
        }

        impl Builders {
            pub(crate) fn new() -> Builders {
                Builders {
                    $( $field: Table::new(stringify!($field), &[ $( ($col, Kind::$kind) ),* ]), )*
                }
            }

            pub(crate) fn finish(self) -> Result<Frames> {
                Ok(Frames { $( $field: self.$field.finish()?, )* })
            }
        }

        impl Frames {
            /// Every table with its name, in a fixed order.
            pub fn tables(&self) -> Vec<(&'static str, &DataFrame)> {
                vec![ $( (stringify!($field), &self.$field), )* ]
            }

            /// The same tables, each passed through `f`.
            pub fn try_map(&self, f: impl Fn(&DataFrame) -> PolarsResult<DataFrame>) -> Result<Frames> {
                Ok(Frames { $( $field: f(&self.$field)?, )* })
            }
        }
    };
}

frames! {
    schools: ["school": Id, "name": Str, "nr_zero": Bool],
    years: ["year": Id, "school": Id, "label": Str, "starts_on": Date, "ends_on": Date],
    periods: ["period": Id, "school": Id, "year": Id, "name": Str, "kind": Str, "starts_on": Date, "ends_on": Date],
    /// `kind` is `general` or `vocational`; `coefficient` in hundredths.
    subjects: ["subject": Id, "school": Id, "name": Str, "kind": Str, "coefficient": U32],
    classes: ["class": Id, "school": Id, "year": Id, "name": Str],
    teachers: ["teacher": Id, "school": Id, "name": Str],
    teaching: ["teacher": Id, "class": Id, "subject": Id],
    head_teachers: ["teacher": Id, "class": Id],
    pupils: ["pupil": Id, "school": Id, "external_id": Str],
    /// An enrolment (`from_class` null) or a transfer, in force from `on`.
    placements: ["pupil": Id, "class": Id, "from_class": OptId, "on": Date],
    /// An enrolment ended with no other (`EnrolmentEnded`): out of `class` from `on`.
    departures: ["pupil": Id, "class": Id, "on": Date],
    guardians: ["guardian": Id, "pupil": Id],
    /// `scale` in points, `coefficient` in hundredths.
    assessments: ["assessment": Id, "class": Id, "subject": Id, "period": Id, "title": Str, "date": Date, "scale": U32, "coefficient": U32],
    /// `points` in hundredths for a score; `mark` `Abs`, `Disp` or `NR` otherwise.
    grades: ["assessment": Id, "pupil": Id, "points": OptU32, "mark": OptStr, "corrected": Bool, "reason": OptStr],
    absences: ["record": Id, "pupil": Id, "starts_at": Time, "ends_at": Time, "day": Date, "half_days": U32, "lessons": U32],
    latenesses: ["record": Id, "pupil": Id, "late_at": Time, "day": Date, "minutes": U32],
    justifications: ["record": Id, "pupil": Id, "reason": Str],
    homework: ["homework": Id, "class": Id, "subject": Id, "title": Str, "assigned_on": Date, "due_at": Time],
    deposits: ["homework": Id, "pupil": Id, "deposited_at": Time, "file_name": Str, "size_bytes": I64, "sha256": Str],
    quizzes: ["quiz": Id, "class": Id, "subject": Id, "title": Str, "max_attempts": U32, "question_count": U32],
    questions: ["quiz": Id, "question": Id, "number": U32, "correct_choice": U32],
    attempts: ["quiz": Id, "pupil": Id, "attempt": Id, "attempt_no": U32, "started_at": Time, "session": OptId],
    answers: ["quiz": Id, "pupil": Id, "attempt": Id, "question": Id, "answer": U32, "correct": Bool, "time_ms": I64, "answered_at": Time],
    submissions: ["quiz": Id, "pupil": Id, "attempt": Id, "submitted_at": Time, "correct_count": U32, "question_count": U32],
    /// Assessments and validations (`validated`) of a competency component, level 1 to 4.
    competencies: ["pupil": Id, "framework": Id, "component": Str, "level": U32, "on": Date, "validated": Bool, "teacher": OptId],
    parcours: ["parcours": Id, "class": Id, "title": Str, "step_count": U32],
    parcours_steps: ["parcours": Id, "step": Id, "number": U32, "title": Str, "kind": Str, "quiz": OptId, "homework": OptId],
    /// `kind` is `started`, `failed` or `completed`.
    step_events: ["parcours": Id, "pupil": Id, "step": Id, "kind": Str, "step_at": Time, "session": OptId],
    sessions: ["session": Id, "class": Id, "teacher": Id, "quiz": OptId, "parcours": OptId, "started_at": Time],
    session_ends: ["session": Id, "ended_at": Time],
}
