//! Ingest: CloudTrail archive → decompress → records → Arrow → partitioned Parquet.
//!
//! The pipeline has four stages joined by bounded channels, so memory stays
//! flat however large the archive is:
//!
//! 1. a lister walks each archive (a local folder or an S3 prefix), pruned
//!    to the [`Selection`] by the trail layout;
//! 2. a fetcher keeps up to `concurrency` reads in flight (GETs on S3);
//! 3. worker threads decompress and decode objects into Arrow batches;
//! 4. the writer sorts rows into partitions, encodes Parquet and publishes
//!    finished files into the [`Lake`].
//!
//! Every record read is accounted for: it is written, or rejected with a
//! reason in the [`IngestReport`]. An object that fails (bad gzip, bad JSON,
//! no `Records`, a read that still fails after retries) is reported by
//! location and the run goes on; records before the point of failure are
//! kept. Errors that condemn every request (missing bucket, refused
//! credentials) stop the run.
//!
//! ```no_run
//! # async fn run() -> ctlake_ingest::Result<()> {
//! use std::sync::Arc;
//! use ctlake_ingest::{IngestOptions, Location, ingest, NoProgress};
//! let options = IngestOptions::new(
//!     vec![Location::parse("s3://trail-archive/AWSLogs").unwrap()],
//!     Location::Local("lake".into()),
//! );
//! let report = ingest(&options, Arc::new(NoProgress)).await?;
//! assert_eq!(report.records_read, report.events_written + report.records_rejected);
//! # Ok(())
//! # }
//! ```

mod canonical;
mod decode;
mod decompress;
mod error;
mod json;
mod lake;
mod manifest;
mod report;
mod side_tables;
mod source;
mod time;
mod writer;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use arrow::buffer::Buffer;
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc as async_mpsc;

pub use ctlake_store::{Location, S3Options};
pub use decode::{EventBatch, KeyContext, RejectReason, RejectedRecord, batch_schema};
pub use error::{Error, Result};
pub use lake::{Lake, is_lake};
pub use manifest::{ManifestEntry, OBJECTS_DIR};
pub use report::{IngestReport, ObjectFailure, RecordRejection, SkippedObject, human};
pub use side_tables::MAX_REJECTED_OBJECT_TEXT;
pub use source::{
    Archive, Fetched, Listed, LocalArchive, ObjectKind, S3Archive, Selection, SourceObject,
    classify,
};
pub use writer::{Conflict, WrittenFile, writer_properties};

use ctlake_schema::{META_DIR, REPORT_SUFFIX, RUNS_DIR, STARTED_SUFFIX, TABLE_NAME};
use decode::{EventBuilder, FieldNotes, Scratch};
use manifest::{KnownObjects, KnownObjectsBuilder, ManifestWriter};
use side_tables::{DigestFile, DigestWriter, Rejected, RejectedWriter, SCOPE_OBJECT, SCOPE_RECORD};

/// Default cap on one object's decompressed size. CloudTrail objects are a
/// few MB; anything past this is a gzip bomb or not a log file.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 256 * 1024 * 1024;

/// Default reads in flight from S3: enough to hide request latency; one
/// CloudTrail object is small, so memory stays low.
pub const DEFAULT_S3_CONCURRENCY: usize = 64;

/// Rows at most in a batch a worker hands to the writer (a batch also ends
/// with its chunk of objects).
const BATCH_ROWS: usize = 8 * 1024;

/// Listed objects waiting to be fetched.
const LISTED_QUEUE: usize = 1024;

/// Objects are handed from the fetcher to a worker, and their outcomes from
/// the worker to the writer, a chunk at a time, of up to this many bytes of
/// objects (as listed, compressed). A worker's batch ends with its chunk, so
/// a chunk of a few small objects makes a small batch, and every batch costs
/// a sort, a take per partition and a write per column. A chunk takes what
/// is ready and does not wait to fill.
const CHUNK_BYTES: u64 = 4 << 20;

/// Objects at most in a chunk, however small they are: each one's outcome
/// waits in the worker until its chunk is done.
const CHUNK_OBJECTS: usize = 4096;

/// What to ingest and where.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Archives to read: local files or folders, or `s3://` prefixes.
    pub inputs: Vec<Location>,
    /// The lake to write: a local folder or an `s3://` prefix.
    pub lake: Location,
    /// Which part of the archives to read.
    pub selection: Selection,
    /// How to reach S3, for inputs and lake alike.
    pub s3: S3Options,
    /// Worker threads decoding objects.
    pub jobs: usize,
    /// Reads in flight at once.
    pub concurrency: usize,
    /// Cap on one object's decompressed size, in bytes.
    pub max_object_bytes: u64,
}

impl IngestOptions {
    /// Options with defaults: everything selected, one worker per core,
    /// [`DEFAULT_MAX_OBJECT_BYTES`], [`DEFAULT_S3_CONCURRENCY`] reads in
    /// flight on S3 (two per worker locally).
    pub fn new(inputs: Vec<Location>, lake: Location) -> Self {
        let jobs = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let concurrency = if inputs.iter().any(Location::is_remote) {
            DEFAULT_S3_CONCURRENCY
        } else {
            jobs * 2
        };
        Self {
            inputs,
            lake,
            selection: Selection::default(),
            s3: S3Options::default(),
            jobs,
            concurrency,
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
        }
    }
}

