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
    /// report); 2 nothing could be done (bad arguments, lake not writable).
    Ingest(IngestArgs),
    /// Interactive SQL over a lake (table `cloudtrail`).
    Sql(SqlArgs),
    /// Run SQL over a lake and print the results, for scripts.
    ///
    /// Results go to stdout, diagnostics to stderr. Exit status: 0 success,
    /// 2 error.
    Query(QueryArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or folders to read: trail archives (`AWSLogs/...`) or any folder of .json.gz / .json files.
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// The lake folder to write (created if absent; must be empty or a lake).
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    /// Worker threads for decompression and parsing [default: one per core].
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Largest decompressed size of one object; larger ones are reported, not read.
    #[arg(long, value_name = "BYTES", default_value_t = ctlake_ingest::DEFAULT_MAX_OBJECT_BYTES)]
    pub max_object_bytes: u64,
    /// Do not show progress or the summary (the exit status still tells).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct LakeArg {
    /// A lake, or a raw archive to ingest into a cached lake first [env: CTLAKE_LAKE].
    #[arg(long, value_name = "PATH", conflicts_with = "path")]
    pub lake: Option<PathBuf>,
    /// Same as --lake.
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

impl LakeArg {
    /// The path given, from the argument or `CTLAKE_LAKE`.
    pub fn path(&self) -> Option<PathBuf> {
        self.lake
            .clone()
            .or_else(|| self.path.clone())
            .or_else(|| std::env::var_os("CTLAKE_LAKE").map(PathBuf::from))
    }
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// Output format of results.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("sql").required(true).args(["execute", "file"]))]
pub struct QueryArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// SQL to run (one or more statements separated by `;`).
    #[arg(long, short = 'e', value_name = "SQL")]
    pub execute: Option<String>,
    /// File of SQL to run.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Output format of results.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
