//! `ctlake`: offline forensic query engine for AWS CloudTrail archives.

mod args;
mod command;
mod embedded;
mod exec;
mod helper;
mod print_format;
mod progress;
mod repl;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::args::{Cli, Command, IngestArgs, LakeArg, QueryArgs, SqlArgs};
use crate::progress::Bar;

/// The exit status contract scripts rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitStatus {
    /// Everything asked for was done.
    Success = 0,
    /// `ingest`: the lake was written, but some objects failed or records were
    /// rejected; the report lists each.
    Partial = 1,
    /// Nothing useful was done: bad arguments, unreadable lake, SQL error.
    Error = 2,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(status) => status.into(),
        Err(e) if is_broken_pipe(&e) => ExitStatus::Success.into(),
        Err(e) => {
            eprintln!("ctlake: {e:#}");
            ExitStatus::Error.into()
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.to_string().contains("Broken pipe")
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Ingest(args) => run_ingest(&args),
        Command::Sql(args) => runtime()?.block_on(run_sql(args)),
        Command::Query(args) => runtime()?.block_on(run_query(args)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run_ingest(args: &IngestArgs) -> anyhow::Result<ExitStatus> {
    let mut options = ctlake_ingest::IngestOptions::new(args.inputs.clone(), args.lake.clone());
    if let Some(jobs) = args.jobs {
        options.jobs = usize::from(jobs);
    }
    options.max_object_bytes = args.max_object_bytes;
    let bar = Bar::new(args.quiet);
    let report = ctlake_ingest::ingest(&options, &bar)
        .with_context(|| format!("ingest into {}", args.lake.display()))?;
    bar.finish();
    if !args.quiet {
        eprint!("{report}");
    }
    Ok(if report.is_clean() {
        ExitStatus::Success
    } else {
        ExitStatus::Partial
    })
}

fn open(lake: &LakeArg) -> anyhow::Result<datafusion::execution::context::SessionContext> {
    let path = lake
        .path()
        .context("no lake given: pass --lake PATH (a lake or an archive) or set CTLAKE_LAKE")?;
    let root = embedded::resolve(&path)?;
    Ok(ctlake_query::open_lake(&root)?)
}

async fn run_sql(args: SqlArgs) -> anyhow::Result<ExitStatus> {
    let ctx = open(&args.lake)?;
    repl::run(&ctx, args.format).await?;
    Ok(ExitStatus::Success)
}

async fn run_query(args: QueryArgs) -> anyhow::Result<ExitStatus> {
    let sql = match (&args.execute, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(file)) => {
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
        }
        (None, None) => unreachable!("clap requires -e or -f"),
    };
    let ctx = open(&args.lake)?;
    let mut stdout = std::io::stdout().lock();
    exec::exec_and_print(&ctx, &sql, args.format, &mut stdout).await?;
    stdout.flush()?;
    Ok(ExitStatus::Success)
}
