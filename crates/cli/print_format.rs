//! Result printers, generic over the writer so they are testable without a
//! terminal. Nothing else in ctlake writes to stdout.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UnionArray};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::json::writer::{
    Encoder, EncoderFactory, EncoderOptions, JsonArray, JsonFormat, LineDelimited, NullableEncoder,
    make_encoder,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned table for people.
    Table,
    /// CSV with a header row; lists and structs as JSON text.
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
    let mut printer = Printer::new(out, schema, format);
    for batch in batches {
        printer.write(batch)?;
    }
    printer.finish()
}

/// Prints batches of one result as they come. CSV, JSON and NDJSON rows go
/// out batch by batch, so an export holds a batch, not the answer; a table
/// is held whole, as its columns are as wide as their widest value.
pub enum Printer<W: Write> {
    Table {
        out: W,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    Csv {
        // Boxed: the writer's buffers make it several times the others.
        writer: Box<arrow::csv::Writer<W>>,
        schema: SchemaRef,
        wrote: bool,
    },
    Json(arrow::json::Writer<W, JsonArray>),
    Ndjson(arrow::json::Writer<W, LineDelimited>),
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, schema: &SchemaRef, format: Format) -> Self {
        match format {
            Format::Table => Self::Table {
                out,
                schema: schema.clone(),
                batches: Vec::new(),
            },
            Format::Csv => Self::Csv {
                writer: Box::new(
                    arrow::csv::WriterBuilder::new()
                        .with_header(true)
                        .build(out),
                ),
                schema: schema.clone(),
                wrote: false,
            },
            Format::Json => Self::Json(json_writer(out)),
            Format::Ndjson => Self::Ndjson(json_writer(out)),
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        match self {
            Self::Table { batches, .. } => batches.push(as_text(batch, is_union)?),
            Self::Csv { writer, wrote, .. } => {
                writer.write(&as_text(batch, DataType::is_nested)?)?;
                *wrote = true;
            }
            Self::Json(writer) => writer.write(batch)?,
            Self::Ndjson(writer) => writer.write(batch)?,
        }
        Ok(())
    }

    /// Ends the result: the table, a CSV header when there were no rows,
    /// the JSON array's close.
    pub fn finish(self) -> Result<(), ArrowError> {
        match self {
            Self::Table {
                mut out,
                schema,
                mut batches,
            } => {
                let options = FormatOptions::default().with_null("NULL");
                // An empty result still shows its header.
                if batches.is_empty() {
                    batches.push(RecordBatch::new_empty(flat_schema(&schema, is_union)));
                }
                let table =
                    arrow::util::pretty::pretty_format_batches_with_options(&batches, &options)?;
                writeln!(out, "{}", visible_controls(&table.to_string()))?;
            }
            Self::Csv {
                mut writer,
                schema,
                wrote,
            } => {
                if !wrote {
                    writer.write(&RecordBatch::new_empty(flat_schema(
                        &schema,
                        DataType::is_nested,
                    )))?;
                }
            }
            Self::Json(mut writer) => {
                writer.finish()?;
                writeln!(writer.into_inner())?;
            }
            Self::Ndjson(mut writer) => writer.finish()?,
        }
        Ok(())
    }
}

/// JSON rows with every column as a member, `null` included: scripts read
/// `row["principal"]` whatever the row holds.
fn json_writer<W: Write, F: JsonFormat>(out: W) -> arrow::json::Writer<W, F> {
    arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .with_encoder_factory(Arc::new(UnionValues))
        .build(out)
}

/// Encodes union values, which Arrow's JSON writer refuses, as the value of
/// the member each row holds. `json_get` and `->` return such unions; their
/// object and array members hold JSON text, written as JSON, not as a string.
#[derive(Debug)]
struct UnionValues;

impl EncoderFactory for UnionValues {
    fn make_default_encoder<'a>(
        &self,
        _field: &'a FieldRef,
        array: &'a dyn Array,
        options: &'a EncoderOptions,
    ) -> Result<Option<NullableEncoder<'a>>, ArrowError> {
        let Some(union) = array.as_union_opt() else {
            return Ok(None);
        };
        let DataType::Union(fields, _) = union.data_type() else {
            return Ok(None);
        };
        let mut members = Vec::new();
        for (type_id, field) in fields.iter() {
            let child = union.child(type_id).as_ref();
            let encoder: Box<dyn Encoder + 'a> = match child.as_string_opt::<i32>() {
                Some(text) if holds_json(field) => Box::new(RawJson(text)),
                _ => Box::new(make_encoder(field, child, options)?),
            };
            members.push((type_id, child, encoder));
        }
        Ok(Some(NullableEncoder::new(
            Box::new(UnionEncoder { union, members }),
            None,
        )))
    }
}

