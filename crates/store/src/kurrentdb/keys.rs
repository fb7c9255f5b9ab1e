//! The key table on KurrentDB: one stream per pupil (`{prefix}.keys-{pupil}`), its last
//! event the current key, hard-deleted (tombstoned) to destroy the key.

use super::index::backend;
use crate::StoreError;
use eventstore as es;
use serde::{Deserialize, Serialize};
use suivi_domain::identity::{PupilKey, KEY_LEN};
use suivi_domain::ids::PupilId;

const KEY_SET: &str = "PupilKeySet";

#[derive(Serialize, Deserialize)]
struct KeySet {
    key: Vec<u8>,
}

/// The key as event data (a JSON array of bytes).
pub fn key_data(key: &PupilKey) -> Result<es::EventData, StoreError> {
    es::EventData::json(
        KEY_SET,
        &KeySet {
            key: key.0.to_vec(),
        },
    )
    .map_err(|e| StoreError::Backend(format!("encoding a key for KurrentDB: {e}")))
}

/// The key a stored event holds.
pub fn key_of(pupil: PupilId, data: &[u8]) -> Result<PupilKey, StoreError> {
    let set: KeySet = serde_json::from_slice(data).map_err(|e| {
        StoreError::Corrupt(format!("key event of pupil {pupil} is not a key: {e}"))
    })?;
    let len = set.key.len();
    let key: [u8; KEY_LEN] = set.key.try_into().map_err(|_| {
        StoreError::Corrupt(format!(
            "key of pupil {pupil} has {len} bytes instead of {KEY_LEN}"
        ))
    })?;
    Ok(PupilKey(key))
}

/// Appends the key; on the stream's first write, asks KurrentDB to keep one event only, so
/// a replaced key becomes garbage for the next scavenge.
pub async fn put(
    client: &es::Client,
    stream: String,
    pupil: PupilId,
    key: &PupilKey,
) -> Result<(), StoreError> {
    let written = client
        .append_to_stream(stream.as_str(), &Default::default(), key_data(key)?)
        .await
        .map_err(|e| match e {
            es::Error::ResourceDeleted => StoreError::Backend(format!(
                "the key of pupil {pupil} was destroyed: its KurrentDB stream {stream} is \
                 tombstoned and can never be written again"
            )),
            e => backend(&format!("writing the key of pupil {pupil}"), e),
        })?;
    if written.next_expected_version == 0 {
        let keep_one = es::StreamMetadata::builder().max_count(1).build();
        if let Err(e) = client
            .set_stream_metadata(stream.as_str(), &Default::default(), &keep_one)
            .await
        {
            // The key is stored; only the clean-up of a later replacement is at stake.
            tracing::warn!(pupil = %pupil, error = %e, "could not set $maxCount=1 on a key stream");
        }
    }
    Ok(())
}

pub async fn get(
    client: &es::Client,
    stream: String,
    pupil: PupilId,
) -> Result<Option<PupilKey>, StoreError> {
    let doing = || format!("reading the key of pupil {pupil}");
    let options = es::ReadStreamOptions::default()
        .position(es::StreamPosition::End)
        .backwards()
        .max_count(1);
    let mut read = match client.read_stream(stream.as_str(), &options).await {
        Ok(read) => read,
        Err(es::Error::ResourceNotFound | es::Error::ResourceDeleted) => return Ok(None),
        Err(e) => return Err(backend(&doing(), e)),
    };
    match read.next().await {
        Ok(Some(resolved)) => match resolved.event {
            Some(event) => key_of(pupil, &event.data).map(Some),
            None => Ok(None),
        },
        Ok(None) | Err(es::Error::ResourceNotFound | es::Error::ResourceDeleted) => Ok(None),
        Err(e) => Err(backend(&doing(), e)),
    }
}

/// Tombstones the key stream. The events stay on disk until a scavenge removes them.
pub async fn destroy(
    client: &es::Client,
    stream: String,
    pupil: PupilId,
) -> Result<bool, StoreError> {
    // Tombstoning a stream that never existed would succeed and forbid it forever: look first.
    if get(client, stream.clone(), pupil).await?.is_none() {
        return Ok(false);
    }
    match client
        .tombstone_stream(stream.as_str(), &Default::default())
        .await
    {
        Ok(_) => Ok(true),
        // Another destroy won the race.
        Err(es::Error::ResourceDeleted) => Ok(false),
        Err(e) => Err(backend(&format!("destroying the key of pupil {pupil}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_key_round_trips_and_a_bad_one_is_named() {
        let pupil = PupilId(Uuid::from_u128(0x1ea));
        let key = PupilKey(std::array::from_fn(|i| i as u8 * 7));
        let bytes = serde_json::to_vec(&KeySet {
            key: key.0.to_vec(),
        })
        .unwrap();
        assert_eq!(key_of(pupil, &bytes).unwrap(), key);
        let err = key_of(pupil, br#"{"key":[1,2,3]}"#).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("3 bytes instead of 32") && m.contains(&pupil.to_string())),
            "{err:?}"
        );
        assert!(matches!(key_of(pupil, b"{}"), Err(StoreError::Corrupt(_))));
        assert!(key_data(&key).is_ok());
    }
}
