//! Finding objects in an archive and classifying them by key before reading.
//!
//! The trail layout is
//! `[prefix/]AWSLogs/[o-org/]<account>/<CloudTrail|CloudTrail-Insight|CloudTrail-Digest>/<region>/YYYY/MM/DD/<file>`
//! (Control Tower adds `o-org/` before `AWSLogs/` too); folders of `.json.gz`
//! / `.json` files outside it are read as log files.
//!
//! An [`Archive`] is a local folder or an S3 prefix. Both are reached through
//! the same three calls (list one folder level, list a whole tree, read one
//! object), so a [`Selection`] prunes local and S3 listings alike.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ctlake_store::object_store::path::Path as StorePath;
use ctlake_store::object_store::{Attribute, ObjectStore, ObjectStoreExt};
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::Error;
use crate::decode::KeyContext;

/// What an object is, judged by its key alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A CloudTrail log file: events.
    Log,
    /// A CloudTrail-Insight file: Insights events.
    Insight,
    /// A CloudTrail-Digest file: integrity data, not events.
    Digest,
    /// Under `AWSLogs/` but another service's folder (AWS Config, …).
    OtherService,
    /// Not a `.json` or `.json.gz` file.
    NotJson,
}

impl ObjectKind {
    /// Why an object of this kind is not read; `None` for those read: events,
    /// or a digest whose object metadata (the signature) goes into the manifest.
    pub fn skip_reason(self) -> Option<&'static str> {
        match self {
            Self::NotJson => Some("not a .json or .json.gz file"),
            Self::OtherService => Some(
                "in another service's folder under AWSLogs/, and not named as a CloudTrail file",
            ),
            Self::Log | Self::Insight | Self::Digest => None,
        }
    }

    /// Whether the object holds events to read.
    pub fn has_events(self) -> bool {
        matches!(self, Self::Log | Self::Insight)
    }
}

/// An object as a listing shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The key in its store: an S3 key, or an absolute local path.
    pub key: String,
    /// Size in bytes as listed.
    pub size: u64,
    /// Last modification time as listed.
    pub modified: Option<DateTime<Utc>>,
    /// Entity tag as listed (S3 only).
    pub etag: Option<String>,
}

/// What a listing yields: an object, or an entry that could not be listed
/// (a local folder without permission), which is reported and skipped.
pub type Entry = Result<Listed, Error>;

/// One object to ingest.
#[derive(Debug, Clone)]
pub struct SourceObject {
    /// Where the object is, as rows cite it: an absolute path or `s3://bucket/key`.
    pub location: String,
    /// What the listing said about it.
    pub listed: Listed,
    /// What the key says the object is.
    pub kind: ObjectKind,
    /// Account, region and day folders of the key.
    pub context: KeyContext,
    /// Which input archive it is in.
    pub(crate) archive: usize,
}

/// An object's bytes and what the store said about them.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The object as stored (compressed).
    pub bytes: Vec<u8>,
    /// Entity tag of the version read.
    pub etag: Option<String>,
    /// Version id, when the bucket is versioned.
    pub version: Option<String>,
    /// Last modification time of the version read.
    pub modified: Option<DateTime<Utc>>,
    /// User metadata (`x-amz-meta-*`), names without the prefix.
    pub metadata: BTreeMap<String, String>,
}

/// Classifies an object by its key (a path with `/` separators). The trail
/// layout's folders decide, in any letter case; where they are not a
/// trail's (no `AWSLogs/`, an account folder missing, another service's
/// name) but the file name is one CloudTrail gives its files, the name does.
pub fn classify(key: &str) -> (ObjectKind, KeyContext) {
    let name = key.rsplit('/').next().unwrap_or(key);
    if !is_json_name(name) {
        return (ObjectKind::NotJson, KeyContext::default());
    }
    let named = named_kind(name);
    let parts: Vec<&str> = key.split('/').collect();
    let Some(at) = parts.iter().rposition(|p| *p == "AWSLogs") else {
        return named.unwrap_or((ObjectKind::Log, KeyContext::default()));
    };
    let rest = layout_folders(&parts[at + 1..parts.len() - 1]);
    let key_ctx = KeyContext {
        account: rest.first().map(|s| (*s).to_owned()),
        region: rest.get(2).map(|s| (*s).to_owned()),
        day: folder_day(rest.get(3..6).unwrap_or_default()),
    };
    let kind = match rest.get(1).map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("cloudtrail") | None => ObjectKind::Log,
        Some("cloudtrail-insight") => ObjectKind::Insight,
        Some("cloudtrail-digest") => ObjectKind::Digest,
        Some(_) => ObjectKind::OtherService,
    };
    match (kind, named) {
        (ObjectKind::OtherService, Some(named)) => named,
        _ => (kind, key_ctx),
    }
}

