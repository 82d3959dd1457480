//! Result printers, generic over the writer so they are testable without a
//! terminal. Nothing else in ctlake writes to stdout.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
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
            writeln!(out, "{table}")?;
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
            let mut writer = arrow::json::ArrayWriter::new(&mut *out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            let mut writer = arrow::json::LineDelimitedWriter::new(&mut *out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
        }
    }
    Ok(())
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

/// Rows as JSON objects, as arrow-json writes them (NULL members left out).
pub fn json_rows(
    batches: &[RecordBatch],
) -> anyhow::Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
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
            "[{\"eventname\":\"GetObject\",\"n\":3},{\"n\":1}]\n"
        );
        assert_eq!(
            render(Format::Ndjson, false),
            "{\"eventname\":\"GetObject\",\"n\":3}\n{\"n\":1}\n"
        );
    }

    #[test]
    fn empty_results_keep_their_shape() {
        assert_eq!(render(Format::Json, true), "[]\n");
        assert_eq!(render(Format::Csv, true), "eventname,n\n");
        assert!(render(Format::Table, true).contains("| eventname | n |"));
        assert_eq!(render(Format::Ndjson, true), "");
    }
}
