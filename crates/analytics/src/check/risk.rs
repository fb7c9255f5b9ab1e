//! The décrochage risk indicator of every pupil of every class and period: the
//! projections' (`ReadModels::risk`, inputs from the read models) against the same rules
//! applied to polars' figures (level, score and each factor's reason).

use super::{Ctx, Diffs};
use crate::error::Result;
use crate::figures::attendance;
use crate::figures::catalog::Catalog;
use crate::figures::competencies::levels_by_period;
use crate::figures::grades::{GradeFigures, Scope};
use crate::figures::homework;
use crate::figures::qcm;
use crate::log::epoch_days;
use crate::report::data::{period_window, previous_period};
use crate::report::risk::BatchRiskFigures;
use std::collections::HashMap;
use suivi_domain::reference::{SOCLE_COMMUN_COMPONENTS, SOCLE_COMMUN_ID};

pub(super) fn compare(ctx: &Ctx, d: &mut Diffs) -> Result<()> {
    let catalog = d.batch(|| Catalog::of(ctx.log))?;
    let grades = d.batch(|| GradeFigures::compute(ctx.log, Scope::default()))?;
    let absences = d.batch(|| attendance::by_pupil_period(ctx.log, None))?;
    let homework = d.batch(|| homework::by_pupil_period(ctx.log, ctx.now))?;
    let levels = d.batch(|| levels_by_period(ctx.log, ctx.key(&SOCLE_COMMUN_ID.0)))?;
    // (class, period, pupil) → the pupil's subject averages.
    let mut subject_averages: HashMap<(u32, u32, u32), Vec<Option<f64>>> = HashMap::new();
    for ((c, p, _, u), average) in &grades.pupil_subject {
        subject_averages
            .entry((*c, *p, *u))
            .or_default()
            .push(Some(*average));
    }

    for (class, period) in super::class_periods(ctx.models) {
        let (c, p) = (ctx.key(&class.0), ctx.key(&period.0));
        let (Some(info), Some(row)) = (
            ctx.models.reference().period(period),
            catalog.periods.get(&p),
        ) else {
            continue;
        };
        let (from_ms, to_ms) = period_window(row);
        let engagement = d.batch(|| qcm::engagement(ctx.log, c, from_ms, to_ms))?;
        let attempts = |u: &u32| engagement.get(u).map_or(0, |e| e.attempts);
        let class_attempts: Vec<u32> = ctx
            .enrolments
            .members_during(
                c,
                i64::from(epoch_days(row.starts_on)),
                i64::from(epoch_days(row.ends_on)),
            )
            .iter()
            .map(attempts)
            .collect();
        let previous = previous_period(&catalog, p);
        for pupil in ctx
            .models
            .reference()
            .members_during(class, info.starts_on, info.ends_on)
        {
            let u = ctx.key(&pupil.0);
            let at = || {
                format!(
                    "{} · {} · pupil {pupil}",
                    ctx.class_name(class),
                    ctx.period_name(period)
                )
            };
            let batch = BatchRiskFigures {
                general: grades.general.get(&(c, p, u)).copied(),
                previous_general: previous.and_then(|q| grades.general.get(&(c, q, u)).copied()),
                subject_averages: subject_averages
                    .get(&(c, p, u))
                    .map_or(&[][..], |v| v.as_slice()),
                attendance: &absences.get(&(u, p)).copied().unwrap_or_default(),
                homework: &homework.get(&(u, p)).copied().unwrap_or_default(),
                qcm_attempts: attempts(&u),
                class_attempts: class_attempts.clone(),
                competencies_insufficient: SOCLE_COMMUN_COMPONENTS
                    .iter()
                    .filter(|(code, _)| levels.get(&(u, p, (*code).to_owned())) == Some(&1))
                    .count(),
            }
            .assess();
            let projected = ctx.models.risk(class, pupil, period, ctx.now);
            d.same(
                "risk level",
                at,
                projected.as_ref().map(|r| r.level.label()),
                Some(batch.level.label()),
            );
            d.same(
                "risk score",
                at,
                projected.as_ref().map(|r| r.score),
                Some(batch.score),
            );
            let projected_factors = projected.map(|r| r.factors).unwrap_or_default();
            for i in 0..projected_factors.len().max(batch.factors.len()) {
                let reason =
                    |f: &suivi_projections::risk::Factor| format!("{} (+{})", f.reason, f.points);
                d.same(
                    "risk factor",
                    || format!("{} · factor {}", at(), i + 1),
                    projected_factors.get(i).map(reason),
                    batch.factors.get(i).map(reason),
                );
            }
        }
    }
    Ok(())
}
