//! The server under test as a child process: `suivi serve` on a free loopback port.

use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tokio::time::Instant;

pub struct Child {
    pub addr: SocketAddr,
    pub pid: u32,
    process: std::process::Child,
}

impl Child {
    pub async fn start(bin: &Path, store: &str, more: &[String]) -> anyhow::Result<Child> {
        // A port the kernel just handed out, released for the server to take.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let log = std::env::temp_dir().join(format!("suivi-load-{}.log", addr.port()));
        let mut process = Command::new(bin)
            .args(["serve", "--store", store, "--addr", &addr.to_string()])
            .args(more)
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = process.id();
        eprintln!("server pid {pid} on {addr}, log {}", log.display());
        let started = Instant::now();
        let health = crate::http::Request::get(addr, "/health");
        loop {
            if let Ok(mut conn) = crate::http::Conn::connect(addr).await {
                if let Ok(r) = conn.send(&health).await {
                    if r.status == 200 {
                        break;
                    }
                }
            }
            if let Some(status) = process.try_wait()? {
                anyhow::bail!("the server exited ({status}); see {}", log.display());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(300),
                "the server did not answer /health within 300 s (see {})",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("server up after {:.1} s", started.elapsed().as_secs_f64());
        Ok(Child { addr, pid, process })
    }

    /// SIGTERM (graceful shutdown), then SIGKILL after 10 s.
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if !matches!(self.process.try_wait(), Ok(None)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // Harmless once the process has been waited for.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
