//! Ingest: CloudTrail archive → decompress → records → Arrow → partitioned Parquet.
//!
//! Objects are listed and classified by key, then read by a pool of worker
//! threads (decompression and JSON decoding in parallel) while the calling
//! thread sorts rows into partitions and encodes Parquet. A bounded channel
//! between them keeps memory flat however large the archive is: at most a few
//! batches are in flight, and one object is in memory per worker.
//!
//! Every record read is accounted for: it is written, or rejected with a
//! reason in the [`IngestReport`]. An object that fails (bad gzip, bad JSON,
//! no `Records`) is reported by location and the run goes on; records before
//! the point of failure are kept.
//!
//! ```no_run
//! use ctlake_ingest::{IngestOptions, ingest, NoProgress};
//! let options = IngestOptions::new(vec!["sample-logs".into()], "lake".into());
//! let report = ingest(&options, &NoProgress).unwrap();
//! assert_eq!(report.records_read, report.events_written + report.records_rejected);
//! ```

mod decode;
mod decompress;
mod error;
mod json;
mod lake;
mod report;
mod source;
mod time;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

pub use decode::{EventBatch, KeyContext, RejectReason, RejectedRecord};
pub use error::{Error, Result};
pub use lake::{Lake, is_lake};
pub use report::{IngestReport, ObjectFailure, RecordRejection, human};
pub use source::{ObjectKind, SourceObject, classify, list_local};
pub use writer::{WrittenFile, writer_properties};

use decode::{EventBuilder, Scratch};

/// Default cap on one object's decompressed size. CloudTrail objects are a
/// few MB; anything past this is a gzip bomb or not a log file.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 256 * 1024 * 1024;

/// Rows a worker gathers before handing a batch to the writer.
const BATCH_ROWS: usize = 16 * 1024;

/// What to ingest and where.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Files or folders to read.
    pub inputs: Vec<PathBuf>,
    /// The lake folder to write.
    pub lake: PathBuf,
    /// Worker threads decoding objects.
    pub jobs: usize,
    /// Cap on one object's decompressed size, in bytes.
    pub max_object_bytes: u64,
}

impl IngestOptions {
    /// Options with defaults: one worker per core, [`DEFAULT_MAX_OBJECT_BYTES`].
    pub fn new(inputs: Vec<PathBuf>, lake: PathBuf) -> Self {
        let jobs = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            inputs,
            lake,
            jobs,
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
        }
    }
}

/// Receives progress while ingest runs (a progress bar, or nothing).
pub trait Progress: Sync {
    /// The listing is complete.
    fn listed(&self, _objects: u64, _bytes: u64) {}
    /// One more object is done.
    fn object_done(&self, _bytes: u64, _events: u64) {}
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// What a worker learned from one object.
struct ObjectOutcome {
    object: usize,
    decompressed: u64,
    records: u64,
    written: u64,
    rejected: Vec<RejectedRecord>,
    error: Option<Error>,
}

enum Message {
    Batch(EventBatch),
    Done(ObjectOutcome),
}

/// Ingests the inputs into the lake and reports what happened.
///
/// Errors returned here are about the lake (it cannot be created or
/// written); problems with the inputs are in the report.
pub fn ingest(options: &IngestOptions, progress: &dyn Progress) -> Result<IngestReport> {
    let started = Instant::now();
    let lake = Lake::create_or_open(&options.lake)?;
    for input in &options.inputs {
        if let Ok(input) = std::path::absolute(input)
            && lake.root().starts_with(&input)
            && input.is_dir()
        {
            return Err(Error::LakeInsideInput {
                lake: lake.root().to_owned(),
                input,
            });
        }
    }
    let run_id = run_id();
    let mut report = IngestReport {
        run_id: run_id.clone(),
        ..IngestReport::default()
    };

    let (objects, list_errors) = list_local(&options.inputs);
    for error in list_errors {
        report.failures.push(ObjectFailure {
            location: error_location(&error),
            reason: error.to_string(),
            records_recovered: 0,
        });
    }
    report.objects_listed = objects.len() as u64;
    progress.listed(objects.len() as u64, objects.iter().map(|o| o.size).sum());

    let mut writer = writer::PartitionedWriter::new(lake.root(), lake.table_dir(), &run_id);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<Message>(options.jobs.max(1) * 2);
    let write_result = std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            let tx = tx.clone();
            let (objects, next, stop) = (&objects, &next, &stop);
            scope.spawn(move || worker(objects, next, stop, options.max_object_bytes, &tx));
        }
        drop(tx);
        let mut result = Ok(());
        for message in rx {
            match message {
                Message::Batch(batch) if result.is_ok() => {
                    result = writer.write(batch);
                    if result.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                Message::Batch(_) => {}
                Message::Done(outcome) => {
                    let object = &objects[outcome.object];
                    progress.object_done(object.size, outcome.written);
                    account(&mut report, object, outcome);
                }
            }
        }
        result
    });
    write_result?;
    // Workers finish in any order; the report does not.
    report.failures.sort_by(|a, b| a.location.cmp(&b.location));
    report
        .rejections
        .sort_by(|a, b| (&a.location, a.index).cmp(&(&b.location, b.index)));
    report.files = writer.finish()?;
    report.bytes_written = report.files.iter().map(|f| f.bytes).sum();
    report.elapsed = started.elapsed();
    save_report(&lake, &report)?;
    Ok(report)
}

