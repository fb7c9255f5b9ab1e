//! French number and date formatting: decimal commas, two decimals for averages (rounded
//! half away from zero, as bulletins do), HTML escaping.

use crate::figures::hundredths;
use chrono::NaiveDate;

/// An average with two decimals and a decimal comma: `12,35`.
pub fn points(value: f64) -> String {
    let h = hundredths(value);
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
    }
}
