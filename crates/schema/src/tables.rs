//! The lake's other tables, beside `cloudtrail`: what ingest set aside and
//! what it read. Each run writes at most one file per table, named after the
//! run, so the files of a run that never committed can be found and removed.
//!
//! ```text
//! <lake>/
//! ├── cloudtrail/…/part-<run>-<n>.parquet   events (see the crate docs)
//! ├── duplicates/<run>.parquet              copies of events already in the lake
//! ├── rejected/<run>.parquet                records and objects that gave no event
//! ├── digests/<run>.parquet                 CloudTrail digest files, verbatim
//! └── _ctlake/
//!     ├── lake.json
//!     ├── lock                              held while an ingest runs
//!     ├── runs/<run>.json                   run report; written last = committed
//!     ├── runs/<run>.started                present while the run is going
//!     └── objects/<run>.parquet             manifest: one row per object read
//! ```

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::{META_DIR, TABLE_NAME};

/// Table of event copies that were not stored again.
pub const DUPLICATES_TABLE: &str = "duplicates";
/// Table of records and objects that gave no event, kept verbatim.
pub const REJECTED_TABLE: &str = "rejected";
/// Table of the CloudTrail digest files read, kept verbatim for `verify`.
pub const DIGESTS_TABLE: &str = "digests";
/// Table over the manifest: one row per source object each run read.
pub const OBJECTS_TABLE: &str = "objects";
/// Folder of the manifest files under [`META_DIR`].
pub const OBJECTS_DIR: &str = "objects";
/// Folder of the run reports and start markers under [`META_DIR`].
pub const RUNS_DIR: &str = "runs";
/// Ending of a run's start marker in [`RUNS_DIR`].
pub const STARTED_SUFFIX: &str = ".started";
/// Ending of a run's report in [`RUNS_DIR`]; its presence commits the run.
pub const REPORT_SUFFIX: &str = ".json";

/// Lake-relative folders holding one file per run named `<run>.parquet`.
pub fn run_file_dirs() -> [String; 4] {
    [
        DUPLICATES_TABLE.to_owned(),
        REJECTED_TABLE.to_owned(),
        DIGESTS_TABLE.to_owned(),
        format!("{META_DIR}/{OBJECTS_DIR}"),
    ]
}

/// The manifest a run writes, lake-relative.
pub fn manifest_path(run: &str) -> String {
    format!("{META_DIR}/{OBJECTS_DIR}/{run}.parquet")
}

/// What a committed run wrote, from its report: the lake-relative path and
/// size of each file. With the run's [`manifest_path`], which its report
/// does not list, these are the only files of the run that anything reads.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct RunFiles {
    #[serde(default)]
    files: Vec<RunFile>,
    #[serde(default)]
    side_files: Vec<RunFile>,
}

/// One file a run wrote.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RunFile {
    /// Path relative to the lake root.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl RunFiles {
    /// Reads the files listed in the report `text`.
    ///
    /// # Errors
    /// When `text` is not JSON, or lists files in another shape.
    pub fn from_report(text: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(text)
    }

    /// The event files and the side tables' files.
    pub fn iter(&self) -> impl Iterator<Item = &RunFile> {
        self.files.iter().chain(&self.side_files)
    }
}

/// File name of the `n`th events file a run writes.
pub fn data_file_name(run: &str, n: u64) -> String {
    format!("part-{run}-{n:05}.parquet")
}

/// The run that wrote the file called `name`: `part-<run>-<n>.parquet` in
/// the events table, `<run>.parquet` elsewhere. Run ids contain no `-`
/// after their random part, so the split is unambiguous.
pub fn run_of_file(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".parquet")?;
    match stem.strip_prefix("part-") {
        Some(rest) => rest.rsplit_once('-').map(|(run, _)| run),
        None => Some(stem),
    }
}

/// Whether a lake-relative path is a file ctlake writes per run (events,
/// duplicates, rejected, digests or manifest), as opposed to metadata.
pub fn is_run_file(relative: &str) -> bool {
    let top = relative.split('/').next().unwrap_or_default();
    top == TABLE_NAME
        || top == DUPLICATES_TABLE
        || top == REJECTED_TABLE
        || top == DIGESTS_TABLE
        || relative.starts_with(&format!("{META_DIR}/{OBJECTS_DIR}/"))
}

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

static DUPLICATES: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        text("eventid"),
        text("recipientaccountid"),
        Field::new("eventtime", timestamp(), true),
        text("eventname"),
        text("content_hash"),
        text("source_object"),
        Field::new("source_index", DataType::Int64, true),
        text("run"),
        text("account"),
        text("region"),
        text("date"),
    ]))
});

/// Schema of [`DUPLICATES_TABLE`]: one row per copy of an event that was
/// not stored again, with where the copy was read. The stored copy is the
/// `cloudtrail` row with the same `eventid`, `recipientaccountid` and
/// `content_hash`.
pub fn duplicates_schema() -> SchemaRef {
    Arc::clone(&DUPLICATES)
}

static REJECTED: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        text("source_object"),
        Field::new("source_index", DataType::Int64, true),
        text("scope"),
        text("reason"),
        text("raw"),
        Field::new("raw_bytes", DataType::Int64, true),
        Field::new("raw_truncated", DataType::Boolean, true),
        text("run"),
    ]))
});

/// Schema of [`REJECTED_TABLE`]: `scope` is `record` (one element of
/// `Records`, with its index) or `object` (what is left of an object that
/// could not be read to the end, or nothing when no byte of it was usable).
pub fn rejected_schema() -> SchemaRef {
    Arc::clone(&REJECTED)
}

static OBJECTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    let count = |name| Field::new(name, DataType::UInt64, false);
    Arc::new(Schema::new(vec![
        Field::new("run", DataType::Utf8, false),
        Field::new("location", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        count("size"),
        text("etag"),
        text("version_id"),
        Field::new("last_modified", timestamp(), true),
        text("metadata"),
        count("records"),
        count("written"),
        count("duplicates"),
        count("rejected"),
        text("error"),
        Field::new("fetched", DataType::Boolean, false),
        Field::new("capped_at", DataType::UInt64, true),
        text("sha256"),
    ]))
});

/// Schema of the manifest and of [`OBJECTS_TABLE`]. `sha256` is the hex
/// SHA-256 of a log or digest file's decompressed bytes, as CloudTrail's
/// digests give it, when the whole file was read.
pub fn objects_schema() -> SchemaRef {
    Arc::clone(&OBJECTS)
}

static DIGESTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("source_object", DataType::Utf8, false),
        Field::new("run", DataType::Utf8, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("digest", DataType::Utf8, false),
    ]))
});

/// Schema of [`DIGESTS_TABLE`]: each digest file read, its decompressed
/// text (`digest`) as delivered and the hex SHA-256 of that text, which
/// the next digest's `previousDigestHashValue` names.
pub fn digests_schema() -> SchemaRef {
    Arc::clone(&DIGESTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_of_file_reads_both_namings() {
        let run = "20261122T101500123456Z-0a1b2c3d";
        assert_eq!(run_of_file(&data_file_name(run, 7)), Some(run));
        assert_eq!(run_of_file(&format!("{run}.parquet")), Some(run));
        assert_eq!(run_of_file("notes.txt"), None);
        assert!(is_run_file(
            "cloudtrail/account=1/region=r/date=d/x.parquet"
        ));
        assert!(is_run_file("_ctlake/objects/x.parquet"));
        assert!(!is_run_file("_ctlake/runs/x.json"));
    }
}