fn worker(
    objects: &[SourceObject],
    next: &AtomicUsize,
    stop: &AtomicBool,
    limit: u64,
    tx: &mpsc::SyncSender<Message>,
) {
    let mut builder = EventBuilder::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= objects.len() || stop.load(Ordering::Relaxed) {
            break;
        }
        let outcome = read_object(i, &objects[i], limit, &mut builder);
        if builder.len() >= BATCH_ROWS && tx.send(Message::Batch(builder.finish())).is_err() {
            return;
        }
        if tx.send(Message::Done(outcome)).is_err() {
            return;
        }
    }
    if builder.len() > 0 {
        // The receiver only goes away when the run is already failing.
        let _ = tx.send(Message::Batch(builder.finish()));
    }
}

fn read_object(
    index: usize,
    object: &SourceObject,
    limit: u64,
    builder: &mut EventBuilder,
) -> ObjectOutcome {
    let mut outcome = ObjectOutcome {
        object: index,
        decompressed: 0,
        records: 0,
        written: 0,
        rejected: Vec::new(),
        error: None,
    };
    if !object.kind.has_events() {
        return outcome;
    }
    let location = &object.location;
    let bytes = match std::fs::read(&object.path) {
        Ok(bytes) => bytes,
        Err(source) => {
            outcome.error = Some(Error::Read {
                location: location.clone(),
                source,
            });
            return outcome;
        }
    };
    let named_gz = location.to_ascii_lowercase().ends_with(".gz");
    let decompressed = match decompress::decompress(location, &bytes, named_gz, limit) {
        Ok(d) => d,
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    };
    drop(bytes);
    outcome.decompressed = decompressed.text.len() as u64;
    let mut scratch = Scratch::new();
    let (mut written, mut rejected) = (0u64, Vec::new());
    let walked = json::for_each_record(&decompressed.text, &mut |i, raw| match builder
        .decode_record(raw, i, location, &object.key, &mut scratch)
    {
        Ok(()) => written += 1,
        Err(r) => rejected.push(r),
    });
    outcome.records = written + rejected.len() as u64;
    outcome.written = written;
    outcome.rejected = rejected;
    // A broken gzip stream explains the JSON error that follows it.
    outcome.error = decompressed.error.or(match walked {
        Ok(_) => None,
        Err(json::RecordsError::Json { error, records }) => Some(Error::Json {
            location: location.clone(),
            records,
            source: error,
        }),
        Err(json::RecordsError::NoRecords) => Some(Error::NoRecords {
            location: location.clone(),
        }),
        Err(json::RecordsError::NotObject) => Some(Error::NotAnObject {
            location: location.clone(),
        }),
    });
    outcome
}

fn account(report: &mut IngestReport, object: &SourceObject, outcome: ObjectOutcome) {
    report.count_kind(object.kind);
    if object.kind.has_events() {
        report.bytes_read += object.size;
        report.bytes_decompressed += outcome.decompressed;
    }
    report.records_read += outcome.records;
    report.events_written += outcome.written;
    report.records_rejected += outcome.rejected.len() as u64;
    for r in outcome.rejected {
        report.rejections.push(RecordRejection {
            location: object.location.clone(),
            index: r.index as u64,
            reason: r.reason.to_string(),
            raw: r.raw,
        });
    }
    match outcome.error {
        Some(error) => report.failures.push(ObjectFailure {
            location: object.location.clone(),
            reason: error.to_string(),
            records_recovered: outcome.records,
        }),
        None if object.kind.has_events() => report.objects_read += 1,
        None => {}
    }
}

/// A fingerprint of what is under `inputs`: every object's location, size and
/// modification time. Equal fingerprints mean an unchanged archive.
pub fn archive_fingerprint(inputs: &[PathBuf]) -> String {
    use sha2::{Digest, Sha256};
    let (objects, errors) = list_local(inputs);
    let mut hash = Sha256::new();
    for o in &objects {
        let modified = o
            .modified
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        hash.update(format!(
            "{}\0{}\0{}\n",
            o.location,
            o.size,
            modified.as_nanos()
        ));
    }
    for e in &errors {
        hash.update(format!("error {e}\n"));
    }
    hex(&hash.finalize())
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn error_location(error: &Error) -> String {
    match error {
        Error::Read { location, .. } => location.clone(),
        other => other.to_string(),
    }
}

/// A run id that sorts by start time and differs between concurrent runs.
fn run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = chrono::DateTime::from_timestamp(now.as_secs() as i64, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ");
    format!(
        "{stamp}-{:08x}",
        (now.subsec_nanos() ^ std::process::id().rotate_left(16))
    )
}

fn save_report(lake: &Lake, report: &IngestReport) -> Result<()> {
    let dir = lake.runs_dir();
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join(format!("{}.json", report.run_id));
    let text = serde_json::to_string_pretty(report).expect("reports serialise");
    std::fs::write(&path, text).map_err(|source| Error::Write { path, source })
}
