//! Creating, recognising and writing lakes, in a local folder or under an S3 prefix.
//!
//! Nothing half-written is ever visible. Locally a file is written under a
//! hidden temporary name and renamed into place; on S3 it is staged on local
//! disk and uploaded with a multipart upload, which S3 only shows once it is
//! completed (and which is aborted on failure).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ctlake_schema::{LAYOUT_VERSION, MARKER_FILE, META_DIR, RUNS_DIR, TABLE_NAME};
use ctlake_store::object_store::buffered::BufWriter;
use ctlake_store::object_store::path::Path as StorePath;
use ctlake_store::object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use ctlake_store::{Location, S3Options};
use futures::TryStreamExt;
use tokio::io::AsyncWriteExt;

use crate::{Error, Result};

pub use ctlake_schema::is_lake;

/// Part size of multipart uploads of lake files.
const UPLOAD_PART: usize = 16 * 1024 * 1024;

#[derive(Debug)]
enum Root {
    Local(PathBuf),
    S3 {
        bucket: String,
        prefix: String,
        store: Arc<dyn ObjectStore>,
        staging: tempfile::TempDir,
    },
}

/// A lake that ingest may write into.
#[derive(Debug)]
pub struct Lake {
    root: Root,
}

impl Lake {
    /// Opens the lake at `location`, creating it when the folder or prefix is
    /// absent or empty. Anything else is refused: `--lake` pointed at the
    /// evidence by mistake must not write into it.
    pub async fn create_or_open(location: &Location, s3: &S3Options) -> Result<Self> {
        match location {
            Location::Local(path) => Self::local(path),
            Location::S3 { bucket, prefix } => {
                let store = ctlake_store::s3_store(bucket, s3)
                    .await
                    .map_err(|e| Error::Setup(e.to_string()))?;
                let staging = tempfile::Builder::new()
                    .prefix("ctlake-staging-")
                    .tempdir()
                    .map_err(|source| Error::Write {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let lake = Self {
                    root: Root::S3 {
                        bucket: bucket.clone(),
                        prefix: prefix.clone(),
                        store,
                        staging,
                    },
                };
                lake.init_remote().await?;
                Ok(lake)
            }
        }
    }

    /// Opens or creates a local lake (see [`Lake::create_or_open`]).
    pub fn local(root: &Path) -> Result<Self> {
        let root = std::path::absolute(root).map_err(|source| Error::Write {
            path: root.to_owned(),
            source,
        })?;
        if is_lake(&root) {
            let path = root.join(META_DIR).join(MARKER_FILE);
            let marker = std::fs::read(&path).map_err(|source| Error::Write { path, source })?;
            check_layout(&marker, &root.display().to_string())?;
        } else {
            if !is_empty_or_unborn(&root)? {
                return Err(Error::NotALake {
                    location: root.display().to_string(),
                });
            }
            let meta = root.join(META_DIR);
            let runs = meta.join(RUNS_DIR);
            std::fs::create_dir_all(&runs).map_err(|source| Error::Write {
                path: runs.clone(),
                source,
            })?;
            // Staged and renamed: a kill never leaves a half-written marker.
            let staged = meta.join(format!(".{MARKER_FILE}.inprogress"));
            write_synced(&staged, marker().as_bytes())?;
            let path = meta.join(MARKER_FILE);
            std::fs::rename(&staged, &path).map_err(|source| Error::Write { path, source })?;
        }
        // The table folder exists from the start so an empty lake can be queried.
        let table = root.join(TABLE_NAME);
        std::fs::create_dir_all(&table).map_err(|source| Error::Write {
            path: table,
            source,
        })?;
        Ok(Self {
            root: Root::Local(root),
        })
    }

    async fn init_remote(&self) -> Result<()> {
        let Root::S3 { store, prefix, .. } = &self.root else {
            return Ok(());
        };
        let marker_key = self.key(&format!("{META_DIR}/{MARKER_FILE}"));
        match store.get(&marker_key).await {
            Ok(found) => {
                let marker = found
                    .bytes()
                    .await
                    .map_err(|e| self.store_error(&marker_key, e))?;
                return check_layout(&marker, &self.name());
            }
            Err(ctlake_store::object_store::Error::NotFound { .. }) => {}
            Err(source) => return Err(self.store_error(&marker_key, source)),
        }
        let root = (!prefix.is_empty()).then(|| StorePath::from(prefix.as_str()));
        let listing = store
            .list_with_delimiter(root.as_ref())
            .await
            .map_err(|e| self.store_error(&marker_key, e))?;
        if !listing.objects.is_empty() || !listing.common_prefixes.is_empty() {
            return Err(Error::NotALake {
                location: self.name(),
            });
        }
        self.put(&format!("{META_DIR}/{MARKER_FILE}"), marker().into_bytes())
            .await
    }

    /// The lake as users name it: a folder or `s3://bucket/prefix`.
    pub fn name(&self) -> String {
        match &self.root {
            Root::Local(root) => root.display().to_string(),
            Root::S3 { bucket, prefix, .. } if prefix.is_empty() => format!("s3://{bucket}"),
            Root::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// The lake's root folder, when it is local.
    pub fn local_root(&self) -> Option<&Path> {
        match &self.root {
            Root::Local(root) => Some(root),
            Root::S3 { .. } => None,
        }
    }

    fn key(&self, relative: &str) -> StorePath {
        match &self.root {
            Root::S3 { prefix, .. } if !prefix.is_empty() => {
                StorePath::from(format!("{prefix}/{relative}"))
            }
            _ => StorePath::from(relative),
        }
    }

    fn store_error(&self, key: &StorePath, source: ctlake_store::object_store::Error) -> Error {
        let bucket = match &self.root {
            Root::S3 { bucket, .. } => bucket.as_str(),
            Root::Local(_) => "",
        };
        Error::Store {
            location: format!("s3://{bucket}/{key}"),
            fatal: true,
            source,
        }
    }

    /// Where a file that will be published at `relative` is written first.
    pub(crate) fn staging_path(&self, relative: &str) -> Result<PathBuf> {
        let (dir, name) = relative.rsplit_once('/').unwrap_or(("", relative));
        let dir = match &self.root {
            Root::Local(root) => root.join(dir),
            Root::S3 { staging, .. } => staging.path().join(dir),
        };
        std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
        // Hidden and without the .parquet ending until complete: queries skip it.
        Ok(dir.join(format!(".{name}.inprogress")))
    }

    /// Publishes the finished file `staged` at `relative`.
    pub(crate) async fn publish(&self, staged: &Path, relative: &str) -> Result<()> {
        match &self.root {
            Root::Local(root) => {
                let target = root.join(relative);
                std::fs::rename(staged, &target).map_err(|source| Error::Write {
                    path: target,
                    source,
                })
            }
            Root::S3 { store, .. } => {
                let key = self.key(relative);
                let upload = async {
                    let mut file = tokio::fs::File::open(staged).await?;
                    let mut writer =
                        BufWriter::with_capacity(Arc::clone(store), key.clone(), UPLOAD_PART);
                    match tokio::io::copy(&mut file, &mut writer).await {
                        Ok(_) => writer.shutdown().await,
                        Err(e) => {
                            // Never leave a partial upload behind.
                            let _ = writer.abort().await;
                            Err(e)
                        }
                    }
                };
                upload.await.map_err(|source| Error::Upload {
                    location: format!("{}/{relative}", self.name()),
                    source,
                })?;
                std::fs::remove_file(staged).map_err(|source| Error::Write {
                    path: staged.to_owned(),
                    source,
                })
            }
        }
    }

    /// Writes a small metadata file atomically.
    pub(crate) async fn put(&self, relative: &str, bytes: Vec<u8>) -> Result<()> {
        match &self.root {
            Root::Local(root) => {
                let target = root.join(relative);
                let staged = self.staging_path(relative)?;
                std::fs::write(&staged, bytes).map_err(|source| Error::Write {
                    path: staged.clone(),
                    source,
                })?;
                std::fs::rename(&staged, &target).map_err(|source| Error::Write {
                    path: target,
                    source,
                })
            }
            Root::S3 { store, .. } => {
                let key = self.key(relative);
                store
                    .put(&key, PutPayload::from(bytes))
                    .await
                    .map(|_| ())
                    .map_err(|e| self.store_error(&key, e))
            }
        }
    }
}

impl Lake {
    /// Every file under the folder `relative` (lake-relative paths, sorted).
    /// Staging files of a local lake are included: they are the lake's own.
    pub(crate) async fn list(&self, relative: &str) -> Result<Vec<String>> {
        match &self.root {
            Root::Local(root) => {
                let dir = root.join(relative);
                let mut out = Vec::new();
                for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                    let entry = match entry {
                        Ok(entry) => entry,
                        Err(e) if e.depth() == 0 => break,
                        Err(e) => {
                            let path = e.path().unwrap_or(&dir).to_owned();
                            return Err(Error::Write {
                                path,
                                source: e.into(),
                            });
                        }
                    };
                    if entry.file_type().is_file()
                        && let Ok(rel) = entry.path().strip_prefix(root)
                    {
                        out.push(rel.to_string_lossy().replace('\\', "/"));
                    }
                }
                Ok(out)
            }
            Root::S3 { store, prefix, .. } => {
                let key = self.key(relative);
                let strip = if prefix.is_empty() {
                    String::new()
                } else {
                    format!("{prefix}/")
                };
                let mut out: Vec<String> = store
                    .list(Some(&key))
                    .map_ok(|meta| {
                        let key = meta.location.to_string();
                        key.strip_prefix(&strip).unwrap_or(&key).to_owned()
                    })
                    .try_collect()
                    .await
                    .map_err(|e| self.store_error(&key, e))?;
                out.sort();
                Ok(out)
            }
        }
    }

    /// The bytes of the lake file at `relative`.
    pub(crate) async fn read(&self, relative: &str) -> Result<Vec<u8>> {
        match &self.root {
            Root::Local(root) => {
                let path = root.join(relative);
                std::fs::read(&path).map_err(|source| Error::Write { path, source })
            }
            Root::S3 { store, .. } => {
                let key = self.key(relative);
                let result = store.get(&key).await;
                let bytes = match result {
                    Ok(result) => result.bytes().await,
                    Err(e) => Err(e),
                };
                bytes.map(Vec::from).map_err(|e| self.store_error(&key, e))
            }
        }
    }

    /// Removes the lake file at `relative` (never anything outside the lake).
    pub(crate) async fn delete(&self, relative: &str) -> Result<()> {
        match &self.root {
            Root::Local(root) => {
                let path = root.join(relative);
                std::fs::remove_file(&path).map_err(|source| Error::Write { path, source })
            }
            Root::S3 { store, .. } => {
                let key = self.key(relative);
                store
                    .delete(&key)
                    .await
                    .map_err(|e| self.store_error(&key, e))
            }
        }
    }

    /// Takes the lake's write lock: one ingest at a time. A local lock left
    /// by a process that no longer runs (killed) is taken over.
    pub(crate) async fn lock(&self, run_id: &str) -> Result<LakeLock<'_>> {
        let relative = format!("{META_DIR}/{LOCK_FILE}");
        let holder = format!(
            "{{\"run\":\"{run_id}\",\"pid\":{},\"host\":\"{}\"}}\n",
            std::process::id(),
            hostname()
        );
        match &self.root {
            Root::Local(root) => {
                let path = root.join(&relative);
                // The lock appears with its holder in one step (a hard link
                // of a finished file), so a kill never leaves it empty.
                let runs = root.join(META_DIR).join(RUNS_DIR);
                std::fs::create_dir_all(&runs).map_err(|source| Error::Write {
                    path: runs.clone(),
                    source,
                })?;
                let staged = runs.join(format!(".lock-{run_id}.inprogress"));
                write_synced(&staged, holder.as_bytes())?;
                let taken = loop {
                    match std::fs::hard_link(&staged, &path) {
                        Ok(()) => break Ok(()),
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            let held = std::fs::read_to_string(&path).unwrap_or_default();
                            if holder_is_alive(&held) {
                                break Err(Error::Locked {
                                    lake: self.name(),
                                    holder: held.trim().to_owned(),
                                });
                            }
                            // The holder was killed: its lock is stale.
                            let _ = std::fs::remove_file(&path);
                        }
                        Err(source) => {
                            break Err(Error::Write {
                                path: path.clone(),
                                source,
                            });
                        }
                    }
                };
                let _ = std::fs::remove_file(&staged);
                taken?;
            }
            Root::S3 { store, .. } => {
                let key = self.key(&relative);
                let create = PutOptions::from(PutMode::Create);
                match store
                    .put_opts(&key, PutPayload::from(holder.into_bytes()), create)
                    .await
                {
                    Ok(_) => {}
                    Err(ctlake_store::object_store::Error::AlreadyExists { .. }) => {
                        let held = self.read(&relative).await.unwrap_or_default();
                        return Err(Error::Locked {
                            lake: self.name(),
                            holder: format!(
                                "{} (if that ingest is dead, delete {}/{relative})",
                                String::from_utf8_lossy(&held).trim(),
                                self.name()
                            ),
                        });
                    }
                    Err(e) => return Err(self.store_error(&key, e)),
                }
            }
        }
        Ok(LakeLock {
            lake: self,
            relative,
        })
    }
}

/// The lake's write lock. It is released by [`LakeLock::release`] (async on
/// S3, so not on drop); a lock left by a killed local process is taken over.
#[derive(Debug)]
pub(crate) struct LakeLock<'a> {
    lake: &'a Lake,
    relative: String,
}

