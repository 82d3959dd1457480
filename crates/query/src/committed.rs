//! An object store that shows queries only the files of committed runs.
//!
//! An ingest publishes its event files one by one while it runs and commits
//! them at the end by writing its report. Until then (and forever, if it
//! was killed, until the next ingest removes them) its files are in the
//! lake's folders. This wrapper hides them from every listing, so a query
//! running beside an ingest, or after a crash, sees the lake as it was at
//! the last commit: never half a run. A file in the tables' folders that
//! no committed run's report lists (a copy left by hand, a file planted
//! there, one named like a run's own), or whose size is not the one its run
//! wrote, is hidden too: what a query answers from is what ingest wrote,
//! and `ctlake status` names such files. The committed runs are read afresh
//! on each listing; their reports, written once, are read once.
//!
//! A lake on local disk is read inline, on the thread that asks. object_store's
//! local store hands every read to tokio's blocking pool: a query over a
//! lake of a hundred small files makes about a thousand such hand-offs, two
//! context switches each, for reads the page cache serves in microseconds.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use ctlake_schema::{META_DIR, REPORT_SUFFIX, RUNS_DIR, RunFiles, is_run_file, manifest_path};
use ctlake_store::object_store::path::Path;
use ctlake_store::object_store::{
    Attributes, CopyOptions, Error, GetOptions, GetResult, GetResultPayload, ListResult,
    MultipartUpload, ObjectMeta, ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions,
    PutPayload, PutResult, RenameOptions, Result, local::LocalFileSystem,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

/// Wraps `inner`, showing of the lake at `root` only the files its
/// committed runs wrote.
#[derive(Debug)]
pub(crate) struct CommittedView {
    inner: Arc<dyn ObjectStore>,
    /// The same store when the lake is on local disk, for inline reads.
    local: Option<Arc<LocalFileSystem>>,
    root: Path,
    reports: Arc<ReportCache>,
    /// The last filter read and when: one query lists many folders, and on
    /// S3 each reading of the runs folder is a request.
    recent: Mutex<Option<(Instant, Filter)>>,
}

/// Run reports read at once.
const REPORTS_AT_ONCE: usize = 16;

/// How long a reading of the runs folder serves further listings.
const FILTER_TTL: Duration = Duration::from_secs(1);

impl CommittedView {
    /// The view of the lake at `root` in `inner`, keeping the reports it
    /// reads in `reports`.
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, root: Path, reports: Arc<ReportCache>) -> Self {
        Self {
            inner,
            local: None,
            root,
            reports,
            recent: Mutex::new(None),
        }
    }

    /// The view of a lake on local disk at `root`.
    pub(crate) fn on_local_disk(root: Path, reports: Arc<ReportCache>) -> Self {
        let local = Arc::new(LocalFileSystem::new());
        Self {
            local: Some(Arc::clone(&local)),
            ..Self::new(local, root, reports)
        }
    }

    async fn filter(&self) -> Result<Filter> {
        if let Some((at, filter)) = &*self.recent.lock().expect("no panics holding it")
            && at.elapsed() < FILTER_TTL
        {
            return Ok(filter.clone());
        }
        let filter = Filter::read(&*self.inner, &self.root, &self.reports).await?;
        *self.recent.lock().expect("no panics holding it") = Some((Instant::now(), filter.clone()));
        Ok(filter)
    }
}

impl fmt::Display for CommittedView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommittedView({}, {})", self.inner, self.root)
    }
}

/// The run reports read so far, by path. A report is written once, when
/// its run commits, so each is read once.
pub(crate) type ReportCache = Mutex<HashMap<Path, Arc<RunFiles>>>;

/// The files committed runs wrote, lake-relative: the size each run wrote
/// (`None` for a manifest, whose size no report gives) and the run.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub(crate) files: HashMap<String, (Option<u64>, String)>,
}

