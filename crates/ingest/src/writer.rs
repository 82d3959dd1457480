//! Batches of events to Hive-partitioned Parquet files.
//!
//! A batch is sorted by partition and event time with Arrow kernels, cut into
//! one slice per partition, and each slice added to that partition's open
//! file. A file's slices wait in a sort buffer and are written as one row
//! group in event-time order, so a file is sorted by eventtime whenever its
//! partition fits the buffer (and each row group always is). Files are
//! staged under a hidden temporary name and published by the [`Lake`] when
//! closed, so a query never sees half a file.
//!
//! The writer is also where duplicates are caught. Every copy of one event
//! has the same eventID, recipientAccountId, eventTime and awsRegion, so it
//! falls in the same partition: each partition's index of (eventID,
//! recipientAccountId) → content hashes, loaded from the lake's files the
//! first time the run writes there, tells a copy (same key, same hash: not
//! stored again, recorded in `duplicates`) from a conflict (same key, other
//! content: stored, and reported).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{
    SortColumn, SortOptions, interleave_record_batch, lexsort_to_indices, partition, take,
    take_arrays,
};
use arrow::datatypes::{TimestampNanosecondType, UInt32Type};
use ctlake_schema::{
    COLUMNS, DUPLICATES_TABLE, Kind, PartitionKey, TABLE_NAME, data_file_name, duplicates_schema,
    file_schema,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::decode::EventBatch;
use crate::lake::Lake;
use crate::side_tables::RunFile;
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
    "eventjson",
    "content_hash",
    "requestid",
    "requestparameters",
    "responseelements",
    "extra",
];

/// Rows per row group: small enough that statistics and bloom filters prune
/// finely, large enough to compress well.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// Bytes of rows all open files may hold in their sort buffers together;
/// past it, the largest buffer is written out as a row group.
const SORT_BUFFER_BYTES: usize = 128 << 20;

/// How many partition files may be open at once before the least recently
/// written one is closed (a partition written again later gets another
/// file). An open file holds only its share of the sort buffer, as rows are
/// written a whole row group at a time, so this bounds file handles rather
/// than memory; listing and reading overlap many day folders at once.
const MAX_OPEN_FILES: usize = 64;

/// Rows up to which a file written in one row group keeps zstd for its
/// [`bulky`] columns only. Parquet makes a compression and a
/// decompression context for every column chunk it writes; in a file of a
/// few rows each of the other columns is a short dictionary and a few
/// bytes of indices, where zstd saves next to nothing, and in an archive
/// of such partitions the contexts took a sixth of ingest.
const SMALL_FILE_ROWS: usize = 1024;

/// The properties of every Parquet file ctlake writes.
pub fn writer_properties(run_id: &str) -> WriterProperties {
    properties(run_id, None)
}

/// The columns zstd still pays for in a file of a few rows: free text and
/// values unique to each row.
fn bulky(column: &ctlake_schema::Column) -> bool {
    NO_DICTIONARY.contains(&column.name)
        || matches!(column.kind, Kind::Json | Kind::RawRecord | Kind::Extra)
}

