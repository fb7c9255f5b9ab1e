//! Rebuilds every projection from a store, as `suivi serve` does when it starts, and
//! times it: the projection runner reading the log in batches, decoding and folding it.
//!
//! `cargo run --release -p suivi-projections --example rebuild -- sqlite:/tmp/school.db`
//!
//! Prints the events folded, the wall and CPU time, events per second, and the process's
//! resident memory once the read models are built (and its peak).

use std::time::Instant;
use suivi_projections::Projections;

fn status_kib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(key))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(f64::NAN)
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some(close) = stat.rfind(')') else {
        return f64::NAN;
    };
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (field(11), field(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: rebuild STORE_URL (e.g. sqlite:/tmp/school.db)")?;
    let store = suivi_store::open(&url).await?;
    let head = store.head().await?;
    let (rss_before, cpu_before) = (status_kib("VmRSS:"), cpu_seconds());
    let started = Instant::now();
    let projections = Projections::start(store.clone());
    projections.caught_up().await?;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let models = projections.snapshot();
    println!(
        "{} events (head {head}) folded in {elapsed:.2} s ({cpu:.2} s CPU) = {:.0} events/s",
        models.stats().applied,
        models.stats().applied as f64 / elapsed
    );
    println!(
        "resident memory: {:.0} MiB with the read models ({:.0} MiB before), peak {:.0} MiB; {} events journaled",
        status_kib("VmRSS:") / 1024.0,
        rss_before / 1024.0,
        status_kib("VmHWM:") / 1024.0,
        models.journaled_events()
    );
    projections.stop();
    Ok(())
}
