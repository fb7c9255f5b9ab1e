//! A CSV export read as a header and rows of trimmed cells, each row with its line: what
//! the Moodle and Pix importers share. UTF-8 with or without a BOM; quoted fields may span
//! lines (the row keeps the line it starts on).

use super::LineError;

pub struct Table {
    pub header: Vec<String>,
    /// 1-based line of the header.
    pub header_line: usize,
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// The index of the column so named (exactly, after trimming).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Reads `bytes` separated by `delimiter`; blank lines are skipped. `None` as delimiter:
/// whichever of `;`, `,` and tab the header line holds most of.
pub fn read(bytes: &[u8], delimiter: Option<u8>) -> Result<Table, LineError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(body) {
        let line = 1 + body[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        return Err(LineError {
            line,
            reason: format!(
                "byte {} is not UTF-8: export the file as UTF-8",
                e.valid_up_to()
            ),
        });
    }
    let delimiter = delimiter.unwrap_or_else(|| {
        let first = body.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let count = |d: u8| first.iter().filter(|b| **b == d).count();
        [b';', b',', b'\t']
            .into_iter()
            .max_by_key(|d| count(*d))
            .unwrap_or(b',')
    });
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = usize::try_from(reader.position().line()).unwrap_or(usize::MAX);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e
                    .position()
                    .and_then(|p| usize::try_from(p.line()).ok())
                    .unwrap_or(line);
                return Err(LineError {
                    line,
                    reason: format!("not readable as CSV: {e}"),
                });
            }
        }
        let line = record
            .position()
            .and_then(|p| usize::try_from(p.line()).ok())
            .unwrap_or(line);
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        match header {
            None => header = Some((line, cells)),
            Some(_) => rows.push((line, cells)),
        }
    }
    let Some((header_line, header)) = header else {
        return Err(LineError {
            line: 1,
            reason: "the file is empty: no header line".into(),
        });
    };
    Ok(Table {
        header,
        header_line,
        rows,
    })
}
