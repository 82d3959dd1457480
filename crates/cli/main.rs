//! `ctlake`: offline forensic query engine for AWS CloudTrail archives.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// `eprintln!` for diagnostics that may outlive their reader
/// (`ctlake ingest … 2>&1 | grep -m1 …`): with nobody left to read them,
/// they are dropped rather than turning a finished run into a panic. The
/// exit status, and an ingest's run report in the lake, still tell the outcome.
/// Diagnostics quote the evidence (object keys, record values in errors),
/// so control characters in them are shown, not sent to the terminal.
macro_rules! diag {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stderr(), "{}", crate::print_format::visible_controls(&text));
    }};
}

mod args;
mod command;
mod embedded;
mod exec;
mod helper;
mod hunt;
mod print_format;
mod progress;
mod repl;
mod status;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use ctlake_ingest::Location;

use crate::args::{
    Cli, Command, EngineArgs, HuntArgs, IngestArgs, LakeArg, QueryArgs, S3Args, SqlArgs,
    StatusArgs, VerifyArgs,
};
use crate::progress::Bar;

/// The exit status contract scripts rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitStatus {
    /// Everything asked for was done.
    Success = 0,
    /// `ingest`: the lake was written, but some objects failed or records were
    /// rejected; the report lists each. `hunt`: there are findings. `status`:
    /// the books do not balance, or the lake's files are not as its runs wrote them.
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
            diag!("ctlake: {}", error_text(&e));
            ExitStatus::Error.into()
        }
    }
}

/// The error and its causes, leaving out causes whose text the message
/// already contains (ctlake's errors quote their source).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    if e.chain().any(exec::over_memory_limit) {
        text.push_str(exec::MEMORY_HINT);
    }
    for cause in e.chain() {
        // A configuration error's text is whole (ctlake's refusals of a path
        // that is not a lake travel as one); DataFusion's "Invalid or
        // Unsupported Configuration" heading only read as a fault of ctlake's.
        let cause = match cause.downcast_ref::<datafusion::error::DataFusionError>() {
            Some(datafusion::error::DataFusionError::Configuration(message)) => message.clone(),
            _ => cause.to_string(),
        };
        if !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(exec::is_broken_pipe)
}

fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Ingest(args) => runtime()?.block_on(run_ingest(&args)),
        Command::Sql(args) => runtime()?.block_on(run_sql(args)),
        Command::Query(args) => runtime()?.block_on(run_query(args)),
        Command::Status(args) => runtime()?.block_on(run_status(&args)),
        Command::Hunt(args) => runtime()?.block_on(run_hunt(&args)),
        Command::Verify(args) => runtime()?.block_on(run_verify(&args)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn run_ingest(args: &IngestArgs) -> anyhow::Result<ExitStatus> {
    let inputs = args
        .inputs
        .iter()
        .map(|i| Location::parse(i))
        .collect::<Result<Vec<_>, _>>()?;
    let lake = Location::parse(&args.lake)?;
    let mut options = ctlake_ingest::IngestOptions::new(inputs, lake);
    if let Some(jobs) = args.jobs {
        options.jobs = usize::from(jobs);
    }
    if let Some(concurrency) = args.concurrency {
        options.concurrency = usize::from(concurrency);
    }
    options.max_object_bytes = args.max_object_bytes;
    options.s3 = args.s3.options();
    options.selection = ctlake_ingest::Selection::default()
        .with_folders(&args.selection.accounts, &args.selection.regions)
        .map_err(anyhow::Error::msg)?
        .with_window(
            args.selection.start.as_deref(),
            args.selection.end.as_deref(),
        )
        .map_err(anyhow::Error::msg)?;
    let bar = Arc::new(Bar::new(args.quiet));
    let report = ctlake_ingest::ingest(&options, bar.clone())
        .await
        .with_context(|| format!("ingest into {}", args.lake))?;
    bar.finish();
    if !args.quiet {
        diag!("{}", report.to_string().trim_end());
    }
    if report.found_no_logs() {
        diag!(
            "ctlake: no CloudTrail log file in {}: nothing was ingested",
            report.inputs.join(", ")
        );
        return Ok(ExitStatus::Error);
    }
    Ok(if report.is_clean() {
        ExitStatus::Success
    } else {
        ExitStatus::Partial
    })
}

async fn open(
    lake: &LakeArg,
    engine: &EngineArgs,
    s3: &S3Args,
) -> anyhow::Result<(datafusion::execution::context::SessionContext, Location)> {
    let text = lake
        .location()
        .context("no lake given: pass --lake PATH (a lake or an archive) or set CTLAKE_LAKE")?;
    let options = s3.options();
    let location = embedded::resolve(&Location::parse(&text)?, &options).await?;
    let resources = engine.resources().map_err(anyhow::Error::msg)?;
    let ctx = ctlake_query::open_lake_at(&location, &options, resources).await?;
    warn_of_foreign_files(&ctx, &location).await?;
    Ok((ctx, location))
}

/// Queries read only the files the lake's runs wrote, as they wrote them.
/// When some are gone or changed, or others were put there, an answer may
/// lack events: say so before it, and where to look.
async fn warn_of_foreign_files(
    ctx: &datafusion::execution::context::SessionContext,
    location: &Location,
) -> anyhow::Result<()> {
    let files = ctlake_query::lake_files(ctx).await?;
    let counts = [
        (files.missing.len(), "written by its runs and gone"),
        (files.resized.len(), "changed since its runs wrote them"),
        (files.unwritten.len(), "that no run wrote"),
    ];
    let found: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {} {what}", if *n == 1 { "file" } else { "files" }))
        .collect();
    if !found.is_empty() {
        diag!(
            "warning: {location}: {}; queries read none of them (see `ctlake status --lake {location}`)",
            found.join(", ")
        );
    }
    Ok(())
}

/// Opens a lake that exists, and nothing else. `status` and `verify` audit
/// a lake: given an archive, an empty folder or a mistyped path, `open`
/// would ingest it into a cached lake that balances and verifies against
/// itself.
async fn open_existing(
    lake: &LakeArg,
    s3: &S3Args,
) -> anyhow::Result<(datafusion::execution::context::SessionContext, Location)> {
    let text = lake
        .location()
        .context("no lake given: pass --lake PATH or set CTLAKE_LAKE")?;
    let location = Location::parse(&text)?;
    let ctx =
        ctlake_query::open_lake_at(&location, &s3.options(), ctlake_query::Resources::default())
            .await?;
    Ok((ctx, location))
}

async fn run_status(args: &StatusArgs) -> anyhow::Result<ExitStatus> {
    let (ctx, location) = open_existing(&args.lake, &args.s3).await?;
    let mut stdout = print_format::stdout();
    let balanced = status::run(&ctx, &location, args.format, &mut stdout).await?;
    stdout.flush()?;
    Ok(if balanced {
        ExitStatus::Success
    } else {
        ExitStatus::Partial
    })
}

async fn run_verify(args: &VerifyArgs) -> anyhow::Result<ExitStatus> {
    let keys = ctlake_verify::PublicKeys::read(&args.public_keys)?;
    let (ctx, location) = open_existing(&args.lake, &args.s3).await?;
    let verification = ctlake_verify::verify(&ctx, &keys).await?;
    let mut stdout = print_format::stdout();
    print_format::print_batches(
        &mut stdout,
        &ctlake_verify::schema(),
        &[verification.to_batch(args.all)],
        args.format,
    )?;
    stdout.flush()?;
    let counts: Vec<String> = verification
        .counts()
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    if verification.digests() == 0 {
        diag!(
            "ctlake: {location} holds no CloudTrail digest file: nothing to verify against (ingest the archive's CloudTrail-Digest folders too)"
        );
        return Ok(ExitStatus::Partial);
    }
    diag!(
        "ctlake: {} checks: {}",
        verification.checks.len(),
        counts.join(", ")
    );
    if let Some(late) = verification.counts().get(&ctlake_verify::Status::Late) {
        diag!(
            "ctlake: warning: {late} log files were delivered hours after the newest digest of their account and region: the digests after it are gone, or validation was turned off (see the `late` rows)"
        );
    }
    if keys.is_empty() {
        diag!(
            "ctlake: no signature was checked (no --public-keys): digests were checked by hash and chain only, which whoever can rewrite the archive can rewrite too"
        );
    }
    Ok(if verification.is_clean() {
        ExitStatus::Success
    } else {
        ExitStatus::Partial
    })
}

async fn run_hunt(args: &HuntArgs) -> anyhow::Result<ExitStatus> {
    let catalogue = ctlake_hunt::Catalogue::load(&hunt::hunt_dirs(&args.hunt_dirs))?;
    let mut stdout = print_format::stdout();
    let hunts = catalogue.select(&args.selectors)?;
    if args.list {
        hunt::list(&hunts, args.format, &mut stdout)?;
        for problem in catalogue.problems() {
            diag!("ctlake: {problem}");
        }
        return Ok(if catalogue.problems().is_empty() {
            ExitStatus::Success
        } else {
            ExitStatus::Error
        });
    }
    let params = hunt::params(&args.params)?;
    for name in params.keys() {
        anyhow::ensure!(
            hunts.iter().any(|h| h.header.params.contains_key(name)),
            "--param {name}: none of the selected hunts has this parameter"
        );
    }
    let window = ctlake_hunt::Window::from_args(
        args.since.as_deref(),
        args.start.as_deref(),
        args.end.as_deref(),
        chrono::Utc::now(),
    )?;
    let lake = LakeArg {
        lake: args.lake.clone(),
        path: None,
    };
    let (ctx, _) = open(&lake, &args.engine, &args.s3).await?;
    let mut outcome = hunt::run(&ctx, &hunts, &window, &params).await;
    // A hunt file that could not be read is a hunt that did not run.
    outcome
        .errors
        .extend(catalogue.problems().iter().map(|p| (None, p.to_string())));
    let printed =
        hunt::print(&outcome, &window, args.format, &mut stdout).and_then(|()| Ok(stdout.flush()?));
    // A reader that stops early (`| head -1`) has seen findings: the exit
    // status must still say so, for scripts under `set -o pipefail`.
    if let Err(e) = printed
        && !is_broken_pipe(&e)
    {
        return Err(e);
    }
    for (_, error) in &outcome.errors {
        diag!("ctlake: {error}");
    }
    let findings: usize = outcome
        .findings
        .iter()
        .map(ctlake_hunt::Findings::len)
        .sum();
    let firing = outcome.findings.iter().filter(|f| !f.is_empty()).count();
    if findings == 0 {
        warn_if_nothing_looked_at(&ctx, &window).await;
    }
    diag!(
        "{} hunts run, {firing} with findings, {findings} findings, {} failed",
        hunts.len(),
        outcome.errors.len()
    );
    Ok(if !outcome.errors.is_empty() {
        ExitStatus::Error
    } else if findings > 0 {
        ExitStatus::Partial
    } else {
        ExitStatus::Success
    })
}

/// No findings over an empty window is not a clean bill: `--since 7d` over
/// an archive from last year looks at nothing.
async fn warn_if_nothing_looked_at(
    ctx: &datafusion::execution::context::SessionContext,
    window: &ctlake_hunt::Window,
) {
    let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    match ctlake_hunt::coverage(ctx, window).await {
        Ok(ctlake_hunt::Coverage::Events) => {}
        Ok(ctlake_hunt::Coverage::Outside(first, last)) => diag!(
            "warning: the lake holds no events from {} until before {}: the hunts looked at nothing (its events run from {} to {}; see --start/--end/--since)",
            day(window.start),
            day(window.end),
            day(first),
            day(last)
        ),
        Ok(ctlake_hunt::Coverage::EmptyLake) => {
            diag!("warning: the lake holds no events: the hunts looked at nothing");
        }
        Err(e) => diag!("warning: could not count the events in the hunt window: {e}"),
    }
}

async fn run_sql(args: SqlArgs) -> anyhow::Result<ExitStatus> {
    let (ctx, _) = open(&args.lake, &args.engine, &args.s3).await?;
    Ok(
        match repl::run(&ctx, args.format, args.allow_write).await? {
            repl::Ended::Finished => ExitStatus::Success,
            repl::Ended::Failed => ExitStatus::Error,
        },
    )
}

async fn run_query(args: QueryArgs) -> anyhow::Result<ExitStatus> {
    let sql = match (&args.execute, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(file)) => {
            let sql = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            exec::without_bom(&sql).to_owned()
        }
        (None, None) => unreachable!("clap requires -e or -f"),
    };
    let (ctx, _) = open(&args.lake, &args.engine, &args.s3).await?;
    let mut stdout = print_format::stdout();
    exec::exec_and_print(&ctx, &sql, args.format, args.allow_write, &mut stdout).await?;
    stdout.flush()?;
    Ok(ExitStatus::Success)
}