/// Receives progress while ingest runs (a progress bar, or nothing).
pub trait Progress: Send + Sync {
    /// More objects to read were listed.
    fn listed(&self, _objects: u64, _bytes: u64) {}
    /// One more object is done.
    fn object_done(&self, _bytes: u64, _events: u64) {}
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// An object read from its archive, or the error that prevented it.
type FetchResult = (SourceObject, Pending);

/// An object handed to the decode workers.
enum Pending {
    /// Read by the fetcher (S3).
    Fetched(Result<Fetched>),
    /// A local file, read by the worker that decodes it: a handoff to
    /// tokio's blocking pool and back for each small object cost more than
    /// reading it.
    Local(std::path::PathBuf),
}

/// What a worker learned from one object.
struct ObjectOutcome {
    object: SourceObject,
    fetched: Fetched,
    decompressed: u64,
    records: u64,
    written: u64,
    rejected: Vec<RejectedRecord>,
    error: Option<Error>,
    /// What could not be read of a failed object, for the `rejected` table.
    leftover: Option<Leftover>,
    fields: FieldNotes,
    /// Whether the object's bytes were read from the store.
    fetched_ok: bool,
    /// Hex SHA-256 of the decompressed bytes, when all of them were read.
    sha256: Option<String>,
    /// The text of a digest file.
    digest: Option<DigestFile>,
}

/// The unread part of an object: its text (capped), and how many bytes it was.
struct Leftover {
    text: String,
    bytes: u64,
}

impl Leftover {
    fn of(bytes: &[u8]) -> Self {
        let kept = &bytes[..bytes.len().min(MAX_REJECTED_OBJECT_TEXT)];
        Self {
            text: String::from_utf8_lossy(kept).into_owned(),
            bytes: bytes.len() as u64,
        }
    }
}

enum Message {
    Batch(EventBatch),
    Done(Vec<ObjectOutcome>),
}

/// What the lister saw besides the objects it passed on.
#[derive(Debug, Default)]
struct ListCounts {
    listed: u64,
    skipped: u64,
    excluded: u64,
    unchanged: u64,
    no_layout: Vec<String>,
    nothing_selected: Vec<String>,
    no_logs: Vec<String>,
    digests_only: Vec<String>,
    unreadable: Vec<ObjectFailure>,
    /// The first [`SKIPPED_NAMED`] objects skipped, with why.
    skipped_named: Vec<SkippedObject>,
}

/// The manifest kind of an entry the listing could not read (a dangling
/// link, a folder without permission).
const UNLISTED_KIND: &str = "unreadable";

/// The manifest entry of what the listing could not read, so the books of
/// `status` count it: not fetched, so the next run tries it again.
fn unlisted_entry(run_id: &str, failure: &ObjectFailure) -> ManifestEntry {
    ManifestEntry {
        run: run_id.to_owned(),
        location: failure.location.clone(),
        kind: UNLISTED_KIND.to_owned(),
        size: 0,
        etag: None,
        version_id: None,
        last_modified: None,
        metadata: None,
        records: 0,
        written: 0,
        duplicates: 0,
        rejected: 0,
        error: Some(failure.reason.clone()),
        fetched: false,
        capped_at: None,
        sha256: None,
    }
}

/// Skipped objects the report names; the rest are counted. A Control Tower
/// bucket can hold millions of other services' objects.
const SKIPPED_NAMED: usize = 1000;

/// Opens the archive at `location`.
pub async fn open_archive(location: &Location, s3: &S3Options) -> Result<Arc<dyn Archive>> {
    Ok(match location {
        Location::Local(path) => Arc::new(LocalArchive::new(path)?),
        Location::S3 { bucket, prefix } => {
            let store = ctlake_store::s3_store(bucket, s3)
                .await
                .map_err(|e| Error::Setup(e.to_string()))?;
            Arc::new(S3Archive::new(bucket.clone(), prefix.clone(), store))
        }
    })
}

/// Inflates one object exactly as ingest does (every gzip member, at most
/// `limit` bytes); benchmarks measure the decompression floor with it.
pub fn inflate(location: &str, bytes: &[u8], limit: u64) -> Result<Vec<u8>> {
    let decompressed = decompress::decompress(location, bytes, true, limit)?;
    match decompressed.error {
        Some(error) => Err(error),
        None => Ok(decompressed.text),
    }
}

/// Ingests the inputs into the lake and reports what happened.
///
/// Errors returned here are about the lake (it cannot be created or
/// written) or condemn the whole source (missing bucket, refused
/// credentials); problems with single objects are in the report.
pub async fn ingest(options: &IngestOptions, progress: Arc<dyn Progress>) -> Result<IngestReport> {
    let started = Instant::now();
    options.selection.check().map_err(Error::Setup)?;
    let mut archives = Vec::with_capacity(options.inputs.len());
    for input in &options.inputs {
        archives.push(open_archive(input, &options.s3).await?);
    }
    refuse_lake_inside_input(&options.lake, &options.inputs)?;
    refuse_overlapping_inputs(&options.inputs)?;
    let lake = Arc::new(Lake::create_or_open(&options.lake, &options.s3).await?);
    let run_id = run_id();
    let lock = lake.lock(&run_id).await?;
    let result = run(options, &lake, archives, run_id, progress, started).await;
    // Released whatever happened; a killed run's lock is taken over instead.
    lock.release().await?;
    result
}

/// The lake's runs as its runs folder tells them.
struct Runs {
    /// Runs with a report.
    committed: HashSet<String>,
    /// Runs that started and have no report.
    interrupted: HashSet<String>,
    /// The files committed runs' reports list, lake-relative: the only
    /// files of the tables that are the lake's.
    written: HashSet<String>,
}

/// The runs a lake records: committed (their report exists; it is written
/// last) and interrupted (they left their start marker and no report).
async fn runs(lake: &Lake) -> Result<Runs> {
    let dir = format!("{META_DIR}/{RUNS_DIR}");
    let files = lake.list(&dir).await?;
    let named = |suffix: &str| -> HashSet<String> {
        files
            .iter()
            .filter_map(|path| path.strip_prefix(&dir)?.strip_prefix('/'))
            .filter(|name| !name.contains('/') && !name.starts_with('.'))
            .filter_map(|name| name.strip_suffix(suffix))
            .map(str::to_owned)
            .collect()
    };
    let committed = named(REPORT_SUFFIX);
    let interrupted = named(STARTED_SUFFIX)
        .difference(&committed)
        .cloned()
        .collect();
    let mut written = HashSet::new();
    for run in &committed {
        let report = format!("{dir}/{run}{REPORT_SUFFIX}");
        let listed =
            ctlake_schema::RunFiles::from_report(&lake.read(&report).await?).map_err(|source| {
                Error::BadReport {
                    lake: lake.name(),
                    report: report.clone(),
                    source,
                }
            })?;
        written.extend(listed.iter().map(|file| file.path.clone()));
    }
    Ok(Runs {
        committed,
        interrupted,
        written,
    })
}

/// Removes what interrupted runs left: staging files, their event,
/// duplicates, rejected and manifest files, and their start markers. Files
/// of runs the lake has no record of are left alone. Returns how many files
/// were removed and the event files that remain.
async fn remove_interrupted(lake: &Lake, runs: &Runs) -> Result<(u64, Vec<String>)> {
    let mut removed = 0;
    let mut remaining = Vec::new();
    let mut dirs = vec![TABLE_NAME.to_owned(), format!("{META_DIR}/{RUNS_DIR}")];
    dirs.extend(ctlake_schema::run_file_dirs());
    for dir in &dirs {
        for path in lake.list(dir).await? {
            let name = path.rsplit('/').next().unwrap_or(&path);
            let staging = name.starts_with('.') && name.ends_with(".inprogress");
            let interrupted_file = ctlake_schema::is_run_file(&path)
                && ctlake_schema::run_of_file(name)
                    .is_some_and(|run| runs.interrupted.contains(run));
            if staging || interrupted_file {
                lake.delete(&path).await?;
                removed += 1;
            } else if dir == TABLE_NAME && runs.written.contains(&path) {
                remaining.push(path);
            }
        }
    }
    for run in &runs.interrupted {
        lake.delete(&format!("{META_DIR}/{RUNS_DIR}/{run}{STARTED_SUFFIX}"))
            .await?;
    }
    Ok((removed, remaining))
}

/// Every object version committed runs read.
async fn known_objects(
    lake: &Lake,
    committed: &HashSet<String>,
    max_object_bytes: u64,
) -> Result<KnownObjects> {
    let mut known = KnownObjectsBuilder::new(max_object_bytes);
    let manifests: HashSet<String> = committed
        .iter()
        .map(|run| ctlake_schema::manifest_path(run))
        .collect();
    for path in lake.list(&format!("{META_DIR}/{OBJECTS_DIR}")).await? {
        if manifests.contains(&path) {
            known.read(lake.read(&path).await?)?;
        }
    }
    Ok(known.finish())
}

async fn run(
    options: &IngestOptions,
    lake: &Arc<Lake>,
    archives: Vec<Arc<dyn Archive>>,
    run_id: String,
    progress: Arc<dyn Progress>,
    started: Instant,
) -> Result<IngestReport> {
    let runs = runs(lake).await?;
    let (removed, existing) = remove_interrupted(lake, &runs).await?;
    let known = Arc::new(known_objects(lake, &runs.committed, options.max_object_bytes).await?);
    let started_marker = format!("{META_DIR}/{RUNS_DIR}/{run_id}{STARTED_SUFFIX}");
    lake.put(&started_marker, Vec::new()).await?;

    let (listed_tx, listed_rx) = async_mpsc::channel(LISTED_QUEUE);
    let lister = tokio::spawn(list_all(
        archives.clone(),
        options.selection.clone(),
        known,
        listed_tx,
        Arc::clone(&progress),
    ));
    let (fetched_tx, fetched_rx) = async_mpsc::channel(options.jobs.max(1));
    let fatal = Arc::new(Mutex::new(None));
    let fetcher = tokio::spawn(fetch_all(
        archives,
        listed_rx,
        fetched_tx,
        options.concurrency.max(1),
        Arc::clone(&fatal),
    ));
    let decode = {
        let (lake, run_id, progress) = (Arc::clone(lake), run_id.clone(), progress);
        let (jobs, limit) = (options.jobs.max(1), options.max_object_bytes);
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let stage = Stage {
                lake: &lake,
                runtime,
                run_id: &run_id,
                existing: &existing,
            };
            decode_and_write(fetched_rx, jobs, limit, &stage, &*progress)
        })
    };
    let counts = lister.await.expect("lister does not panic");
    fetcher.await.expect("fetcher does not panic");
    let (mut report, mut manifest, mut rejected) = decode.await.expect("writer does not panic")?;
    report.run_id = run_id;
    report.inputs = options.inputs.iter().map(ToString::to_string).collect();
    let counts = match counts {
        Ok(counts) => counts,
        Err(e) => {
            fatal.lock().expect("no panics holding it").get_or_insert(e);
            ListCounts::default()
        }
    };
    report.objects_listed = counts.listed;
    report.objects_skipped += counts.skipped;
    report.skipped = counts.skipped_named;
    report.objects_excluded = counts.excluded;
    report.objects_unchanged = counts.unchanged;
    report.uncommitted_files_removed = removed;
    report.no_layout = counts.no_layout;
    report.nothing_selected = counts.nothing_selected;
    report.no_logs = counts.no_logs;
    report.digests_only = counts.digests_only;
    let fatal = fatal.lock().expect("no panics holding it").take();
    report.aborted = fatal.as_ref().map(ToString::to_string);
    let unreadable = counts.unreadable.clone();
    let run_id = report.run_id.clone();
    // The manifest is committed after the data it describes, the run report last.
    let rejected_file = tokio::task::spawn_blocking(move || {
        for failure in &unreadable {
            rejected.push(&Rejected {
                location: &failure.location,
                index: None,
                scope: SCOPE_OBJECT,
                reason: &failure.reason,
                raw: None,
            })?;
            manifest.push(&unlisted_entry(&run_id, failure))?;
        }
        let rejected_file = rejected.finish()?;
        manifest.finish()?;
        Ok::<_, Error>(rejected_file)
    })
    .await
    .expect("side file writers do not panic")?;
    report.failures.extend(counts.unreadable);
    report.failures.sort_by(|a, b| a.location.cmp(&b.location));
    report.side_files.extend(rejected_file);
    report.elapsed = started.elapsed();
    report.peak_memory_bytes = report::peak_memory();
    let text = serde_json::to_string_pretty(&report).expect("reports serialise");
    lake.put(
        &format!("{META_DIR}/{RUNS_DIR}/{}{REPORT_SUFFIX}", report.run_id),
        text.into_bytes(),
    )
    .await?;
    lake.delete(&started_marker).await?;
    match fatal {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

/// Refuses a lake inside an input folder or prefix, before the lake is
/// created: a refused run leaves nothing in the evidence. Local paths are
/// compared as the files they name, so a symlink or `..` does not get past.
fn refuse_lake_inside_input(lake: &Location, inputs: &[Location]) -> Result<()> {
    for input in inputs {
        if holds(input, lake) {
            return Err(Error::LakeInsideInput {
                lake: lake.to_string(),
                input: input.to_string(),
            });
        }
        // A lake's own Parquet and manifests are not CloudTrail logs.
        if holds(lake, input) {
            return Err(Error::InputInsideLake {
                lake: lake.to_string(),
                input: input.to_string(),
            });
        }
    }
    Ok(())
}

/// Refuses two inputs one of which holds the other: their common objects
/// would be read twice in one run, and the second copy of every event
/// stored as a duplicate, as if CloudTrail had delivered it twice.
fn refuse_overlapping_inputs(inputs: &[Location]) -> Result<()> {
    for (i, first) in inputs.iter().enumerate() {
        for second in &inputs[i + 1..] {
            let (outer, inner) = if holds(first, second) {
                (first, second)
            } else if holds(second, first) {
                (second, first)
            } else {
                continue;
            };
            return Err(Error::OverlappingInputs {
                outer: outer.to_string(),
                inner: inner.to_string(),
            });
        }
    }
    Ok(())
}

/// Whether `inner` is `outer` or lies inside it.
fn holds(outer: &Location, inner: &Location) -> bool {
    match (outer, inner) {
        (Location::Local(outer), Location::Local(inner)) => {
            let (outer, inner) = (ctlake_store::physical(outer), ctlake_store::physical(inner));
            inner == outer || (outer.is_dir() && inner.starts_with(&outer))
        }
        (
            Location::S3 { bucket, prefix },
            Location::S3 {
                bucket: inner_bucket,
                prefix: inner_prefix,
            },
        ) => {
            bucket == inner_bucket
                && (prefix.is_empty()
                    || inner_prefix == prefix
                    || inner_prefix.starts_with(&format!("{prefix}/")))
        }
        _ => false,
    }
}

/// Walks every archive, classifies what it lists, and passes on the objects
/// to read. A listing error ends the run: an incomplete listing would make
/// an incomplete lake look complete.
async fn list_all(
    archives: Vec<Arc<dyn Archive>>,
    selection: Selection,
    known: Arc<KnownObjects>,
    tx: async_mpsc::Sender<SourceObject>,
    progress: Arc<dyn Progress>,
) -> Result<ListCounts> {
    let mut counts = ListCounts::default();
    for (index, archive) in archives.iter().enumerate() {
        let (walk_tx, mut walk_rx) = async_mpsc::channel::<source::Entry>(LISTED_QUEUE);
        let walk = source::walk(&**archive, &selection, walk_tx);
        let root = archive.root().to_owned();
        let mut selected_logs = 0u64;
        let mut selected_digests = 0u64;
        let mut unlisted = 0u64;
        let forward = async {
            while let Some(entry) = walk_rx.recv().await {
                let listed = match entry {
                    Ok(listed) => listed,
                    Err(e) => {
                        // Listed, if not readable: it is one of the failed.
                        counts.listed += 1;
                        unlisted += 1;
                        counts.unreadable.push(ObjectFailure {
                            location: e.location().unwrap_or_default().to_owned(),
                            reason: e.to_string(),
                            records_recovered: 0,
                        });
                        continue;
                    }
                };
                counts.listed += 1;
                let (mut kind, context) = classify(&listed.key);
                // A file named on the command line is read whatever its name.
                if listed.key == root && kind == ObjectKind::NotJson {
                    kind = ObjectKind::Log;
                }
                if !selection.admits(&context) {
                    counts.excluded += 1;
                    continue;
                }
                if let Some(reason) = kind.skip_reason() {
                    counts.skipped += 1;
                    if counts.skipped_named.len() < SKIPPED_NAMED {
                        counts.skipped_named.push(SkippedObject {
                            location: archive.location(&listed.key),
                            reason,
                        });
                    }
                    continue;
                }
                if kind.has_events() {
                    selected_logs += 1;
                } else if kind == ObjectKind::Digest {
                    selected_digests += 1;
                }
                let location = archive.location(&listed.key);
                if known.unchanged(&location, &listed) {
                    counts.unchanged += 1;
                    continue;
                }
                if kind.has_events() {
                    progress.listed(1, listed.size);
                }
                let object = SourceObject {
                    location,
                    listed,
                    kind,
                    context,
                    archive: index,
                };
                if tx.send(object).await.is_err() {
                    break;
                }
            }
        };
        let (walked, ()) = tokio::join!(walk, forward);
        let summary = walked?;
        if summary.no_layout {
            counts.no_layout.push(archive.name());
        }
        // One warning an archive: no layout to select from (above), nothing
        // selected (a digest alone is nothing to ingest), or no log at all;
        // digests collected apart from their logs are a note, not a failure.
        if !summary.no_layout && selected_logs == 0 && unlisted == 0 {
            if !selection.is_all() {
                counts.nothing_selected.push(archive.name());
            } else if selected_digests > 0 {
                counts.digests_only.push(archive.name());
            } else {
                counts.no_logs.push(archive.name());
            }
        }
    }
    Ok(counts)
}

/// Reads listed objects, up to `concurrency` at once, and hands them to the
/// workers. A fatal error (refused credentials, missing bucket) is recorded
/// and stops the reading.
async fn fetch_all(
    archives: Vec<Arc<dyn Archive>>,
    mut rx: async_mpsc::Receiver<SourceObject>,
    tx: async_mpsc::Sender<Vec<FetchResult>>,
    concurrency: usize,
    fatal: Arc<Mutex<Option<Error>>>,
) {
    let listed = futures::stream::poll_fn(|cx| rx.poll_recv(cx));
    let mut fetched = listed
        .map(|object| {
            let archive = Arc::clone(&archives[object.archive]);
            async move {
                let pending = match archive.local_file(&object.listed) {
                    Some(path) => Pending::Local(path),
                    None => Pending::Fetched(archive.fetch(&object.listed).await),
                };
                (object, pending)
            }
        })
        .buffer_unordered(concurrency);
    let size = |(object, _): &FetchResult| object.listed.size;
    while let Some(mut chunk) = next_chunk(&mut fetched, size, CHUNK_BYTES, CHUNK_OBJECTS).await {
        let fatal_at = chunk
            .iter()
            .position(|(_, result)| matches!(result, Pending::Fetched(Err(e)) if e.is_fatal()));
        let fatal_error = fatal_at.map(|at| chunk.split_off(at).swap_remove(0));
        if !chunk.is_empty() && tx.send(chunk).await.is_err() {
            return;
        }
        if let Some((_, Pending::Fetched(Err(e)))) = fatal_error {
            fatal.lock().expect("no panics holding it").get_or_insert(e);
            return;
        }
    }
}

/// The next chunk of `items`: the next item, waited for, then those already
/// ready while the chunk holds less than `max_bytes` by `size` and fewer
/// than `max_items` items. The item that reaches `max_bytes` stays in it.
async fn next_chunk<T>(
    items: &mut (impl futures::Stream<Item = T> + Unpin),
    size: impl Fn(&T) -> u64,
    max_bytes: u64,
    max_items: usize,
) -> Option<Vec<T>> {
    let first = items.next().await?;
    let mut bytes = size(&first);
    let mut chunk = vec![first];
    while bytes < max_bytes && chunk.len() < max_items {
        // Outside tokio's cooperative budget: a channel receive spends one of
        // 128 a poll, so under it a chunk of small objects would end at 128
        // whatever its bounds. The loop is bounded by `max_items` itself.
        let Some(Some(next)) = tokio::task::unconstrained(items.next()).now_or_never() else {
            break;
        };
        bytes += size(&next);
        chunk.push(next);
    }
    Some(chunk)
}

/// Where the decode-and-write stage publishes.
struct Stage<'a> {
    lake: &'a Arc<Lake>,
    runtime: tokio::runtime::Handle,
    run_id: &'a str,
    /// The lake's committed event files, for the duplicate indexes.
    existing: &'a [String],
}

