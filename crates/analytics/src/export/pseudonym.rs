//! Stable pseudonyms for pupils in exports: `P-` and the first 12 hex digits of
//! HMAC-SHA256(key, pupil id). The same key gives the same pseudonym in every export (so
//! that exports can be joined over time); without the key a pseudonym cannot be traced back
//! to the pupil's id, external id or name. The key belongs to the school's administrator;
//! an export made with a fresh random key cannot be linked to any other.

use sha2::{Digest, Sha256};
use uuid::Uuid;

const BLOCK: usize = 64;

pub struct Pseudonymiser {
    inner: [u8; BLOCK],
    outer: [u8; BLOCK],
}

impl Pseudonymiser {
    pub fn new(key: &[u8]) -> Pseudonymiser {
        let mut k = [0u8; BLOCK];
        if key.len() > BLOCK {
            k[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner = [0x36u8; BLOCK];
        let mut outer = [0x5cu8; BLOCK];
        for i in 0..BLOCK {
            inner[i] ^= k[i];
            outer[i] ^= k[i];
        }
        Pseudonymiser { inner, outer }
    }

    fn hmac(&self, message: &[u8]) -> [u8; 32] {
        let inner = Sha256::new()
            .chain_update(self.inner)
            .chain_update(message)
            .finalize();
        Sha256::new()
            .chain_update(self.outer)
            .chain_update(inner)
            .finalize()
            .into()
    }

    pub fn pseudonym(&self, pupil: &Uuid) -> String {
        let mac = self.hmac(pupil.as_bytes());
        let mut out = String::from("P-");
        for b in &mac[..6] {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let p = Pseudonymiser::new(b"Jefe");
        let mac = p.hmac(b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn pseudonyms_are_stable_per_key() {
        let id = Uuid::from_u128(42);
        let a = Pseudonymiser::new(b"key one").pseudonym(&id);
        assert_eq!(a, Pseudonymiser::new(b"key one").pseudonym(&id));
        assert_ne!(a, Pseudonymiser::new(b"key two").pseudonym(&id));
        assert!(a.starts_with("P-") && a.len() == 14);
    }
}
