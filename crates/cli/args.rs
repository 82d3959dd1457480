//! The command line, as clap derive types. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::print_format::Format;

/// Offline forensic query engine for AWS CloudTrail archives.
///
/// Ingest an archive into a Parquet lake, then query it with SQL.
#[derive(Debug, Parser)]
#[command(
    name = "ctlake",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read CloudTrail log files and write them into a partitioned Parquet lake.
    ///
    /// Exit status: 0 every object read and every record written; 1 the lake was
    /// written but some objects failed or records were rejected (listed in the
    /// report); 2 nothing could be done (bad arguments, lake not writable) or the
    /// source failed as a whole (missing bucket, access denied, refused credentials).
    Ingest(IngestArgs),
    /// Interactive SQL over a lake (table `cloudtrail`).
    Sql(SqlArgs),
    /// Run SQL over a lake and print the results, for scripts.
    ///
    /// Results go to stdout, diagnostics to stderr. Exit status: 0 success,
    /// 2 error.
    Query(QueryArgs),
    /// Show what a lake holds and check that its books balance.
    ///
    /// Sources, runs (and any uncommitted run), objects by kind, records read =
    /// stored + duplicates + rejected, eventID conflicts, and events with their
    /// first and last time per account and region. Exit status: 0 the counts in
    /// the manifests match the rows in the tables; 1 they do not (each mismatch is
    /// printed); 2 error.
    Status(StatusArgs),
    /// Run saved hunts over a lake: the bundled library, your own folder, or .sql files.
    ///
    /// Findings are grouped by hunt. Exit status, like grep: 0 no finding, 1 findings,
    /// 2 error (a hunt failed, or bad arguments); a failing hunt does not stop the others.
    Hunt(HuntArgs),
    /// Check the archive a lake read against CloudTrail's digest files.
    ///
    /// Every log file a digest lists must be in the lake with the SHA-256 the digest
    /// gives; a log file delivered within the digests' hours must be listed by one;
    /// each digest must name its own key, match the hash its successor gives it, and
    /// (with --public-keys) carry a valid signature. Prints the checks that did not
    /// pass (all of them with --all), and a summary on stderr. Exit status: 0 every
    /// check passed; 1 a file is missing, modified, unreadable or unlisted, a digest
    /// is invalid, or the lake holds no digest; 2 error.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// CloudTrail's public keys, as `aws cloudtrail list-public-keys --region R
    /// --start-time T --end-time T > FILE` writes them (repeatable: keys are per
    /// region). Without them, signatures are not checked.
    #[arg(long = "public-keys", value_name = "FILE")]
    pub public_keys: Vec<PathBuf>,
    /// Print every check, the valid ones too.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub s3: S3Args,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Hunts to run: ids, tags, ATT&CK tactic or technique ids, or hunt .sql files
    /// [default: every hunt].
    #[arg(value_name = "ID|TAG|FILE")]
    pub selectors: Vec<String>,
    /// The lake: a folder or s3://bucket/prefix, or a raw archive to ingest into a cached
    /// lake first [env: CTLAKE_LAKE].
    #[arg(long, value_name = "PATH")]
    pub lake: Option<String>,
    /// Look at the last DURATION before now (7d, 36h, 2weeks) [default: all time].
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["start", "end"])]
    pub since: Option<String>,
    /// Start of the window: a date (2024-03-10) or an RFC 3339 time, UTC.
    #[arg(long, value_name = "DATE|TIME")]
    pub start: Option<String>,
    /// End of the window (a date means the end of that day).
    #[arg(long, value_name = "DATE|TIME")]
    pub end: Option<String>,
    /// Set a hunt parameter (repeatable); lists are comma-separated.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Output format: table (findings grouped by hunt), json (one document: the window,
    /// each hunt with its findings, the hunts that failed, the total), ndjson (a finding
    /// per line with its hunt's id, title, severity and techniques) or csv (a finding
    /// per row behind hunt_id, severity and techniques).
    #[arg(long, value_enum, default_value_t = Format::Table, hide_possible_values = true)]
    pub format: Format,
    /// A folder of your own hunts (repeatable), read besides the bundled ones and the
    /// default folder ($CTLAKE_HUNTS, else ~/.config/ctlake/hunts).
    #[arg(long = "hunts", value_name = "DIR")]
    pub hunt_dirs: Vec<PathBuf>,
    /// List the hunts instead of running them.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub s3: S3Args,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
    #[command(flatten)]
    pub s3: S3Args,
}

/// How `status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// Text for people.
    Table,
    /// One JSON object, for scripts.
    Json,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Archives to read: local files or folders, or s3://bucket[/prefix]. Trail layouts
    /// (`[prefix/][o-id/]AWSLogs/[o-id/]<account>/CloudTrail/...`) or any folder of
    /// .json.gz / .json files.
    #[arg(required = true, value_name = "PATH|S3URL")]
    pub inputs: Vec<String>,
    /// The lake to write: a folder or s3://bucket/prefix (created if absent; must be empty or
    /// a lake).
    #[arg(long, value_name = "DIR|S3URL")]
    pub lake: String,
    /// Worker threads for decompression and parsing [default: one per core].
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Reads in flight at once [default: 64 on S3, two per worker locally].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: Option<u16>,
    /// Largest decompressed size of one object; larger ones are reported, not read.
    #[arg(long, value_name = "BYTES", default_value_t = ctlake_ingest::DEFAULT_MAX_OBJECT_BYTES)]
    pub max_object_bytes: u64,
    /// Do not show progress or the summary (the exit status still tells).
    #[arg(long, short)]
    pub quiet: bool,
    // Flattened last: their help headings apply to the arguments after them.
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub s3: S3Args,
}

