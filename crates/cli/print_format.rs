//! Result printers, generic over the writer so they are testable without a
//! terminal. Nothing else in ctlake writes to stdout.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::json::writer::{JsonArray, JsonFormat, LineDelimited};
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned table for people.
    Table,
    /// CSV with a header row; nested values as text.
    Csv,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Self as clap::ValueEnum>::from_str(s, true)
            .map_err(|_| format!("unknown format {s:?}: table, csv, json or ndjson"))
    }
}

/// Prints `batches` (all of `schema`) to `out` in `format`.
pub fn print_batches<W: Write>(
    out: &mut W,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    format: Format,
) -> Result<(), ArrowError> {
    match format {
        Format::Table => {
            let options = FormatOptions::default().with_null("NULL");
            // An empty result still shows its header.
            let empty = [RecordBatch::new_empty(schema.clone())];
            let batches = if batches.is_empty() {
                &empty[..]
            } else {
                batches
            };
            let table = arrow::util::pretty::pretty_format_batches_with_options(batches, &options)?;
            writeln!(out, "{}", visible_controls(&table.to_string()))?;
        }
        Format::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            if batches.is_empty() {
                writer.write(&RecordBatch::new_empty(flat_schema(schema)))?;
            }
            for batch in batches {
                writer.write(&flatten_nested(batch)?)?;
            }
        }
        Format::Json => {
            let mut writer = json_writer::<_, JsonArray>(&mut *out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            let mut writer = json_writer::<_, LineDelimited>(&mut *out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
        }
    }
    Ok(())
}

/// JSON rows with every column as a member, `null` included: scripts read
/// `row["principal"]` whatever the row holds.
fn json_writer<W: Write, F: JsonFormat>(out: W) -> arrow::json::Writer<W, F> {
    arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build(out)
}

/// Control characters in the table as their visible symbols (ESC as ␛, CR
/// as ␍). The values are the attacker's (user agents, request parameters,
/// error messages): printed raw, they could retitle or clear the analyst's
/// terminal, or move the cursor back over a line to hide it.
fn visible_controls(table: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c != '\n' && c.is_control();
    if !table.contains(hidden) {
        return std::borrow::Cow::Borrowed(table);
    }
    table
        .chars()
        .map(|c| match u32::from(c) {
            _ if !hidden(c) => c,
            code @ 0..0x20 => char::from_u32(0x2400 + code).unwrap_or('\u{fffd}'),
            0x7f => '\u{2421}',
            _ => '\u{fffd}',
        })
        .collect()
}

fn is_nested(t: &DataType) -> bool {
    t.is_nested()
}

fn flat_schema(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                if is_nested(f.data_type()) {
                    Field::new(f.name(), DataType::Utf8, true)
                } else {
                    f.as_ref().clone()
                }
            })
            .collect::<Vec<_>>(),
    ))
}

/// CSV has no nested values: lists and structs become their display text.
fn flatten_nested(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| is_nested(f.data_type()))
    {
        return Ok(batch.clone());
    }
    let options = FormatOptions::default();
    let columns = batch
        .columns()
        .iter()
        .map(|c| {
            if !is_nested(c.data_type()) {
                return Ok(c.clone());
            }
            let formatter = ArrayFormatter::try_new(c.as_ref(), &options)?;
            let text: StringArray = (0..c.len())
                .map(|i| c.is_valid(i).then(|| formatter.value(i).to_string()))
                .collect();
            Ok(Arc::new(text) as ArrayRef)
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    RecordBatch::try_new(flat_schema(&batch.schema()), columns)
}

/// Rows as JSON objects, as the json format prints them.
pub fn json_rows(
    batches: &[RecordBatch],
) -> anyhow::Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let mut writer = json_writer::<_, JsonArray>(Vec::new());
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(serde_json::from_slice(&bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    fn batch() -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("eventname", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("GetObject"), None])),
                Arc::new(Int64Array::from(vec![3, 1])),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    fn render(format: Format, empty: bool) -> String {
        let (schema, batch) = batch();
        let batches = if empty { vec![] } else { vec![batch] };
        let mut out = Vec::new();
        print_batches(&mut out, &schema, &batches, format).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats() {
        assert!(render(Format::Table, false).contains("| GetObject | 3 |"));
        assert!(render(Format::Table, false).contains("| NULL      | 1 |"));
        assert_eq!(render(Format::Csv, false), "eventname,n\nGetObject,3\n,1\n");
        assert_eq!(
            render(Format::Json, false),
            "[{\"eventname\":\"GetObject\",\"n\":3},{\"eventname\":null,\"n\":1}]\n"
        );
        assert_eq!(
            render(Format::Ndjson, false),
            "{\"eventname\":\"GetObject\",\"n\":3}\n{\"eventname\":null,\"n\":1}\n"
        );
    }

    #[test]
    fn a_table_shows_control_characters_rather_than_sending_them() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "useragent",
            DataType::Utf8,
            true,
        )]));
        let agent = "evil\u{1b}[2J\u{1b}]0;pwned\u{7}\rFAKE\u{7f}\u{9b}";
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec![agent]))],
        )
        .unwrap();
        let mut out = Vec::new();
        print_batches(&mut out, &schema, &[batch], Format::Table).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("evil\u{241b}[2J\u{241b}]0;pwned\u{2407}\u{240d}FAKE\u{2421}\u{fffd}"),
            "{out}"
        );
        assert!(!out.chars().any(|c| c != '\n' && c.is_control()), "{out}");
    }

    #[test]
    fn empty_results_keep_their_shape() {
        assert_eq!(render(Format::Json, true), "[]\n");
        assert_eq!(render(Format::Csv, true), "eventname,n\n");
        assert!(render(Format::Table, true).contains("| eventname | n |"));
        assert_eq!(render(Format::Ndjson, true), "");
    }
}
