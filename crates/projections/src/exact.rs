//! Exact figures: averages are kept as fractions until they are shown.
//!
//! A French average is displayed to two decimals. Folding floats would make a mean of
//! 12.345 come out as 12.344999… and round the wrong way, so every figure is a reduced
//! fraction of `i128` (`num / den`, `den > 0`) and is rounded once, for display, to the
//! nearest hundredth **half away from zero** (12.345 → 12.35, −0.125 → −0.13).
//!
//! The denominators that occur are products of scales (/20, /10…), coefficients and
//! pupil counts; with real data they stay far below `i128::MAX`. Should an operation
//! overflow anyway (hundreds of distinct, mutually prime scales), the result falls back to
//! a fraction over 10¹² computed from `f64`, which still rounds correctly except exactly on
//! a half-hundredth.

use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// A reduced fraction. `Ord`, `Eq` and `Hash` compare values (fractions are kept reduced).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: i128,
    den: i128,
}

const FALLBACK_DEN: i128 = 1_000_000_000_000;

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ratio {
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };

    /// `num / den`; a zero denominator gives zero (callers never divide by an empty set).
    pub fn new(num: i128, den: i128) -> Ratio {
        if den == 0 {
            return Ratio::ZERO;
        }
        let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
        let g = gcd(num, den).max(1);
        Ratio {
            num: num / g,
            den: den / g,
        }
    }

    pub fn from_int(n: i64) -> Ratio {
        Ratio {
            num: i128::from(n),
            den: 1,
        }
    }

    pub fn numerator(self) -> i128 {
        self.num
    }

    pub fn denominator(self) -> i128 {
        self.den
    }

    fn approx(value: f64) -> Ratio {
        Ratio::new((value * FALLBACK_DEN as f64).round() as i128, FALLBACK_DEN)
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    fn checked_add(self, other: Ratio) -> Option<Ratio> {
        let g = gcd(self.den, other.den).max(1);
        let den = (self.den / g).checked_mul(other.den)?;
        let num = self
            .num
            .checked_mul(other.den / g)?
            .checked_add(other.num.checked_mul(self.den / g)?)?;
        Some(Ratio::new(num, den))
    }

    pub fn div_int(self, n: i128) -> Ratio {
        self / Ratio::new(n, 1)
    }

    /// The value in hundredths, rounded half away from zero.
    pub fn hundredths(self) -> i128 {
        let Some(scaled) = self.num.checked_mul(100) else {
            return (self.to_f64() * 100.0).round() as i128;
        };
        let (q, r) = (scaled / self.den, scaled % self.den);
        if r.abs() >= self.den - r.abs() {
            q + scaled.signum()
        } else {
            q
        }
    }

    /// Rounded to two decimals (half away from zero), as an `f64` for clients.
    pub fn rounded(self) -> f64 {
        self.hundredths() as f64 / 100.0
    }

    /// The bulletin form with a decimal comma: `12,35`, `-0,50`.
    pub fn display_fr(self) -> String {
        self.to_string().replace('.', ",")
    }
}

impl std::ops::Add for Ratio {
    type Output = Ratio;
    fn add(self, other: Ratio) -> Ratio {
        self.checked_add(other)
            .unwrap_or_else(|| Ratio::approx(self.to_f64() + other.to_f64()))
    }
}

impl std::ops::Neg for Ratio {
    type Output = Ratio;
    fn neg(self) -> Ratio {
        Ratio {
            num: -self.num,
            den: self.den,
        }
    }
}

impl std::ops::Sub for Ratio {
    type Output = Ratio;
    fn sub(self, other: Ratio) -> Ratio {
        self + -other
    }
}

impl std::ops::Mul for Ratio {
    type Output = Ratio;
    fn mul(self, other: Ratio) -> Ratio {
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        let num = (self.num / g1).checked_mul(other.num / g2);
        let den = (self.den / g2).checked_mul(other.den / g1);
        match (num, den) {
            (Some(n), Some(d)) => Ratio::new(n, d),
            _ => Ratio::approx(self.to_f64() * other.to_f64()),
        }
    }
}

