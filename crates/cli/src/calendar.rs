//! The French school calendar as the importers infer it, shared with the fixture generator.
//!
//! A school year runs from 1 September to the first Saturday of July (the start of the
//! summer holidays: 4 July 2026 for 2025-2026). A date from 1 September to 31 December
//! belongs to the year starting that September; a date from January to the first Saturday
//! of July to the year that started the September before. July and August dates after the
//! holidays begin belong to no school year.
//!
//! Periods named like a vie scolaire export names them get conventional bounds:
//! trimestres `T1` = start → 30 November, `T2` = 1 December → end of February,
//! `T3` = 1 March → end of the year; semestres `S1` = start → 31 January,
//! `S2` = 1 February → end of the year.

use chrono::{Datelike, NaiveDate, Weekday};
use suivi_domain::reference::PeriodKind;

/// One school year's bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearBounds {
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// The school year starting on 1 September of `first_year`.
pub fn school_year(first_year: i32) -> Option<YearBounds> {
    let starts_on = NaiveDate::from_ymd_opt(first_year, 9, 1)?;
    let july = NaiveDate::from_ymd_opt(first_year.checked_add(1)?, 7, 1)?;
    let ends_on = july.checked_add_days(chrono::Days::new(u64::from(
        (7 + Weekday::Sat.num_days_from_monday() - july.weekday().num_days_from_monday()) % 7,
    )))?;
    Some(YearBounds {
        label: format!("{}-{}", first_year, first_year + 1),
        starts_on,
        ends_on,
    })
}

/// The school year a date belongs to, if any (see the module doc).
pub fn school_year_of(date: NaiveDate) -> Option<YearBounds> {
    let first_year = if date.month() >= 9 {
        date.year()
    } else {
        date.year().checked_sub(1)?
    };
    school_year(first_year).filter(|y| y.starts_on <= date && date <= y.ends_on)
}

/// The bounds of a period known by its conventional name within a school year.
pub fn period_bounds(
    name: &str,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> Option<(PeriodKind, NaiveDate, NaiveDate)> {
    let first_year = starts_on.year();
    let next = first_year.checked_add(1)?;
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
    let end_of_february = ymd(next, 3, 1)?.pred_opt()?;
    let (kind, from, to) = match normalise(name).as_str() {
        "t1" => (PeriodKind::Trimestre, starts_on, ymd(first_year, 11, 30)?),
        "t2" => (
            PeriodKind::Trimestre,
            ymd(first_year, 12, 1)?,
            end_of_february,
        ),
        "t3" => (PeriodKind::Trimestre, ymd(next, 3, 1)?, ends_on),
        "s1" => (PeriodKind::Semestre, starts_on, ymd(next, 1, 31)?),
        "s2" => (PeriodKind::Semestre, ymd(next, 2, 1)?, ends_on),
        _ => return None,
    };
    (starts_on <= from && from <= to && to <= ends_on).then_some((kind, from, to))
}

/// "Trimestre 1", "1er trimestre", "T1" → "t1"; "Semestre 2" → "s2".
fn normalise(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let digit = lower.chars().find(|c| c.is_ascii_digit());
    let letter = if lower.contains("trim") || lower.starts_with('t') {
        Some('t')
    } else if lower.contains("sem") || lower.starts_with('s') {
        Some('s')
    } else {
        None
    };
    let digits = lower.chars().filter(|c| c.is_ascii_digit()).count();
    match (letter, digit) {
        (Some(l), Some(d)) if digits == 1 => format!("{l}{d}"),
        _ => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_school_year_ends_on_the_first_saturday_of_july() {
        let y = school_year(2025).unwrap();
        assert_eq!((y.starts_on, y.ends_on), (d(2025, 9, 1), d(2026, 7, 4)));
        assert_eq!(y.label, "2025-2026");
        assert_eq!(school_year(2024).unwrap().ends_on, d(2025, 7, 5));
        assert_eq!(school_year(2026).unwrap().ends_on, d(2027, 7, 3));
    }

    #[test]
    fn dates_belong_to_the_year_around_them() {
        assert_eq!(school_year_of(d(2025, 10, 9)).unwrap().label, "2025-2026");
        assert_eq!(school_year_of(d(2026, 2, 3)).unwrap().label, "2025-2026");
        assert_eq!(school_year_of(d(2026, 7, 4)).unwrap().label, "2025-2026");
        assert_eq!(school_year_of(d(2026, 7, 20)), None);
        assert_eq!(school_year_of(d(2026, 8, 31)), None);
    }

    #[test]
    fn conventional_periods() {
        let (s, e) = (d(2025, 9, 1), d(2026, 7, 4));
        assert_eq!(
            period_bounds("T1", s, e),
            Some((PeriodKind::Trimestre, s, d(2025, 11, 30)))
        );
        assert_eq!(
            period_bounds("2e trimestre", s, e),
            Some((PeriodKind::Trimestre, d(2025, 12, 1), d(2026, 2, 28)))
        );
        assert_eq!(
            period_bounds("t3", s, e),
            Some((PeriodKind::Trimestre, d(2026, 3, 1), e))
        );
        assert_eq!(
            period_bounds("Semestre 1", s, e),
            Some((PeriodKind::Semestre, s, d(2026, 1, 31)))
        );
        assert_eq!(period_bounds("P4", s, e), None);
        assert_eq!(period_bounds("T12", s, e), None);
        // Leap year: February has 29 days in 2028.
        let y = school_year(2027).unwrap();
        assert_eq!(
            period_bounds("T2", y.starts_on, y.ends_on).unwrap().2,
            d(2028, 2, 29)
        );
    }
}
