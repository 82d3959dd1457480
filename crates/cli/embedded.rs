//! The embedded default: `sql` and `query` accept a raw archive as well as a
//! lake. An archive is ingested once into a lake in the user's cache folder
//! and that lake is reused while the archive is unchanged.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ctlake_ingest::{IngestOptions, archive_fingerprint, ingest, is_lake};
use sha2::{Digest, Sha256};

use crate::progress::Bar;

const FINGERPRINT: &str = "archive.fingerprint";

/// The lake to open for `path`: `path` itself when it is a lake, otherwise a
/// cached lake built from the archive at `path`.
pub fn resolve(path: &Path) -> anyhow::Result<PathBuf> {
    if is_lake(path) {
        return Ok(path.to_owned());
    }
    if !path.exists() {
        bail!("{}: no such lake or archive", path.display());
    }
    let source = std::path::absolute(path)?;
    let inputs = vec![source.clone()];
    let fingerprint = archive_fingerprint(&inputs);
    let lake = cache_root()?.join(short_hash(&source.to_string_lossy()));
    let marker = lake.join(FINGERPRINT);
    if is_lake(&lake) && std::fs::read_to_string(&marker).is_ok_and(|f| f == fingerprint) {
        return Ok(lake);
    }
    if lake.exists() {
        // Our own cache, not evidence: a stale lake is rebuilt from scratch.
        std::fs::remove_dir_all(&lake)
            .with_context(|| format!("removing stale cached lake {}", lake.display()))?;
    }
    eprintln!(
        "{} is not a lake: ingesting it into {}",
        source.display(),
        lake.display()
    );
    let bar = Bar::new(false);
    let report = ingest(&IngestOptions::new(inputs, lake.clone()), &bar)
        .with_context(|| format!("ingesting {} into {}", source.display(), lake.display()))?;
    bar.finish();
    eprint!("{report}");
    if !report.is_clean() {
        eprintln!(
            "warning: not everything in {} could be ingested (see above)",
            source.display()
        );
    }
    std::fs::write(&marker, &fingerprint)
        .with_context(|| format!("writing {}", marker.display()))?;
    Ok(lake)
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
