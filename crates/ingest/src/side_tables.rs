//! The per-run files of the `duplicates` and `rejected` tables and of the
//! manifest: staged while the run goes, published with its events, the
//! manifest last.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::SchemaRef;
use ctlake_schema::{DIGESTS_TABLE, REJECTED_TABLE, digests_schema, rejected_schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::lake::Lake;
use crate::writer::WrittenFile;
use crate::{Error, Result};

/// Encoded bytes from which a side file's row group is flushed.
const ROW_GROUP_BYTES: usize = 32 * 1024 * 1024;

/// One run's file of a side table, created on its first row.
pub(crate) struct RunFile {
    lake: Arc<Lake>,
    runtime: tokio::runtime::Handle,
    schema: SchemaRef,
    target: String,
    open: Option<(ArrowWriter<File>, PathBuf)>,
    rows: u64,
}

impl RunFile {
    pub(crate) fn new(
        lake: Arc<Lake>,
        runtime: tokio::runtime::Handle,
        schema: SchemaRef,
        table: &str,
        run_id: &str,
    ) -> Self {
        Self {
            lake,
            runtime,
            schema,
            target: format!("{table}/{run_id}.parquet"),
            open: None,
            rows: 0,
        }
    }

    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if self.open.is_none() {
            let temp = self.lake.staging_path(&self.target)?;
            let file = File::create(&temp).map_err(|source| Error::Write {
                path: temp.clone(),
                source,
            })?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build();
            let writer = ArrowWriter::try_new(file, Arc::clone(&self.schema), Some(props))
                .map_err(|source| Error::Parquet {
                    path: temp.clone(),
                    source,
                })?;
            self.open = Some((writer, temp));
        }
        let (writer, temp) = self.open.as_mut().expect("opened above");
        let parquet_error = |source| Error::Parquet {
            path: temp.clone(),
            source,
        };
        writer.write(batch).map_err(parquet_error)?;
        // A row group is held in memory until it is flushed, and a run's
        // side file can grow without bound: millions of manifest rows, or
        // rejected rows that keep up to a megabyte of text each.
        if writer.in_progress_size() >= ROW_GROUP_BYTES {
            writer.flush().map_err(parquet_error)?;
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Publishes the file, if any row was written.
    pub(crate) fn finish(self) -> Result<Option<WrittenFile>> {
        let Some((writer, temp)) = self.open else {
            return Ok(None);
        };
        let bytes = crate::writer::seal(writer, &temp)?;
        self.runtime
            .block_on(self.lake.publish(&temp, &self.target))?;
        Ok(Some(WrittenFile {
            path: self.target,
            rows: self.rows,
            bytes,
        }))
    }
}

/// How much of an object's unread text a `rejected` row keeps: the object
/// itself stays in the archive; this is what a reader needs to see why.
pub const MAX_REJECTED_OBJECT_TEXT: usize = 1024 * 1024;

/// Rows of the `rejected` table buffered until there are enough to write.
const FLUSH_ROWS: usize = 1024;
const FLUSH_BYTES: usize = 16 * 1024 * 1024;

/// `scope` of a rejected element of `Records`.
pub(crate) const SCOPE_RECORD: &str = "record";
/// `scope` of an object that could not be read to the end.
pub(crate) const SCOPE_OBJECT: &str = "object";

/// A row of the `rejected` table.
pub(crate) struct Rejected<'a> {
    pub location: &'a str,
    pub index: Option<u64>,
    pub scope: &'static str,
    pub reason: &'a str,
    /// The text kept, and the length in bytes of what it came from.
    pub raw: Option<(&'a str, u64)>,
}

/// Writes the run's `rejected` file.
pub(crate) struct RejectedWriter {
    file: RunFile,
    run: String,
    location: StringBuilder,
    index: Int64Builder,
    scope: StringBuilder,
    reason: StringBuilder,
    raw: StringBuilder,
    raw_bytes: Int64Builder,
    truncated: BooleanBuilder,
    buffered: usize,
    buffered_bytes: usize,
}

impl RejectedWriter {
    pub(crate) fn new(lake: Arc<Lake>, runtime: tokio::runtime::Handle, run_id: &str) -> Self {
        Self {
            file: RunFile::new(lake, runtime, rejected_schema(), REJECTED_TABLE, run_id),
            run: run_id.to_owned(),
            location: StringBuilder::new(),
            index: Int64Builder::new(),
            scope: StringBuilder::new(),
            reason: StringBuilder::new(),
            raw: StringBuilder::new(),
            raw_bytes: Int64Builder::new(),
            truncated: BooleanBuilder::new(),
            buffered: 0,
            buffered_bytes: 0,
        }
    }

    pub(crate) fn push(&mut self, row: &Rejected<'_>) -> Result<()> {
        self.location.append_value(row.location);
        self.index.append_option(row.index.map(|i| i as i64));
        self.scope.append_value(row.scope);
        self.reason.append_value(row.reason);
        if let Some((text, bytes)) = row.raw {
            // A record is kept whole, however long; only what is left of an
            // object is cut.
            let limit = if row.scope == SCOPE_RECORD {
                text.len()
            } else {
                MAX_REJECTED_OBJECT_TEXT
            };
            let kept = floor_char_boundary(text, limit);
            self.raw.append_value(&text[..kept]);
            self.raw_bytes.append_value(bytes as i64);
            self.truncated.append_value(kept < text.len());
            self.buffered_bytes += kept;
        } else {
            self.raw.append_null();
            self.raw_bytes.append_null();
            self.truncated.append_null();
        }
        self.buffered += 1;
        if self.buffered >= FLUSH_ROWS || self.buffered_bytes >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let run = run_column(&self.run, self.buffered);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.location.finish()),
            Arc::new(self.index.finish()),
            Arc::new(self.scope.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.raw.finish()),
            Arc::new(self.raw_bytes.finish()),
            Arc::new(self.truncated.finish()),
            run,
        ];
        let batch = RecordBatch::try_new(rejected_schema(), columns)?;
        self.buffered = 0;
        self.buffered_bytes = 0;
        self.file.write(&batch)
    }

    pub(crate) fn finish(mut self) -> Result<Option<WrittenFile>> {
        self.flush()?;
        self.file.finish()
    }
}

