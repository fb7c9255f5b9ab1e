//! Dense `u32` keys for the UUIDs of the log: polars joins and groups on integers far faster
//! than on 36-character strings. One key space for every kind of id (UUIDs do not collide).

use std::collections::HashMap;
use uuid::Uuid;

#[derive(Clone, Debug, Default)]
pub struct Ids {
    keys: HashMap<Uuid, u32>,
    uuids: Vec<Uuid>,
}

impl Ids {
    /// The key of a UUID, minted on first sight.
    pub fn key(&mut self, id: &Uuid) -> u32 {
        if let Some(k) = self.keys.get(id) {
            return *k;
        }
        let k = self.uuids.len() as u32;
        self.uuids.push(*id);
        self.keys.insert(*id, k);
        k
    }

    /// The key of a UUID already seen.
    pub fn get(&self, id: &Uuid) -> Option<u32> {
        self.keys.get(id).copied()
    }

    /// The UUID of a key (nil for a key never minted, which the tables never hold).
    pub fn uuid(&self, key: u32) -> Uuid {
        self.uuids.get(key as usize).copied().unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.uuids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.uuids.is_empty()
    }
}