impl LakeLock<'_> {
    pub(crate) async fn release(self) -> Result<()> {
        self.lake.delete(&self.relative).await
    }
}

/// The lock file, under the metadata folder.
const LOCK_FILE: &str = "lock";

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// Writes `bytes` to a new file at `path` and makes them durable.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let io = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::create(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Whether `root` may become a new lake: it is absent or empty, or holds
/// only what a lake creation killed before its marker was in place left
/// (`_ctlake/` with folders and staging files, no other file).
fn is_empty_or_unborn(root: &Path) -> Result<bool> {
    let entries: Vec<_> = match std::fs::read_dir(root) {
        Ok(entries) => entries.filter_map(std::result::Result::ok).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(source) => {
            return Err(Error::Write {
                path: root.to_owned(),
                source,
            });
        }
    };
    match entries.as_slice() {
        [] => Ok(true),
        [only] if only.file_name() == META_DIR => Ok(walkdir::WalkDir::new(only.path())
            .into_iter()
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_type().is_file())
            .all(|e| {
                let name = e.file_name().to_string_lossy();
                name.starts_with('.') && name.ends_with(".inprogress")
            })),
        _ => Ok(false),
    }
}

/// Whether the process named in a lock file still runs. Only a holder on
/// this host whose process is gone counts as dead; anything unreadable is
/// treated as alive, so a lock is never broken by guesswork.
fn holder_is_alive(held: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(held) else {
        return true;
    };
    let (Some(pid), Some(host)) = (value["pid"].as_u64(), value["host"].as_str()) else {
        return true;
    };
    if host != hostname() || !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Refuses a lake whose marker names another layout than this build's.
fn check_layout(marker: &[u8], location: &str) -> Result<()> {
    let found = serde_json::from_slice::<serde_json::Value>(marker)
        .ok()
        .and_then(|v| v["layout"].as_u64());
    if found == Some(u64::from(LAYOUT_VERSION)) {
        return Ok(());
    }
    Err(Error::LayoutVersion {
        location: location.to_owned(),
        found: found.map_or_else(|| "unknown".to_owned(), |v| v.to_string()),
        expected: LAYOUT_VERSION,
    })
}

fn marker() -> String {
    let marker = serde_json::json!({
        "layout": LAYOUT_VERSION,
        "table": TABLE_NAME,
        "created_by": concat!("ctlake ", env!("CARGO_PKG_VERSION")),
    });
    format!("{marker:#}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_foreign_folders_and_reopens_lakes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("evidence.json.gz"), b"x").unwrap();
        assert!(matches!(
            Lake::local(dir.path()),
            Err(Error::NotALake { .. })
        ));

        let lake_dir = dir.path().join("lake");
        Lake::local(&lake_dir).unwrap();
        assert!(is_lake(&lake_dir));
        Lake::local(&lake_dir).unwrap();
    }
}