/// Runs the workers and the writer on this (blocking) thread and accounts
/// for every object. Returns the report, the manifest writer, and the
/// `rejected` writer for the caller to add the objects the listing could not
/// read; the caller publishes both after the data.
fn decode_and_write(
    rx: async_mpsc::Receiver<Vec<FetchResult>>,
    jobs: usize,
    limit: u64,
    stage: &Stage<'_>,
    progress: &dyn Progress,
) -> Result<(IngestReport, ManifestWriter, RejectedWriter)> {
    let mut report = IngestReport::default();
    let mut manifest =
        ManifestWriter::new(Arc::clone(stage.lake), stage.runtime.clone(), stage.run_id)?;
    let mut writer = writer::PartitionedWriter::new(
        Arc::clone(stage.lake),
        stage.runtime.clone(),
        stage.run_id,
        stage.existing,
    );
    let mut rejected =
        RejectedWriter::new(Arc::clone(stage.lake), stage.runtime.clone(), stage.run_id);
    let mut digests =
        DigestWriter::new(Arc::clone(stage.lake), stage.runtime.clone(), stage.run_id);
    let rx = Mutex::new(rx);
    let stop = AtomicBool::new(false);
    // Objects' outcomes are small and many: a worker must never wait on the
    // writer to hand one over. Batches are large: at most two per worker are
    // in flight, which is what bounds the memory between the two stages.
    let (tx, messages) = mpsc::sync_channel::<Message>(jobs * 256);
    let (batch_slots, freed_slots) = mpsc::sync_channel::<()>(jobs * 2);
    let write_result = std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let slots = batch_slots.clone();
            let (rx, stop) = (&rx, &stop);
            scope.spawn(move || worker(rx, stop, limit, &tx, &slots));
        }
        drop(tx);
        drop(batch_slots);
        let mut result = Ok(());
        for message in messages {
            if matches!(message, Message::Batch(_)) {
                // Its sender took a slot before sending it.
                let _ = freed_slots.recv();
            }
            if result.is_err() {
                continue;
            }
            result = match message {
                Message::Batch(batch) => writer.write(batch),
                // A worker sends the batches holding a chunk's rows before
                // the chunk's outcomes, so its copies are all counted.
                Message::Done(outcomes) => outcomes.into_iter().try_for_each(|outcome| {
                    if outcome.object.kind.has_events() {
                        progress.object_done(outcome.object.listed.size, outcome.written);
                    }
                    if let Some(digest) = &outcome.digest {
                        digests.push(&outcome.object.location, digest)?;
                    }
                    let mut entry = account(&mut report, stage.run_id, outcome, &mut rejected)?;
                    entry.duplicates = writer.take_duplicates(&entry.location);
                    entry.written -= entry.duplicates;
                    report.duplicates += entry.duplicates;
                    report.events_written -= entry.duplicates;
                    manifest.push(&entry)
                }),
            };
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
        }
        result
    });
    write_result?;
    let outcome = writer.finish(jobs)?;
    report.conflicts = outcome.conflicts;
    // Objects finish in any order; the report does not.
    report.failures.sort_by(|a, b| a.location.cmp(&b.location));
    report
        .rejections
        .sort_by(|a, b| (&a.location, a.index).cmp(&(&b.location, b.index)));
    report.files = outcome.files;
    report.side_files.extend(outcome.duplicates_file);
    report.side_files.extend(digests.finish()?);
    report.bytes_written = report.files.iter().map(|f| f.bytes).sum();
    Ok((report, manifest, rejected))
}

