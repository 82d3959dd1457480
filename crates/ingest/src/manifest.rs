//! The manifest: one row per source object a run read, with what the store
//! said about it and what became of its records. Staged as objects finish
//! and published after the run's data files, as
//! `_ctlake/objects/<run>.parquet`, so that a manifest row always describes
//! data that is already published.

use std::sync::Arc;

use ctlake_schema::META_DIR;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;

use crate::lake::Lake;
use crate::side_tables::RunFile;
use crate::writer::WrittenFile;
use crate::{Error, Result};

pub use ctlake_schema::OBJECTS_DIR;

/// One source object in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    /// The run that read it.
    pub run: String,
    /// Where it is: an absolute path or `s3://bucket/key`.
    pub location: String,
    /// What its key says it is (`log`, `insight`, `digest`).
    pub kind: String,
    /// Size in bytes as listed.
    pub size: u64,
    /// Entity tag of the version read (S3).
    pub etag: Option<String>,
    /// Version id (versioned S3 buckets).
    pub version_id: Option<String>,
    /// Last modification time, RFC 3339.
    pub last_modified: Option<String>,
    /// User metadata (`x-amz-meta-*`) as a JSON object; digest files carry
    /// their signature here.
    pub metadata: Option<String>,
    /// Records found in it.
    pub records: u64,
    /// Rows written from it.
    pub written: u64,
    /// Records that were copies of events already stored (see the
    /// `duplicates` table).
    pub duplicates: u64,
    /// Records rejected from it.
    pub rejected: u64,
    /// Why it could not be read completely, if it could not.
    pub error: Option<String>,
    /// Whether its bytes were read from the store. An object that could not
    /// be fetched is tried again by the next run; one that was read and is
    /// broken (not gzip, bad JSON, over the size cap) is not, unless it
    /// changes: it would fail the same way.
    pub fetched: bool,
    /// The size cap (`--max-object-bytes`) it decompressed past, if it did.
    /// A later run with a larger cap reads it again; one with the same cap
    /// would fail the same way, and does not.
    pub capped_at: Option<u64>,
    /// Hex SHA-256 of its decompressed bytes, when all of them were read:
    /// what a CloudTrail digest lists for a log file.
    pub sha256: Option<String>,
}

/// The object versions committed runs read: what the next run needs to tell
/// which objects changed since. A lake can know millions of objects, so each
/// version is one 128-bit BLAKE3 digest of its location, size and entity tag
/// (or, without one, modification time), in a sorted list: 16 bytes an
/// object, where a map of locations to versions took about 75.
///
/// An object is unchanged when its listed version is one a run read. That
/// holds for a version read before a later one, too: should the object go
/// back to it, its events are in the lake already. A version whose bytes
/// could not be fetched is not added, so the next run tries it again.
#[derive(Debug)]
pub(crate) struct KnownObjects(Vec<Digest>);

type Digest = [u8; 16];

/// The digest of one version of the object at `location`; none when the
/// listing gives neither an entity tag nor a modification time, which tell
/// versions apart.
fn version(
    location: &str,
    size: u64,
    etag: Option<&str>,
    modified_nanos: Option<i64>,
) -> Option<Digest> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&(location.len() as u64).to_le_bytes());
    hasher.update(location.as_bytes());
    hasher.update(&size.to_le_bytes());
    match (etag, modified_nanos) {
        (Some(etag), _) => hasher.update(b"e").update(etag.as_bytes()),
        (None, Some(nanos)) => hasher.update(b"m").update(&nanos.to_le_bytes()),
        (None, None) => return None,
    };
    let mut out = [0; 16];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    Some(out)
}

/// Gathers the versions manifests list, one manifest file at a time.
#[derive(Debug)]
pub(crate) struct KnownObjectsBuilder {
    known: Vec<Digest>,
    max_object_bytes: u64,
}

impl KnownObjectsBuilder {
    /// For a run whose size cap is `max_object_bytes`: objects an earlier run
    /// stopped at a smaller cap are not known to it.
    pub(crate) fn new(max_object_bytes: u64) -> Self {
        Self {
            known: Vec::new(),
            max_object_bytes,
        }
    }

