//! Creating and recognising lake folders.

use std::path::{Path, PathBuf};

use ctlake_schema::{LAYOUT_VERSION, MARKER_FILE, META_DIR, TABLE_NAME};

use crate::{Error, Result};

pub use ctlake_schema::is_lake;

/// A lake folder that ingest may write into.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

impl Lake {
    /// Opens the lake at `root`, creating it when the folder is absent or
    /// empty. A folder with other content is refused: `--lake` pointed at the
    /// evidence by mistake must not write into it.
    pub fn create_or_open(root: &Path) -> Result<Self> {
        let root = std::path::absolute(root).map_err(|source| Error::Write {
            path: root.to_owned(),
            source,
        })?;
        if !is_lake(&root) {
            let empty = match std::fs::read_dir(&root) {
                Ok(mut entries) => entries.next().is_none(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                Err(source) => return Err(Error::Write { path: root, source }),
            };
            if !empty {
                return Err(Error::NotALake { path: root });
            }
            let meta = root.join(META_DIR);
            std::fs::create_dir_all(&meta).map_err(|source| Error::Write {
                path: meta.clone(),
                source,
            })?;
            let marker = serde_json::json!({
                "layout": LAYOUT_VERSION,
                "table": TABLE_NAME,
                "created_by": concat!("ctlake ", env!("CARGO_PKG_VERSION")),
            });
            let path = meta.join(MARKER_FILE);
            std::fs::write(&path, format!("{marker:#}\n"))
                .map_err(|source| Error::Write { path, source })?;
        }
        // The table folder exists from the start so an empty lake can be queried.
        let table = root.join(TABLE_NAME);
        std::fs::create_dir_all(&table).map_err(|source| Error::Write {
            path: table,
            source,
        })?;
        Ok(Self { root })
    }

    /// The lake's root folder (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The events table's folder.
    pub fn table_dir(&self) -> PathBuf {
        self.root.join(TABLE_NAME)
    }

    /// Where run reports are kept.
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join(META_DIR).join("runs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_foreign_folders_and_reopens_lakes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("evidence.json.gz"), b"x").unwrap();
        assert!(matches!(
            Lake::create_or_open(dir.path()),
            Err(Error::NotALake { .. })
        ));

        let lake_dir = dir.path().join("lake");
        Lake::create_or_open(&lake_dir).unwrap();
        assert!(is_lake(&lake_dir));
        Lake::create_or_open(&lake_dir).unwrap();
    }
}
