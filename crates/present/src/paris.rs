//! The school's local time (Europe/Paris) to and from UTC: the times exports write, the
//! times pages show. The EU rule since 1996: summer time (UTC+2) from the last Sunday of March at 01:00 UTC
//! to the last Sunday of October at 01:00 UTC, UTC+1 otherwise. A local time in the spring
//! gap or the autumn overlap gets the summer offset.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};

fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }?;
    let last = next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    last.checked_sub_signed(Duration::days(i64::from(back)))
}

fn summer(utc: NaiveDateTime) -> bool {
    let year = utc.year();
    let (Some(start), Some(end)) = (last_sunday(year, 3), last_sunday(year, 10)) else {
        return false;
    };
    let at_one = |d: NaiveDate| d.and_hms_opt(1, 0, 0);
    match (at_one(start), at_one(end)) {
        (Some(start), Some(end)) => start <= utc && utc < end,
        _ => false,
    }
}

/// The UTC instant of a Paris wall-clock time (`None` at the ends of the calendar).
pub fn to_utc(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let as_summer = local.checked_sub_signed(Duration::hours(2))?;
    let utc = if summer(as_summer) {
        as_summer
    } else {
        local.checked_sub_signed(Duration::hours(1))?
    };
    Some(utc.and_utc())
}

/// The Paris wall-clock time of a UTC instant.
pub fn from_utc(utc: DateTime<Utc>) -> NaiveDateTime {
    let naive = utc.naive_utc();
    let offset = if summer(naive) { 2 } else { 1 };
    naive + Duration::hours(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn to_utc_(local: NaiveDateTime) -> DateTime<Utc> {
        to_utc(local).unwrap()
    }

    #[test]
    fn from_utc_undoes_to_utc() {
        // 26 March 2023 (last Sunday of March): 00:59 UTC is 01:59 in Paris, 01:00 UTC
        // is already 03:00.
        let utc = |h, m| {
            NaiveDate::from_ymd_opt(2023, 3, 26)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
                .and_utc()
        };
        assert_eq!(from_utc(utc(0, 59)), local(2023, 3, 26, 1, 59));
        assert_eq!(from_utc(utc(1, 0)), local(2023, 3, 26, 3, 0));
        for (y, m, d, h) in [(2026, 1, 12, 8), (2026, 7, 3, 17), (2026, 12, 1, 23)] {
            let l = local(y, m, d, h, 30);
            assert_eq!(from_utc(to_utc_(l)), l);
        }
    }

    #[test]
    fn winter_is_one_hour_ahead_and_summer_two() {
        // 2021: summer time from 28 March to 31 October.
        assert_eq!(
            to_utc_(local(2021, 2, 23, 21, 57)).to_rfc3339(),
            "2021-02-23T20:57:00+00:00"
        );
        assert_eq!(
            to_utc_(local(2021, 6, 1, 10, 0)).to_rfc3339(),
            "2021-06-01T08:00:00+00:00"
        );
        assert_eq!(
            to_utc_(local(2021, 3, 28, 1, 59)).to_rfc3339(),
            "2021-03-28T00:59:00+00:00"
        );
        assert_eq!(
            to_utc_(local(2021, 3, 28, 3, 0)).to_rfc3339(),
            "2021-03-28T01:00:00+00:00"
        );
        assert_eq!(
            to_utc_(local(2021, 10, 31, 4, 0)).to_rfc3339(),
            "2021-10-31T03:00:00+00:00"
        );
    }
}
