//! `--keys FILE`: pupils' data keys to put in the store's key table, one JSON object a line,
//! `{"pupil_id": "…", "key": "64 hex digits"}` — the `keys.jsonl` the fixture generator
//! writes. A real export never contains keys. All or nothing: every line is checked, and a
//! key that would replace a different key already stored is refused (it would make the
//! pupil's sealed identity unreadable).

use super::LineError;
use serde::Deserialize;
use suivi_domain::identity::{PupilKey, KEY_LEN};
use suivi_domain::ids::PupilId;
use suivi_store::EventStore;

#[derive(Debug, Default)]
pub struct KeysReport {
    pub loaded: usize,
    pub already_present: usize,
    pub errors: Vec<LineError>,
}

#[derive(Deserialize)]
struct KeyLine {
    pupil_id: PupilId,
    key: String,
}

fn parse_key(hex: &str) -> Option<PupilKey> {
    let bytes = hex.as_bytes();
    if bytes.len() != KEY_LEN * 2 {
        return None;
    }
    let mut key = [0u8; KEY_LEN];
    for (slot, pair) in key.iter_mut().zip(bytes.chunks(2)) {
        let digit = |b: u8| char::from(b).to_digit(16);
        let (hi, lo) = (digit(*pair.first()?)?, digit(*pair.get(1)?)?);
        *slot = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(PupilKey(key))
}

/// Loads the keys of a keys file into the store; writes nothing if any line is bad.
pub async fn load_keys(store: &dyn EventStore, bytes: &[u8]) -> anyhow::Result<KeysReport> {
    let mut report = KeysReport::default();
    let mut keys = Vec::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        let fail = |reason: String| LineError { line, reason };
        let Ok(text) = std::str::from_utf8(raw) else {
            report.errors.push(fail("is not valid UTF-8".into()));
            continue;
        };
        let text = text.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<KeyLine>(text) {
            Err(e) => report.errors.push(fail(format!("not a key line: {e}"))),
            Ok(k) => match parse_key(&k.key) {
                None => report.errors.push(fail(format!(
                    "the key of pupil {} is not {} hex digits",
                    k.pupil_id,
                    KEY_LEN * 2
                ))),
                Some(key) => keys.push((line, k.pupil_id, key)),
            },
        }
    }
    let mut new = Vec::new();
    for (line, pupil, key) in keys {
        match store.get_key(pupil).await? {
            Some(stored) if stored == key => report.already_present += 1,
            Some(_) => report.errors.push(LineError {
                line,
                reason: format!(
                    "pupil {pupil} already has another key in the store; replacing it would make their identity unreadable"
                ),
            }),
            None => new.push((pupil, key)),
        }
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }
    for (pupil, key) in new {
        store.put_key(pupil, key).await?;
        report.loaded += 1;
    }
    Ok(report)
}

/// What `suivi import` says of a keys file given as a file to import.
pub const KEYS_FILE_GIVEN: &str = "this is a keys file: pass it with --keys";

/// A key line and nothing else: how a keys file is told from an event file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExactKeyLine {
    pupil_id: PupilId,
    key: String,
}

/// Whether `first_line` (the first non-blank line of a file) is a line of a keys file.
pub fn is_key_line(first_line: &str) -> bool {
    let text = first_line.trim().trim_start_matches('\u{feff}');
    serde_json::from_str::<ExactKeyLine>(text).is_ok()
}

/// Whether the file at `path` is a keys file, judged by its first non-blank line (an event
/// file is not read through).
pub fn is_keys_file(path: &std::path::Path) -> std::io::Result<bool> {
    use std::io::BufRead;
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    for line in file.split(b'\n') {
        let line = line?;
        let Ok(text) = std::str::from_utf8(&line) else {
            return Ok(false);
        };
        if !text.trim().trim_start_matches('\u{feff}').is_empty() {
            return Ok(is_key_line(text));
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_line_is_told_from_an_event_line() {
        let key = format!(
            "{{\"pupil_id\":\"0198ef79-e580-78d0-8add-99894714a50c\",\"key\":\"{}\"}}",
            "0f".repeat(32)
        );
        assert!(is_key_line(&key));
        assert!(is_key_line(&format!("\u{feff}{key}\r")));
        let event = "{\"pupil_id\":\"0198ef79-e580-78d0-8add-99894714a50c\",\"key\":\"x\",\"event_type\":\"PupilRegistered\"}";
        assert!(!is_key_line(event));
        assert!(!is_key_line("class;pupil_id;key"));
    }

    #[test]
    fn keys_are_64_hex_digits() {
        let hex = "0f".repeat(32);
        assert_eq!(parse_key(&hex), Some(PupilKey([15; 32])));
        assert_eq!(parse_key("0f"), None);
        assert_eq!(parse_key(&"zz".repeat(32)), None);
        assert_eq!(parse_key(&"é".repeat(32)), None);
    }
}
