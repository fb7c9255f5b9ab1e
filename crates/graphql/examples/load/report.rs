//! The sequence of measurements, repeated, and the table of medians.

use crate::drive::{closed_loop, open_loop, Outcome};
use crate::stats::{cpu_seconds, median, resident_mib, Latencies, Summary};
use crate::{discover, notify, seconds, Args, Target, BASELINE, DASHBOARD};
use serde_json::json;
use std::collections::BTreeMap;

/// One measured line.
#[derive(Clone, Debug)]
struct Row {
    /// Answers per second (writes per second for the subscription lines).
    rate: f64,
    latency: Summary,
    errors: u64,
    /// Server CPU per answered request, in microseconds (NaN when unknown).
    server_cpu_us: f64,
    /// Share of one core the generator used.
    client_cpu: f64,
}

struct Meter {
    pid: Option<u32>,
    server: Option<f64>,
    client: Option<f64>,
    started: std::time::Instant,
}

impl Meter {
    fn start(pid: Option<u32>) -> Meter {
        Meter {
            pid,
            server: pid.and_then(cpu_seconds),
            client: cpu_seconds(std::process::id()),
            started: std::time::Instant::now(),
        }
    }

    /// (server CPU µs per request, client share of a core)
    fn stop(&self, requests: u64) -> (f64, f64) {
        let server = match (self.pid.and_then(cpu_seconds), self.server) {
            (Some(now), Some(then)) if requests > 0 => (now - then) * 1e6 / requests as f64,
            _ => f64::NAN,
        };
        let client = match (cpu_seconds(std::process::id()), self.client) {
            (Some(now), Some(then)) => (now - then) / self.started.elapsed().as_secs_f64(),
            _ => f64::NAN,
        };
        (server, client)
    }
}

fn row(out: Outcome, meter: &Meter) -> Row {
    if let Some(e) = &out.first_error {
        eprintln!("  first error: {e}");
    }
    let (server_cpu_us, client_cpu) = meter.stop(out.ok);
    Row {
        rate: out.rate(),
        errors: out.failed + out.unfinished,
        server_cpu_us,
        client_cpu,
        latency: out.latencies.summary(),
    }
}

fn latency_row(latencies: Latencies, rate: f64, errors: u64) -> Row {
    Row {
        rate,
        latency: latencies.summary(),
        errors,
        server_cpu_us: f64::NAN,
        client_cpu: f64::NAN,
    }
}

fn print_row(run: usize, name: &str, r: &Row) {
    eprintln!(
        "run {run} {name:<34} {:>8.0}/s p50 {:>7.2} ms p90 {:>7.2} p99 {:>7.2} max {:>7.2} errors {} server {:>6.0} µs/req client {:.2} core",
        r.rate, r.latency.p50, r.latency.p90, r.latency.p99, r.latency.max, r.errors, r.server_cpu_us, r.client_cpu
    );
}

