//! The listener connection: `LISTEN` for heads announced by any server's commit.

use super::Target;
use crate::StoreError;
use futures::StreamExt;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::watch;
use tokio_postgres::{AsyncMessage, NoTls};

fn raise(head: &watch::Sender<u64>, seen: u64) {
    head.send_if_modified(|h| {
        if seen > *h {
            *h = seen;
            true
        } else {
            false
        }
    });
}

/// Starts listening; returns once the first `LISTEN` is in place so no commit after
/// `connect` returns can be missed. Reconnects on failure, re-reading the head each time.
/// Stops, closing its connection, when `stop`'s sender (held by the store) is dropped.
pub(super) async fn spawn(
    target: Target,
    head: &Arc<watch::Sender<u64>>,
    mut stop: watch::Receiver<()>,
) -> Result<(), StoreError> {
    // Weak: the listener stops when the store is dropped.
    let head = Arc::downgrade(head);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut ready = Some(ready_tx);
    tokio::spawn(async move {
        loop {
            let result = listen_once(&target, &head, &mut ready, &mut stop).await;
            // The store was dropped: the listener ends, quietly.
            if head.strong_count() == 0 || stop.has_changed().is_err() {
                return;
            }
            match result {
                Ok(()) => tracing::warn!("postgres listener connection ended; reconnecting"),
                Err(e) => {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    tracing::warn!(error = %e, "postgres listener failed; reconnecting")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => return,
            }
        }
    });
    ready_rx.await.map_err(|_| StoreError::Closed)?
}

async fn listen_once(
    target: &Target,
    head: &Weak<watch::Sender<u64>>,
    ready: &mut Option<tokio::sync::oneshot::Sender<Result<(), StoreError>>>,
    stop: &mut watch::Receiver<()>,
) -> Result<(), StoreError> {
    let (client, mut connection) = target.config.connect(NoTls).await.map_err(super::pg)?;
    let (messages_tx, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut stream = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = stream.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if messages_tx.send(n.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "postgres listener connection error");
                    break;
                }
            }
        }
    });
    if let Some(schema) = &target.schema {
        client
            .batch_execute(&format!("SET search_path TO \"{schema}\""))
            .await
            .map_err(super::pg)?;
    }
    client
        .batch_execute(&format!("LISTEN \"{}\"", target.channel()))
        .await
        .map_err(super::pg)?;
    // Anything committed before LISTEN took effect is covered by reading the head now.
    let now: i64 = client
        .query_one("SELECT coalesce(max(global_position), 0) FROM events", &[])
        .await
        .map_err(super::pg)?
        .get(0);
    match head.upgrade() {
        Some(h) => raise(&h, now as u64),
        None => return Ok(()),
    }
    if let Some(tx) = ready.take() {
        let _ = tx.send(Ok(()));
    }
    loop {
        let payload = tokio::select! {
            payload = messages.recv() => payload,
            // The store was dropped (the only change its sender ever makes).
            _ = stop.changed() => None,
        };
        let Some(payload) = payload else { break };
        let Some(h) = head.upgrade() else { break };
        if let Ok(position) = payload.parse::<u64>() {
            raise(&h, position);
        }
    }
    driver.abort();
    drop(client);
    Ok(())
}