/// `one_row_group`: the rows of a file written in one row group, when they
/// are known before it is started. Its bloom filters are then sized for
/// the rows there are, rather than allocated for a full row group and
/// folded down at the end, and a small file compresses its bulky columns
/// only.
fn properties(run_id: &str, one_row_group: Option<usize>) -> WriterProperties {
    let zstd = Compression::ZSTD(ZstdLevel::try_new(1).expect("valid zstd level"));
    let mut builder = WriterProperties::builder()
        // Level 1: most of the size gain of zstd at about half the cost of
        // level 3, which made compression the larger part of the writer's time.
        .set_compression(zstd)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(
                "ctlake.version".to_owned(),
                env!("CARGO_PKG_VERSION").to_owned(),
            ),
            KeyValue::new("ctlake.run".to_owned(), run_id.to_owned()),
        ]));
    // Sized for a full row group rather than the default million values:
    // the same false-positive rate in a fraction of the memory.
    let distinct = one_row_group.unwrap_or(ROW_GROUP_ROWS).max(1);
    for name in BLOOM_COLUMNS {
        builder = builder
            .set_column_bloom_filter_enabled(ColumnPath::from(*name), true)
            .set_column_bloom_filter_max_ndv(ColumnPath::from(*name), distinct as u64);
    }
    if one_row_group.is_some_and(|rows| rows <= SMALL_FILE_ROWS) {
        builder = builder.set_compression(Compression::UNCOMPRESSED);
        for column in COLUMNS.iter().filter(|c| bulky(c)) {
            builder = builder.set_column_compression(ColumnPath::from(column.name), zstd);
        }
    }
    for name in NO_DICTIONARY {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*name), false);
    }
    for column in COLUMNS
        .iter()
        .filter(|c| matches!(c.kind, Kind::Json | Kind::RawRecord | Kind::Extra))
    {
        // Min and max of JSON text compare long shared prefixes for every
        // value and prune nothing: the costliest statistics, and useless.
        builder = builder
            .set_column_statistics_enabled(ColumnPath::from(column.name), EnabledStatistics::None);
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
    /// Started at the first flush, when it is known whether the file is
    /// written in one row group and of how many rows.
    writer: Option<ArrowWriter<File>>,
    run_id: Arc<str>,
    temp: PathBuf,
    /// Path in the lake, relative to its root.
    target: String,
    rows: u64,
    last_write: u64,
    /// Rows not yet written, each slice sorted by event time.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    pending_bytes: usize,
}

impl OpenFile {
    /// Writes the sort buffer out as one row group, in event-time order;
    /// `last`: no rows will follow.
    fn flush(&mut self, time_column: usize, last: bool) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        let rows = std::mem::take(&mut self.pending_rows);
        self.pending_bytes = 0;
        let parquet_error = |source| Error::Parquet {
            path: self.temp.clone(),
            source,
        };
        if self.writer.is_none() {
            let props = if last {
                properties(&self.run_id, Some(rows))
            } else {
                writer_properties(&self.run_id)
            };
            self.writer = Some(start(&self.temp, props)?);
        }
        let writer = self.writer.as_mut().expect("started above");
        // Slices of consecutive deliveries, each sorted, often cover separate
        // stretches of time; in the order of their first rows they are then
        // written as they are, without a copy.
        let first_time = |batch: &RecordBatch| {
            batch
                .column(time_column)
                .as_primitive::<TimestampNanosecondType>()
                .value(0)
        };
        pending.sort_by_key(first_time);
        let in_order = pending.windows(2).all(|pair| {
            let last = pair[0]
                .column(time_column)
                .as_primitive::<TimestampNanosecondType>();
            let first = pair[1]
                .column(time_column)
                .as_primitive::<TimestampNanosecondType>();
            last.value(last.len() - 1) <= first.value(0)
        });
        if in_order {
            for batch in &pending {
                writer.write(batch).map_err(parquet_error)?;
            }
        } else {
            // Gathered from the slices in one copy, rather than a copy to
            // concatenate them and another to sort.
            let mut order: Vec<(i64, usize, usize)> = Vec::with_capacity(rows);
            for (slice, batch) in pending.iter().enumerate() {
                let times = batch
                    .column(time_column)
                    .as_primitive::<TimestampNanosecondType>();
                order.extend(
                    times
                        .values()
                        .iter()
                        .enumerate()
                        .map(|(row, &time)| (time, slice, row)),
                );
            }
            order.sort_unstable();
            let indices: Vec<(usize, usize)> = order
                .into_iter()
                .map(|(_, slice, row)| (slice, row))
                .collect();
            let sorted = interleave_record_batch(&pending.iter().collect::<Vec<_>>(), &indices)?;
            drop(pending);
            writer.write(&sorted).map_err(parquet_error)?;
        }
        writer.flush().map_err(parquet_error)
    }

    /// Writes what is buffered and finishes the file; `None` when every row
    /// given to it was a duplicate. Such a file is never started, and
    /// writing it empty would leave a file for every partition a re-read
    /// archive touches, each of them opened by every later query.
    fn finish(mut self, time_column: usize) -> Result<Option<Sealed>> {
        self.flush(time_column, true)?;
        let Some(writer) = self.writer else {
            return Ok(None);
        };
        let bytes = seal(writer, &self.temp)?;
        Ok(Some(Sealed {
            temp: self.temp,
            target: self.target,
            rows: self.rows,
            bytes,
        }))
    }

    /// Finishes the file and publishes it, if it has rows.
    fn close(
        self,
        time_column: usize,
        lake: &Lake,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Option<WrittenFile>> {
        self.finish(time_column)?
            .map(|sealed| sealed.publish(lake, runtime))
            .transpose()
    }
}