/// The largest index `<= max` that is a char boundary of `s`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// The `run` column of `rows` rows.
fn run_column(run: &str, rows: usize) -> ArrayRef {
    Arc::new(std::iter::repeat_n(Some(run), rows).collect::<arrow::array::StringArray>())
}

/// A CloudTrail digest file as read: where, the hex SHA-256 of its
/// decompressed bytes, and their text.
pub(crate) struct DigestFile {
    pub sha256: String,
    pub text: String,
}

/// Writes the run's `digests` file. Digests come one an hour per trail and
/// region, a few kilobytes each, so rows are written as they come in
/// batches of [`FLUSH_ROWS`].
pub(crate) struct DigestWriter {
    file: RunFile,
    run: String,
    location: StringBuilder,
    sha256: StringBuilder,
    text: StringBuilder,
    buffered: usize,
}

impl DigestWriter {
    pub(crate) fn new(lake: Arc<Lake>, runtime: tokio::runtime::Handle, run_id: &str) -> Self {
        Self {
            file: RunFile::new(lake, runtime, digests_schema(), DIGESTS_TABLE, run_id),
            run: run_id.to_owned(),
            location: StringBuilder::new(),
            sha256: StringBuilder::new(),
            text: StringBuilder::new(),
            buffered: 0,
        }
    }

    pub(crate) fn push(&mut self, location: &str, digest: &DigestFile) -> Result<()> {
        self.location.append_value(location);
        self.sha256.append_value(&digest.sha256);
        self.text.append_value(&digest.text);
        self.buffered += 1;
        if self.buffered >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.location.finish()),
            run_column(&self.run, self.buffered),
            Arc::new(self.sha256.finish()),
            Arc::new(self.text.finish()),
        ];
        let batch = RecordBatch::try_new(digests_schema(), columns)?;
        self.buffered = 0;
        self.file.write(&batch)
    }

    pub(crate) fn finish(mut self) -> Result<Option<WrittenFile>> {
        self.flush()?;
        self.file.finish()
    }
}
