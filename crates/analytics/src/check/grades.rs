//! Averages, class figures, the profile read-out and the spider's competency axes.

use super::{Ctx, Diffs};
use crate::error::Result;
use crate::figures::competencies::levels_by_period;
use crate::figures::grades::{profile_of, GradeFigures, Profile, Scope};
use crate::figures::{hundredths, Spread};
use crate::log::epoch_days;
use std::collections::{BTreeSet, HashMap};
use suivi_domain::ids::*;
use suivi_domain::reference::SOCLE_COMMUN_ID;
use suivi_projections::spider::ProfileBasis;
use suivi_projections::{ProfileLabel, Ratio};

fn h(r: Ratio) -> i64 {
    r.hundredths() as i64
}

fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Balanced => "BALANCED",
        Profile::VocationalStrong => "VOCATIONAL_STRONG",
        Profile::GeneralStrong => "GENERAL_STRONG",
        Profile::NotEnoughData => "NOT_ENOUGH_DATA",
    }
}

fn spread(
    d: &mut Diffs,
    what: [&'static str; 4],
    at: &dyn Fn() -> String,
    projection: Option<suivi_projections::Spread>,
    batch: Option<&Spread>,
) {
    d.hundredths(
        what[0],
        at,
        projection.map(|s| h(s.mean)),
        batch.map(|s| hundredths(s.mean)),
    );
    d.hundredths(
        what[1],
        at,
        projection.map(|s| h(s.min)),
        batch.map(|s| hundredths(s.min)),
    );
    d.hundredths(
        what[2],
        at,
        projection.map(|s| h(s.max)),
        batch.map(|s| hundredths(s.max)),
    );
    d.same(
        what[3],
        at,
        projection.map(|s| s.count),
        batch.map(|s| s.count),
    );
}

pub(super) fn compare(ctx: &Ctx, d: &mut Diffs) -> Result<()> {
    let batch = d.batch(|| GradeFigures::compute(ctx.log, Scope::default()))?;
    let socle = ctx.key(&SOCLE_COMMUN_ID.0);
    let levels = d.batch(|| levels_by_period(ctx.log, socle))?;
    // Index the batch's pupil figures by (class, period).
    let mut subject_pupils: HashMap<(u32, u32), Vec<(u32, u32)>> = HashMap::new();
    for (c, p, s, u) in batch.pupil_subject.keys() {
        subject_pupils.entry((*c, *p)).or_default().push((*s, *u));
    }
    let mut general_pupils: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for (c, p, u) in batch.general.keys() {
        general_pupils.entry((*c, *p)).or_default().push(*u);
    }

    for (class, period) in super::class_periods(ctx.models) {
        let (c, p) = (ctx.key(&class.0), ctx.key(&period.0));
        let report = ctx.models.class_report(class, period);
        let where_cp = || format!("{} · {}", ctx.class_name(class), ctx.period_name(period));

        // Subject averages and the class figures of each subject.
        let mut seen: BTreeSet<(u32, u32)> = BTreeSet::new();
        for subject in &report.subjects {
            let s = ctx.key(&subject.subject_id.0);
            let at = || format!("{} · {}", where_cp(), ctx.subject_name(subject.subject_id));
            spread(
                d,
                [
                    "class subject mean",
                    "class subject min",
                    "class subject max",
                    "class subject graded pupils",
                ],
                &at,
                subject.class,
                batch.class_subject.get(&(c, p, s)),
            );
            for (pupil, average) in &subject.pupils {
                let u = ctx.key(&pupil.0);
                seen.insert((s, u));
                d.hundredths(
                    "subject average",
                    || format!("{} · pupil {pupil}", at()),
                    Some(h(*average)),
                    batch
                        .pupil_subject
                        .get(&(c, p, s, u))
                        .map(|a| hundredths(*a)),
                );
            }
        }
        for (s, u) in subject_pupils.get(&(c, p)).into_iter().flatten() {
            if !seen.contains(&(*s, *u)) {
                let subject = SubjectId(ctx.log.ids.uuid(*s));
                d.hundredths(
                    "subject average",
                    || {
                        format!(
                            "{} · {} · pupil {}",
                            where_cp(),
                            ctx.subject_name(subject),
                            ctx.log.ids.uuid(*u)
                        )
                    },
                    None,
                    batch
                        .pupil_subject
                        .get(&(c, p, *s, *u))
                        .map(|a| hundredths(*a)),
                );
            }
        }

        // General averages.
        spread(
            d,
            [
                "class general mean",
                "class general min",
                "class general max",
                "class general pupils",
            ],
            &where_cp,
            report.general_class,
            batch.general_class.get(&(c, p)),
        );
        for (pupil, general) in &report.general {
            d.hundredths(
                "general average",
                || format!("{} · pupil {pupil}", where_cp()),
                Some(h(*general)),
                batch
                    .general
                    .get(&(c, p, ctx.key(&pupil.0)))
                    .map(|a| hundredths(*a)),
            );
        }
        for u in general_pupils.get(&(c, p)).into_iter().flatten() {
            let pupil = PupilId(ctx.log.ids.uuid(*u));
            if !report.general.contains_key(&pupil) {
                d.hundredths(
                    "general average",
                    || format!("{} · pupil {pupil}", where_cp()),
                    None,
                    batch.general.get(&(c, p, *u)).map(|a| hundredths(*a)),
                );
            }
        }

        // The spider chart of each pupil of the period: profile and competency axes.
        let Some(info) = ctx.models.reference().period(period) else {
            continue;
        };
        let (from, to) = (
            i64::from(epoch_days(info.starts_on)),
            i64::from(epoch_days(info.ends_on)),
        );
        let members = ctx.enrolments.members_during(c, from, to);
        for pupil in ctx
            .models
            .reference()
            .members_during(class, info.starts_on, info.ends_on)
        {
            let u = ctx.key(&pupil.0);
            let chart = ctx.models.spider(class, pupil, period);
            let at = || format!("{} · pupil {pupil}", where_cp());
            let projected = match chart.profile.basis {
                ProfileBasis::Compared => match chart.profile.label {
                    ProfileLabel::Balanced => "BALANCED",
                    ProfileLabel::VocationalStrong => "VOCATIONAL_STRONG",
                    ProfileLabel::GeneralStrong => "GENERAL_STRONG",
                },
                _ => "NOT_ENOUGH_DATA",
            };
            let (g, v) = batch
                .profile
                .get(&(c, p, u))
                .copied()
                .unwrap_or((None, None));
            d.same(
                "profile",
                at,
                Some(projected),
                Some(profile_name(profile_of(g, v))),
            );
            d.hundredths(
                "profile general mean",
                at,
                chart.profile.general_mean.map(h),
                g.map(hundredths),
            );
            d.hundredths(
                "profile vocational mean",
                at,
                chart.profile.vocational_mean.map(h),
                v.map(hundredths),
            );
            for axis in &chart.competencies {
                let code = axis.component.to_owned();
                let at = || format!("{} · {}", at(), code);
                d.same(
                    "spider competency level",
                    at,
                    axis.pupil.map(u32::from),
                    levels.get(&(u, p, code.clone())).copied(),
                );
                let class_levels: Vec<f64> = members
                    .iter()
                    .filter_map(|m| levels.get(&(*m, p, code.clone())))
                    .map(|l| f64::from(*l))
                    .collect();
                let batch_spread = (!class_levels.is_empty()).then(|| Spread {
                    mean: class_levels.iter().sum::<f64>() / class_levels.len() as f64,
                    min: class_levels.iter().copied().fold(f64::INFINITY, f64::min),
                    max: class_levels
                        .iter()
                        .copied()
                        .fold(f64::NEG_INFINITY, f64::max),
                    count: class_levels.len() as u32,
                });
                spread(
                    d,
                    [
                        "spider competency class mean",
                        "spider competency class min",
                        "spider competency class max",
                        "spider competency class count",
                    ],
                    &at,
                    axis.class,
                    batch_spread.as_ref(),
                );
            }
        }
    }
    Ok(())
}
