//! Durability proven, not assumed: every append the SQLite store acknowledges was preceded
//! by a sync of its WAL file.
//!
//! A child process (this very test binary, re-run on the ignored `durability_child`) opens
//! a store and appends one event at a time, writing `ACK n` to its standard output as soon
//! as append `n` is acknowledged. It runs under `strace -f`, which logs, in the order they
//! happen, the WAL's writes (`pwrite64`), its syncs (`fdatasync`, `fsync`) and the `ACK`
//! writes. The parent reads the log: before each `ACK`, the WAL must have been synced since
//! it was last written, and synced at least once since the previous `ACK`.
//!
//! The same run with `synchronous` lowered to NORMAL behind the store's back (the
//! `test-knobs` entry point; the store itself refuses such a connection) must be caught.
//!
//! Needs `strace` (Debian package `strace`, installed by `.ci/run`); the test fails, rather
//! than passes, without it.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use suivi_store::contract::{event, stream};
use suivi_store::sqlite::SqliteStore;
use suivi_store::{EventStore, ExpectedVersion};

const DB_VAR: &str = "SUIVI_DURABILITY_CHILD_DB";
const LOWER_VAR: &str = "SUIVI_DURABILITY_CHILD_SYNCHRONOUS";
const APPENDS: u64 = 12;

#[test]
#[ignore = "the child process of every_acknowledged_append_followed_a_sync_of_the_wal"]
fn durability_child() {
    let Ok(path) = std::env::var(DB_VAR) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = match std::env::var(LOWER_VAR) {
            Ok(level) => SqliteStore::open_with_synchronous_lowered_for_tests(&path, &level),
            Err(_) => SqliteStore::open(&path),
        }
        .unwrap();
        let mut out = std::io::stdout().lock();
        for n in 1..=APPENDS {
            let expected = match n {
                1 => ExpectedVersion::NoStream,
                v => ExpectedVersion::Exact(v - 1),
            };
            store
                .append(stream("durable"), expected, vec![event(n)])
                .await
                .unwrap();
            // One write(2) per acknowledgement, seen by strace in order with the syncs.
            out.write_all(format!("ACK {n}\n").as_bytes()).unwrap();
            out.flush().unwrap();
        }
    });
}

/// What the trace showed: for each `ACK`, in order, whether the WAL was synced since its
/// last write and how many syncs of it happened since the previous `ACK`.
#[derive(Debug, Default)]
struct Trace {
    acks: Vec<(u64, bool, usize)>,
    wal_writes: usize,
    wal_syncs: usize,
}

/// Reads an `strace -f -y` log. A call interrupted by another thread's is logged as
/// `… <unfinished ...>` then `<... name resumed> …) = result`; it counts when it returns.
fn read_trace(log: &str) -> Trace {
    let mut trace = Trace::default();
    let mut pending: HashMap<String, String> = HashMap::new();
    let (mut dirty, mut syncs_since_ack) = (false, 0);
    for line in log.lines() {
        // strace pads the pid to a width: `2608  write(…` as well as `24129 write(…`.
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        let call = if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid.to_owned(), head.to_owned());
            continue;
        } else if rest.starts_with("<... ") {
            let Some(head) = pending.remove(pid) else {
                continue;
            };
            let tail = rest.split_once("resumed>").map_or("", |(_, t)| t);
            format!("{head}{tail}")
        } else {
            rest.to_owned()
        };
        let ok = call
            .rsplit_once(" = ")
            .is_some_and(|(_, r)| !r.trim_start().starts_with('-'));
        let on_wal = call
            .split_once('(')
            .and_then(|(_, args)| args.split_once('>'))
            .is_some_and(|(fd, _)| fd.ends_with("-wal"));
        if call.starts_with("pwrite64(") && on_wal && ok {
            trace.wal_writes += 1;
            dirty = true;
        } else if (call.starts_with("fdatasync(") || call.starts_with("fsync(")) && on_wal && ok {
            trace.wal_syncs += 1;
            syncs_since_ack += 1;
            dirty = false;
        } else if call.starts_with("write(1<") {
            if let Some(n) = call
                .split_once("\"ACK ")
                .and_then(|(_, t)| t.split_once('\\'))
                .and_then(|(n, _)| n.parse().ok())
            {
                trace.acks.push((n, !dirty, syncs_since_ack));
                syncs_since_ack = 0;
            }
        }
    }
    trace
}

fn run_child(dir: &Path, lowered: Option<&str>) -> Trace {
    let db = dir.join("suivi.db");
    let log = dir.join("strace.log");
    let mut command = Command::new("strace");
    command
        .args([
            "-f",
            "-y",
            "-qq",
            "-e",
            "trace=pwrite64,fdatasync,fsync,write",
            "-o",
        ])
        .arg(&log)
        .arg(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "durability_child", "--nocapture"])
        .env(DB_VAR, &db)
        .env_remove(LOWER_VAR);
    if let Some(level) = lowered {
        command.env(LOWER_VAR, level);
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!("strace could not be run ({e}): install the Debian package `strace`")
    });
    assert!(
        output.status.success(),
        "the child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let acked = stdout.lines().filter(|l| l.starts_with("ACK ")).count() as u64;
    assert_eq!(
        acked, APPENDS,
        "the child acknowledged {acked} appends:\n{stdout}"
    );
    read_trace(&std::fs::read_to_string(&log).unwrap())
}

#[test]
fn every_acknowledged_append_followed_a_sync_of_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let trace = run_child(dir.path(), None);
    // The probe: the trace sees every acknowledgement and the WAL being written.
    let order: Vec<u64> = trace.acks.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(order, (1..=APPENDS).collect::<Vec<_>>(), "{trace:?}");
    assert!(trace.wal_writes as u64 >= APPENDS, "{trace:?}");
    for (n, synced, syncs) in &trace.acks {
        assert!(
            *synced && *syncs >= 1,
            "append {n} was acknowledged with the WAL written but not synced: {trace:?}"
        );
    }
}

#[test]
fn a_lowered_synchronous_is_caught_by_the_same_trace() {
    let dir = tempfile::tempdir().unwrap();
    let trace = run_child(dir.path(), Some("NORMAL"));
    // The same probe as above: every acknowledgement and the WAL's writes are seen…
    let order: Vec<u64> = trace.acks.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(order, (1..=APPENDS).collect::<Vec<_>>(), "{trace:?}");
    assert!(trace.wal_writes as u64 >= APPENDS, "{trace:?}");
    // …and with NORMAL, appends are acknowledged before their WAL frames are synced.
    let unsynced = trace.acks.iter().filter(|(_, synced, _)| !synced).count();
    assert!(
        unsynced as u64 >= APPENDS - 1,
        "only {unsynced} of {APPENDS} acknowledgements came before a sync: {trace:?}"
    );
}