fn worker(
    rx: &Mutex<async_mpsc::Receiver<Vec<FetchResult>>>,
    stop: &AtomicBool,
    limit: u64,
    tx: &mpsc::SyncSender<Message>,
    batch_slots: &mpsc::SyncSender<()>,
) {
    let send_batch = |batch| batch_slots.send(()).is_ok() && tx.send(Message::Batch(batch)).is_ok();
    let mut builder = EventBuilder::new();
    loop {
        // The lock is held only while waiting: whichever worker is idle takes the next chunk.
        let next = rx.lock().expect("no panics holding it").blocking_recv();
        let Some(chunk) = next else { break };
        let mut outcomes = Vec::with_capacity(chunk.len());
        for (object, fetched) in chunk {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let fetched = match fetched {
                Pending::Fetched(fetched) => fetched,
                Pending::Local(path) => source::read_local(&path, &object.listed),
            };
            outcomes.push(read_object(object, fetched, limit, &mut builder));
            if builder.len() >= BATCH_ROWS && !send_batch(builder.finish()) {
                return;
            }
        }
        // A batch ends with its chunk. The objects of a chunk follow each
        // other in the listing, so one partition's rows from different
        // batches mostly cover separate stretches of time, and the writer
        // can write them one after the other rather than gather them.
        if builder.len() > 0 && !send_batch(builder.finish()) {
            return;
        }
        if tx.send(Message::Done(outcomes)).is_err() {
            return;
        }
    }
}