/// A file written to the end and made durable, not yet published.
struct Sealed {
    temp: PathBuf,
    target: String,
    rows: u64,
    bytes: u64,
}

impl Sealed {
    fn publish(self, lake: &Lake, runtime: &tokio::runtime::Handle) -> Result<WrittenFile> {
        runtime.block_on(lake.publish(&self.temp, &self.target))?;
        Ok(WrittenFile {
            path: self.target,
            rows: self.rows,
            bytes: self.bytes,
        })
    }
}

/// Closes evicted files on a thread of its own. In an archive of many
/// small partitions (an organization's accounts and regions, day after
/// day) closing files is most of the writer's work: each is encoded,
/// made durable and published while the writer goes on cutting batches. A
/// file is handed over only while the thread waits for one, and closed by
/// the writer otherwise, so both cores close files and at most one evicted
/// file's rows wait outside the sort buffer.
struct Closer {
    files: mpsc::SyncSender<(PartitionKey, OpenFile)>,
    closed: mpsc::Receiver<(PartitionKey, Result<Option<WrittenFile>>)>,
    thread: std::thread::JoinHandle<()>,
}

impl Closer {
    fn start(lake: Arc<Lake>, runtime: tokio::runtime::Handle, time_column: usize) -> Self {
        // No room to queue: a send succeeds only while the thread waits.
        let (files, incoming) = mpsc::sync_channel::<(PartitionKey, OpenFile)>(0);
        let (done, closed) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for (key, file) in incoming {
                let written = file.close(time_column, &lake, &runtime);
                if done.send((key, written)).is_err() {
                    break;
                }
            }
        });
        Self {
            files,
            closed,
            thread,
        }
    }

    /// Waits for the thread to close what it was given and returns what it closed.
    fn stop(self) -> Vec<(PartitionKey, Result<Option<WrittenFile>>)> {
        drop(self.files);
        self.thread.join().expect("the closer does not panic");
        self.closed.try_iter().collect()
    }
}

/// `column` with its string views copied out of their blocks when it uses
/// under half of them. The records column holds views into whole objects'
/// text; a partition that took a few rows of a batch (or the rows left of
/// objects with many rejected records) would otherwise keep all of it, and
/// the sort buffer's count of its bytes would say so.
fn shed_sparse_views(column: ArrayRef) -> ArrayRef {
    let Some(views) = column.as_string_view_opt() else {
        return column;
    };
    let held: usize = views
        .data_buffers()
        .iter()
        .map(arrow::buffer::Buffer::len)
        .sum();
    if held >= 2 * views.total_buffer_bytes_used() && held > 0 {
        Arc::new(views.gc())
    } else {
        column
    }
}

/// `f` of each item, in order, computed on up to `threads` threads.
fn in_parallel<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    let count = items.len();
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let next = queue.lock().expect("no panics holding it").next();
                        let Some((i, item)) = next else { break done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a writer thread does not panic"))
            .collect()
    });
    debug_assert_eq!(results.len(), count);
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Two records with one eventID and recipientAccountId but different
/// content: both are stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Conflict {
    /// The shared eventID.
    pub eventid: String,
    /// The shared recipientAccountId, if the records have one.
    pub recipientaccountid: Option<String>,
    /// Where the record that met an earlier, different one was read.
    pub location: String,
    /// Its index in that object's `Records`.
    pub index: i64,
}

/// What the writer did besides writing events.
#[derive(Debug, Default)]
pub(crate) struct WriterOutcome {
    pub files: Vec<WrittenFile>,
    pub duplicates_file: Option<WrittenFile>,
    pub conflicts: Vec<Conflict>,
}

/// The (eventID, recipientAccountId) keys of one partition with the
/// content hashes stored under each.
#[derive(Default)]
struct PartitionIndex {
    first: HashMap<u64, u128>,
    /// Further hashes of keys that already have one: eventID conflicts.
    more: HashMap<u64, Vec<u128>>,
}

enum Seen {
    New,
    Duplicate,
    Conflict,
}

