//! Printing: aligned tables for people, JSON for scripts.

use std::io::Write;

use serde::{Deserialize, Serialize};

/// `--output`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Aligned columns, for people.
    #[default]
    Table,
    /// JSON, for scripts (the same fields whichever server answered).
    Json,
}

impl OutputFormat {
    pub fn parse(s: &str) -> Option<OutputFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Some(OutputFormat::Table),
            "json" => Some(OutputFormat::Json),
            _ => None,
        }
    }
}

/// Where a command writes: standard output for results, standard error for messages.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Standard error is a terminal (progress bars are drawn only then).
    pub interactive: bool,
}

impl Io<'_> {
    /// A line of results.
    pub fn line(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.out, "{}", text.as_ref());
    }

    /// A message for the person at the terminal (never part of the results).
    pub fn note(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.err, "{}", text.as_ref());
    }

    /// A value as pretty JSON.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => self.line(s),
            Err(e) => self.note(format!("error: cannot write JSON: {e}")),
        }
    }

    /// A table, or `empty` on standard error when it has no rows.
    pub fn table(&mut self, table: &Table, empty: &str) {
        if table.rows.is_empty() {
            self.note(empty);
            return;
        }
        let _ = self.out.write_all(table.render().as_bytes());
    }
}

/// Columns padded to their widest cell, two spaces apart, headers in capitals.
#[derive(Clone, Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_uppercase()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(self.rows.iter()) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                line.push_str(cell);
                if i + 1 < columns {
                    line.push_str(&" ".repeat(width - cell.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A timestamp as people read it: UTC, to the second.
pub fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `yes` / `no`.
pub fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["id", "path", "note"]);
        t.row(vec!["1".into(), "acme/app".into(), "".into()]);
        t.row(vec!["120".into(), "é".into(), "x".into()]);
        assert_eq!(
            t.render(),
            "ID   PATH      NOTE\n1    acme/app\n120  é         x\n"
        );
    }
}
