//! Read connections: a small pool, each query run on tokio's blocking threads. In WAL mode
//! readers never wait for the writer and see the last committed state.

use super::rows::Names;
use super::schema::open_reader;
use crate::StoreError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Semaphore;

/// Queries running at once (and connections kept open): more would only contend for the
/// same cores and pages; further readers wait their turn without holding a thread.
const READERS: usize = 4;

pub(super) struct Readers {
    path: PathBuf,
    turns: Semaphore,
    idle: Mutex<Vec<Reader>>,
}

/// A read connection and what it remembers of interned names.
pub(super) struct Reader {
    pub conn: Connection,
    pub names: Names,
}

impl Reader {
    fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Reader {
            conn: open_reader(path)?,
            names: Names::default(),
        })
    }
}

impl Readers {
    /// Opens the first connection now, so a bad path fails at open, not at first read.
    pub fn new(path: PathBuf) -> Result<Self, StoreError> {
        let first = Reader::open(&path)?;
        Ok(Readers {
            path,
            turns: Semaphore::new(READERS),
            idle: Mutex::new(vec![first]),
        })
    }

    /// Runs `query` on a pooled connection, off the async threads.
    pub async fn run<T, F>(self: &Arc<Self>, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Reader) -> Result<T, StoreError> + Send + 'static,
    {
        let _turn = self.turns.acquire().await.map_err(|_| StoreError::Closed)?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || readers.with(query))
            .await
            .map_err(|e| StoreError::Backend(format!("sqlite read task failed: {e}")))?
    }

    fn with<T>(
        &self,
        query: impl FnOnce(&mut Reader) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.lock().pop();
        let mut reader = match pooled {
            Some(reader) => reader,
            None => Reader::open(&self.path)?,
        };
        let result = query(&mut reader);
        let mut idle = self.lock();
        // A cancelled read gives its turn back before its query ends, so a few more
        // connections may be open for a moment; only READERS are kept.
        if idle.len() < READERS {
            idle.push(reader);
        }
        result
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Reader>> {
        // The vector is only pushed and popped; a panic elsewhere cannot leave it torn.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
