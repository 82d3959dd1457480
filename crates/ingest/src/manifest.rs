//! The manifest: one row per source object a run read, with what the store
//! said about it and what became of its records. Written after the run's data
//! files, as `_ctlake/objects/<run>.parquet`, so that a manifest row always
//! describes data that is already published.

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;

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
}

/// What a committed run learned about one object: enough to tell whether
/// the object has changed since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownObject {
    pub(crate) size: u64,
    pub(crate) etag: Option<String>,
    pub(crate) modified_nanos: Option<i64>,
    /// Whether its bytes were read; one that could not be fetched is read
    /// again next time, whatever it looks like.
    pub(crate) settled: bool,
}

impl KnownObject {
    /// Whether `listed` is the same object as this one, unchanged.
    pub(crate) fn matches(&self, listed: &crate::Listed) -> bool {
        if self.size != listed.size {
            return false;
        }
        match (&self.etag, &listed.etag) {
            (Some(known), Some(now)) => known == now,
            _ => {
                self.modified_nanos.is_some()
                    && self.modified_nanos == listed.modified.and_then(|t| t.timestamp_nanos_opt())
            }
        }
    }
}

/// The objects a manifest file lists, by location.
pub(crate) fn read_known(
    bytes: Vec<u8>,
    into: &mut std::collections::HashMap<String, KnownObject>,
) -> Result<()> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{TimestampNanosecondType, UInt64Type};
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(manifest_error)?;
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
        for row in 0..batch.num_rows() {
            into.insert(
                location.value(row).to_owned(),
                KnownObject {
                    size: size.value(row),
                    etag: etag.is_valid(row).then(|| etag.value(row).to_owned()),
                    modified_nanos: modified.is_valid(row).then(|| modified.value(row)),
                    settled: fetched.value(row),
                },
            );
        }
    }
    Ok(())
}

/// The manifest rows as a Parquet file.
/// Manifest entries converted to Arrow at a time.
const MANIFEST_BATCH_ROWS: usize = 8192;

pub(crate) fn to_parquet(entries: &[ManifestEntry]) -> Result<Vec<u8>> {
    let schema = ctlake_schema::objects_schema();
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .build_decoder()
        .map_err(Error::Arrow)?;
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, None).map_err(manifest_error)?;
    // A run can read millions of objects: converted all at once, the
    // manifest would be held twice at the end of the run.
    for chunk in entries.chunks(MANIFEST_BATCH_ROWS) {
        decoder.serialize(chunk).map_err(Error::Arrow)?;
        if let Some(batch) = decoder.flush().map_err(Error::Arrow)? {
            writer.write(&batch).map_err(manifest_error)?;
        }
    }
    writer.close().map_err(manifest_error)?;
    Ok(out)
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
    fn round_trips() {
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
        };
        // More entries than one conversion batch: all kept, in order.
        let entries: Vec<ManifestEntry> = (0..MANIFEST_BATCH_ROWS * 2 + 3)
            .map(|i| ManifestEntry {
                size: i as u64,
                ..entry.clone()
            })
            .collect();
        let bytes = to_parquet(&entries).unwrap();
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
        assert_eq!(sizes, (0..entries.len() as u64).collect::<Vec<_>>());
    }
}