/// An object's text as UTF-8. Invalid bytes become U+FFFD; each is listed
/// by its position in the returned text and its offset in `bytes`, so the
/// records holding one can be rejected and the rest read as usual.
fn utf8_text(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, Vec<(usize, u64)>) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (std::borrow::Cow::Borrowed(text), Vec::new());
    }
    let mut text = String::with_capacity(bytes.len() + 16);
    let mut bad = Vec::new();
    let mut offset = 0u64;
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        offset += chunk.valid().len() as u64;
        if !chunk.invalid().is_empty() {
            bad.push((text.len(), offset));
            text.push(char::REPLACEMENT_CHARACTER);
            offset += chunk.invalid().len() as u64;
        }
    }
    (std::borrow::Cow::Owned(text), bad)
}

fn read_object(
    object: SourceObject,
    fetched: Result<Fetched>,
    limit: u64,
    builder: &mut EventBuilder,
) -> ObjectOutcome {
    let mut outcome = ObjectOutcome {
        object,
        fetched: Fetched::default(),
        decompressed: 0,
        records: 0,
        written: 0,
        rejected: Vec::new(),
        error: None,
        leftover: None,
        fields: FieldNotes::default(),
        fetched_ok: false,
        sha256: None,
        digest: None,
    };
    let mut fetched = match fetched {
        Ok(fetched) => fetched,
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    };
    let bytes = std::mem::take(&mut fetched.bytes);
    outcome.fetched = fetched;
    outcome.fetched_ok = true;
    if outcome.object.kind == ObjectKind::Digest {
        read_digest(&mut outcome, &bytes, limit);
        return outcome;
    }
    if !outcome.object.kind.has_events() {
        return outcome;
    }
    let location = &outcome.object.location;
    let named_gz = location.to_ascii_lowercase().ends_with(".gz");
    let decompressed = match decompress::decompress(location, &bytes, named_gz, limit) {
        Ok(d) => d,
        Err(e) => {
            // A bomb's text is not kept: the cap exists to not hold it.
            if !matches!(e, Error::TooLarge { .. }) {
                outcome.leftover = Some(Leftover::of(&bytes));
            }
            outcome.error = Some(e);
            return outcome;
        }
    };
    drop(bytes);
    outcome.decompressed = decompressed.text.len() as u64;
    // What a CloudTrail digest lists for the file: only a whole file has it.
    if decompressed.error.is_none() {
        outcome.sha256 = Some(sha256_hex(&decompressed.text));
    }
    let mut inflated = decompressed.text;
    // The batch holds the text now, not a copy of each record: no room to spare.
    inflated.shrink_to_fit();
    let block = Buffer::from_vec(inflated);
    let (text, bad_bytes) = utf8_text(block.as_slice());
    builder.begin_object(&text, &block);
    let mut scratch = Scratch::new();
    let context = &outcome.object.context;
    let Decoded {
        written,
        rejected,
        walked,
        consumed,
    } = decode_text(&text, &bad_bytes, location, context, builder, &mut scratch);
    outcome.fields = scratch.take_fields();
    // A broken gzip stream explains the JSON error that follows it.
    let error = decompressed.error.or(match walked {
        Ok(_) => None,
        Err(json::RecordsError::Json { records: 0, .. }) if is_utf16(block.as_slice()) => {
            Some(Error::Utf16 {
                location: location.clone(),
            })
        }
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
        Err(json::RecordsError::Repeated { arrays }) => Some(Error::RepeatedRecords {
            location: location.clone(),
            arrays,
        }),
    });
    if error.is_some() {
        outcome.leftover = Some(Leftover::of(&text.as_bytes()[consumed..]));
    }
    outcome.records = written + rejected.len() as u64;
    outcome.written = written;
    outcome.rejected = rejected;
    outcome.error = error;
    outcome
}

