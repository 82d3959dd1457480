//! Batches of events to Hive-partitioned Parquet files.
//!
//! A batch is sorted by partition and event time with Arrow kernels, cut into
//! one slice per partition, and each slice appended to that partition's open
//! file. Files are staged under a hidden temporary name and published by the
//! [`Lake`] when closed, so a query never sees half a file.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::compute::{SortColumn, SortOptions, lexsort_to_indices, partition, take_arrays};
use ctlake_schema::{COLUMNS, PartitionKey, TABLE_NAME, file_schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::decode::EventBatch;
use crate::lake::Lake;
use crate::{Error, Result};

/// Columns looked up by exact value in hunts: a bloom filter lets a point
/// lookup skip row groups that cannot hold the value.
const BLOOM_COLUMNS: &[&str] = &[
    "eventid",
    "useridentity_accesskeyid",
    "useridentity_arn",
    "useridentity_principalid",
    "sourceipaddress",
];

/// Columns that are unique or nearly so per row: dictionaries only cost there.
const NO_DICTIONARY: &[&str] = &[
    "eventid",
    "requestid",
    "requestparameters",
    "responseelements",
    "extra",
];

/// Rows per row group: small enough that statistics and bloom filters prune
/// finely, large enough to compress well.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// How many partition files may be open at once before the least recently
/// written one is closed; bounds memory on archives with many partitions.
const MAX_OPEN_FILES: usize = 64;

/// The properties of every Parquet file ctlake writes.
pub fn writer_properties(run_id: &str) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid zstd level"),
        ))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(
                "ctlake.version".to_owned(),
                env!("CARGO_PKG_VERSION").to_owned(),
            ),
            KeyValue::new("ctlake.run".to_owned(), run_id.to_owned()),
        ]));
    for name in BLOOM_COLUMNS {
        builder = builder.set_column_bloom_filter_enabled(ColumnPath::from(*name), true);
    }
    for name in NO_DICTIONARY {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*name), false);
    }
    builder.build()
}

/// A Parquet file published into the lake.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WrittenFile {
    /// Path relative to the lake root.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
}

struct OpenFile {
    writer: ArrowWriter<File>,
    temp: PathBuf,
    /// Path in the lake, relative to its root.
    target: String,
    rows: u64,
    last_write: u64,
}

/// Writes event batches into the partitions of one table folder.
pub(crate) struct PartitionedWriter {
    lake: Arc<Lake>,
    runtime: tokio::runtime::Handle,
    run_id: String,
    props: WriterProperties,
    open: HashMap<PartitionKey, OpenFile>,
    next_file: u64,
    clock: u64,
    written: Vec<WrittenFile>,
}

impl PartitionedWriter {
    /// A writer publishing into `lake`; remote lakes upload on `runtime`.
    pub(crate) fn new(lake: Arc<Lake>, runtime: tokio::runtime::Handle, run_id: &str) -> Self {
        Self {
            lake,
            runtime,
            run_id: run_id.to_owned(),
            props: writer_properties(run_id),
            open: HashMap::new(),
            next_file: 0,
            clock: 0,
            written: Vec::new(),
        }
    }

    pub(crate) fn write(&mut self, events: EventBatch) -> Result<()> {
        let EventBatch { batch, partitions } = events;
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let keys: [ArrayRef; 3] = [
            Arc::new(
                partitions
                    .iter()
                    .map(|k| Some(k.account.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                partitions
                    .iter()
                    .map(|k| Some(k.region.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                partitions
                    .iter()
                    .map(|k| Some(k.date.as_str()))
                    .collect::<StringArray>(),
            ),
        ];
        let time = batch.column(time_index()).clone();
        let sort: Vec<SortColumn> = keys
            .iter()
            .chain(std::iter::once(&time))
            .map(|values| SortColumn {
                values: values.clone(),
                options: Some(SortOptions::default()),
            })
            .collect();
        let order = lexsort_to_indices(&sort, None)?;
        let keys = take_arrays(&keys, &order, None)?;
        let batch =
            RecordBatch::try_new(batch.schema(), take_arrays(batch.columns(), &order, None)?)?;
        for range in partition(&keys)?.ranges() {
            let key = PartitionKey {
                account: string_at(&keys[0], range.start),
                region: string_at(&keys[1], range.start),
                date: string_at(&keys[2], range.start),
            };
            self.append(&key, &batch.slice(range.start, range.end - range.start))?;
        }
        Ok(())
    }

    fn append(&mut self, key: &PartitionKey, slice: &RecordBatch) -> Result<()> {
        self.clock += 1;
        if !self.open.contains_key(key) {
            if self.open.len() >= MAX_OPEN_FILES {
                let oldest = self
                    .open
                    .iter()
                    .min_by_key(|(_, f)| f.last_write)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    let file = self.open.remove(&oldest).expect("key just found");
                    self.close(file)?;
                }
            }
            let file = self.create(key)?;
            self.open.insert(key.clone(), file);
        }
        let file = self.open.get_mut(key).expect("opened above");
        file.writer.write(slice).map_err(|source| Error::Parquet {
            path: file.temp.clone(),
            source,
        })?;
        file.rows += slice.num_rows() as u64;
        file.last_write = self.clock;
        Ok(())
    }

    fn create(&mut self, key: &PartitionKey) -> Result<OpenFile> {
        let name = format!("part-{}-{:05}.parquet", self.run_id, self.next_file);
        self.next_file += 1;
        let target = format!("{TABLE_NAME}/{}/{name}", key.dir());
        let temp = self.lake.staging_path(&target)?;
        let handle = File::create(&temp).map_err(|source| Error::Write {
            path: temp.clone(),
            source,
        })?;
        let writer = ArrowWriter::try_new(handle, file_schema(), Some(self.props.clone()))
            .map_err(|source| Error::Parquet {
                path: temp.clone(),
                source,
            })?;
        Ok(OpenFile {
            writer,
            temp,
            target,
            rows: 0,
            last_write: self.clock,
        })
    }

    fn close(&mut self, file: OpenFile) -> Result<()> {
        let OpenFile {
            writer,
            temp,
            target,
            rows,
            ..
        } = file;
        let handle = writer.into_inner().map_err(|source| Error::Parquet {
            path: temp.clone(),
            source,
        })?;
        handle.sync_all().map_err(|source| Error::Write {
            path: temp.clone(),
            source,
        })?;
        let bytes = handle
            .metadata()
            .map_err(|source| Error::Write {
                path: temp.clone(),
                source,
            })?
            .len();
        drop(handle);
        self.runtime.block_on(self.lake.publish(&temp, &target))?;
        self.written.push(WrittenFile {
            path: target,
            rows,
            bytes,
        });
        Ok(())
    }

    /// Closes every open file and returns all files this writer published.
    pub(crate) fn finish(mut self) -> Result<Vec<WrittenFile>> {
        let mut open: Vec<_> = std::mem::take(&mut self.open).into_iter().collect();
        open.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, file) in open {
            self.close(file)?;
        }
        Ok(self.written)
    }
}

fn time_index() -> usize {
    COLUMNS
        .iter()
        .position(|c| c.name == "eventtime")
        .expect("catalogue column")
}

fn string_at(array: &ArrayRef, row: usize) -> String {
    let strings = array
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("partition keys are strings");
    strings.value(row).to_owned()
}