pub async fn run_all(target: &Target, args: &Args, pid: Option<u32>) -> anyhow::Result<()> {
    let setup = discover(target, args).await?;
    eprintln!(
        "class {:?}: {} pupils, {} subjects, dashboard answer {} bytes; asOf {}",
        setup.class_name, setup.pupils, setup.subjects, setup.dashboard_bytes, setup.as_of
    );
    let only: Vec<&str> = args.only.split(',').map(str::trim).collect();
    let wants = |name: &str| only.contains(&name);
    let baseline = target.request(BASELINE, json!({}));
    let dashboard = target.request(DASHBOARD, json!({"name": setup.class_name}));
    let as_of = target.request(
        DASHBOARD,
        json!({"name": setup.class_name, "asOf": setup.as_of}),
    );
    let d = seconds(args.duration);
    let c = args.connections;

    let warm = closed_loop(target.addr, dashboard.clone(), c, seconds(args.warmup)).await;
    if let Some(e) = warm.first_error {
        anyhow::bail!("the dashboard query fails: {e}");
    }

    let mut rows: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut keep = |run: usize, name: String, r: Row| {
        print_row(run, &name, &r);
        rows.entry(name).or_default().push(r);
    };
    for run in 1..=args.runs {
        if wants("baseline") {
            let m = Meter::start(pid);
            let out = closed_loop(target.addr, baseline.clone(), c, d).await;
            keep(
                run,
                format!("a. baseline, closed loop, {c} conn"),
                row(out, &m),
            );
        }
        if wants("throughput") {
            let m = Meter::start(pid);
            let out = closed_loop(target.addr, dashboard.clone(), c, d).await;
            keep(
                run,
                format!("b. dashboard, closed loop, {c} conn"),
                row(out, &m),
            );
        }
        if wants("latency") {
            let m = Meter::start(pid);
            let out = open_loop(
                target.addr,
                dashboard.clone(),
                args.rate,
                args.open_connections,
                d,
            )
            .await;
            keep(
                run,
                format!("c. dashboard at {}/s", args.rate),
                row(out, &m),
            );
        }
        if wants("notify") {
            let m = Meter::start(pid);
            let load = open_loop(
                target.addr,
                dashboard.clone(),
                args.rate,
                args.open_connections,
                d,
            );
            let writes = notify::run(target, &setup, args.writes, d);
            let (out, writes) = tokio::join!(load, writes);
            keep(
                run,
                format!("d. dashboard at {}/s + writes", args.rate),
                row(out, &m),
            );
            let w = writes?;
            if let Some(e) = &w.first_error {
                eprintln!("  first write error: {e}");
            }
            let rate = w.writes as f64 / args.duration;
            let errors = w.write_errors + w.missed;
            eprintln!(
                "  writes {}, errors {}, missed {}, received before the ack {}",
                w.writes, w.write_errors, w.missed, w.early
            );
            keep(
                run,
                "e. write → subscriber (from sent)".into(),
                latency_row(w.from_send, rate, errors),
            );
            keep(
                run,
                "f. write → subscriber (from ack)".into(),
                latency_row(w.from_ack, rate, errors),
            );
            keep(
                run,
                "g. write acknowledged".into(),
                latency_row(w.write_latency, rate, errors),
            );
        }
        if wants("asof") {
            let m = Meter::start(pid);
            let out = open_loop(target.addr, as_of.clone(), args.as_of_rate, 4, d).await;
            keep(
                run,
                format!("h. dashboard asOf at {}/s", args.as_of_rate),
                row(out, &m),
            );
            let m = Meter::start(pid);
            let out = closed_loop(target.addr, as_of.clone(), 1, d).await;
            keep(
                run,
                "i. dashboard asOf, closed loop, 1 conn".into(),
                row(out, &m),
            );
        }
        if let Some((rss, peak)) = pid.and_then(resident_mib) {
            eprintln!("run {run}: server resident {rss:.0} MiB (peak {peak:.0} MiB)");
        }
    }

    println!(
        "\nMedians of {} runs of {} s; class {:?} ({} pupils, {} subjects, answer {} bytes).\n",
        args.runs,
        args.duration,
        setup.class_name,
        setup.pupils,
        setup.subjects,
        setup.dashboard_bytes
    );
    println!("| measurement | answers/s | p50 ms | p90 ms | p99 ms | max ms | failed or unanswered | server CPU µs/req | generator CPU (cores) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut medians = BTreeMap::new();
    for (name, list) in &rows {
        let m = |f: fn(&Row) -> f64| median(list.iter().map(f).collect());
        let r = (
            m(|r| r.rate),
            m(|r| r.latency.p50),
            m(|r| r.latency.p90),
            m(|r| r.latency.p99),
            m(|r| r.latency.max),
            list.iter().map(|r| r.errors).sum::<u64>(),
            m(|r| r.server_cpu_us),
            m(|r| r.client_cpu),
        );
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.0} | {:.2} |",
            r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7
        );
        medians.insert(name.clone(), r);
    }
    let find = |prefix: &str| {
        medians
            .iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| *v)
    };
    if let (Some(a), Some(b)) = (find("a."), find("b.")) {
        println!(
            "\nDashboard / baseline: throughput {:.2}×, server CPU per request {:.1}×.",
            b.0 / a.0,
            b.6 / a.6
        );
    }
    Ok(())
}