impl PartitionIndex {
    fn insert(&mut self, key: u64, content: u128) -> Seen {
        match self.first.get(&key) {
            None => {
                self.first.insert(key, content);
                Seen::New
            }
            Some(&first) if first == content => Seen::Duplicate,
            Some(_) => {
                let more = self.more.entry(key).or_default();
                if more.contains(&content) {
                    Seen::Duplicate
                } else {
                    more.push(content);
                    Seen::Conflict
                }
            }
        }
    }
}

/// Column positions the writer reads.
struct Positions {
    eventid: usize,
    recipient: usize,
    hash: usize,
    time: usize,
    source_object: usize,
    source_index: usize,
    duplicate_columns: Vec<usize>,
}

impl Positions {
    fn new() -> Self {
        let at = |name: &str| {
            COLUMNS
                .iter()
                .position(|c| c.name == name)
                .expect("catalogue column")
        };
        Self {
            eventid: at("eventid"),
            recipient: at("recipientaccountid"),
            hash: at("content_hash"),
            time: at("eventtime"),
            source_object: at("source_object"),
            source_index: at("source_index"),
            duplicate_columns: [
                "eventid",
                "recipientaccountid",
                "eventtime",
                "eventname",
                "content_hash",
                "source_object",
                "source_index",
            ]
            .into_iter()
            .map(at)
            .collect(),
        }
    }
}

/// Writes event batches into the partitions of one table folder.
pub(crate) struct PartitionedWriter {
    lake: Arc<Lake>,
    runtime: tokio::runtime::Handle,
    run_id: Arc<str>,
    open: HashMap<PartitionKey, OpenFile>,
    next_file: u64,
    clock: u64,
    written: Vec<WrittenFile>,
    /// Committed files of the lake by partition folder, and this run's.
    existing: HashMap<String, Vec<String>>,
    /// Indexes of the partitions with an open file.
    indexes: HashMap<PartitionKey, PartitionIndex>,
    /// Bytes waiting in the open files' sort buffers.
    pending_bytes: usize,
    keys: RandomState,
    positions: Positions,
    duplicates_file: RunFile,
    duplicates: HashMap<String, u64>,
    conflicts: Vec<Conflict>,
    /// Started at the first eviction.
    closer: Option<Closer>,
    /// Partitions with files at the closer, and how many.
    closing: HashMap<PartitionKey, usize>,
}

impl PartitionedWriter {
    /// A writer publishing into `lake`, whose committed event files are
    /// `existing` (lake-relative paths); remote lakes upload on `runtime`.
    pub(crate) fn new(
        lake: Arc<Lake>,
        runtime: tokio::runtime::Handle,
        run_id: &str,
        existing: &[String],
    ) -> Self {
        let mut by_dir: HashMap<String, Vec<String>> = HashMap::new();
        for path in existing {
            if let Some((dir, _)) = path.rsplit_once('/') {
                by_dir.entry(dir.to_owned()).or_default().push(path.clone());
            }
        }
        let duplicates_file = RunFile::new(
            Arc::clone(&lake),
            runtime.clone(),
            duplicates_schema(),
            DUPLICATES_TABLE,
            run_id,
        );
        Self {
            lake,
            runtime,
            run_id: Arc::from(run_id),
            open: HashMap::new(),
            next_file: 0,
            clock: 0,
            written: Vec::new(),
            existing: by_dir,
            indexes: HashMap::new(),
            pending_bytes: 0,
            keys: RandomState::new(),
            positions: Positions::new(),
            duplicates_file,
            duplicates: HashMap::new(),
            conflicts: Vec::new(),
            closer: None,
            closing: HashMap::new(),
        }
    }