/// What a CloudTrail file name says: `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`
/// (`CloudTrail-Insight`, or `CloudTrail-Digest_<region>_<trail>_<home region>`),
/// and the account, region and delivery day in it.
fn named_kind(name: &str) -> Option<(ObjectKind, KeyContext)> {
    let lower = name.to_ascii_lowercase();
    let kind = if lower.contains("_cloudtrail-digest_") {
        ObjectKind::Digest
    } else if lower.contains("_cloudtrail-insight_") {
        ObjectKind::Insight
    } else if lower.contains("_cloudtrail_") {
        ObjectKind::Log
    } else {
        return None;
    };
    let fields: Vec<&str> = name.split('_').collect();
    if !fields
        .get(1)
        .is_some_and(|f| f.to_ascii_lowercase().starts_with("cloudtrail"))
    {
        return Some((kind, KeyContext::default()));
    }
    let account = fields
        .first()
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    let day = fields.iter().skip(3).find_map(|f| {
        let date = f.get(..8).filter(|_| f.as_bytes().get(8) == Some(&b'T'))?;
        NaiveDate::parse_from_str(date, "%Y%m%d").ok()
    });
    Some((
        kind,
        KeyContext {
            account: account.map(|a| (*a).to_owned()),
            region: fields.get(2).map(|r| (*r).to_owned()),
            day,
        },
    ))
}

/// Whether a key or file name ends in `.json` or `.json.gz`, in any case.
fn is_json_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".json.gz", ".json"].iter().any(|ext| lower.ends_with(ext))
}

/// The folders after `AWSLogs/`, without the organization id folder.
fn layout_folders<'a, 'b>(folders: &'a [&'b str]) -> &'a [&'b str] {
    match folders.first() {
        Some(first) if first.starts_with("o-") => &folders[1..],
        _ => folders,
    }
}

fn folder_day(parts: &[&str]) -> Option<NaiveDate> {
    let [y, m, d] = parts else { return None };
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Which part of a trail archive to ingest. Empty selects everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Account ids; empty for all.
    pub accounts: Vec<String>,
    /// Regions; empty for all.
    pub regions: Vec<String>,
    /// First day folder to read.
    pub first_day: Option<NaiveDate>,
    /// Last day folder to read: the day after `--end`, because CloudTrail
    /// files events by delivery time, minutes after they happen.
    pub last_day: Option<NaiveDate>,
}

impl Selection {
    /// Whether anything is selected at all.
    pub fn is_all(&self) -> bool {
        self.accounts.is_empty()
            && self.regions.is_empty()
            && self.first_day.is_none()
            && self.last_day.is_none()
    }

    /// `self` reading only `accounts` and `regions` (none: all), refused
    /// unless each can name a trail folder.
    pub fn with_folders(mut self, accounts: &[String], regions: &[String]) -> Result<Self, String> {
        self.accounts = accounts.to_vec();
        self.regions = regions.to_vec();
        self.check()?;
        Ok(self)
    }