/// Reads a CloudTrail-Digest file into `outcome`: its text and hash, for
/// `ctlake verify`. Its shape is checked there, where a digest that lists
/// nothing or names another key is a finding; here it must be a JSON
/// object to be a digest at all.
fn read_digest(outcome: &mut ObjectOutcome, bytes: &[u8], limit: u64) {
    let location = &outcome.object.location;
    let named_gz = location.to_ascii_lowercase().ends_with(".gz");
    let text = match decompress::decompress(location, bytes, named_gz, limit) {
        Ok(d) => match d.error {
            Some(e) => Err(e),
            None => Ok(d.text),
        },
        Err(e) => Err(e),
    };
    let text = text.and_then(|text| {
        let sha256 = sha256_hex(&text);
        let text = String::from_utf8(text).map_err(|e| Error::BadDigest {
            location: location.clone(),
            message: format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
        })?;
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(_)) => Ok(DigestFile { sha256, text }),
            Ok(_) => Err(Error::BadDigest {
                location: location.clone(),
                message: "the JSON value is not an object".into(),
            }),
            Err(e) => Err(Error::BadDigest {
                location: location.clone(),
                message: format!("invalid JSON: {e}"),
            }),
        }
    });
    match text {
        Ok(digest) => {
            outcome.decompressed = digest.text.len() as u64;
            outcome.sha256 = Some(digest.sha256.clone());
            outcome.digest = Some(digest);
        }
        Err(e) => {
            if !matches!(e, Error::TooLarge { .. }) {
                outcome.leftover = Some(Leftover::of(bytes));
            }
            outcome.error = Some(e);
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Whether `text` looks like UTF-16: its byte-order mark, or a NUL byte
/// beside each of the first ASCII characters (`{"` as `{\0"\0`).
fn is_utf16(text: &[u8]) -> bool {
    match text {
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => true,
        [a, b, ..] => (*a == 0) != (*b == 0),
        _ => false,
    }
}

/// What [`decode_text`] made of one object's records.
struct Decoded {
    written: u64,
    rejected: Vec<RejectedRecord>,
    walked: std::result::Result<usize, json::RecordsError>,
    /// Bytes of the text up to the end of the last record read.
    consumed: usize,
}

/// Decodes every record of an object's text into `builder`. `bad_bytes`
/// (from [`utf8_text`]) marks the records to reject as invalid UTF-8.
fn decode_text<'a>(
    text: &'a str,
    bad_bytes: &[(usize, u64)],
    location: &str,
    context: &KeyContext,
    builder: &mut EventBuilder,
    scratch: &mut Scratch<'a>,
) -> Decoded {
    let base = text.as_ptr() as usize;
    let (mut written, mut rejected) = (0u64, Vec::new());
    let mut consumed = 0usize;
    // A byte-order mark is not JSON, but editors that save a log again add
    // one; offsets stay counted from the first byte.
    let records = text.strip_prefix('\u{feff}').unwrap_or(text);
    let walked = json::for_each_record(records, decode::guide(), &mut |i, record| {
        let start = record.text.as_ptr() as usize - base;
        let end = start + record.text.len();
        consumed = end;
        let first_bad = bad_bytes.partition_point(|&(at, _)| at < start);
        if let Some(&(at, offset)) = bad_bytes.get(first_bad)
            && at < end
        {
            rejected.push(RejectedRecord {
                index: i,
                reason: RejectReason::InvalidUtf8(offset),
                raw: record.text.to_owned(),
            });
            return;
        }
        match builder.decode_record(record, i, location, context, scratch) {
            Ok(()) => written += 1,
            Err(r) => rejected.push(r),
        }
    });
    Decoded {
        written,
        rejected,
        walked,
        consumed,
    }
}

/// Decodes objects' JSON text into rows of the lake's schema exactly as
/// ingest's workers do, without a lake: for benchmarks and tools.
pub struct Decoder {
    builder: EventBuilder,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            builder: EventBuilder::new(),
        }
    }
}