impl Written {
    /// Reads the reports of the committed runs of the lake at `root`: a run
    /// is committed when its report is in the runs folder, and it wrote what
    /// its report lists.
    pub(crate) async fn read(
        inner: &dyn ObjectStore,
        root: &Path,
        cache: &ReportCache,
    ) -> Result<Self> {
        let runs = root.clone().join(META_DIR).join(RUNS_DIR);
        let reports: Vec<Path> = inner
            .list(Some(&runs))
            .try_filter_map(|meta| {
                let report = meta.location.prefix_match(&runs).is_some_and(|mut parts| {
                    parts.next().is_some_and(|name| {
                        name.as_ref().ends_with(REPORT_SUFFIX) && !name.as_ref().starts_with('.')
                    }) && parts.next().is_none()
                });
                std::future::ready(Ok(report.then_some(meta.location)))
            })
            .try_collect()
            .await?;
        // Read side by side: on S3 each report is a request.
        let read: Vec<(String, Arc<RunFiles>)> = stream::iter(reports)
            .map(|path| async move {
                let run = path
                    .filename()
                    .and_then(|name| name.strip_suffix(REPORT_SUFFIX))
                    .unwrap_or_default()
                    .to_owned();
                let cached = cache
                    .lock()
                    .expect("no panics holding it")
                    .get(&path)
                    .cloned();
                if let Some(files) = cached {
                    return Ok((run, files));
                }
                let text = inner.get(&path).await?.bytes().await?;
                let files = Arc::new(RunFiles::from_report(&text).map_err(|e| Error::Generic {
                    store: "ctlake lake",
                    source: format!("run report {path}: {e}").into(),
                })?);
                cache
                    .lock()
                    .expect("no panics holding it")
                    .insert(path, Arc::clone(&files));
                Ok::<_, Error>((run, files))
            })
            .buffered(REPORTS_AT_ONCE)
            .try_collect()
            .await?;
        let mut written = Self::default();
        for (run, files) in read {
            for file in files.iter() {
                written
                    .files
                    .insert(file.path.clone(), (Some(file.bytes), run.clone()));
            }
            written.files.insert(manifest_path(&run), (None, run));
        }
        Ok(written)
    }
}

/// What decides whether a listed file is shown.
#[derive(Debug, Clone)]
struct Filter {
    root: Path,
    written: Arc<Written>,
}

impl Filter {
    async fn read(inner: &dyn ObjectStore, root: &Path, cache: &ReportCache) -> Result<Self> {
        Ok(Self {
            root: root.clone(),
            written: Arc::new(Written::read(inner, root, cache).await?),
        })
    }

    /// A file of the tables is shown when a committed run wrote it, and
    /// still has the size it was written with.
    fn shows(&self, meta: &ObjectMeta) -> bool {
        let Some(relative) = meta.location.prefix_match(&self.root) else {
            return true;
        };
        let relative: Vec<_> = relative.map(|p| p.as_ref().to_owned()).collect();
        let relative = relative.join("/");
        if !is_run_file(&relative) {
            return true;
        }
        match self.written.files.get(&relative) {
            Some((Some(bytes), _)) => *bytes == meta.size,
            Some((None, _)) => true,
            None => false,
        }
    }
}

#[async_trait]
impl ObjectStore for CommittedView {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        match &self.local {
            Some(local) if !options.head => get_inline(local, location, &options),
            _ => self.inner.get_opts(location, options).await,
        }
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        match &self.local {
            Some(local) => {
                let (file, path) = open(local, location)?;
                ranges
                    .iter()
                    .map(|range| read_at(&file, &path, range.clone()))
                    .collect()
            }
            None => self.inner.get_ranges(location, ranges).await,
        }
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let inner = Arc::clone(&self.inner);
        let root = self.root.clone();
        let reports = Arc::clone(&self.reports);
        let prefix = prefix.cloned();
        let recent = self
            .recent
            .lock()
            .expect("no panics holding it")
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FILTER_TTL)
            .map(|(_, filter)| filter.clone());
        stream::once(async move {
            let filter = match recent {
                Some(filter) => filter,
                None => Filter::read(&*inner, &root, &reports).await?,
            };
            let listed = inner
                .list(prefix.as_ref())
                .try_filter(move |meta| std::future::ready(filter.shows(meta)));
            Ok::<_, ctlake_store::object_store::Error>(listed)
        })
        .try_flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let filter = self.filter().await?;
        let mut listed = self.inner.list_with_delimiter(prefix).await?;
        listed.objects.retain(|meta| filter.shows(meta));
        Ok(listed)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