    /// Adds the versions a manifest file (Parquet bytes) lists as read.
    pub(crate) fn read(&mut self, bytes: Vec<u8>) -> Result<()> {
        use arrow::array::{Array, AsArray};
        use arrow::datatypes::{TimestampNanosecondType, UInt64Type};
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .map_err(manifest_error)?;
        // Sized to what each manifest adds: grown by doubling, the list could
        // end up with nearly as much spare room as it holds.
        let rows = builder.metadata().file_metadata().num_rows();
        self.known
            .reserve_exact(usize::try_from(rows).unwrap_or_default());
        let reader = builder.build().map_err(manifest_error)?;
        for batch in reader {
            let batch = batch.map_err(Error::Arrow)?;
            let column = |name: &str| {
                batch
                    .column_by_name(name)
                    .ok_or_else(|| Error::Setup(format!("manifest has no column {name}")))
            };
            let location = column("location")?.as_string::<i32>().clone();
            let size = column("size")?.as_primitive::<UInt64Type>().clone();
            let etag = column("etag")?.as_string::<i32>().clone();
            let modified = column("last_modified")?
                .as_primitive::<TimestampNanosecondType>()
                .clone();
            let fetched = column("fetched")?.as_boolean().clone();
            // Absent from manifests written before caps were recorded.
            let capped_at = batch
                .column_by_name("capped_at")
                .map(|c| c.as_primitive::<UInt64Type>().clone());
            let settled = |row| {
                fetched.value(row)
                    && capped_at.as_ref().is_none_or(|capped| {
                        capped.is_null(row) || capped.value(row) >= self.max_object_bytes
                    })
            };
            self.known.extend(
                (0..batch.num_rows())
                    .filter(|&row| settled(row))
                    .filter_map(|row| {
                        version(
                            location.value(row),
                            size.value(row),
                            etag.is_valid(row).then(|| etag.value(row)),
                            modified.is_valid(row).then(|| modified.value(row)),
                        )
                    }),
            );
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> KnownObjects {
        let mut known = self.known;
        known.sort_unstable();
        known.dedup();
        known.shrink_to_fit();
        KnownObjects(known)
    }
}

impl KnownObjects {
    /// Whether the object at `location` is, as listed, a version a committed
    /// run read.
    pub(crate) fn unchanged(&self, location: &str, listed: &crate::Listed) -> bool {
        let modified = listed.modified.and_then(|t| t.timestamp_nanos_opt());
        version(location, listed.size, listed.etag.as_deref(), modified)
            .is_some_and(|v| self.0.binary_search(&v).is_ok())
    }
}

/// Manifest entries converted to Arrow at a time.
const MANIFEST_BATCH_ROWS: usize = 8192;

/// Writes a run's manifest as its objects are accounted for. A run can read
/// millions of objects: the entries are staged in a file as they come, not
/// held until the end of the run, and published after the run's data.
pub(crate) struct ManifestWriter {
    file: RunFile,
    decoder: arrow::json::reader::Decoder,
}

impl ManifestWriter {
    pub(crate) fn new(
        lake: Arc<Lake>,
        runtime: tokio::runtime::Handle,
        run_id: &str,
    ) -> Result<Self> {
        let schema = ctlake_schema::objects_schema();
        let decoder = arrow::json::ReaderBuilder::new(Arc::clone(&schema))
            .with_batch_size(MANIFEST_BATCH_ROWS)
            .build_decoder()
            .map_err(Error::Arrow)?;
        let table = format!("{META_DIR}/{OBJECTS_DIR}");
        Ok(Self {
            file: RunFile::new(lake, runtime, schema, &table, run_id),
            decoder,
        })
    }

    pub(crate) fn push(&mut self, entry: &ManifestEntry) -> Result<()> {
        self.decoder
            .serialize(std::slice::from_ref(entry))
            .map_err(Error::Arrow)?;
        if self.decoder.len() >= MANIFEST_BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        match self.decoder.flush().map_err(Error::Arrow)? {
            Some(batch) => self.file.write(&batch),
            None => Ok(()),
        }
    }

    /// Publishes the manifest, if the run read any object.
    pub(crate) fn finish(mut self) -> Result<Option<WrittenFile>> {
        self.flush()?;
        self.file.finish()
    }
}

fn manifest_error(source: parquet::errors::ParquetError) -> Error {
    Error::Parquet {
        path: OBJECTS_DIR.into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, UInt64Type};

    use super::*;

    #[test]
    fn streams_entries_into_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Arc::new(Lake::local(dir.path()).unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let entry = ManifestEntry {
            run: "r".into(),
            location: "s3://b/k.json.gz".into(),
            kind: "digest".into(),
            size: 10,
            etag: Some("\"abc\"".into()),
            version_id: None,
            last_modified: Some("2024-03-10T00:00:00Z".into()),
            metadata: Some(r#"{"signature":"00ff"}"#.into()),
            records: 0,
            written: 0,
            duplicates: 0,
            rejected: 0,
            error: None,
            fetched: true,
            capped_at: None,
            sha256: Some("ab".repeat(32)),
        };
        let mut writer =
            ManifestWriter::new(Arc::clone(&lake), runtime.handle().clone(), "r").unwrap();
        // More entries than one conversion batch: all kept, in order.
        let count = MANIFEST_BATCH_ROWS * 2 + 3;
        for i in 0..count {
            writer
                .push(&ManifestEntry {
                    size: i as u64,
                    ..entry.clone()
                })
                .unwrap();
        }
        let written = writer.finish().unwrap().unwrap();
        assert_eq!(written.path, format!("{META_DIR}/{OBJECTS_DIR}/r.parquet"));
        assert_eq!(written.rows, count as u64);
        let bytes = std::fs::read(dir.path().join(&written.path)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .unwrap()
            .build()
            .unwrap();
        let sizes: Vec<u64> = reader
            .flat_map(|b| {
                let b = b.unwrap();
                let sizes = b.column_by_name("size").unwrap();
                arrow::compute::cast(sizes, &DataType::UInt64)
                    .unwrap()
                    .as_primitive::<UInt64Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(sizes, (0..count as u64).collect::<Vec<_>>());

        let bytes = std::fs::read(dir.path().join(&written.path)).unwrap();
        let mut known = KnownObjectsBuilder::new(u64::MAX);
        known.read(bytes).unwrap();
        let known = known.finish();
        let listed = |size, etag: &str| crate::Listed {
            key: "k.json.gz".into(),
            size,
            etag: Some(etag.into()),
            modified: None,
        };
        // Every version read is known, not only the last.
        let last = count as u64 - 1;
        assert!(known.unchanged("s3://b/k.json.gz", &listed(last, "\"abc\"")));
        assert!(known.unchanged("s3://b/k.json.gz", &listed(0, "\"abc\"")));
        assert!(!known.unchanged("s3://b/k.json.gz", &listed(last + 1, "\"abc\"")));
        assert!(!known.unchanged("s3://b/k.json.gz", &listed(last, "\"abd\"")));
        assert!(!known.unchanged("s3://b/other.json.gz", &listed(last, "\"abc\"")));
        assert_eq!(known.0.len(), count);
    }
}
