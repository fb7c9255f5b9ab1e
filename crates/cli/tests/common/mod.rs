//! Runs the real `suivi` binary against real SQLite files in temporary directories.
#![allow(dead_code)]

pub mod demo_server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub fn suivi<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_suivi"))
        .args(args)
        .env_remove("SUIVI_STORE")
        .env_remove("RUST_LOG")
        .output()
        .expect("the suivi binary runs")
        .into()
}

/// A temporary directory with a store in it.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn store(&self, name: &str) -> String {
        format!("sqlite:{}", self.path(name).display())
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("writing a test file");
        path
    }
}

/// The store's log as exported JSON values.
pub fn export(store: &str) -> Vec<serde_json::Value> {
    let run = suivi(&["export", "--store", store]);
    assert!(run.ok(), "export failed: {}", run.stderr);
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("export lines are JSON"))
        .collect()
}

pub fn count_by_type(events: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in events {
        *out.entry(e["event_type"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    out
}

pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

pub fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}