/// Whether a string field holds JSON text (Arrow's `arrow.json` extension).
fn holds_json(field: &Field) -> bool {
    field
        .metadata()
        .get("ARROW:extension:name")
        .is_some_and(|name| name == "arrow.json")
}

struct RawJson<'a>(&'a StringArray);

impl Encoder for RawJson<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0.value(idx).as_bytes());
    }
}

/// Whether a union member holds a value at `offset`; a member of type Null
/// (a JSON null) never does, though it has no null buffer to say so.
fn present(child: &dyn Array, offset: usize) -> bool {
    child.data_type() != &DataType::Null && child.is_valid(offset)
}

struct UnionEncoder<'a> {
    union: &'a UnionArray,
    members: Vec<(i8, &'a dyn Array, Box<dyn Encoder + 'a>)>,
}

impl Encoder for UnionEncoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let type_id = self.union.type_id(idx);
        let offset = self.union.value_offset(idx);
        match self.members.iter_mut().find(|(id, ..)| *id == type_id) {
            Some((_, child, encoder)) if present(*child, offset) => encoder.encode(offset, out),
            _ => out.extend_from_slice(b"null"),
        }
    }
}

/// Control characters but line breaks as their visible symbols (ESC as ␛,
/// CR as ␍), and the characters that reorder or break text without showing
/// as �. The values are the attacker's (user agents, request parameters,
/// error messages, object keys): printed raw, they could retitle or clear the
/// analyst's terminal, move the cursor back over a line to hide it, or show
/// a line's text in another order than it holds.
pub fn visible_controls(table: &str) -> std::borrow::Cow<'_, str> {
    if !table.chars().any(|c| symbol(c).is_some()) {
        return std::borrow::Cow::Borrowed(table);
    }
    table.chars().map(|c| symbol(c).unwrap_or(c)).collect()
}

/// The visible stand-in for `c`, when `c` is a control character other than
/// a line break, a bidirectional override, embedding, isolate or mark, or a
/// line or paragraph separator.
fn symbol(c: char) -> Option<char> {
    match u32::from(c) {
        0x0a => None,
        code @ 0..0x20 => char::from_u32(0x2400 + code),
        0x7f => Some('\u{2421}'),
        0x80..0xa0 | 0x061c | 0x200e | 0x200f | 0x2028..=0x202e | 0x2066..=0x2069 => {
            Some('\u{fffd}')
        }
        _ => None,
    }
}

/// Standard output; on a terminal, what is written shows as
/// [`visible_controls`] shows it. CSV keeps a value's characters, and JSON
/// escapes only what its grammar needs (not the C1 controls such as CSI), so
/// either could drive the terminal. Piped or redirected, the bytes pass
/// unchanged.
pub fn stdout() -> Visible<std::io::StdoutLock<'static>> {
    use std::io::IsTerminal;
    let out = std::io::stdout();
    Visible {
        shown: out.is_terminal(),
        inner: out.lock(),
        pending: Vec::new(),
    }
}

/// Set when a write to stdout found its reader gone.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether stdout's reader has gone away (`| head`).
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Notes a broken pipe in `result` for [`stdout_closed`].
fn noting_closed<T>(result: std::io::Result<T>) -> std::io::Result<T> {
    if let Err(e) = &result
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    result
}

/// A writer that, when `shown`, writes text as [`visible_controls`] shows it.
pub struct Visible<W> {
    inner: W,
    shown: bool,
    /// The start of a character whose other bytes the next write brings.
    pending: Vec<u8>,
}

impl<W: Write> Write for Visible<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.shown {
            return noting_closed(self.inner.write(buf));
        }
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(buf);
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let (text, after) = match std::str::from_utf8(rest) {
                Ok(text) => (text, &[][..]),
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    let text = std::str::from_utf8(valid).expect("valid up to here");
                    match e.error_len() {
                        None => {
                            self.pending = after.to_vec();
                            (text, &[][..])
                        }
                        // A byte that is not UTF-8 could be a C1 control to
                        // a terminal not in UTF-8 mode.
                        Some(len) => {
                            out.extend_from_slice(visible_controls(text).as_bytes());
                            out.extend_from_slice("\u{fffd}".as_bytes());
                            rest = &after[len..];
                            continue;
                        }
                    }
                }
            };
            out.extend_from_slice(visible_controls(text).as_bytes());
            rest = after;
        }
        noting_closed(self.inner.write_all(&out))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        noting_closed(self.inner.flush())
    }
}

