//! Reading a grades export as a vie scolaire software writes it:
//!
//! ```text
//! class;pupil_id;last_name;first_name;subject;subject_kind;assessment;date;period;score;scale;coefficient
//! 2nde 3;E1001;Martin;Léa;Mathématiques;general;DS 1;09/10/2025;T1;14,5;20;2
//! ```
//!
//! `;` or `,` separated (whichever the header line uses), UTF-8 with or without a BOM,
//! columns found by their header name (any order, extra columns ignored), dates as
//! `YYYY-MM-DD` or `DD/MM/YYYY`, numbers with a decimal comma or point, and a score that is
//! a number or one of `Abs`, `Disp`, `NR`. Pure: bytes in, rows and line errors out.

use super::LineError;
use chrono::NaiveDate;
use suivi_domain::reference::SubjectKind;
use suivi_domain::values::{Coefficient, Grade, Hundredths};

pub const COLUMNS: [&str; 12] = [
    "class",
    "pupil_id",
    "last_name",
    "first_name",
    "subject",
    "subject_kind",
    "assessment",
    "date",
    "period",
    "score",
    "scale",
    "coefficient",
];

/// One grade row, every field parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub line: usize,
    pub class: String,
    pub external_id: String,
    pub last_name: String,
    pub first_name: String,
    pub subject: String,
    pub kind: SubjectKind,
    pub assessment: String,
    pub date: NaiveDate,
    pub period: String,
    pub grade: Grade,
    pub scale: u16,
    pub coefficient: Coefficient,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub errors: Vec<LineError>,
    /// Data lines read (header and blank lines excluded).
    pub lines: usize,
}

pub fn parse(bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header_line = body.split(|b| *b == b'\n').next().unwrap_or_default();
    if header_line.iter().all(|b| b.is_ascii_whitespace()) {
        parsed.errors.push(LineError {
            line: 1,
            reason: format!(
                "the file is empty: expected a header line {}",
                COLUMNS.join(";")
            ),
        });
        return parsed;
    }
    let semicolons = header_line.iter().filter(|b| **b == b';').count();
    let commas = header_line.iter().filter(|b| **b == b',').count();
    let delimiter = if semicolons >= commas { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let mut columns: Option<[usize; 12]> = None;
    let mut width = 0;
    let mut lines = LineCounter::default();
    loop {
        let line = record
            .position()
            .map_or(1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                parsed.errors.push(LineError {
                    line: e
                        .position()
                        .map_or(line, |p| usize::try_from(p.line()).unwrap_or(usize::MAX)),
                    reason: format!("unreadable CSV: {e}"),
                });
                break;
            }
        }
        // The reader's own line count points at the blank lines it skipped before a
        // record; a person opening the file wants the line the record is on.
        let line = record
            .position()
            .map_or(line, |p| lines.line_at(body, p.byte()));
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let Some(columns) = columns else {
            match header(&record, delimiter) {
                Ok(found) => {
                    columns = Some(found);
                    width = record.len();
                }
                Err(reason) => {
                    parsed.errors.push(LineError { line, reason });
                    return parsed;
                }
            }
            continue;
        };
        parsed.lines += 1;
        if record.len() != width {
            parsed.errors.push(LineError {
                line,
                reason: format!(
                    "{} field(s) where the header has {width} (separator {:?})",
                    record.len(),
                    char::from(delimiter)
                ),
            });
            continue;
        }
        match row(line, &record, &columns) {
            Ok(row) => parsed.rows.push(row),
            Err(reason) => parsed.errors.push(LineError { line, reason }),
        }
    }
    parsed
}

/// Lines of the body, counted once as the reader moves forward (records come in order,
/// so each byte is scanned once, not once per record).
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: usize,
}

