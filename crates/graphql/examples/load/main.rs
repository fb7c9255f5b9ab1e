//! Load generator for `suivi serve`: the class dashboard over loopback, from a second
//! process.
//!
//! ```text
//! cargo build --release -p suivi-cli
//! cargo run --release -p suivi-graphql --example load -- \
//!     --server target/release/suivi --store sqlite:/tmp/demo.db [--runs 3] [--duration 10]
//! ```
//!
//! With `--server` it starts `suivi serve --store … --addr 127.0.0.1:<free port>` as a child
//! process and stops it at the end (with `--addr` it drives a server already running). Each
//! run measures, in order: closed-loop throughput of a trivial query (`{ __typename }`, the
//! baseline: HTTP, parsing and the executor, no read model) and of the class dashboard;
//! the dashboard's latency at a fixed rate (open loop); the delay from a write to a
//! subscriber under that load; the dashboard `asOf` the middle of the school year at a
//! fixed rate. Medians over the runs are printed as a Markdown table; the server's CPU time
//! per request comes from `/proc`.
//!
//! Authentication: `--token` (or `SUIVI_TOKEN`) is sent as `Authorization: Bearer …` on
//! every request and in the WebSocket's `connection_init`.

mod drive;
mod http;
mod notify;
mod report;
mod server;
mod stats;

use anyhow::Context as _;
use clap::Parser;
use http::{Conn, Request};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

/// The class dashboard, as external tools ask for it.
pub const DASHBOARD: &str = "query($name: String!, $asOf: DateTime) { class(name: $name, asOf: $asOf) { id name subjects { name kind mean min max gradedCount } pupils { id displayName average spider { axes { subject value classMean classMin classMax } profile } } } }";

pub const BASELINE: &str = "{ __typename }";

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for suivi serve (class dashboard, subscriptions, asOf)")]
pub struct Args {
    /// The `suivi` binary to start as a child process.
    #[arg(long, conflicts_with = "addr")]
    server: Option<std::path::PathBuf>,
    /// More arguments for the child's `suivi serve` (repeat it: `--server-arg=--no-answer-cache`).
    #[arg(long = "server-arg", allow_hyphen_values = true, requires = "server")]
    server_args: Vec<String>,
    /// The store the child serves (`sqlite:FILE`).
    #[arg(long, default_value = "sqlite:suivi.db")]
    store: String,
    /// A server already running.
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// Its process id, to report its CPU time per request.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Bearer token for every request.
    #[arg(long, env = "SUIVI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The class (name or id); the first class of the school by default.
    #[arg(long)]
    class: Option<String>,
    /// Seconds each measurement lasts.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of warm-up before the first run.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Repetitions of the whole sequence; medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Connections of the closed-loop (throughput) measurements.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Requests per second of the fixed-rate (latency) measurements.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Connections available to the fixed-rate measurements.
    #[arg(long, default_value_t = 64)]
    open_connections: usize,
    /// Writes per second during the subscription measurement.
    #[arg(long, default_value_t = 20.0)]
    writes: f64,
    /// Requests per second of the asOf measurement.
    #[arg(long, default_value_t = 20.0)]
    as_of_rate: f64,
    /// The asOf instant; the middle of the class's school year by default.
    #[arg(long)]
    as_of: Option<String>,
    /// Only these measurements (comma-separated: baseline,throughput,latency,notify,asof).
    #[arg(long, default_value = "baseline,throughput,latency,notify,asof")]
    only: String,
}

/// Where requests go and as whom.
pub struct Target {
    pub addr: SocketAddr,
    pub token: Option<String>,
}

impl Target {
    pub fn request(&self, query: &str, variables: Value) -> Request {
        let body = json!({"query": query, "variables": variables}).to_string();
        Request::post_json(self.addr, "/graphql", self.token.as_deref(), &body)
    }

    /// Runs one query that must succeed; returns `data`.
    pub async fn gql_ok(
        &self,
        conn: &mut Conn,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let response = conn.send(&self.request(query, variables)).await?;
        let answer: Value = serde_json::from_slice(response.body)
            .with_context(|| format!("status {}: not JSON", response.status))?;
        anyhow::ensure!(
            response.status == 200 && answer.get("errors").is_none(),
            "status {}: {answer}",
            response.status
        );
        Ok(answer["data"].clone())
    }
}

/// What the measurements need to know about the school.
pub struct Setup {
    pub class_name: String,
    pub class_id: String,
    pub pupil_id: String,
    pub subject_id: String,
    pub period_id: String,
    pub period_starts_on: String,
    pub as_of: String,
    pub pupils: usize,
    pub subjects: usize,
    pub dashboard_bytes: usize,
}

async fn discover(target: &Target, args: &Args) -> anyhow::Result<Setup> {
    let mut conn = Conn::connect(target.addr).await?;
    let class_name = match &args.class {
        Some(name) => name.clone(),
        None => {
            let data = target
                .gql_ok(&mut conn, "{ classes { name } }", json!({}))
                .await?;
            data["classes"][0]["name"]
                .as_str()
                .context("the school has no class")?
                .to_owned()
        }
    };
    let data = target
        .gql_ok(
            &mut conn,
            "query($n: String!) { class(name: $n) { id year { startsOn endsOn } period { id startsOn } pupils { id } subjects { id } } }",
            json!({"n": class_name}),
        )
        .await?;
    let class = &data["class"];
    let text = |v: &Value| v.as_str().map(str::to_owned).context("missing field");
    let year_start: chrono::NaiveDate = text(&class["year"]["startsOn"])?.parse()?;
    let year_end: chrono::NaiveDate = text(&class["year"]["endsOn"])?.parse()?;
    let middle = year_start + (year_end - year_start) / 2;
    let as_of = args
        .as_of
        .clone()
        .unwrap_or_else(|| format!("{middle}T12:00:00Z"));
    let body = target
        .request(DASHBOARD, json!({"name": class_name}))
        .clone();
    let dashboard_bytes = conn.send(&body).await?.body.len();
    Ok(Setup {
        class_id: text(&class["id"])?,
        pupil_id: text(&class["pupils"][0]["id"])?,
        subject_id: text(&class["subjects"][0]["id"])?,
        period_id: text(&class["period"]["id"])?,
        period_starts_on: text(&class["period"]["startsOn"])?,
        pupils: class["pupils"].as_array().map_or(0, Vec::len),
        subjects: class["subjects"].as_array().map_or(0, Vec::len),
        class_name,
        as_of,
        dashboard_bytes,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let child = match &args.server {
        Some(bin) => Some(server::Child::start(bin, &args.store, &args.server_args).await?),
        None => None,
    };
    let addr = match (&child, args.addr) {
        (Some(child), _) => child.addr,
        (None, Some(addr)) => addr,
        (None, None) => anyhow::bail!("say --server BIN (to start one) or --addr HOST:PORT"),
    };
    let pid = child.as_ref().map(|c| c.pid).or(args.server_pid);
    let target = Target {
        addr,
        token: args.token.clone(),
    };
    let result = report::run_all(&target, &args, pid).await;
    if let Some(child) = child {
        child.stop().await;
    }
    result
}

pub fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}
