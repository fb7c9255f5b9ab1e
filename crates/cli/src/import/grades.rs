//! Importing a grades CSV: parse every row, plan every row against a copy of the school's
//! state, and only when the whole file is good (or under `skip_bad`) mint the new pupils'
//! keys, seal their identities, and write everything in one atomic batch. A refused file
//! therefore leaves no event and no key behind.

use super::csv_grades;
use super::grades_plan::{self, Input, Step};
use super::{batch_failure, FileReport, Importer, LineError};
use crate::progress;
use suivi_domain::ids::CorrelationId;
use suivi_domain::{Actor, Metadata};
use suivi_projections::gateway::sealed_registration;

pub(super) async fn import(
    importer: &mut Importer<'_>,
    bytes: &[u8],
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let parsed = csv_grades::parse(bytes);
    report.lines = parsed.lines;
    report.errors.extend(parsed.errors);
    let skip_bad = importer.options.skip_bad;
    if parsed.rows.is_empty() {
        report.written = report.errors.is_empty() || skip_bad;
        return Ok(());
    }

    let name = importer.options.school_name.clone();
    let named = grades_plan::school_id_for(&name);
    let schools = &importer.catalog.schools;
    let school_id = if schools.contains(&named) || schools.is_empty() {
        named
    } else if let Some(only) = importer.catalog.only_school() {
        only
    } else {
        report.errors.push(LineError {
            line: 1,
            reason: format!(
                "the store holds {} schools and none is named {name:?}: say which with --school-name",
                schools.len()
            ),
        });
        return Ok(());
    };
    let state = importer
        .gateway
        .with_state(school_id, |s| s.clone())
        .await
        .map_err(|e| anyhow::anyhow!("reading the log: {e}"))?;
    let input = Input {
        school_id,
        school_name: &name,
        state: &state,
        grades: &importer.catalog.grades,
    };
    let plan = grades_plan::plan(&parsed.rows, &input, skip_bad);
    report.already_present = plan.already;
    report.errors.extend(plan.errors);
    if !report.errors.is_empty() && !skip_bad {
        return Ok(());
    }
    if plan.items.is_empty() {
        report.written = true;
        return Ok(());
    }

    let spinner = progress::spinner(importer.options.progress, "writing");
    let correlation = CorrelationId(uuid::Uuid::now_v7());
    let mut batch = Vec::with_capacity(plan.items.len());
    let mut lines = Vec::with_capacity(plan.items.len());
    let mut keys = Vec::new();
    for item in plan.items {
        let command = match item.step {
            Step::Command(command) => command,
            Step::NewPupil {
                pupil_id,
                external_id,
                identity,
            } => {
                // The key is stored with the batch's events: a refused file leaves none.
                let (command, key) = sealed_registration(pupil_id, external_id, &identity);
                keys.push((pupil_id, key));
                command
            }
        };
        let meta = Metadata {
            school_id,
            actor: Actor::Importer("grades-csv".into()),
            occurred_at: item.occurred_at,
            correlation_id: Some(correlation),
            causation_id: None,
        };
        lines.push(item.line);
        batch.push((meta, command));
    }
    let result = importer.gateway.execute_batch_keyed(batch, keys).await;
    spinner.finish_and_clear();
    match result {
        Ok(executed) => report.record(&executed),
        Err(error) => report.errors.push(batch_failure(error, &lines)?),
    }
    Ok(())
}