    pub(crate) fn write(&mut self, events: EventBatch) -> Result<()> {
        let EventBatch {
            batch,
            partitions,
            partition_of_row,
        } = events;
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let ids: ArrayRef = Arc::new(UInt32Array::from(partition_of_row));
        let time = batch.column(self.positions.time).clone();
        let sort: Vec<SortColumn> = [ids, time]
            .into_iter()
            .map(|values| SortColumn {
                values,
                options: Some(SortOptions::default()),
            })
            .collect();
        let order = lexsort_to_indices(&sort, None)?;
        let sorted_ids = take(sort[0].values.as_ref(), &order, None)?;
        for range in partition(std::slice::from_ref(&sorted_ids))?.ranges() {
            let id = sorted_ids.as_primitive::<UInt32Type>().value(range.start);
            let key = &partitions[id as usize];
            // Each partition's rows are taken into buffers of their own: a
            // slice of one sorted batch would keep the whole batch alive for
            // as long as any partition still buffers a part of it.
            let rows = order.slice(range.start, range.end - range.start);
            let columns = take_arrays(batch.columns(), &rows, None)?
                .into_iter()
                .map(shed_sparse_views)
                .collect();
            let slice = RecordBatch::try_new(batch.schema(), columns)?;
            self.append(key, &slice)?;
        }
        Ok(())
    }