impl Decoder {
    /// Decodes the records of one object's text (after [`inflate`]), read
    /// from `location`, whose trail-layout key gives the partition of records
    /// that lack their own account or region. Returns how many became rows.
    pub fn decode(&mut self, location: &str, text: &[u8]) -> usize {
        let (_, context) = source::classify(location);
        let block = Buffer::from(text);
        let (text, bad_bytes) = utf8_text(block.as_slice());
        self.builder.begin_object(&text, &block);
        let mut scratch = Scratch::new();
        let decoded = decode_text(
            &text,
            &bad_bytes,
            location,
            &context,
            &mut self.builder,
            &mut scratch,
        );
        decoded.written as usize
    }

    /// Takes the rows decoded so far.
    pub fn finish(&mut self) -> EventBatch {
        self.builder.finish()
    }
}

fn account(
    report: &mut IngestReport,
    run_id: &str,
    outcome: ObjectOutcome,
    rejected_rows: &mut RejectedWriter,
) -> Result<ManifestEntry> {
    let ObjectOutcome {
        object,
        fetched,
        decompressed,
        records,
        written,
        rejected,
        error,
        leftover,
        fields,
        fetched_ok,
        sha256,
        digest: _,
    } = outcome;
    report.count_kind(object.kind);
    if object.kind.has_events() {
        report.bytes_read += object.listed.size;
        report.bytes_decompressed += decompressed;
    }
    report.records_read += records;
    report.events_written += written;
    report.records_rejected += rejected.len() as u64;
    for (field, n) in fields.new {
        *report.new_fields.entry(field).or_default() += n;
    }
    for (field, n) in fields.repeated {
        *report.repeated_keys.entry(field).or_default() += n;
    }
    let rejected_count = rejected.len() as u64;
    for r in rejected {
        let reason = r.reason.to_string();
        rejected_rows.push(&Rejected {
            location: &object.location,
            index: Some(r.index as u64),
            scope: SCOPE_RECORD,
            reason: &reason,
            raw: Some((&r.raw, r.raw.len() as u64)),
        })?;
        report.rejections.push(RecordRejection {
            location: object.location.clone(),
            index: r.index as u64,
            reason,
        });
    }
    let error_text = error.as_ref().map(ToString::to_string);
    let capped_at = match &error {
        Some(Error::TooLarge { limit, .. }) => Some(*limit),
        _ => None,
    };
    match &error_text {
        Some(reason) => {
            rejected_rows.push(&Rejected {
                location: &object.location,
                index: None,
                scope: SCOPE_OBJECT,
                reason,
                raw: leftover.as_ref().map(|l| (l.text.as_str(), l.bytes)),
            })?;
            report.failures.push(ObjectFailure {
                location: object.location.clone(),
                reason: reason.clone(),
                records_recovered: records,
            });
        }
        None if object.kind.has_events() => {
            report.objects_read += 1;
            // Insight objects are counted among those read, as the report
            // shows them: "53 read (1 insight)".
            if object.kind == ObjectKind::Insight {
                report.insight_objects += 1;
            }
        }
        None => {}
    }
    let metadata = (!fetched.metadata.is_empty()).then(|| {
        serde_json::to_string(&fetched.metadata.iter().collect::<BTreeMap<_, _>>())
            .expect("strings serialise")
    });
    Ok(ManifestEntry {
        run: run_id.to_owned(),
        location: object.location,
        kind: serde_json::to_value(object.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        size: object.listed.size,
        etag: fetched.etag.or(object.listed.etag),
        version_id: fetched.version,
        last_modified: fetched
            .modified
            .or(object.listed.modified)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        metadata,
        records,
        written,
        duplicates: 0,
        rejected: rejected_count,
        error: error_text,
        fetched: fetched_ok,
        capped_at,
        sha256,
    })
}

/// A fingerprint of what is in `archive`: every object's key, size,
/// modification time and ETag. Equal fingerprints mean an unchanged archive.
pub async fn archive_fingerprint(archive: &dyn Archive) -> Result<String> {
    use sha2::{Digest, Sha256};
    let (tx, mut rx) = async_mpsc::channel::<source::Entry>(LISTED_QUEUE);
    let everything = Selection::default();
    let walk = source::walk(archive, &everything, tx);
    let hash = async {
        let mut lines = Vec::new();
        while let Some(entry) = rx.recv().await {
            let o = match entry {
                Ok(o) => o,
                Err(e) => {
                    lines.push(format!("unreadable {e}\n"));
                    continue;
                }
            };
            let modified = o.modified.map(|t| t.timestamp_nanos_opt().unwrap_or(0));
            lines.push(format!(
                "{}\0{}\0{modified:?}\0{:?}\n",
                o.key, o.size, o.etag
            ));
        }
        // Listings may come in any order; the fingerprint may not.
        lines.sort();
        let mut hash = Sha256::new();
        for line in lines {
            hash.update(line);
        }
        hex(&hash.finalize())
    };
    let (walked, fingerprint) = tokio::join!(walk, hash);
    walked?;
    Ok(fingerprint)
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

/// A run id that sorts by start time, to the microsecond (runs into one
/// lake follow each other under its lock), and differs between processes.
fn run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = chrono::DateTime::from_timestamp(now.as_secs() as i64, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%S");
    format!(
        "{stamp}{:06}Z-{:08x}",
        now.subsec_micros(),
        (now.subsec_nanos() ^ std::process::id().rotate_left(16))
    )
}

#[cfg(test)]
mod tests {
    use futures::channel::mpsc;
    use futures::executor::block_on;

    use super::next_chunk;

    fn chunks(sizes: &[u64], max_bytes: u64, max_items: usize) -> Vec<Vec<u64>> {
        let mut items = futures::stream::iter(sizes.to_vec());
        let mut out = Vec::new();
        while let Some(chunk) = block_on(next_chunk(&mut items, |&s| s, max_bytes, max_items)) {
            out.push(chunk);
        }
        out
    }

    #[test]
    fn a_chunk_closes_at_its_bytes_or_its_count() {
        assert_eq!(
            chunks(&[1, 1, 1, 1, 1], 3, 10),
            vec![vec![1, 1, 1], vec![1, 1]]
        );
        assert_eq!(
            chunks(&[0, 0, 0, 0, 0], 3, 2),
            vec![vec![0, 0], vec![0, 0], vec![0]]
        );
        // The object that crosses the bound ends its chunk, first or not.
        assert_eq!(chunks(&[1, 9, 1], 3, 10), vec![vec![1, 9], vec![1]]);
        assert_eq!(
            chunks(&[9, 1, 2, 1], 3, 10),
            vec![vec![9], vec![1, 2], vec![1]]
        );
    }

    #[test]
    fn a_chunk_takes_what_is_ready_and_does_not_wait_to_fill() {
        let (tx, mut rx) = mpsc::unbounded();
        tx.unbounded_send(1u64).unwrap();
        tx.unbounded_send(2).unwrap();
        assert_eq!(
            block_on(next_chunk(&mut rx, |&s| s, 100, 100)),
            Some(vec![1, 2])
        );
        tx.unbounded_send(3).unwrap();
        drop(tx);
        assert_eq!(
            block_on(next_chunk(&mut rx, |&s| s, 100, 100)),
            Some(vec![3])
        );
        assert_eq!(block_on(next_chunk(&mut rx, |&s| s, 100, 100)), None);
    }

    #[test]
    fn tokio_s_budget_does_not_close_a_chunk() {
        // The listing reaches the fetcher through a tokio channel, whose
        // receives spend the task's cooperative budget of 128 a poll.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let chunk = runtime.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            for i in 0..1000u64 {
                tx.send(i).unwrap();
            }
            let mut items = futures::stream::poll_fn(|cx| rx.poll_recv(cx));
            next_chunk(&mut items, |_| 1, 10_000, 500).await
        });
        assert_eq!(chunk.map(|c| c.len()), Some(500));
    }
}
