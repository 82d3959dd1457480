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
    /// A gzip member is corrupt or fails its checksum: none of its text is
    /// kept, since any of it may be wrong.
    #[error(
        "{location}: gzip member {member} is corrupt ({source}); only the members before it were read"
    )]
    GzipCorrupt {
        location: String,
        member: u64,
        source: std::io::Error,
    },
    /// Bytes after the last gzip member that are neither gzip nor zero padding.
    #[error(
        "{location}: {len} bytes after the last gzip member (from byte {offset}) are not gzip; the members before them were read"
    )]
    TrailingBytes {
        location: String,
        offset: u64,
        len: u64,
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
    /// The object's text is UTF-16, where CloudTrail writes UTF-8.
    #[error(
        "{location}: the text is UTF-16 (saved again by an editor or a Windows tool?); CloudTrail writes UTF-8: read a copy converted to UTF-8"
    )]
    Utf16 { location: String },
    /// The object is JSON but has no `Records` array.
    #[error("{location}: no \"Records\" array: not a CloudTrail log file")]
    NoRecords { location: String },
    /// The object has more than one `Records` member. Every record of every
    /// one is read; the object is reported because JSON tools differ on
    /// which of the arrays they keep.
    #[error(
        "{location}: {arrays} \"Records\" arrays in one object (JSON tools differ on which they keep); the records of all of them were read, numbered in order"
    )]
    RepeatedRecords { location: String, arrays: usize },
    /// A CloudTrail-Digest file whose text is not a JSON object.
    #[error("{location}: not a CloudTrail digest: {message}")]
    BadDigest { location: String, message: String },
    /// The object's top-level JSON value is not an object.
    #[error("{location}: top-level JSON value is not an object: not a CloudTrail log file")]
    NotAnObject { location: String },
    /// The lake folder or prefix exists and is not a ctlake lake.
    #[error("{location}: not a ctlake lake and not empty; refusing to write into it")]
    NotALake { location: String },
    /// The lake was written by a ctlake with another layout.
    #[error(
        "{location}: lake layout {found} but this ctlake writes layout {expected}; ingest into a new lake"
    )]
    LayoutVersion {
        location: String,
        found: String,
        expected: u32,
    },
    /// A store refused a request after its retries. `fatal` errors (missing
    /// bucket, bad or expired credentials) stop the run: every other request
    /// would fail the same way.
    #[error("{location}: {}", store_message(source))]
    Store {
        location: String,
        fatal: bool,
        source: ctlake_store::object_store::Error,
    },
    /// Uploading a finished lake file failed; the upload was aborted.
    #[error("{location}: upload failed (aborted, nothing published): {source}")]
    Upload {
        location: String,
        source: std::io::Error,
    },
    /// Another ingest holds the lake's lock.
    #[error("{lake}: another ingest is writing this lake ({holder}); wait for it to finish")]
    Locked { lake: String, holder: String },
    /// A store client could not be set up.
    #[error("{0}")]
    Setup(String),
    /// The lake would be written inside the archive being read.
    #[error("the lake {lake} is inside the input {input}; evidence folders are never written to")]
    LakeInsideInput { lake: String, input: String },

    #[error(
        "the input {inner} is the input {outer} or lies inside it: its objects would be read twice and each event counted as a duplicate of itself; give {outer} once"
    )]
    OverlappingInputs { outer: String, inner: String },

    #[error(
        "the input {input} is inside the lake {lake}; a lake is read with `ctlake sql`, not ingested"
    )]
    InputInsideLake { lake: String, input: String },
    /// Writing the lake failed.
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A committed run's report in the lake cannot be read: what it wrote,
    /// and so which files are the lake's, is not known.
    #[error("{lake}: run report {report} is not one ctlake wrote: {source}")]
    BadReport {
        lake: String,
        report: String,
        source: serde_json::Error,
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

impl Error {
    /// The object or folder the error is about, when it is about one.
    pub fn location(&self) -> Option<&str> {
        match self {
            Self::Read { location, .. }
            | Self::EmptyObject { location }
            | Self::NotGzip { location, .. }
            | Self::Gzip { location, .. }
            | Self::GzipCorrupt { location, .. }
            | Self::TrailingBytes { location, .. }
            | Self::TooLarge { location, .. }
            | Self::Json { location, .. }
            | Self::Utf16 { location }
            | Self::NoRecords { location }
            | Self::NotAnObject { location }
            | Self::RepeatedRecords { location, .. }
            | Self::NotALake { location }
            | Self::LayoutVersion { location, .. }
            | Self::Store { location, .. }
            | Self::Upload { location, .. } => Some(location),
            _ => None,
        }
    }

    /// Whether the error stops the whole run rather than one object.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Store { fatal: true, .. })
    }
}

/// A store error with a hint for the causes users can fix.
fn store_message(error: &ctlake_store::object_store::Error) -> String {
    use ctlake_store::object_store::Error as E;
    let text = error.to_string();
    let hint = if text.contains("NoSuchBucket") {
        " (no such bucket: check the name, and --bucket-region / --endpoint-url)"
    } else if [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
    ]
    .iter()
    .any(|c| text.contains(c))
    {
        " (the credentials were refused: check --profile / AWS_PROFILE, or renew them)"
    } else if matches!(error, E::PermissionDenied { .. }) || text.contains("AccessDenied") {
        " (access denied: ctlake needs s3:ListBucket and s3:GetObject on the archive)"
    } else if text.contains("no usable AWS credentials") {
        " (use --profile, set AWS_* variables, or --no-sign-request for a public bucket)"
    } else {
        ""
    };
    format!("{text}{hint}")
}

/// Result with ingest's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