    /// Refuses an account id that is not twelve digits and a region that is
    /// not a word of lowercase letters, digits and hyphens: an empty one
    /// (`--account 1111,`) or one holding `/` would name another folder
    /// than it says, or none.
    pub fn check(&self) -> Result<(), String> {
        if let Some(bad) = self
            .accounts
            .iter()
            .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("--account {bad:?}: an account id is twelve digits"));
        }
        if let Some(bad) = self.regions.iter().find(|r| {
            !r.starts_with(|c: char| c.is_ascii_lowercase())
                || !r
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }) {
            return Err(format!(
                "--region {bad:?}: a region is lowercase letters, digits and hyphens, as us-east-1"
            ));
        }
        Ok(())
    }

    /// Sets the window from `--start` / `--end` values: dates (`2024-03-10`)
    /// or RFC 3339 times, compared in UTC. Folders are days, so a time reads
    /// its whole day.
    pub fn with_window(mut self, start: Option<&str>, end: Option<&str>) -> Result<Self, String> {
        let start = start
            .map(|text| instant_of(text, false).map(|t| (text, t)))
            .transpose()?;
        let end = end
            .map(|text| instant_of(text, true).map(|t| (text, t)))
            .transpose()?;
        if let (Some((start_text, start)), Some((end_text, end))) = (start, end)
            && start >= end
        {
            return Err(format!(
                "--end {end_text} is not after --start {start_text}"
            ));
        }
        self.first_day = start.map(|(_, t)| t.date_naive());
        // The end is the first instant not wanted: the day of the last one
        // wanted, and the day after it too.
        self.last_day = end.map(|(_, t)| {
            let day = (t - chrono::TimeDelta::nanoseconds(1)).date_naive();
            day.succ_opt().unwrap_or(day)
        });
        Ok(self)
    }

    fn admits_day(&self, day: NaiveDate) -> bool {
        self.first_day.is_none_or(|f| day >= f) && self.last_day.is_none_or(|l| day <= l)
    }

    fn admits_range(&self, first: NaiveDate, last: NaiveDate) -> bool {
        self.first_day.is_none_or(|f| last >= f) && self.last_day.is_none_or(|l| first <= l)
    }

    fn admits_account(&self, account: &str) -> bool {
        self.accounts.is_empty() || self.accounts.iter().any(|a| a == account)
    }

    fn admits_region(&self, region: &str) -> bool {
        self.regions.is_empty() || self.regions.iter().any(|r| r == region)
    }

    /// Whether an object with this key context is selected.
    pub fn admits(&self, context: &KeyContext) -> bool {
        if self.is_all() {
            return true;
        }
        let (Some(account), Some(region), Some(day)) =
            (&context.account, &context.region, context.day)
        else {
            // Outside the trail layout nothing says which account or day it is.
            return false;
        };
        self.admits_account(account) && self.admits_region(region) && self.admits_day(day)
    }
}

/// A date or an RFC 3339 time, in UTC, as `hunt` reads them: a date is its
/// midnight, or as an `end` the next one, so that the day is included.
fn instant_of(text: &str, end: bool) -> Result<DateTime<chrono::Utc>, String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = if end {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|_| {
            format!(
                "{text:?} is not a date (2024-03-10) or an RFC 3339 time (2024-03-10T12:00:00Z)"
            )
        })
}

/// Folder levels walked without finding `AWSLogs/` before giving up: custom
/// trail prefixes are a few levels deep, a bucket of other data is not walked.
const SEARCH_DEPTH: usize = 4;

/// Where objects are read from: a local file or folder, or an S3 prefix.
#[async_trait::async_trait]
pub trait Archive: Send + Sync {
    /// The archive as the user named it.
    fn name(&self) -> String;
    /// The key prefix of the archive's root, with `/` separators and no
    /// trailing `/`.
    fn root(&self) -> &str;
    /// The location rows cite for `key`.
    fn location(&self, key: &str) -> String;
    /// The folders and objects directly in the folder `dir` (a key prefix
    /// ending in `/`, or empty for a bucket's root).
    async fn list_dir(&self, dir: &str) -> Result<(Vec<String>, Vec<Entry>), Error>;
    /// Sends every object under `dir`; an `Err` returned ends the listing,
    /// an `Err` sent reports one entry and the listing goes on.
    async fn list_tree(&self, dir: &str, tx: &mpsc::Sender<Entry>) -> Result<(), Error>;
    /// The object itself when the archive names one file, not a folder.
    async fn single(&self) -> Result<Option<Listed>, Error>;
    /// Reads one object.
    async fn fetch(&self, object: &Listed) -> Result<Fetched, Error>;
    /// The object's file when it is on this machine: ingest's decode workers
    /// then read it themselves rather than through [`Archive::fetch`].
    fn local_file(&self, _object: &Listed) -> Option<PathBuf> {
        None
    }
}

/// Reads a local object listed as `object`.
pub(crate) fn read_local(path: &std::path::Path, object: &Listed) -> Result<Fetched, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        location: object.key.clone(),
        source,
    })?;
    Ok(Fetched {
        bytes,
        modified: object.modified,
        ..Fetched::default()
    })
}

/// A local file or folder.
#[derive(Debug)]
pub struct LocalArchive {
    root: String,
}

impl LocalArchive {
    /// The archive at `path`, named by its canonical path: the same file
    /// reached through a symlink or `..` is the same object, not a second
    /// delivery of its events. A path that does not exist fails here,
    /// before the run starts.
    pub fn new(path: &std::path::Path) -> Result<Self, Error> {
        let root = std::fs::canonicalize(path).map_err(|source| Error::Read {
            location: path.display().to_string(),
            source,
        })?;
        let root = key_of(&root)?;
        let root = if root.len() > 1 {
            root.trim_end_matches('/').to_owned()
        } else {
            root
        };
        Ok(Self { root })
    }

