//! Personal identity data, sealed before it reaches the log.
//!
//! Names, birth dates and guardian contacts are encrypted with a per-pupil key
//! (XChaCha20-Poly1305) kept in a key table beside the log, never in it. Destroying the
//! key erases the identity without rewriting history. The pupil id is the associated data,
//! so a sealed blob cannot be replayed under another pupil.
//!
//! Pure: the caller supplies the key and the nonce (the edges own randomness).

use crate::ids::PupilId;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::fmt;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;

/// A pupil's data key. Debug never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct PupilKey(pub [u8; KEY_LEN]);

impl fmt::Debug for PupilKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PupilKey(…)")
    }
}

/// Ciphertext as stored in an event payload (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub nonce: String,
    pub ciphertext: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PupilIdentity {
    pub last_name: String,
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
}

impl PupilIdentity {
    /// "NOM Prénom", the way a French class list shows a pupil.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.last_name.to_uppercase(), self.first_name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianContact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// mère, père, tuteur…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed data of pupil {0} cannot be opened: wrong key, or tampered")]
    Open(PupilId),
    #[error("sealed data of pupil {0} is not valid hex")]
    Encoding(PupilId),
    #[error("sealed data of pupil {0} does not decode: {1}")]
    Shape(PupilId, String),
}

pub fn seal<T: Serialize>(
    key: &PupilKey,
    nonce: [u8; NONCE_LEN],
    pupil: PupilId,
    value: &T,
) -> Sealed {
    let plain = serde_json::to_vec(value).unwrap_or_default();
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    // Encryption with a valid key and nonce cannot fail for in-memory buffers.
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: pupil.0.as_bytes(),
            },
        )
        .unwrap_or_default();
    Sealed {
        nonce: hex_encode(&nonce),
        ciphertext: hex_encode(&ciphertext),
    }
}

pub fn open<T: DeserializeOwned>(
    key: &PupilKey,
    pupil: PupilId,
    sealed: &Sealed,
) -> Result<T, SealError> {
    let nonce = hex_decode(&sealed.nonce).ok_or(SealError::Encoding(pupil))?;
    let ciphertext = hex_decode(&sealed.ciphertext).ok_or(SealError::Encoding(pupil))?;
    if nonce.len() != NONCE_LEN {
        return Err(SealError::Encoding(pupil));
    }
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let plain = cipher
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: pupil.0.as_bytes(),
            },
        )
        .map_err(|_| SealError::Open(pupil))?;
    serde_json::from_slice(&plain).map_err(|e| SealError::Shape(pupil, e.to_string()))
}

fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn identity() -> PupilIdentity {
        PupilIdentity {
            last_name: "Martin".into(),
            first_name: "Léa".into(),
            birth_date: NaiveDate::from_ymd_opt(2009, 3, 14),
        }
    }

    #[test]
    fn sealed_identity_opens_with_its_key_only() {
        let pupil = PupilId(Uuid::from_u128(7));
        let key = PupilKey([3; KEY_LEN]);
        let sealed = seal(&key, [9; NONCE_LEN], pupil, &identity());
        assert!(!sealed.ciphertext.contains("Martin"));
        assert!(!hex_decode(&sealed.ciphertext)
            .unwrap()
            .windows(6)
            .any(|w| w == b"Martin"));
        assert_eq!(
            open::<PupilIdentity>(&key, pupil, &sealed).unwrap(),
            identity()
        );
        assert_eq!(
            open::<PupilIdentity>(&PupilKey([4; KEY_LEN]), pupil, &sealed),
            Err(SealError::Open(pupil))
        );
        let other = PupilId(Uuid::from_u128(8));
        assert_eq!(
            open::<PupilIdentity>(&key, other, &sealed),
            Err(SealError::Open(other))
        );
    }

    #[test]
    fn hex_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_decode(&hex_encode(&bytes)).unwrap(), bytes);
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
    }
}