    fn append(&mut self, key: &PartitionKey, slice: &RecordBatch) -> Result<()> {
        self.collect_closed(false)?;
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
                    self.close(oldest, file)?;
                }
            }
            if !self.indexes.contains_key(key) {
                let index = self.load_index(key)?;
                self.indexes.insert(key.clone(), index);
            }
            let file = self.create(key)?;
            self.open.insert(key.clone(), file);
        }
        let slice = self.drop_duplicates(key, slice)?;
        if slice.num_rows() == 0 {
            return Ok(());
        }
        let file = self.open.get_mut(key).expect("opened above");
        let bytes = slice.get_array_memory_size();
        file.rows += slice.num_rows() as u64;
        file.last_write = self.clock;
        file.pending_rows += slice.num_rows();
        file.pending_bytes += bytes;
        file.pending.push(slice);
        self.pending_bytes += bytes;
        if file.pending_rows >= ROW_GROUP_ROWS {
            self.pending_bytes -= file.pending_bytes;
            file.flush(self.positions.time, false)?;
        }
        while self.pending_bytes > SORT_BUFFER_BYTES {
            let largest = self
                .open
                .values_mut()
                .max_by_key(|f| f.pending_bytes)
                .expect("buffered rows belong to open files");
            self.pending_bytes -= largest.pending_bytes;
            largest.flush(self.positions.time, false)?;
        }
        Ok(())
    }

    /// The rows of `slice` that are not copies of stored events; the copies
    /// go to the `duplicates` file.
    fn drop_duplicates(&mut self, key: &PartitionKey, slice: &RecordBatch) -> Result<RecordBatch> {
        let p = &self.positions;
        let eventid = slice.column(p.eventid).as_string::<i32>();
        let recipient = slice.column(p.recipient).as_string::<i32>();
        let hash = slice.column(p.hash).as_string::<i32>();
        let source = slice.column(p.source_object).as_string::<i32>();
        let index = self.indexes.get_mut(key).expect("loaded with the file");
        let mut keep = Vec::with_capacity(slice.num_rows());
        let mut copies = Vec::new();
        for row in 0..slice.num_rows() {
            let id = eventid.value(row);
            let account = recipient.is_valid(row).then(|| recipient.value(row));
            let content = parse_hash(hash.value(row)).expect("the decoder writes 32 hex digits");
            match index.insert(self.keys.hash_one((id, account)), content) {
                Seen::New => keep.push(row as u32),
                Seen::Duplicate => {
                    copies.push(row as u32);
                    *self
                        .duplicates
                        .entry(source.value(row).to_owned())
                        .or_default() += 1;
                }
                Seen::Conflict => {
                    keep.push(row as u32);
                    self.conflicts.push(Conflict {
                        eventid: id.to_owned(),
                        recipientaccountid: account.map(str::to_owned),
                        location: source.value(row).to_owned(),
                        index: slice
                            .column(p.source_index)
                            .as_primitive::<arrow::datatypes::Int64Type>()
                            .value(row),
                    });
                }
            }
        }
        if copies.is_empty() {
            return Ok(slice.clone());
        }
        let copies = UInt32Array::from(copies);
        let mut columns = take_arrays(
            &p.duplicate_columns
                .iter()
                .map(|&i| Arc::clone(slice.column(i)))
                .collect::<Vec<_>>(),
            &copies,
            None,
        )?;
        let n = copies.len();
        for value in [&*self.run_id, &key.account, &key.region, &key.date] {
            columns.push(Arc::new(StringArray::from(vec![value; n])));
        }
        let batch = RecordBatch::try_new(duplicates_schema(), columns)?;
        self.duplicates_file.write(&batch)?;
        let keep = UInt32Array::from(keep);
        Ok(RecordBatch::try_new(
            slice.schema(),
            take_arrays(slice.columns(), &keep, None)?,
        )?)
    }

    /// The keys and hashes stored in a partition's committed files and in
    /// the files this run already published there.
    fn load_index(&self, key: &PartitionKey) -> Result<PartitionIndex> {
        let mut index = PartitionIndex::default();
        let dir = format!("{TABLE_NAME}/{}", key.dir());
        let Some(files) = self.existing.get(&dir) else {
            return Ok(index);
        };
        let p = &self.positions;
        for path in files {
            let bytes = self.runtime.block_on(self.lake.read(path))?;
            let parquet_error = |source| Error::Parquet {
                path: path.into(),
                source,
            };
            let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
                .map_err(parquet_error)?;
            let mask =
                ProjectionMask::roots(builder.parquet_schema(), [p.eventid, p.recipient, p.hash]);
            for batch in builder
                .with_projection(mask)
                .build()
                .map_err(parquet_error)?
            {
                let batch = batch?;
                let eventid = batch.column(0).as_string::<i32>();
                let recipient = batch.column(1).as_string::<i32>();
                let hash = batch.column(2).as_string::<i32>();
                for row in 0..batch.num_rows() {
                    let account = recipient.is_valid(row).then(|| recipient.value(row));
                    let content = parse_hash(hash.value(row)).ok_or_else(|| {
                        Error::Setup(format!(
                            "{path}: content_hash {:?} is not 32 hex digits; the lake file is damaged",
                            hash.value(row)
                        ))
                    })?;
                    index.insert(self.keys.hash_one((eventid.value(row), account)), content);
                }
            }
        }
        Ok(index)
    }

    fn create(&mut self, key: &PartitionKey) -> Result<OpenFile> {
        let name = data_file_name(&self.run_id, self.next_file);
        self.next_file += 1;
        let target = format!("{TABLE_NAME}/{}/{name}", key.dir());
        let temp = self.lake.staging_path(&target)?;
        Ok(OpenFile {
            writer: None,
            run_id: Arc::clone(&self.run_id),
            temp,
            target,
            rows: 0,
            last_write: self.clock,
            pending: Vec::new(),
            pending_rows: 0,
            pending_bytes: 0,
        })
    }

    /// Closes an evicted file: on the closer's thread when it is idle,
    /// here otherwise.
    fn close(&mut self, key: PartitionKey, file: OpenFile) -> Result<()> {
        self.pending_bytes -= file.pending_bytes;
        let closer = self.closer.get_or_insert_with(|| {
            Closer::start(
                Arc::clone(&self.lake),
                self.runtime.clone(),
                self.positions.time,
            )
        });
        match closer.files.try_send((key.clone(), file)) {
            Ok(()) => {
                *self.closing.entry(key).or_default() += 1;
                Ok(())
            }
            Err(
                mpsc::TrySendError::Full((_, file)) | mpsc::TrySendError::Disconnected((_, file)),
            ) => {
                let written = file.close(self.positions.time, &self.lake, &self.runtime)?;
                self.published(&key, written);
                Ok(())
            }
        }
    }

    /// Takes the files the closer has published, waiting for all of them
    /// when `all`.
    fn collect_closed(&mut self, all: bool) -> Result<()> {
        let closed: Vec<_> = match &self.closer {
            None => return Ok(()),
            Some(closer) if !all => closer.closed.try_iter().collect(),
            Some(_) => self.closer.take().expect("matched").stop(),
        };
        for (key, written) in closed {
            let count = self.closing.get_mut(&key).expect("handed over");
            *count -= 1;
            if *count == 0 {
                self.closing.remove(&key);
            }
            self.published(&key, written?);
        }
        Ok(())
    }

    fn published(&mut self, key: &PartitionKey, written: Option<WrittenFile>) {
        if let Some(written) = written {
            if let Some((dir, _)) = written.path.rsplit_once('/') {
                self.existing
                    .entry(dir.to_owned())
                    .or_default()
                    .push(written.path.clone());
            }
            self.written.push(written);
        }
        // Reloaded from the published files if the run comes back here.
        // A partition open again, or with another file still closing, keeps
        // its index: it holds this file's keys too.
        if !self.open.contains_key(key) && !self.closing.contains_key(key) {
            self.indexes.remove(key);
        }
    }

    /// How many of the records read from `location` were copies of events
    /// already stored, and not stored again. Final once the batches holding
    /// the object's rows are written; the count is forgotten here.
    pub(crate) fn take_duplicates(&mut self, location: &str) -> u64 {
        self.duplicates.remove(location).unwrap_or(0)
    }

    /// Closes every open file, encoding the last buffers on up to `threads`
    /// threads, and returns all files this writer published.
    pub(crate) fn finish(mut self, threads: usize) -> Result<WriterOutcome> {
        self.collect_closed(true)?;
        let mut open: Vec<_> = std::mem::take(&mut self.open).into_iter().collect();
        open.sort_by(|a, b| a.0.cmp(&b.0));
        self.pending_bytes = 0;
        let time = self.positions.time;
        // The decode workers are done by now, and the last sort buffers are
        // a serial tail of the run: they are encoded on the workers' cores.
        let sealed = in_parallel(open, threads, |(key, file)| {
            file.finish(time).map(|sealed| (key, sealed))
        });
        for result in sealed {
            let (key, sealed) = result?;
            let written = sealed
                .map(|sealed| sealed.publish(&self.lake, &self.runtime))
                .transpose()?;
            self.published(&key, written);
        }
        let mut conflicts = self.conflicts;
        conflicts.sort_by(|a, b| {
            (&a.eventid, &a.location, a.index).cmp(&(&b.eventid, &b.location, b.index))
        });
        Ok(WriterOutcome {
            files: self.written,
            duplicates_file: self.duplicates_file.finish()?,
            conflicts,
        })
    }
}