    fn listed(path: &std::path::Path, meta: &std::fs::Metadata) -> Entry {
        Ok(Listed {
            key: key_of(path)?,
            size: meta.len(),
            modified: meta.modified().ok().map(DateTime::<Utc>::from),
            etag: None,
        })
    }
}

/// The files a walk has listed, by device and inode.
#[derive(Default)]
struct Seen(std::collections::HashSet<(u64, u64)>);

impl Seen {
    /// Whether the file of `meta` is met for the first time.
    #[cfg(unix)]
    fn first(&mut self, meta: &std::fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.0.insert((meta.dev(), meta.ino()))
    }

    #[cfg(not(unix))]
    fn first(&mut self, _meta: &std::fs::Metadata) -> bool {
        true
    }
}

/// A local path as a key, with `/` between its parts. The key is the
/// path's exact text: a backslash is part of a name on Unix, and a name
/// that is not UTF-8 has no exact text, so it is refused (and reported)
/// rather than read or cited under a look-alike name.
fn key_of(path: &std::path::Path) -> Result<String, Error> {
    let text = path.to_str().ok_or_else(|| {
        io_error(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the path is not valid UTF-8, so ctlake cannot cite it exactly; \
                 read a copy under a UTF-8 name",
            ),
        )
    })?;
    Ok(if cfg!(windows) {
        text.replace('\\', "/")
    } else {
        text.to_owned()
    })
}

fn io_error(path: &std::path::Path, source: impl Into<std::io::Error>) -> Error {
    Error::Read {
        location: path.display().to_string(),
        source: source.into(),
    }
}

#[async_trait::async_trait]
impl Archive for LocalArchive {
    fn name(&self) -> String {
        self.root.clone()
    }

    fn root(&self) -> &str {
        &self.root
    }

    fn location(&self, key: &str) -> String {
        key.to_owned()
    }

    async fn list_dir(&self, dir: &str) -> Result<(Vec<String>, Vec<Entry>), Error> {
        let dir = PathBuf::from(dir);
        tokio::task::spawn_blocking(move || {
            let mut dirs = Vec::new();
            let mut files = Vec::new();
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((dirs, files)),
                Err(e) => return Err(io_error(&dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| io_error(&dir, e))?;
                let path = entry.path();
                // One entry that cannot be read (a dangling link, a name
                // that is not UTF-8) is reported; the folder's others are
                // still listed.
                let meta = match std::fs::metadata(&path) {
                    Ok(meta) => meta,
                    Err(e) => {
                        files.push(Err(io_error(&path, e)));
                        continue;
                    }
                };
                if meta.is_dir() {
                    match key_of(&path) {
                        Ok(key) => dirs.push(format!("{key}/")),
                        Err(e) => files.push(Err(e)),
                    }
                } else if meta.is_file() {
                    files.push(Self::listed(&path, &meta));
                }
            }
            dirs.sort();
            files.sort_by(|a, b| match (a, b) {
                (Ok(a), Ok(b)) => a.key.cmp(&b.key),
                _ => a.is_ok().cmp(&b.is_ok()),
            });
            Ok((dirs, files))
        })
        .await
        .expect("listing thread does not panic")
    }

