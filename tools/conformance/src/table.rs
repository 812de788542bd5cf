//! The tab-separated field table that both tshark (`-T fields -E header=y`) and pcapkit
//! (`-f fields`) print: a header line of field names, then one row per frame.

use std::collections::btree_map::{BTreeMap, Entry};

/// A parsed field table. Cells are kept as printed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldTable {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl FieldTable {
    /// Parses a table. Output without a header line gives an empty table; short rows are
    /// padded with empty cells, a trailing carriage return is ignored.
    pub fn parse(text: &str) -> FieldTable {
        let mut lines = text.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
        let Some(header) = lines.find(|l| !l.is_empty()) else {
            return FieldTable::default();
        };
        let columns: Vec<String> = header.split('\t').map(str::to_string).collect();
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| parse_row(l, columns.len()))
            .collect();
        FieldTable { columns, rows }
    }

    /// Number of frames (rows).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the output had a header line.
    pub fn has_header(&self) -> bool {
        !self.columns.is_empty()
    }

    /// Position of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The cell at a row and column; an absent column or cell is empty.
    pub fn cell(&self, row: usize, column: Option<usize>) -> &str {
        column
            .and_then(|c| self.rows.get(row)?.get(c))
            .map_or("", String::as_str)
    }

    /// Rows by frame number, read from `key`; a row whose key does not parse is numbered
    /// by its position (1-based). When a number repeats, the first row wins; the
    /// repeated numbers are returned too.
    pub fn index_by(&self, key: &str) -> (BTreeMap<u64, usize>, Vec<u64>) {
        let key_column = self.column(key);
        let mut index = BTreeMap::new();
        let mut repeated = Vec::new();
        for row in 0..self.rows.len() {
            let number = self.cell(row, key_column).parse().unwrap_or(row as u64 + 1);
            match index.entry(number) {
                Entry::Vacant(slot) => {
                    slot.insert(row);
                }
                Entry::Occupied(_) => repeated.push(number),
            }
        }
        (index, repeated)
    }
}

/// Splits a row into exactly `width` cells (missing ones empty, extra ones dropped).
fn parse_row(line: &str, width: usize) -> Vec<String> {
    let mut cells: Vec<String> = line.split('\t').take(width).map(str::to_string).collect();
    cells.resize(width, String::new());
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_and_rows() {
        let t = FieldTable::parse("frame.number\tip.src\n1\t10.0.0.1\n2\t\n");
        assert!(t.has_header());
        assert_eq!(t.column("frame.number"), Some(0));
        assert_eq!(t.len(), 2);
        let ip = t.column("ip.src");
        assert_eq!(t.cell(0, ip), "10.0.0.1");
        assert_eq!(t.cell(1, ip), "");
        assert_eq!(t.cell(0, None), "");
        assert_eq!(t.cell(9, ip), "");
    }

    #[test]
    fn empty_output_is_an_empty_table() {
        assert_eq!(FieldTable::parse("").len(), 0);
        assert!(!FieldTable::parse("\n").has_header());
    }

    #[test]
    fn short_rows_are_padded_and_crlf_ignored() {
        let t = FieldTable::parse("a\tb\tc\r\n1\r\n");
        assert_eq!(t.column("c"), Some(2));
        assert_eq!(t.cell(0, t.column("a")), "1");
        assert_eq!(t.cell(0, t.column("c")), "");
    }

    #[test]
    fn index_by_frame_number() {
        let t = FieldTable::parse("frame.number\tx\n3\ta\nbad\tb\n3\tc\n");
        let (index, repeated) = t.index_by("frame.number");
        assert_eq!(index.get(&3), Some(&0));
        assert_eq!(index.get(&2), Some(&1));
        assert_eq!(repeated, vec![3]);
    }
}