impl LineCounter {
    /// The 1-based line of the first non-blank byte at or after `offset`.
    fn line_at(&mut self, body: &[u8], offset: u64) -> usize {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(body.len());
        if start >= self.offset {
            self.newlines += body[self.offset..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
        } else {
            self.newlines = body[..start].iter().filter(|b| **b == b'\n').count();
        }
        self.offset = start;
        let skipped = body[start..]
            .iter()
            .take_while(|b| matches!(b, b'\n' | b'\r'))
            .filter(|b| **b == b'\n')
            .count();
        self.newlines + skipped + 1
    }
}

fn header(record: &csv::ByteRecord, delimiter: u8) -> Result<[usize; 12], String> {
    let names: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_lowercase())
        .collect();
    let mut found = [0usize; 12];
    let mut missing = Vec::new();
    for (slot, column) in found.iter_mut().zip(COLUMNS) {
        match names.iter().position(|n| n == column) {
            Some(i) => *slot = i,
            None => missing.push(column),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(format!(
            "the header lacks column(s) {}; expected {} (separated by {:?})",
            missing.join(", "),
            COLUMNS.join(char::from(delimiter).to_string().as_str()),
            char::from(delimiter)
        ))
    }
}

fn row(line: usize, record: &csv::ByteRecord, columns: &[usize; 12]) -> Result<Row, String> {
    let mut fields: Vec<&str> = Vec::with_capacity(12);
    for (i, column) in columns.iter().zip(COLUMNS) {
        let bytes = record.get(*i).unwrap_or_default();
        let text = std::str::from_utf8(bytes)
            .map_err(|_| format!("column {column} is not valid UTF-8"))?;
        fields.push(text.trim());
    }
    let field = |i: usize| fields.get(i).copied().unwrap_or_default();
    let mut problems = Vec::new();
    for (i, column) in COLUMNS.iter().enumerate() {
        let optional = matches!(*column, "last_name" | "first_name");
        if !optional && field(i).is_empty() {
            problems.push(format!("{column} is empty"));
        }
    }
    let kind = SubjectKind::parse(field(5));
    if kind.is_none() && !field(5).is_empty() {
        problems.push(format!(
            "subject_kind {:?} is neither general nor vocational",
            field(5)
        ));
    }
    let date = parse_date(field(7));
    if date.is_none() && !field(7).is_empty() {
        problems.push(format!(
            "date {:?} is not a date (expected YYYY-MM-DD or DD/MM/YYYY)",
            field(7)
        ));
    }
    let grade = Grade::parse(field(9));
    let negative = field(9)
        .strip_prefix('-')
        .is_some_and(|points| Hundredths::parse(points).is_some_and(|h| h.0 > 0));
    if negative {
        // A number, only out of range: say so rather than "not a number".
        problems.push(format!("score {} is below 0", field(9)));
    } else if grade.is_none() && !field(9).is_empty() {
        problems.push(format!(
            "score {:?} is not a number nor Abs/Disp/NR",
            field(9)
        ));
    }
    let scale = field(10).parse::<u16>().ok();
    if scale.is_none() && !field(10).is_empty() {
        problems.push(format!(
            "scale {:?} is not a whole number of points",
            field(10)
        ));
    }
    if let (Some(Grade::Score(points)), Some(scale)) = (&grade, scale) {
        if *points > Hundredths::from_points(u32::from(scale)) {
            problems.push(format!("score {} is above the scale /{scale}", field(9)));
        }
    }
    let coefficient = Hundredths::parse(field(11)).map(Coefficient);
    if coefficient.is_none() && !field(11).is_empty() {
        problems.push(format!(
            "coefficient {:?} is not a number (at most two decimals)",
            field(11)
        ));
    }
    match (kind, date, grade, scale, coefficient) {
        (Some(kind), Some(date), Some(grade), Some(scale), Some(coefficient))
            if problems.is_empty() =>
        {
            Ok(Row {
                line,
                class: field(0).to_owned(),
                external_id: field(1).to_owned(),
                last_name: field(2).to_owned(),
                first_name: field(3).to_owned(),
                subject: field(4).to_owned(),
                kind,
                assessment: field(6).to_owned(),
                date,
                period: field(8).to_owned(),
                grade,
                scale,
                coefficient,
            })
        }
        _ => Err(problems.join("; ")),
    }
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "class;pupil_id;last_name;first_name;subject;subject_kind;assessment;date;period;score;scale;coefficient\n";

    fn one(line: &str) -> Parsed {
        parse(format!("{HEADER}{line}\n").as_bytes())
    }

    #[test]
    fn a_french_row_parses() {
        let p = one("2nde 3;E1;Martin;Léa;Mathématiques;general;DS 1;09/10/2025;T1;14,5;20;0,5");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = &p.rows[0];
        assert_eq!(r.line, 2);
        assert_eq!(r.grade, Grade::Score(Hundredths(1450)));
        assert_eq!(r.coefficient, Coefficient(Hundredths(50)));
        assert_eq!(r.date, NaiveDate::from_ymd_opt(2025, 10, 9).unwrap());
    }

    #[test]
    fn commas_bom_and_column_order() {
        let text = "\u{feff}pupil_id,class,last_name,first_name,subject,subject_kind,assessment,date,period,score,scale,coefficient\r\nE1,2nde 3,Martin,Léa,Atelier,vocational,TP,2025-10-09,T1,\"12,5\",20,1\r\n";
        let p = parse(text.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].class, "2nde 3");
        assert_eq!(p.rows[0].grade, Grade::Score(Hundredths(1250)));
    }

    #[test]
    fn every_problem_of_a_line_is_named() {
        let p = one("2nde 3;E1;Martin;Léa;Maths;technique;DS 1;31/02/2026;T1;douze;vingt;1");
        assert_eq!(p.errors.len(), 1);
        let reason = &p.errors[0].reason;
        for needle in ["\"technique\"", "\"31/02/2026\"", "\"douze\"", "\"vingt\""] {
            assert!(reason.contains(needle), "{reason}");
        }
        assert_eq!(p.errors[0].line, 2);
    }

    #[test]
    fn a_score_out_of_range_is_named_as_a_number_out_of_range() {
        let row = |score: &str| {
            format!("2nde 3;E1;Martin;Léa;Maths;general;DS 1;09/10/2025;T1;{score};20;1")
        };
        assert_eq!(one(&row("-2")).errors[0].reason, "score -2 is below 0");
        assert_eq!(one(&row("-0,5")).errors[0].reason, "score -0,5 is below 0");
        assert_eq!(
            one(&row("23")).errors[0].reason,
            "score 23 is above the scale /20"
        );
        assert_eq!(
            one(&row("20,01")).errors[0].reason,
            "score 20,01 is above the scale /20"
        );
        for fine in ["0", "20", "19,99", "Abs"] {
            let p = one(&row(fine));
            assert!(p.errors.is_empty(), "{fine}: {:?}", p.errors);
        }
        assert_eq!(
            one(&row("-douze")).errors[0].reason,
            "score \"-douze\" is not a number nor Abs/Disp/NR"
        );
    }

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        assert_eq!(parse(b"").errors[0].line, 1);
        assert!(parse(b"class;pupil_id\n1;2\n").errors[0]
            .reason
            .contains("subject_kind"));
        let p = one("2nde 3;E1;Martin");
        assert!(p.errors[0].reason.contains("3 field(s)"), "{:?}", p.errors);
        let p = parse(
            &[
                HEADER.as_bytes(),
                b"2nde;E1;\xff\xfe;L;M;general;DS;2025-10-09;T1;1;20;1\n",
            ]
            .concat(),
        );
        assert!(p.errors[0].reason.contains("UTF-8"), "{:?}", p.errors);
    }
}
