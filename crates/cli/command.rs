//! Backslash commands of the REPL.

use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::execution::context::SessionContext;

use crate::print_format::Format;

/// A backslash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `\q`: leave.
    Quit,
    /// `\?`: list the commands.
    Help,
    /// `\d`: list tables.
    ListTables,
    /// `\d TABLE`: describe a table.
    Describe(String),
    /// `\timing [on|off]`: show elapsed time after each statement.
    Timing(Option<bool>),
    /// `\format table|csv|json|ndjson`: how results are printed.
    Format(Format),
    /// `\hunts`: list the saved hunts.
    Hunts,
    /// `\hunt ID [name=value ...]`: run a saved hunt over the whole lake.
    Hunt(String, Vec<String>),
    /// `\hunt-sql ID [name=value ...]`: put a hunt's SQL in the input line to edit.
    HuntSql(String, Vec<String>),
}

/// `(command, description)` rows of `\?`.
const HELP: &[(&str, &str)] = &[
    ("\\d", "list tables"),
    (
        "\\d TABLE",
        "describe a table: columns, types, CloudTrail source fields",
    ),
    (
        "\\timing [on|off]",
        "show the elapsed time of each statement",
    ),
    ("\\format table|csv|json|ndjson", "how results are printed"),
    ("\\hunts", "list the saved hunts"),
    (
        "\\hunt ID [name=value ...]",
        "run a saved hunt over the whole lake",
    ),
    (
        "\\hunt-sql ID [name=value ...]",
        "put a hunt's SQL, parameters filled in, in the input line to edit and run",
    ),
    ("\\?", "this help"),
    ("\\q", "quit (or Ctrl-D)"),
    (
        "SQL;",
        "statements end with ';' and may span lines; Ctrl-C cancels a running query or hunt",
    ),
];

impl FromStr for Command {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().trim_end_matches(';').trim();
        let mut words = s.split_whitespace();
        let name = words.next().unwrap_or_default();
        if matches!(name, "\\hunt" | "\\hunt-sql") {
            let id = words
                .next()
                .ok_or_else(|| format!("{name} needs a hunt id; \\hunts lists them"))?
                .to_owned();
            let params = words.map(str::to_owned).collect();
            return Ok(if name == "\\hunt" {
                Self::Hunt(id, params)
            } else {
                Self::HuntSql(id, params)
            });
        }
        let arg = words.next();
        if words.next().is_some() {
            return Err(format!("too many arguments: {s}"));
        }
        match (name, arg) {
            ("\\q" | "\\quit", None) => Ok(Self::Quit),
            ("\\?" | "\\h" | "\\help", None) => Ok(Self::Help),
            ("\\d", None) => Ok(Self::ListTables),
            ("\\d", Some(table)) => Ok(Self::Describe(table.to_owned())),
            ("\\timing", None) => Ok(Self::Timing(None)),
            ("\\timing", Some("on")) => Ok(Self::Timing(Some(true))),
            ("\\timing", Some("off")) => Ok(Self::Timing(Some(false))),
            ("\\format", Some(f)) => f.parse().map(Self::Format),
            ("\\format", None) => Err("\\format needs table, csv, json or ndjson".to_owned()),
            ("\\hunts", None) => Ok(Self::Hunts),
            _ => Err(format!("unknown command {s}; \\? lists the commands")),
        }
    }
}

fn text_batch(columns: &[&str], rows: &[Vec<String>]) -> RecordBatch {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays = (0..columns.len())
        .map(|i| {
            Arc::new(
                rows.iter()
                    .map(|r| Some(r[i].clone()))
                    .collect::<StringArray>(),
            ) as _
        })
        .collect();
    RecordBatch::try_new(schema, arrays).expect("columns and rows agree")
}

/// The help table.
pub fn help() -> RecordBatch {
    let rows: Vec<Vec<String>> = HELP
        .iter()
        .map(|(c, d)| vec![(*c).to_owned(), (*d).to_owned()])
        .collect();
    text_batch(&["command", "description"], &rows)
}

/// Table names of the session's default schema, sorted.
pub fn table_names(ctx: &SessionContext) -> Vec<String> {
    let Some(schema) = ctx.catalog("datafusion").and_then(|c| c.schema("public")) else {
        return Vec::new();
    };
    let mut names = schema.table_names();
    names.sort();
    names
}

/// The `\d` table.
pub async fn list_tables(ctx: &SessionContext) -> datafusion::error::Result<RecordBatch> {
    let mut rows = Vec::new();
    for name in table_names(ctx) {
        let table = ctx.table_provider(name.as_str()).await?;
        let about = if name == ctlake_schema::TABLE_NAME {
            "CloudTrail events, one row per event"
        } else {
            ""
        };
        rows.push(vec![
            name,
            table.schema().fields().len().to_string(),
            about.to_owned(),
        ]);
    }
    Ok(text_batch(&["table", "columns", "description"], &rows))
}

/// The `\d TABLE` table.
pub async fn describe(ctx: &SessionContext, table: &str) -> datafusion::error::Result<RecordBatch> {
    let provider = ctx.table_provider(table.to_lowercase().as_str()).await?;
    let rows: Vec<Vec<String>> = provider
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let (source, doc) = match ctlake_schema::column(f.name()) {
                Some(c) => (c.source_path(), c.doc.to_owned()),
                None => (String::new(), partition_doc(f.name()).to_owned()),
            };
            vec![f.name().clone(), f.data_type().to_string(), source, doc]
        })
        .collect();
    Ok(text_batch(
        &["column", "type", "source", "description"],
        &rows,
    ))
}

fn partition_doc(name: &str) -> &'static str {
    match name {
        "account" => "Partition: recipientAccountId (or the key's account folder)",
        "region" => "Partition: awsRegion (or the key's region folder)",
        "date" => "Partition: UTC day of eventTime",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!("\\q".parse(), Ok(Command::Quit));
        assert_eq!("\\d".parse(), Ok(Command::ListTables));
        assert_eq!(
            "\\d cloudtrail;".parse(),
            Ok(Command::Describe("cloudtrail".into()))
        );
        assert_eq!("\\timing".parse(), Ok(Command::Timing(None)));
        assert_eq!("\\timing off".parse(), Ok(Command::Timing(Some(false))));
        assert_eq!("\\format csv".parse(), Ok(Command::Format(Format::Csv)));
        assert!("\\format xml".parse::<Command>().is_err());
        assert!("\\nope".parse::<Command>().is_err());
    }
}
