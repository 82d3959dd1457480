//! Errors of ingest. Every variant names the object (and record) it is about:
//! a forensic report that says "invalid JSON" without saying where is useless.

use std::path::PathBuf;

/// Errors of ingest.
#[derive(Debug, thiserror::Error)]
#[expect(
    missing_docs,
    reason = "variant fields are named for what they hold; the variant says the rest"
)]
#[non_exhaustive]
pub enum Error {
    /// An object or folder could not be read.
    #[error("{location}: cannot read: {source}")]
    Read {
        location: String,
        source: std::io::Error,
    },
    /// The object has no bytes.
    #[error("{location}: empty object")]
    EmptyObject { location: String },
    /// The name ends in `.gz` but the bytes are not gzip.
    #[error("{location}: named .gz but is not gzip (starts with {head})")]
    NotGzip { location: String, head: String },
    /// The gzip stream is corrupt or cut short.
    #[error("{location}: gzip stream broken after {decompressed} decompressed bytes: {source}")]
    Gzip {
        location: String,
        decompressed: u64,
        source: std::io::Error,
    },
    /// The decompressed object is larger than the configured limit.
    #[error(
        "{location}: decompresses to more than the limit of {limit} bytes (see --max-object-bytes)"
    )]
    TooLarge { location: String, limit: u64 },
    /// The object is not valid JSON; records before the error were kept.
    #[error("{location}: invalid JSON after record {records}: {source}")]
    Json {
        location: String,
        records: usize,
        source: serde_json::Error,
    },
    /// The object is JSON but has no `Records` array.
    #[error("{location}: no \"Records\" array: not a CloudTrail log file")]
    NoRecords { location: String },
    /// The object's top-level JSON value is not an object.
    #[error("{location}: top-level JSON value is not an object: not a CloudTrail log file")]
    NotAnObject { location: String },
    /// The lake folder exists and is not a ctlake lake.
    #[error("{path}: not a ctlake lake and not empty; refusing to write into it")]
    NotALake { path: PathBuf },
    /// The lake would be written inside the archive being read.
    #[error("the lake {lake} is inside the input {input}; evidence folders are never written to")]
    LakeInsideInput { lake: PathBuf, input: PathBuf },
    /// Writing the lake failed.
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Encoding Parquet failed.
    #[error("{path}: cannot write Parquet: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    /// An Arrow kernel failed while splitting a batch into partitions.
    #[error("partitioning a batch: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// Result with ingest's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
