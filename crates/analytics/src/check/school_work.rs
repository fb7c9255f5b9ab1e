//! Absences and lateness, homework status.

use super::{Ctx, Diffs};
use crate::error::Result;
use crate::figures::attendance::{self, AttendanceFig};
use crate::figures::homework::{self, HomeworkFig};
use std::collections::BTreeSet;
use suivi_domain::ids::*;

pub(super) fn compare(ctx: &Ctx, d: &mut Diffs) -> Result<()> {
    let absences = d.batch(|| attendance::by_pupil_period(ctx.log, None))?;
    let pupil_homework = d.batch(|| homework::by_pupil_period(ctx.log, ctx.now))?;
    // Each pupil of each period once (a transferred pupil belongs to two classes).
    let mut pairs: BTreeSet<(PupilId, PeriodId)> = BTreeSet::new();
    for (class, period) in super::class_periods(ctx.models) {
        let Some(info) = ctx.models.reference().period(period) else {
            continue;
        };
        for pupil in ctx
            .models
            .reference()
            .members_during(class, info.starts_on, info.ends_on)
        {
            pairs.insert((pupil, period));
        }
    }
    for (pupil, period) in pairs {
        let key = (ctx.key(&pupil.0), ctx.key(&period.0));
        let at = || format!("{} · pupil {pupil}", ctx.period_name(period));
        let s = ctx.models.pupil_attendance(pupil, period);
        let b = absences.get(&key).copied().unwrap_or_default();
        let projected = AttendanceFig {
            absences: s.absences,
            half_days: s.half_days,
            half_days_justified: s.half_days_justified,
            half_days_unjustified: s.half_days_unjustified,
            lessons: s.lessons,
            lessons_justified: s.lessons_justified,
            lessons_unjustified: s.lessons_unjustified,
            latenesses: s.latenesses,
            latenesses_justified: s.latenesses_justified,
            latenesses_unjustified: s.latenesses_unjustified,
            lateness_minutes: s.lateness_minutes,
        };
        for (figure, p, b) in [
            ("absences", projected.absences, b.absences),
            ("absence half-days", projected.half_days, b.half_days),
            (
                "absence half-days justified",
                projected.half_days_justified,
                b.half_days_justified,
            ),
            (
                "absence half-days unjustified",
                projected.half_days_unjustified,
                b.half_days_unjustified,
            ),
            ("absence lessons", projected.lessons, b.lessons),
            (
                "absence lessons justified",
                projected.lessons_justified,
                b.lessons_justified,
            ),
            (
                "absence lessons unjustified",
                projected.lessons_unjustified,
                b.lessons_unjustified,
            ),
            ("latenesses", projected.latenesses, b.latenesses),
            (
                "latenesses justified",
                projected.latenesses_justified,
                b.latenesses_justified,
            ),
            (
                "latenesses unjustified",
                projected.latenesses_unjustified,
                b.latenesses_unjustified,
            ),
            (
                "lateness minutes",
                projected.lateness_minutes,
                b.lateness_minutes,
            ),
        ] {
            d.same(figure, at, Some(p), Some(b));
        }

        let s = ctx.models.pupil_homework_summary(pupil, period, ctx.now);
        let b = pupil_homework.get(&key).copied().unwrap_or_default();
        for (figure, p, b) in [
            ("homework on time", s.on_time, b.on_time),
            ("homework late", s.late, b.late),
            ("homework missing", s.missing, b.missing),
            ("homework pending", s.pending, b.pending),
        ] {
            d.same(figure, at, Some(p), Some(b));
        }
    }

    // Each homework's class table.
    let per_homework = d.batch(|| homework::by_homework(ctx.log, ctx.now))?;
    let reference = ctx.models.reference();
    for school in reference.schools() {
        for class in reference.classes_of(school.school_id) {
            for report in ctx.models.class_homework(class.class_id, ctx.now) {
                let at = || format!("{} · homework {}", class.name, report.homework_id);
                let b: HomeworkFig = per_homework
                    .get(&ctx.key(&report.homework_id.0))
                    .copied()
                    .unwrap_or_default();
                for (figure, p, b) in [
                    ("homework report on time", report.on_time, b.on_time),
                    ("homework report late", report.late, b.late),
                    ("homework report missing", report.missing, b.missing),
                    ("homework report pending", report.pending, b.pending),
                ] {
                    d.same(figure, at, Some(p), Some(b));
                }
            }
        }
    }
    Ok(())
}