fn is_union(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Union(..))
}

/// `schema` with the columns `textual` picks as text.
fn flat_schema(schema: &SchemaRef, textual: fn(&DataType) -> bool) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                if textual(f.data_type()) {
                    Field::new(f.name(), DataType::Utf8, true)
                } else {
                    f.as_ref().clone()
                }
            })
            .collect::<Vec<_>>(),
    ))
}

/// The columns `textual` picks as text: unions as the value of their member,
/// lists and structs as JSON, which a CSV reader can parse back.
fn as_text(batch: &RecordBatch, textual: fn(&DataType) -> bool) -> Result<RecordBatch, ArrowError> {
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| textual(f.data_type()))
    {
        return Ok(batch.clone());
    }
    let columns = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| {
            Ok(match column.as_union_opt() {
                _ if !textual(column.data_type()) => column.clone(),
                Some(union) => Arc::new(union_text(union)?) as ArrayRef,
                None => Arc::new(json_text(field, column.as_ref())?) as ArrayRef,
            })
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    RecordBatch::try_new(flat_schema(&batch.schema(), textual), columns)
}

/// Each row's member as text: a string as itself, JSON text as it is, other
/// values as Arrow displays them; NULL for SQL and JSON nulls alike.
fn union_text(union: &UnionArray) -> Result<StringArray, ArrowError> {
    let DataType::Union(fields, _) = union.data_type() else {
        unreachable!("a union array has a union type")
    };
    let options = FormatOptions::default();
    let members = fields
        .iter()
        .map(|(type_id, _)| {
            let child = union.child(type_id).as_ref();
            Ok((type_id, child, ArrayFormatter::try_new(child, &options)?))
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    Ok((0..union.len())
        .map(|row| {
            let (type_id, offset) = (union.type_id(row), union.value_offset(row));
            let (_, child, formatter) = members.iter().find(|(id, ..)| *id == type_id)?;
            present(*child, offset).then(|| formatter.value(offset).to_string())
        })
        .collect())
}

/// Each row's value as JSON text, as the json format writes it.
fn json_text(field: &FieldRef, column: &dyn Array) -> Result<StringArray, ArrowError> {
    let options = EncoderOptions::default()
        .with_explicit_nulls(true)
        .with_encoder_factory(Arc::new(UnionValues));
    let mut encoder = make_encoder(field, column, &options)?;
    let mut text = Vec::new();
    Ok((0..column.len())
        .map(|row| {
            if column.is_null(row) {
                return None;
            }
            text.clear();
            encoder.encode(row, &mut text);
            Some(String::from_utf8_lossy(&text).into_owned())
        })
        .collect())
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

    /// CSV headed for a terminal: the same symbols, whichever way the
    /// writes split a character.
    #[test]
    fn a_terminal_sees_symbols_in_any_format() {
        let text = "a\u{1b}[2J\tb\u{9b}c\u{a9}\u{202e}d\u{2066}\n";
        let shown = "a\u{241b}[2J\u{2409}b\u{fffd}c\u{a9}\u{fffd}d\u{fffd}\n";
        let visible = |shown| Visible {
            inner: Vec::new(),
            shown,
            pending: Vec::new(),
        };
        for split in 0..=text.len() {
            let mut out = visible(true);
            out.write_all(&text.as_bytes()[..split]).unwrap();
            out.write_all(&text.as_bytes()[split..]).unwrap();
            assert_eq!(
                String::from_utf8(out.inner).unwrap(),
                shown,
                "split at {split}"
            );
        }
        let mut out = visible(true);
        out.write_all(b"x\x9by").unwrap();
        assert_eq!(
            out.inner,
            "x\u{fffd}y".as_bytes(),
            "a byte that is not UTF-8"
        );
        let mut raw = visible(false);
        raw.write_all(text.as_bytes()).unwrap();
        assert_eq!(raw.inner, text.as_bytes(), "a pipe gets the bytes");
    }

    #[test]
    fn empty_results_keep_their_shape() {
        assert_eq!(render(Format::Json, true), "[]\n");
        assert_eq!(render(Format::Csv, true), "eventname,n\n");
        assert!(render(Format::Table, true).contains("| eventname | n |"));
        assert_eq!(render(Format::Ndjson, true), "");
    }
}