    async fn list_tree(&self, dir: &str, tx: &mpsc::Sender<Entry>) -> Result<(), Error> {
        let dir = PathBuf::from(dir);
        let tx = tx.clone();
        tokio::task::spawn_blocking(move || {
            // Folders reached through a link, and the files listed so far.
            let mut linked: Vec<PathBuf> = Vec::new();
            let mut seen = Seen::default();
            for entry in walkdir::WalkDir::new(&dir)
                .follow_links(true)
                .sort_by_file_name()
            {
                match entry {
                    Ok(entry) if entry.file_type().is_dir() && entry.path_is_symlink() => {
                        linked.push(entry.path().to_owned());
                    }
                    Ok(entry) if entry.file_type().is_file() => {
                        let meta = match entry.metadata() {
                            Ok(meta) => meta,
                            Err(e) => {
                                let _ = tx.blocking_send(Err(io_error(entry.path(), e)));
                                continue;
                            }
                        };
                        // A file reached twice (through a link to it or to a
                        // folder above it, or a hard link) is one object, read
                        // once, and named by where it is rather than by a
                        // link, so it is never taken for a second delivery.
                        if !seen.first(&meta) {
                            continue;
                        }
                        let via_link = entry.path_is_symlink()
                            || linked.iter().any(|l| entry.path().starts_with(l));
                        let path = if via_link {
                            std::fs::canonicalize(entry.path())
                                .unwrap_or_else(|_| entry.path().to_owned())
                        } else {
                            entry.path().to_owned()
                        };
                        if tx.blocking_send(Self::listed(&path, &meta)).is_err() {
                            return Ok(());
                        }
                    }
                    Ok(_) => {}
                    Err(e)
                        if e.io_error().map(std::io::Error::kind)
                            == Some(std::io::ErrorKind::NotFound)
                            && e.depth() == 0 => {}
                    Err(e) => {
                        let path = e.path().unwrap_or(&dir).to_owned();
                        if tx.blocking_send(Err(io_error(&path, e))).is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            Ok(())
        })
        .await
        .expect("listing thread does not panic")
    }

    async fn single(&self) -> Result<Option<Listed>, Error> {
        let path = PathBuf::from(&self.root);
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() => Self::listed(&path, &meta).map(Some),
            Ok(_) => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    async fn fetch(&self, object: &Listed) -> Result<Fetched, Error> {
        let object = object.clone();
        tokio::task::spawn_blocking(move || read_local(std::path::Path::new(&object.key), &object))
            .await
            .expect("reading thread does not panic")
    }

    fn local_file(&self, object: &Listed) -> Option<PathBuf> {
        Some(PathBuf::from(&object.key))
    }
}

/// An S3 prefix. Only `ListObjectsV2` and `GetObject` are ever sent to it.
#[derive(Debug)]
pub struct S3Archive {
    bucket: String,
    prefix: String,
    store: Arc<dyn ObjectStore>,
}

impl S3Archive {
    /// The archive under `prefix` in `bucket`, read through `store`.
    pub fn new(bucket: String, prefix: String, store: Arc<dyn ObjectStore>) -> Self {
        Self {
            bucket,
            prefix,
            store,
        }
    }

    fn error(&self, key: &str, source: ctlake_store::object_store::Error) -> Error {
        Error::Store {
            location: format!("s3://{}/{key}", self.bucket),
            fatal: is_fatal(&source),
            source,
        }
    }
}

/// Whether a store error condemns the whole run rather than one object:
/// the credentials are bad or the bucket is not there, so every other
/// request will fail the same way.
fn is_fatal(error: &ctlake_store::object_store::Error) -> bool {
    use ctlake_store::object_store::Error as E;
    let text = error.to_string();
    matches!(error, E::Unauthenticated { .. })
        || [
            "NoSuchBucket",
            "InvalidAccessKeyId",
            "ExpiredToken",
            "InvalidToken",
            "SignatureDoesNotMatch",
            "TokenRefreshRequired",
            "no usable AWS credentials",
        ]
        .iter()
        .any(|code| text.contains(code))
}

fn store_path(key: &str) -> StorePath {
    StorePath::parse(key).unwrap_or_else(|_| StorePath::from(key))
}

#[async_trait::async_trait]
impl Archive for S3Archive {
    fn name(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn root(&self) -> &str {
        &self.prefix
    }

    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    async fn list_dir(&self, dir: &str) -> Result<(Vec<String>, Vec<Entry>), Error> {
        let prefix = dir.trim_end_matches('/');
        let path = (!prefix.is_empty()).then(|| store_path(prefix));
        let listing = self
            .store
            .list_with_delimiter(path.as_ref())
            .await
            .map_err(|e| self.error(dir, e))?;
        let dirs = listing
            .common_prefixes
            .iter()
            .map(|p| format!("{p}/"))
            .collect();
        let files = listing.objects.into_iter().map(|o| Ok(listed(o))).collect();
        Ok((dirs, files))
    }

    async fn list_tree(&self, dir: &str, tx: &mpsc::Sender<Entry>) -> Result<(), Error> {
        let prefix = dir.trim_end_matches('/');
        let path = (!prefix.is_empty()).then(|| store_path(prefix));
        let mut stream = self.store.list(path.as_ref());
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|e| self.error(dir, e))?;
            if tx.send(Ok(listed(meta))).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    async fn single(&self) -> Result<Option<Listed>, Error> {
        if !is_json_name(&self.prefix) {
            return Ok(None);
        }
        // Named like a log file: find it in its folder's listing (no HEAD:
        // only list and get ever reach the evidence).
        let (_, files) = self.list_dir(&parent_dir(&self.prefix)).await?;
        Ok(files.into_iter().flatten().find(|f| f.key == self.prefix))
    }

    async fn fetch(&self, object: &Listed) -> Result<Fetched, Error> {
        let result = self
            .store
            .get(&store_path(&object.key))
            .await
            .map_err(|e| self.error(&object.key, e))?;
        let metadata = result
            .attributes
            .iter()
            .filter_map(|(k, v)| match k {
                Attribute::Metadata(name) => Some((name.to_string(), v.to_string())),
                _ => None,
            })
            .collect();
        let etag = result.meta.e_tag.clone();
        let version = result.meta.version.clone();
        let modified = Some(result.meta.last_modified);
        let bytes = result
            .bytes()
            .await
            .map_err(|e| self.error(&object.key, e))?;
        Ok(Fetched {
            bytes: bytes.into(),
            etag,
            version,
            modified,
            metadata,
        })
    }
}

fn listed(meta: ctlake_store::object_store::ObjectMeta) -> Listed {
    Listed {
        key: meta.location.to_string(),
        size: meta.size,
        modified: Some(meta.last_modified),
        etag: meta.e_tag,
    }
}

/// What the walk over one archive found besides the objects it sent.
#[derive(Debug, Default)]
pub(crate) struct WalkSummary {
    /// Whether a selection was given but no `AWSLogs/` folder was found.
    pub(crate) no_layout: bool,
}

/// What [`discover`] found: the folders to list as trees, and whether it
/// met the trail layout at all.
#[derive(Default)]
struct Found {
    trees: Vec<String>,
    layout: bool,
}

/// Sends every object of `archive` that `selection` may admit. With a
/// selection, only the matching trail-layout folders are listed: discovery
/// levels (`AWSLogs/`, organization, service, region, year, month) one level
/// at a time, and each selected day folder as a tree.
pub(crate) async fn walk(
    archive: &dyn Archive,
    selection: &Selection,
    tx: mpsc::Sender<Entry>,
) -> Result<WalkSummary, Error> {
    // Owned, so the receiver sees the end of the listing when the walk ends.
    let tx = &tx;
    let root = archive.root();
    let start = if root.is_empty() || root == "/" {
        root.to_owned()
    } else {
        format!("{root}/")
    };
    let mut summary = WalkSummary::default();
    if let Some(file) = archive.single().await? {
        let _ = tx.send(Ok(file)).await;
        return Ok(summary);
    }
    if selection.is_all() {
        archive.list_tree(&start, tx).await?;
        return Ok(summary);
    }
    let mut found = Found::default();
    discover(archive, selection, start, 0, &mut found, tx).await?;
    summary.no_layout = !found.layout;
    // Day folders are independent: list several at once.
    let mut listings = futures::stream::iter(found.trees)
        .map(|dir| async move { archive.list_tree(&dir, tx).await })
        .buffer_unordered(8);
    while let Some(listed) = listings.next().await {
        listed?;
    }
    Ok(summary)
}

fn parent_dir(key: &str) -> String {
    key.rfind('/')
        .map_or_else(String::new, |i| key[..=i].to_owned())
}

/// The last segment of a folder prefix.
fn leaf(dir: &str) -> &str {
    dir.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// Finds the folders to list as trees, following the trail layout down from
/// `dir`. Objects met on the way (outside day folders) are sent too, so the
/// selection filter can count them as not selected.
fn discover<'a>(
    archive: &'a dyn Archive,
    selection: &'a Selection,
    dir: String,
    depth: usize,
    found: &'a mut Found,
    tx: &'a mpsc::Sender<Entry>,
) -> futures::future::BoxFuture<'a, Result<(), Error>> {
    Box::pin(async move {
        let segments: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        let Some(at) = segments.iter().rposition(|s| *s == "AWSLogs") else {
            if depth >= SEARCH_DEPTH {
                return Ok(());
            }
            let (dirs, files) = archive.list_dir(&dir).await?;
            send_all(files, tx).await;
            for sub in dirs {
                discover(archive, selection, sub, depth + 1, found, tx).await?;
            }
            return Ok(());
        };
        found.layout = true;
        let after = &segments[at + 1..];
        let in_org = after.first().is_some_and(|s| s.starts_with("o-"));
        let rest = layout_folders(after);
        match rest.len() {
            // AWSLogs/ (accounts and organization folders) or AWSLogs/o-id/.
            0 if in_org && !selection.accounts.is_empty() => {
                for account in &selection.accounts {
                    let sub = format!("{dir}{account}/");
                    discover(archive, selection, sub, depth, found, tx).await?;
                }
            }
            0 => {
                let (dirs, files) = archive.list_dir(&dir).await?;
                send_all(files, tx).await;
                for sub in dirs {
                    let name = leaf(&sub);
                    let org = !in_org && name.starts_with("o-");
                    if org || selection.admits_account(name) {
                        discover(archive, selection, sub, depth, found, tx).await?;
                    }
                }
            }
            // <account>/: only the three CloudTrail folders, never other services.
            1 => {
                for service in ["CloudTrail", "CloudTrail-Insight", "CloudTrail-Digest"] {
                    let sub = format!("{dir}{service}/");
                    discover(archive, selection, sub, depth, found, tx).await?;
                }
            }
            2 if !selection.regions.is_empty() => {
                for region in &selection.regions {
                    let sub = format!("{dir}{region}/");
                    discover(archive, selection, sub, depth, found, tx).await?;
                }
            }
            3 if selection.first_day.is_some() && selection.last_day.is_some() => {
                let (Some(first), Some(last)) = (selection.first_day, selection.last_day) else {
                    unreachable!("checked by the guard")
                };
                let mut day = first;
                while day <= last {
                    found.trees.push(format!(
                        "{dir}{:04}/{:02}/{:02}/",
                        day.year(),
                        day.month(),
                        day.day()
                    ));
                    day = day.succ_opt().unwrap_or(last + chrono::Days::new(1));
                }
            }
            // Service (all regions), region (years), year (months), month (days).
            2..=5 => {
                let (dirs, files) = archive.list_dir(&dir).await?;
                send_all(files, tx).await;
                for sub in dirs {
                    if folder_admitted(selection, rest, leaf(&sub)) {
                        if rest.len() == 5 {
                            found.trees.push(sub);
                        } else {
                            discover(archive, selection, sub, depth, found, tx).await?;
                        }
                    }
                }
            }
            // Inside a day folder already: the rest is one tree.
            _ => found.trees.push(dir),
        }
        Ok(())
    })
}

/// Whether the folder `name` under the layout position `rest` can hold
/// selected objects.
fn folder_admitted(selection: &Selection, rest: &[&str], name: &str) -> bool {
    let number = |s: &str| s.parse::<u32>().ok();
    match rest.len() {
        2 => selection.admits_region(name),
        3 => number(name).is_some_and(|y| {
            let y = y as i32;
            match (
                NaiveDate::from_ymd_opt(y, 1, 1),
                NaiveDate::from_ymd_opt(y, 12, 31),
            ) {
                (Some(first), Some(last)) => selection.admits_range(first, last),
                _ => false,
            }
        }),
        4 => match (rest[3].parse::<i32>().ok(), number(name)) {
            (Some(y), Some(m)) => {
                let first = NaiveDate::from_ymd_opt(y, m, 1);
                let last = first.and_then(|f| f.checked_add_months(chrono::Months::new(1)));
                match (first, last.and_then(|l| l.pred_opt())) {
                    (Some(first), Some(last)) => selection.admits_range(first, last),
                    _ => false,
                }
            }
            _ => false,
        },
        5 => folder_day(&[rest[3], rest[4], name]).is_some_and(|d| selection.admits_day(d)),
        _ => true,
    }
}

async fn send_all(files: Vec<Entry>, tx: &mpsc::Sender<Entry>) {
    for file in files {
        if tx.send(file).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_keys() {
        let (kind, ctx) = classify(
            "b/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0000Z_a.json.gz",
        );
        assert_eq!(kind, ObjectKind::Log);
        assert_eq!(ctx.account.as_deref(), Some("111122223333"));
        assert_eq!(ctx.region.as_deref(), Some("us-east-1"));
        assert_eq!(ctx.day, NaiveDate::from_ymd_opt(2024, 3, 10));
    }

    #[test]
    fn organization_and_control_tower_keys() {
        for key in [
            "AWSLogs/o-abc123/222233334444/CloudTrail/eu-west-1/2024/03/10/f.json.gz",
            "o-abc123/AWSLogs/o-abc123/222233334444/CloudTrail/eu-west-1/2024/03/10/f.json.gz",
        ] {
            let (kind, ctx) = classify(key);
            assert_eq!(kind, ObjectKind::Log, "{key}");
            assert_eq!(ctx.account.as_deref(), Some("222233334444"), "{key}");
            assert_eq!(ctx.region.as_deref(), Some("eu-west-1"), "{key}");
        }
    }

    #[test]
    fn a_cloudtrail_name_outside_the_layout_is_read_by_its_name() {
        let name = "111122223333_CloudTrail_us-east-1_20240310T0910Z_a1B2c3D4e5F6g7H8.json.gz";
        for folders in [
            "archive/AWSLogs/CloudTrail/us-east-1/2024/03/10",
            "archive/AWSLogs/111122223333/CloudTrail-Backup/us-east-1/2024/03/10",
            "export",
        ] {
            let (kind, context) = classify(&format!("{folders}/{name}"));
            assert_eq!(kind, ObjectKind::Log, "{folders}");
            assert_eq!(
                context.account.as_deref(),
                Some("111122223333"),
                "{folders}"
            );
            assert_eq!(context.region.as_deref(), Some("us-east-1"), "{folders}");
            assert_eq!(
                context.day,
                NaiveDate::from_ymd_opt(2024, 3, 10),
                "{folders}"
            );
        }
        let (kind, context) = classify(&format!(
            "b/AWSLogs/111122223333/cloudtrail/eu-west-1/2024/03/11/{name}"
        ));
        assert_eq!(
            (kind, context.region.as_deref()),
            (ObjectKind::Log, Some("eu-west-1"))
        );
        let config = "b/AWSLogs/111122223333/Config/us-east-1/2024/3/10/ConfigHistory/111122223333_Config_us-east-1_ConfigHistory_x.json.gz";
        assert_eq!(classify(config).0, ObjectKind::OtherService);
    }

    #[test]
    fn digest_insight_and_others() {
        assert_eq!(
            classify("AWSLogs/1/CloudTrail-Digest/r/2024/03/10/x.json.gz").0,
            ObjectKind::Digest
        );
        assert_eq!(
            classify("AWSLogs/1/CloudTrail-Insight/r/2024/03/10/x.json.gz").0,
            ObjectKind::Insight
        );
        assert_eq!(
            classify("AWSLogs/1/Config/r/2024/03/10/x.json.gz").0,
            ObjectKind::OtherService
        );
        assert_eq!(
            classify("AWSLogs/1/CloudTrail/r/2024/03/10/README.md").0,
            ObjectKind::NotJson
        );
        assert_eq!(
            classify("loose/1_CloudTrail-Digest_r_t_r_20240310T000000Z.json.gz").0,
            ObjectKind::Digest
        );
        assert_eq!(classify("loose/events.json").0, ObjectKind::Log);
    }

    #[test]
    fn window_includes_the_day_after_the_end() {
        let s = Selection::default()
            .with_window(Some("2024-03-10T05:00:00Z"), Some("2024-03-11"))
            .unwrap();
        assert_eq!(s.first_day, NaiveDate::from_ymd_opt(2024, 3, 10));
        assert_eq!(s.last_day, NaiveDate::from_ymd_opt(2024, 3, 12));
        assert!(
            Selection::default()
                .with_window(Some("2024-03-12"), Some("2024-03-10"))
                .is_err()
        );
        assert!(
            Selection::default()
                .with_window(Some("yesterday"), None)
                .is_err()
        );
        // Times are compared as times, not as their days; and read in UTC.
        assert_eq!(
            Selection::default()
                .with_window(Some("2024-03-10T12:00:00Z"), Some("2024-03-10T06:00:00Z"))
                .unwrap_err(),
            "--end 2024-03-10T06:00:00Z is not after --start 2024-03-10T12:00:00Z"
        );
        let s = Selection::default()
            .with_window(Some("2024-03-10T23:30:00-02:00"), None)
            .unwrap();
        assert_eq!(s.first_day, NaiveDate::from_ymd_opt(2024, 3, 11));
        // As hunt reads them: an end date is the whole day, and a time
        // without its offset is not guessed at.
        assert!(
            Selection::default()
                .with_window(Some("2024-03-10T12:00:00Z"), Some("2024-03-10"))
                .is_ok()
        );
        assert!(
            Selection::default()
                .with_window(Some("2024-03-10T12:00:00"), None)
                .is_err()
        );
    }

    #[test]
    fn folders_outside_the_window_are_not_walked() {
        let s = Selection::default()
            .with_window(Some("2024-02-28"), Some("2024-03-01"))
            .unwrap();
        let rest = ["1", "CloudTrail", "r"];
        assert!(folder_admitted(&s, &rest, "2024"));
        assert!(!folder_admitted(&s, &rest, "2023"));
        let rest = ["1", "CloudTrail", "r", "2024"];
        assert!(folder_admitted(&s, &rest, "02"));
        assert!(folder_admitted(&s, &rest, "03"));
        assert!(!folder_admitted(&s, &rest, "04"));
        let rest = ["1", "CloudTrail", "r", "2024", "03"];
        assert!(folder_admitted(&s, &rest, "02"));
        assert!(!folder_admitted(&s, &rest, "03"));
    }
}