/// `get_opts` of the local store, read on this thread.
fn get_inline(local: &LocalFileSystem, location: &Path, options: &GetOptions) -> Result<GetResult> {
    let (file, path) = open(local, location)?;
    let metadata = file.metadata().map_err(|e| io_error(&path, &e))?;
    let modified = metadata.modified().map_err(|e| io_error(&path, &e))?;
    let micros = modified
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    let meta = ObjectMeta {
        location: location.clone(),
        last_modified: modified.into(),
        size: metadata.len(),
        // The local store's own scheme, so a precondition compares alike.
        e_tag: Some(format!(
            "{:x}-{micros:x}-{:x}",
            std::os::unix::fs::MetadataExt::ino(&metadata),
            metadata.len()
        )),
        version: None,
    };
    options.check_preconditions(&meta)?;
    let range = match &options.range {
        Some(range) => range.as_range(meta.size).map_err(|e| Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(e),
        })?,
        None => 0..meta.size,
    };
    let bytes = read_at(&file, &path, range.clone())?;
    Ok(GetResult {
        payload: GetResultPayload::Stream(stream::once(async { Ok(bytes) }).boxed()),
        meta,
        range,
        attributes: Attributes::default(),
    })
}

fn open(local: &LocalFileSystem, location: &Path) -> Result<(File, std::path::PathBuf)> {
    let path = local.path_to_filesystem(location)?;
    match File::open(&path) {
        Ok(file) => Ok((file, path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound {
            path: path.display().to_string(),
            source: Box::new(e),
        }),
        Err(e) => Err(io_error(&path, &e)),
    }
}

fn read_at(file: &File, path: &std::path::Path, range: Range<u64>) -> Result<Bytes> {
    let len = usize::try_from(range.end - range.start).map_err(|e| Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(e),
    })?;
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, range.start)
        .map_err(|e| io_error(path, &e))?;
    Ok(buf.into())
}

fn io_error(path: &std::path::Path, e: &std::io::Error) -> Error {
    Error::Generic {
        store: "LocalFileSystem",
        source: format!("{}: {e}", path.display()).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctlake_store::object_store::{GetRange, ObjectStoreExt};

    /// The inline reads answer as the local store does: same bytes, range,
    /// metadata and ETag (so preconditions hold alike), and the same errors.
    #[tokio::test]
    async fn inline_reads_answer_as_the_local_store() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        std::fs::write(dir.path().join("part.parquet"), &text).unwrap();
        let root = Path::from_absolute_path(dir.path()).unwrap();
        let file = root.clone().join("part.parquet");
        let view = CommittedView::on_local_disk(root.clone(), Arc::default());
        let local = LocalFileSystem::new();

        let etag = local.head(&file).await.unwrap().e_tag;
        let requests = [
            GetOptions::default(),
            GetOptions {
                range: Some(GetRange::Bounded(100..2_000)),
                ..GetOptions::default()
            },
            GetOptions {
                range: Some(GetRange::Offset(9_000)),
                ..GetOptions::default()
            },
            GetOptions {
                range: Some(GetRange::Suffix(64)),
                ..GetOptions::default()
            },
            GetOptions {
                range: Some(GetRange::Suffix(64)),
                if_match: etag.clone(),
                ..GetOptions::default()
            },
        ];
        for options in requests {
            let ours = view.get_opts(&file, options.clone()).await.unwrap();
            let theirs = local.get_opts(&file, options).await.unwrap();
            assert_eq!(ours.meta, theirs.meta);
            assert_eq!(ours.range, theirs.range);
            let range = ours.range.clone();
            assert_eq!(
                ours.bytes().await.unwrap(),
                text[range.start as usize..range.end as usize]
            );
        }

        let stale = GetOptions {
            if_match: Some("other".into()),
            ..GetOptions::default()
        };
        assert!(matches!(
            view.get_opts(&file, stale).await,
            Err(Error::Precondition { .. })
        ));
        let past_end = GetOptions {
            range: Some(GetRange::Bounded(20_000..20_010)),
            ..GetOptions::default()
        };
        assert!(view.get_opts(&file, past_end).await.is_err());

        let ranges = [0..10, 5_000..5_100, 9_990..10_000];
        let ours = view.get_ranges(&file, &ranges).await.unwrap();
        assert_eq!(ours, local.get_ranges(&file, &ranges).await.unwrap());
        assert!(
            view.get_ranges(&file, &[0..10, 9_990..10_001])
                .await
                .is_err()
        );

        let missing = root.join("gone.parquet");
        assert!(matches!(
            view.get_opts(&missing, GetOptions::default()).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            view.get_ranges(&missing, &ranges).await,
            Err(Error::NotFound { .. })
        ));
    }
}
