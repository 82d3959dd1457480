//! The embedded default: `sql` and `query` accept a raw archive (a folder or
//! an `s3://` prefix) as well as a lake. An archive is ingested once into a
//! lake in the user's cache folder and that lake is reused while the archive
//! is unchanged (same keys, sizes, modification times and ETags).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use ctlake_ingest::{IngestOptions, Location, S3Options, archive_fingerprint, ingest, is_lake};
use sha2::{Digest, Sha256};

use crate::progress::Bar;

const FINGERPRINT: &str = "archive.fingerprint";
/// What the ingest that built the cached lake could not read, repeated each
/// time the lake is reused: the gap is in every answer, not only the first.
const GAPS: &str = "archive.gaps";

/// The lake to open for `location`: `location` itself when it is a lake,
/// otherwise a cached lake built from the archive there.
pub async fn resolve(location: &Location, s3: &S3Options) -> anyhow::Result<Location> {
    if ctlake_query::is_lake_at(location, s3).await? {
        return Ok(location.clone());
    }
    let source = match location {
        Location::Local(path) if !path.exists() => {
            bail!("{}: no such lake or archive", path.display())
        }
        Location::Local(path) => {
            let path = std::path::absolute(path)?;
            // Its Parquet and run reports are no CloudTrail logs: read as an
            // archive, a lake's folder gives an empty answer, not an error.
            if let Some(root) = path.ancestors().skip(1).find(|dir| is_lake(dir)) {
                bail!(
                    "{} is inside the lake {}: give the lake's own folder",
                    path.display(),
                    root.display()
                );
            }
            Location::Local(path)
        }
        remote @ Location::S3 { .. } => remote.clone(),
    };
    let archive = ctlake_ingest::open_archive(&source, s3).await?;
    let fingerprint = archive_fingerprint(&*archive)
        .await
        .with_context(|| format!("listing {source}"))?;
    let lake = cache_root()?.join(short_hash(&source.to_string()));
    let marker = lake.join(FINGERPRINT);
    if is_lake(&lake) && std::fs::read_to_string(&marker).is_ok_and(|f| f == fingerprint) {
        if let Ok(gaps) = std::fs::read_to_string(lake.join(GAPS)) {
            diag!(
                "warning: not everything in {source} could be ingested: {gaps} (the `rejected` table lists them)"
            );
        }
        return Ok(Location::Local(lake));
    }
    if lake.exists() {
        // Our own cache, not evidence: a stale lake is rebuilt from scratch.
        std::fs::remove_dir_all(&lake)
            .with_context(|| format!("removing stale cached lake {}", lake.display()))?;
    }
    diag!(
        "{source} is not a lake: ingesting it into {}",
        lake.display()
    );
    let bar = Arc::new(Bar::new(false));
    let mut options = IngestOptions::new(vec![source.clone()], Location::Local(lake.clone()));
    options.s3 = s3.clone();
    let report = ingest(&options, bar.clone())
        .await
        .with_context(|| format!("ingesting {source} into {}", lake.display()))?;
    bar.finish();
    diag!("{}", report.to_string().trim_end());
    // A mistyped folder would otherwise answer every query with no rows,
    // which reads as "no such activity". An archive of empty logs still
    // answers: that is what its logs say.
    if report.objects_read == 0 {
        std::fs::remove_dir_all(&lake)
            .with_context(|| format!("removing empty cached lake {}", lake.display()))?;
        bail!(
            "{source} holds no CloudTrail log that could be read ({} objects listed: {} skipped as \
             not CloudTrail logs, {} digest, {} outside the selection, {} failed); nothing to query",
            report.objects_listed,
            report.objects_skipped,
            report.digest_objects,
            report.objects_excluded,
            report.failures.len()
        );
    }
    if !report.is_clean() {
        diag!("warning: not everything in {source} could be ingested (see above)");
        let stopped = report
            .aborted
            .as_ref()
            .map(|reason| format!(", stopped early: {reason}"))
            .unwrap_or_default();
        let gaps = format!(
            "{} objects not read completely, {} records rejected{stopped}",
            report.failures.len(),
            report.records_rejected
        );
        std::fs::write(lake.join(GAPS), gaps)
            .with_context(|| format!("writing {}", lake.join(GAPS).display()))?;
    }
    std::fs::write(&marker, &fingerprint)
        .with_context(|| format!("writing {}", marker.display()))?;
    Ok(Location::Local(lake))
}

/// `CTLAKE_CACHE_DIR`, or `lakes` in ctlake's cache folder.
fn cache_root() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CTLAKE_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let base = dirs::cache_dir().context("no cache folder on this system; set CTLAKE_CACHE_DIR")?;
    Ok(base.join("ctlake").join("lakes"))
}

fn short_hash(text: &str) -> String {
    ctlake_ingest::hex(&Sha256::digest(text.as_bytes())[..8])
}