/// Division; dividing by zero gives zero (never reached: callers divide by counts > 0).
impl std::ops::Div for Ratio {
    type Output = Ratio;
    fn div(self, other: Ratio) -> Ratio {
        if other.num == 0 {
            return Ratio::ZERO;
        }
        self * Ratio {
            num: other.den,
            den: other.num,
        }
    }
}

impl Default for Ratio {
    fn default() -> Self {
        Ratio::ZERO
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        match (
            self.num.checked_mul(other.den),
            other.num.checked_mul(self.den),
        ) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

/// Two decimals, rounded half away from zero, with a decimal point: `12.35`, `-0.50`.
impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.hundredths();
        let sign = if h < 0 { "-" } else { "" };
        let h = h.abs();
        write!(f, "{sign}{}.{:02}", h / 100, h % 100)
    }
}

/// Serialised as the rounded number (two decimals).
impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.rounded())
    }
}

/// The median of values sorted ascending: the middle one, or the mean of the two middle
/// ones for an even count. `None` for no value.
pub fn median_sorted(sorted: &[Ratio]) -> Option<Ratio> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        Some(sorted[n / 2])
    } else {
        Some((sorted[n / 2 - 1] + sorted[n / 2]).div_int(2))
    }
}

/// Mean, min and max of a set of values; `None` when the set is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Spread {
    pub mean: Ratio,
    pub min: Ratio,
    pub max: Ratio,
    pub count: u32,
}

impl Spread {
    pub fn of(values: impl IntoIterator<Item = Ratio>) -> Option<Spread> {
        let mut iter = values.into_iter();
        let first = iter.next()?;
        let mut spread = Spread {
            mean: first,
            min: first,
            max: first,
            count: 1,
        };
        let mut sum = first;
        for v in iter {
            sum = sum + v;
            spread.min = spread.min.min(v);
            spread.max = spread.max.max(v);
            spread.count += 1;
        }
        spread.mean = sum.div_int(i128::from(spread.count));
        Some(spread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(Ratio::new(12345, 1000).to_string(), "12.35");
        assert_eq!(Ratio::new(12344, 1000).to_string(), "12.34");
        assert_eq!(Ratio::new(-125, 1000).to_string(), "-0.13");
        assert_eq!(Ratio::new(-1, 200).to_string(), "-0.01");
        assert_eq!(Ratio::new(-1, 300).to_string(), "0.00");
        assert_eq!(Ratio::new(37, 3).to_string(), "12.33");
        assert_eq!(Ratio::new(38, 3).display_fr(), "12,67");
        assert_eq!(Ratio::new(20, 1).rounded(), 20.0);
    }

    #[test]
    fn arithmetic_is_exact() {
        let third = Ratio::new(1, 3);
        assert_eq!(third + third + third, Ratio::from_int(1));
        assert_eq!(Ratio::new(2, 4), Ratio::new(1, 2));
        assert_eq!(Ratio::new(1, -2), Ratio::new(-1, 2));
        assert_eq!(Ratio::new(3, 4) - Ratio::new(1, 4), Ratio::new(1, 2));
        assert_eq!(Ratio::new(3, 4) * Ratio::new(2, 3), Ratio::new(1, 2));
        assert_eq!(Ratio::new(3, 4) / Ratio::new(3, 8), Ratio::from_int(2));
        assert!(Ratio::new(1, 3) < Ratio::new(34, 100));
    }

    #[test]
    fn median_and_spread() {
        let v = [1, 3, 4, 10].map(Ratio::from_int);
        assert_eq!(median_sorted(&v), Some(Ratio::new(7, 2)));
        assert_eq!(median_sorted(&v[..3]), Some(Ratio::from_int(3)));
        let s = Spread::of(v).unwrap();
        assert_eq!(
            (s.mean, s.min, s.max, s.count),
            (Ratio::new(9, 2), v[0], v[3], 4)
        );
        assert!(Spread::of([]).is_none());
    }

    #[test]
    fn overflow_falls_back_to_a_close_value() {
        let big = Ratio::new(1, i128::MAX / 3);
        let other = Ratio::new(1, i128::MAX / 5);
        let sum = big + other;
        assert!(sum.to_f64() >= 0.0);
    }
}
