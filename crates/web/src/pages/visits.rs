//! Each person's last visit of their family page: what "Nouveau depuis votre dernière
//! visite" is computed from. Held in memory (a restart forgets it: the next visit then
//! says it is the first).

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Default)]
pub struct Visits {
    last: HashMap<Uuid, DateTime<Utc>>,
}

impl Visits {
    /// The previous visit of `person`, recording this one at `now`.
    pub fn visit(&mut self, person: Uuid, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.last.insert(person, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_visit_returns_the_one_before() {
        let mut visits = Visits::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let t = |s| DateTime::from_timestamp(s, 0).expect("an instant");
        assert_eq!(visits.visit(a, t(10)), None);
        assert_eq!(visits.visit(a, t(20)), Some(t(10)));
        assert_eq!(visits.visit(b, t(30)), None);
        assert_eq!(visits.visit(a, t(40)), Some(t(20)));
    }
}
