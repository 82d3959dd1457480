//! An object store that shows queries only the files of committed runs.
//!
//! An ingest publishes its event files one by one while it runs and commits
//! them at the end by writing its report. Until then (and forever, if it
//! was killed, until the next ingest removes them) its files are in the
//! lake's folders. This wrapper hides them from every listing, so a query
//! running beside an ingest, or after a crash, sees the lake as it was at
//! the last commit: never half a run. The set of uncommitted runs is read
//! afresh on each listing.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use ctlake_schema::{META_DIR, REPORT_SUFFIX, RUNS_DIR, STARTED_SUFFIX, is_run_file, run_of_file};
use ctlake_store::object_store::path::Path;
use ctlake_store::object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

/// Wraps `inner`, hiding files of uncommitted runs of the lake at `root`.
#[derive(Debug)]
pub(crate) struct CommittedView {
    inner: Arc<dyn ObjectStore>,
    root: Path,
    /// The last filter read and when: one query lists many folders, and on
    /// S3 each reading of the runs folder is a request.
    recent: Mutex<Option<(Instant, Filter)>>,
}

/// How long a reading of the runs folder serves further listings.
const FILTER_TTL: Duration = Duration::from_secs(1);

impl CommittedView {
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, root: Path) -> Self {
        Self {
            inner,
            root,
            recent: Mutex::new(None),
        }
    }

    async fn filter(&self) -> Result<Filter> {
        if let Some((at, filter)) = &*self.recent.lock().expect("no panics holding it")
            && at.elapsed() < FILTER_TTL
        {
            return Ok(filter.clone());
        }
        let filter = Filter::read(&*self.inner, &self.root).await?;
        *self.recent.lock().expect("no panics holding it") = Some((Instant::now(), filter.clone()));
        Ok(filter)
    }
}

impl fmt::Display for CommittedView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommittedView({}, {})", self.inner, self.root)
    }
}

/// What decides whether a listed file is shown.
#[derive(Debug, Clone)]
struct Filter {
    root: Path,
    uncommitted: Arc<HashSet<String>>,
}

impl Filter {
    /// Runs that started and have no report: going on, or killed.
    async fn read(inner: &dyn ObjectStore, root: &Path) -> Result<Self> {
        let runs = root.clone().join(META_DIR).join(RUNS_DIR);
        let names: Vec<String> = inner
            .list(Some(&runs))
            .map_ok(|meta| meta.location.filename().unwrap_or_default().to_owned())
            .try_collect()
            .await?;
        let reported: HashSet<&str> = names
            .iter()
            .filter_map(|n| n.strip_suffix(REPORT_SUFFIX))
            .collect();
        let uncommitted = names
            .iter()
            .filter_map(|n| n.strip_suffix(STARTED_SUFFIX))
            .filter(|run| !reported.contains(run))
            .map(str::to_owned)
            .collect();
        Ok(Self {
            root: root.clone(),
            uncommitted: Arc::new(uncommitted),
        })
    }

    fn shows(&self, location: &Path) -> bool {
        if self.uncommitted.is_empty() {
            return true;
        }
        let Some(relative) = location.prefix_match(&self.root) else {
            return true;
        };
        let relative: Vec<_> = relative.map(|p| p.as_ref().to_owned()).collect();
        let relative = relative.join("/");
        let name = location.filename().unwrap_or_default();
        !(is_run_file(&relative)
            && run_of_file(name).is_some_and(|run| self.uncommitted.contains(run)))
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
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
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
                None => Filter::read(&*inner, &root).await?,
            };
            let listed = inner
                .list(prefix.as_ref())
                .try_filter(move |meta| std::future::ready(filter.shows(&meta.location)));
            Ok::<_, ctlake_store::object_store::Error>(listed)
        })
        .try_flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let filter = self.filter().await?;
        let mut listed = self.inner.list_with_delimiter(prefix).await?;
        listed.objects.retain(|meta| filter.shows(&meta.location));
        Ok(listed)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
