//! The shape of a ctlake lake: one Arrow schema for CloudTrail events, the
//! catalogue that says where every column comes from, and the partition layout.
//!
//! Both sides of ctlake share this crate: ingest builds rows to this schema and
//! the query session reads files with it. Nothing is inferred from data.
//!
//! # Columns
//!
//! One row per CloudTrail event. Column names are lower case (as in CloudTrail
//! Lake and Athena), so unquoted SQL identifiers in any letter case resolve.
//! `userIdentity` is flattened: each leaf becomes a column named after its
//! JSON path, lower-cased and joined with `_`, e.g.
//! `userIdentity.sessionContext.sessionIssuer.arn` is
//! `useridentity_sessioncontext_sessionissuer_arn`. Free-form objects
//! (`requestParameters` and friends) are kept as JSON text. Whatever in a record
//! has no column (fields of a future event version, values of an unexpected
//! type) is kept in the `extra` column, so nothing read is dropped.
//!
//! ```
//! let schema = ctlake_schema::file_schema();
//! assert!(schema.field_with_name("useridentity_arn").is_ok());
//! assert_eq!(ctlake_schema::column("eventtime").unwrap().source_path(), "eventTime");
//! ```
//!
//! # Lake layout
//!
//! ```text
//! <lake>/
//! ├── _ctlake/
//! │   └── lake.json                      marker: this folder is a ctlake lake
//! └── cloudtrail/                        table `cloudtrail`
//!     └── account=111122223333/          recipientAccountId
//!         └── region=us-east-1/          awsRegion
//!             └── date=2024-03-10/       the event's own eventTime (UTC)
//!                 └── part-<run>-<n>.parquet
//! ```
//!
//! Partition values come from each event, not from the folder it was delivered
//! in: CloudTrail files by delivery time, so an event at 23:58 sits in the next
//! day's folder of the archive but in its own day's partition of the lake.

mod catalogue;
mod partition;
mod tables;

pub use catalogue::{COLUMNS, Column, Kind, RESOURCE_MEMBERS, column, file_schema, table_schema};
pub use partition::{PartitionKey, UNKNOWN_PARTITION, partition_fields, sanitize_partition_value};
pub use tables::{
    DIGESTS_TABLE, DUPLICATES_TABLE, OBJECTS_DIR, OBJECTS_TABLE, REJECTED_TABLE, REPORT_SUFFIX,
    RUNS_DIR, RunFile, RunFiles, STARTED_SUFFIX, data_file_name, digests_schema, duplicates_schema,
    is_run_file, manifest_path, objects_schema, rejected_schema, run_file_dirs, run_of_file,
};

/// Folder under the lake root that holds ctlake's own metadata.
pub const META_DIR: &str = "_ctlake";
/// Marker file inside [`META_DIR`] whose presence makes a folder a lake.
pub const MARKER_FILE: &str = "lake.json";
/// The events table: its folder under the lake root and its SQL name.
pub const TABLE_NAME: &str = "cloudtrail";
/// Version of the lake layout written into the marker file.
/// Version 2 added `content_hash` and the `duplicates` and `rejected`
/// tables; version 3 added `eventjson`.
pub const LAYOUT_VERSION: u32 = 3;

/// Whether `path` holds a ctlake lake (its marker file exists).
pub fn is_lake(path: &std::path::Path) -> bool {
    path.join(META_DIR).join(MARKER_FILE).is_file()
}