/// Starts the staged Parquet file `temp`.
fn start(temp: &std::path::Path, props: WriterProperties) -> Result<ArrowWriter<File>> {
    let handle = File::create(temp).map_err(|source| Error::Write {
        path: temp.to_owned(),
        source,
    })?;
    ArrowWriter::try_new(handle, file_schema(), Some(props)).map_err(|source| Error::Parquet {
        path: temp.to_owned(),
        source,
    })
}

/// Finishes a staged Parquet file and makes it durable before it is
/// published. Returns its size.
pub(crate) fn seal(writer: ArrowWriter<File>, temp: &std::path::Path) -> Result<u64> {
    let handle = writer.into_inner().map_err(|source| Error::Parquet {
        path: temp.to_owned(),
        source,
    })?;
    let io = |source| Error::Write {
        path: temp.to_owned(),
        source,
    };
    handle.sync_all().map_err(io)?;
    Ok(handle.metadata().map_err(io)?.len())
}

/// The content hash column's 32 hex digits as a number.
fn parse_hash(hex: &str) -> Option<u128> {
    (hex.len() == 32).then(|| u128::from_str_radix(hex, 16).ok())?
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, StringViewBuilder};
    use arrow::buffer::Buffer;

    use super::*;

    /// Views of `len` bytes each at the starts of `count` stretches of one
    /// 4,000-byte block.
    fn views(count: u32, len: u32) -> ArrayRef {
        let text = "x".repeat(4000);
        let mut builder = StringViewBuilder::new();
        let block = builder.append_block(Buffer::from(text.as_bytes()));
        for i in 0..count {
            builder.try_append_view(block, i * 40, len).unwrap();
        }
        Arc::new(builder.finish())
    }

    #[test]
    fn sparse_views_are_copied_out_and_dense_ones_kept() {
        let sparse = views(3, 20);
        let shed = shed_sparse_views(Arc::clone(&sparse));
        let kept = shed.as_string_view();
        assert_eq!(
            kept.data_buffers().iter().map(Buffer::len).sum::<usize>(),
            60
        );
        assert_eq!(
            kept.iter().collect::<Vec<_>>(),
            sparse.as_string_view().iter().collect::<Vec<_>>()
        );

        let dense = views(100, 40);
        assert!(Arc::ptr_eq(&shed_sparse_views(Arc::clone(&dense)), &dense));
        let strings: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        assert!(Arc::ptr_eq(
            &shed_sparse_views(Arc::clone(&strings)),
            &strings
        ));
    }
}
