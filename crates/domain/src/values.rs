//! Small value types: scales, scores, coefficients, mastery levels.
//!
//! Points are kept as integer hundredths so that averages are exact until the final rounding.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Hundredths of a point: 12.5 is `Hundredths(1250)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hundredths(pub u32);

impl Hundredths {
    pub fn from_points(points: u32) -> Self {
        Self(points * 100)
    }

    /// Parses "12", "12.5", "12,5" (French decimal comma); at most two decimals.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().replace(',', ".");
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text.as_str(), ""),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || int.len() > 6 {
            return None;
        }
        if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let int: u32 = int.parse().ok()?;
        let frac: u32 = match frac.len() {
            0 => 0,
            1 => frac.parse::<u32>().ok()? * 10,
            _ => frac.parse().ok()?,
        };
        int.checked_mul(100)?.checked_add(frac).map(Self)
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for Hundredths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = (self.0 / 100, self.0 % 100);
        if frac == 0 {
            write!(f, "{int}")
        } else if frac % 10 == 0 {
            write!(f, "{int}.{}", frac / 10)
        } else {
            write!(f, "{int}.{frac:02}")
        }
    }
}

/// A coefficient (weight), in hundredths: 1 is `Coefficient(100)`, 0.5 is `Coefficient(50)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Coefficient(pub Hundredths);

impl Coefficient {
    pub const ONE: Coefficient = Coefficient(Hundredths(100));
}

/// What a pupil got on an assessment: a score in hundredths of a point, or a mark.
///
/// Serialised compactly: a number (hundredths) or one of the vie scolaire codes
/// `"Abs"`, `"Disp"`, `"NR"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grade {
    Score(Hundredths),
    /// `Abs`: absent; excluded from the average.
    Absent,
    /// `Disp`: exempted (dispensé); excluded from the average.
    Exempted,
    /// `NR`: not handed in (non rendu); counted as 0 unless the school says otherwise.
    NotHandedIn,
}

impl Grade {
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Grade::Score(_) => None,
            Grade::Absent => Some("Abs"),
            Grade::Exempted => Some("Disp"),
            Grade::NotHandedIn => Some("NR"),
        }
    }

    /// Parses a CSV cell: a number with `,` or `.` decimals, or `Abs`, `Disp`, `NR`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "Abs" | "ABS" | "abs" => Some(Grade::Absent),
            "Disp" | "DISP" | "disp" => Some(Grade::Exempted),
            "NR" | "nr" | "Nr" => Some(Grade::NotHandedIn),
            other => Hundredths::parse(other).map(Grade::Score),
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grade::Score(h) => h.fmt(f),
            other => f.write_str(other.code().unwrap_or_default()),
        }
    }
}

impl Serialize for Grade {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Grade::Score(h) => s.serialize_u32(h.0),
            other => s.serialize_str(other.code().unwrap_or_default()),
        }
    }
}

impl<'de> Deserialize<'de> for Grade {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Grade;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a score in hundredths or one of \"Abs\", \"Disp\", \"NR\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Grade, E> {
                u32::try_from(v)
                    .map(|v| Grade::Score(Hundredths(v)))
                    .map_err(|_| E::custom(format!("score {v} is out of range")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Grade, E> {
                u32::try_from(v)
                    .map(|v| Grade::Score(Hundredths(v)))
                    .map_err(|_| E::custom(format!("score {v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Grade, E> {
                match v {
                    "Abs" => Ok(Grade::Absent),
                    "Disp" => Ok(Grade::Exempted),
                    "NR" => Ok(Grade::NotHandedIn),
                    _ => Err(E::custom(format!("unknown grade mark {v:?}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Socle commun mastery level, 1 (maîtrise insuffisante) to 4 (très bonne maîtrise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MasteryLevel(pub u8);

impl MasteryLevel {
    pub fn label_fr(self) -> &'static str {
        match self.0 {
            1 => "maîtrise insuffisante",
            2 => "maîtrise fragile",
            3 => "maîtrise satisfaisante",
            4 => "très bonne maîtrise",
            _ => "niveau inconnu",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_french_and_english_decimals() {
        assert_eq!(Hundredths::parse("12,5"), Some(Hundredths(1250)));
        assert_eq!(Hundredths::parse("12.25"), Some(Hundredths(1225)));
        assert_eq!(Hundredths::parse(" 7 "), Some(Hundredths(700)));
        assert_eq!(Hundredths::parse("12.345"), None);
        assert_eq!(Hundredths::parse("-1"), None);
        assert_eq!(Hundredths::parse(""), None);
        assert_eq!(Hundredths::parse("1e3"), None);
        assert_eq!(Hundredths::parse(",5"), None);
    }

    #[test]
    fn grade_round_trips_compactly() {
        for (grade, json) in [
            (Grade::Score(Hundredths(1250)), "1250"),
            (Grade::Absent, "\"Abs\""),
            (Grade::Exempted, "\"Disp\""),
            (Grade::NotHandedIn, "\"NR\""),
        ] {
            assert_eq!(serde_json::to_string(&grade).unwrap(), json);
            assert_eq!(serde_json::from_str::<Grade>(json).unwrap(), grade);
        }
        assert!(serde_json::from_str::<Grade>("\"Absent\"").is_err());
        assert!(serde_json::from_str::<Grade>("-5").is_err());
    }

    #[test]
    fn displays_like_a_bulletin() {
        assert_eq!(Hundredths(1250).to_string(), "12.5");
        assert_eq!(Hundredths(1205).to_string(), "12.05");
        assert_eq!(Hundredths(1200).to_string(), "12");
    }
}
