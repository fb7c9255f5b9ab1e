//! French number and date formatting: decimal commas, two decimals for averages (rounded
//! half away from zero, as bulletins do), HTML escaping.

use chrono::NaiveDate;

/// `value` in hundredths, rounded half away from zero (a float just under a half, from a
/// division, is nudged up first): 12.345 → 1235.
pub fn hundredths(value: f64) -> i64 {
    let scaled = value * 100.0;
    let nudged = scaled + scaled.signum() * 1e-9;
    nudged.round() as i64
}

/// An average with two decimals and a decimal comma: `12,35`.
pub fn points(value: f64) -> String {
    points_of_hundredths(hundredths(value))
}

/// Hundredths as the bulletin shows them: 1235 → `12,35`.
pub fn points_of_hundredths(h: i64) -> String {
    let sign = if h < 0 { "-" } else { "" };
    format!("{sign}{},{:02}", h.abs() / 100, h.abs() % 100)
}

/// An optional average; a dash when there is none.
pub fn opt_points(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), points)
}

/// A number with `decimals` decimals and a decimal comma.
pub fn num(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$}").replace('.', ",")
}

/// Minutes from milliseconds, one decimal: `12,5`.
pub fn minutes(ms: i64) -> String {
    num(ms as f64 / 60_000.0, 1)
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `4 décembre 2025`.
pub fn date(d: NaiveDate) -> String {
    use chrono::Datelike;
    let month = MONTHS.get(d.month0() as usize).copied().unwrap_or_default();
    format!("{} {month} {}", d.day(), d.year())
}

/// A number as short as it can be, at most two decimals: `12,5`, `2`, `0,75`.
pub fn decimal(value: f64) -> String {
    let text = points(value);
    let text = text.trim_end_matches('0');
    text.trim_end_matches(',').to_owned()
}

/// A decimal the API writes with a point ("12.5") in French ("12,5").
pub fn french_decimal(text: &str) -> String {
    text.replace('.', ",")
}

/// `12 mars 2026 à 14 h 05`, the time in Paris.
pub fn date_time(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    let local = crate::paris::from_utc(at);
    format!(
        "{} à {} h {:02}",
        date(local.date()),
        local.hour(),
        local.minute()
    )
}

/// How long ago, in words: `il y a 42 s`, `il y a 3 min`, `il y a 2 h`.
pub fn ago(seconds: i64) -> String {
    match seconds.max(0) {
        s @ 0..=59 => format!("il y a {s} s"),
        s @ 60..=3599 => format!("il y a {} min", s / 60),
        s => format!("il y a {} h", s / 3600),
    }
}

pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_forms() {
        assert_eq!(points(12.345), "12,35");
        assert_eq!(points(8.0), "8,00");
        assert_eq!(opt_points(None), "–");
        assert_eq!(minutes(90_000), "1,5");
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2025, 12, 4).unwrap_or_default()),
            "4 décembre 2025"
        );
        assert_eq!(esc("<a&b>"), "&lt;a&amp;b&gt;");
        assert_eq!(decimal(12.5), "12,5");
        assert_eq!(decimal(2.0), "2");
        assert_eq!(decimal(0.75), "0,75");
        assert_eq!(decimal(10.0), "10");
        assert_eq!(decimal(12.345), "12,35");
        assert_eq!(french_decimal("12.5"), "12,5");
        assert_eq!(ago(42), "il y a 42 s");
        assert_eq!(ago(185), "il y a 3 min");
        assert_eq!(ago(7300), "il y a 2 h");
        let winter = NaiveDate::from_ymd_opt(2026, 3, 12)
            .and_then(|d| d.and_hms_opt(13, 5, 0))
            .map(|t| t.and_utc())
            .expect("a valid instant");
        // 13:05 UTC is 14:05 in Paris in March before summer time.
        assert_eq!(date_time(winter), "12 mars 2026 à 14 h 05");
    }
}