/// Which part of a trail archive to read. Only the matching
/// `AWSLogs/.../<account>/CloudTrail/<region>/YYYY/MM/DD/` folders are listed.
#[derive(Debug, Args)]
#[command(next_help_heading = "Selection (trail layout)")]
pub struct SelectionArgs {
    /// Account ids to read (repeat or separate with commas) [default: all].
    #[arg(long = "account", value_name = "ID", value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// Trail regions to read, e.g. us-east-1 (repeat or separate with commas) [default: all].
    #[arg(long = "region", value_name = "REGION", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// First day to read: a date (2024-03-10) or an RFC 3339 time, UTC.
    #[arg(long, value_name = "DATE|TIME")]
    pub start: Option<String>,
    /// Last day to read: a date or an RFC 3339 time, UTC. The next day's folder is read
    /// too, because CloudTrail files events by delivery time.
    #[arg(long, value_name = "DATE|TIME")]
    pub end: Option<String>,
}

/// What queries may use of the machine.
#[derive(Debug, Args, Clone)]
pub struct EngineArgs {
    /// Memory that sorts, group-bys and joins may hold at once: 4GiB, 512MiB (powers of
    /// 1024), or 4GB (powers of 1000). Sorts and group-bys spill to temporary files (in
    /// TMPDIR) beyond it; an operator that cannot spill fails with "Resources exhausted"
    /// [env: CTLAKE_MEMORY_LIMIT] [default: unbounded].
    #[arg(long, value_name = "SIZE", value_parser = memory_size)]
    pub memory_limit: Option<u64>,
}

impl EngineArgs {
    /// The limits asked for, by `--memory-limit` or else `CTLAKE_MEMORY_LIMIT`;
    /// an empty variable, as `CTLAKE_MEMORY_LIMIT=${X:-}` leaves it, is unset.
    pub fn resources(&self) -> Result<ctlake_query::Resources, String> {
        let from_env = || match std::env::var("CTLAKE_MEMORY_LIMIT") {
            Ok(text) if !text.trim().is_empty() => memory_size(&text)
                .map(Some)
                .map_err(|e| format!("CTLAKE_MEMORY_LIMIT: {e}")),
            _ => Ok(None),
        };
        let limit = match self.memory_limit {
            Some(bytes) => Some(bytes),
            None => from_env()?,
        };
        Ok(ctlake_query::Resources {
            memory_limit: limit.map(|bytes| usize::try_from(bytes).unwrap_or(usize::MAX)),
        })
    }
}

fn memory_size(text: &str) -> Result<u64, String> {
    let size: bytesize::ByteSize = text.trim().parse()?;
    if size.as_u64() < MIN_MEMORY_LIMIT {
        return Err(format!(
            "{text} is below the least a query can run in ({})",
            bytesize::ByteSize::b(MIN_MEMORY_LIMIT).display().iec()
        ));
    }
    Ok(size.as_u64())
}

/// Below this, DataFusion's fixed reservations (each sort keeps 10 MiB for
/// its merge, and a hunt may run several sorts side by side) fail bundled
/// hunts even over the 476 events of the sample logs; at 32 MiB some did.
const MIN_MEMORY_LIMIT: u64 = 64 << 20;

/// How to reach S3; credentials come from the AWS SDK's default chain.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "S3")]
pub struct S3Args {
    /// Named profile from ~/.aws/config and ~/.aws/credentials [env: AWS_PROFILE].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Region of the S3 bucket [default: AWS_REGION, the profile's region, us-east-1].
    /// (`--region` selects trail regions when ingesting.)
    #[arg(long, value_name = "REGION")]
    pub bucket_region: Option<String>,
    /// Endpoint of an S3-compatible store, e.g. http://127.0.0.1:9000
    /// [env: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Send unsigned requests, for public buckets.
    #[arg(long)]
    pub no_sign_request: bool,
    /// Retries of a failed S3 request (5xx, SlowDown, resets) before it is reported.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub retries: usize,
}

impl S3Args {
    pub fn options(&self) -> ctlake_ingest::S3Options {
        ctlake_ingest::S3Options {
            profile: self.profile.clone(),
            region: self.bucket_region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            no_sign_request: self.no_sign_request,
            retries: self.retries,
        }
    }
}

#[derive(Debug, Args)]
pub struct LakeArg {
    /// A lake (folder or s3://bucket/prefix); `sql` and `query` also take a raw archive,
    /// ingested into a cached lake first [env: CTLAKE_LAKE].
    #[arg(long, value_name = "PATH", conflicts_with = "path")]
    pub lake: Option<String>,
    /// Same as --lake.
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
}

impl LakeArg {
    /// The location given, from the argument or `CTLAKE_LAKE`.
    pub fn location(&self) -> Option<String> {
        self.lake
            .clone()
            .or_else(|| self.path.clone())
            .or_else(|| std::env::var("CTLAKE_LAKE").ok())
    }
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// Output format of results.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Let statements change the lake (INSERT, UPDATE, DELETE, DROP, COPY TO or CREATE
    /// EXTERNAL TABLE inside it). Off by default: the lake is evidence.
    #[arg(long)]
    pub allow_write: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub s3: S3Args,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("sql").required(true).args(["execute", "file"]))]
pub struct QueryArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// SQL to run (one or more statements separated by `;`).
    // SQL may open with a `--` comment or a negative number.
    #[arg(long, short = 'e', value_name = "SQL", allow_hyphen_values = true)]
    pub execute: Option<String>,
    /// File of SQL to run.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Output format of results.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Let statements change the lake (INSERT, UPDATE, DELETE, DROP, COPY TO or CREATE
    /// EXTERNAL TABLE inside it). Off by default: the lake is evidence.
    #[arg(long)]
    pub allow_write: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub s3: S3Args,
}
