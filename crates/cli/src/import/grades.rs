//! Importing a grades CSV: parse every row, plan every row against a copy of the school's
//! state, and only when the whole file is good (or under `skip_bad`) mint the new pupils'
//! keys, seal their identities, and write everything in one atomic batch. A refused file
//! therefore leaves no event and no key behind.

use super::csv_grades;
use super::grades_plan::{self, Input};
use super::{write, FileReport, Importer, LineError};
use crate::progress;

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
    let spinner = progress::spinner(importer.options.progress, "writing");
    let result = write::write_plan(
        importer.gateway,
        school_id,
        "grades-csv",
        plan.items,
        report,
    )
    .await;
    spinner.finish_and_clear();
    result
}
