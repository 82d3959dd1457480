//! `ctlake-bench`: the benchmark tools behind `benches/side_by_side.py`.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "Benchmark tools for ctlake")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes a seeded synthetic CloudTrail archive in trail layout. The same
    /// arguments write the same archive on any machine.
    Generate {
        /// Folder to write into (gets an `AWSLogs/` folder).
        #[arg(long)]
        out: PathBuf,
        /// Uncompressed JSON to write, in MiB.
        #[arg(long, default_value_t = 1024)]
        mib: u64,
        /// Seed of every random choice.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Accounts.
        #[arg(long, default_value_t = 6)]
        accounts: usize,
        /// Days, from 2024-03-01.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Minutes between two deliveries of one account and region.
        #[arg(long, default_value_t = 5)]
        interval_minutes: u32,
        /// Threads [default: one per core].
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Ingests an archive into a lake with the library, as `ctlake ingest`
    /// does, and prints the run's totals as JSON. Builds without the query
    /// engine, which makes profiling ingest changes quick.
    Ingest {
        /// Archive folder.
        archive: PathBuf,
        /// Lake folder.
        lake: PathBuf,
        /// Decode workers [default: one per core].
        #[arg(long, short)]
        jobs: Option<usize>,
    },
    /// Inflates every `.json.gz` under a folder, no parsing, and prints the
    /// totals as JSON: the decompression floor.
    Inflate {
        /// Archive folder.
        root: PathBuf,
        /// Threads [default: one per core].
        #[arg(long)]
        threads: Option<usize>,
        /// Also hash each object's text with BLAKE3 and compress it with
        /// zstd level 1 in 1 MiB pages: about the least an ingest writing
        /// ctlake's lake, which keeps every record verbatim and hashed,
        /// can cost.
        #[arg(long)]
        keep_verbatim: bool,
    },
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn main() -> std::io::Result<()> {
    match Args::parse().command {
        Command::Generate {
            out,
            mib,
            seed,
            accounts,
            days,
            interval_minutes,
            threads,
        } => {
            let spec = ctlake_bench::Spec {
                seed,
                json_bytes: mib << 20,
                accounts,
                days,
                interval_minutes,
                ..ctlake_bench::Spec::default()
            };
            let started = Instant::now();
            let summary = ctlake_bench::generate(&spec, &out, threads.unwrap_or_else(cores))?;
            println!(
                "{} objects, {} events, {} JSON bytes, {} gzip bytes in {:.1} s",
                summary.files,
                summary.events,
                summary.json_bytes,
                summary.gzip_bytes,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Ingest {
            archive,
            lake,
            jobs,
        } => {
            let mut options = ctlake_ingest::IngestOptions::new(vec![archive.into()], lake.into());
            options.jobs = jobs.unwrap_or_else(cores);
            let runtime = tokio::runtime::Runtime::new()?;
            let started = Instant::now();
            let report = runtime
                .block_on(ctlake_ingest::ingest(
                    &options,
                    std::sync::Arc::new(ctlake_ingest::NoProgress),
                ))
                .map_err(std::io::Error::other)?;
            println!(
                "{}",
                serde_json::json!({
                    "seconds": started.elapsed().as_secs_f64(),
                    "events_written": report.events_written,
                    "files": report.files.len(),
                    "bytes_written": report.bytes_written,
                    "peak_memory_bytes": report.peak_memory_bytes,
                })
            );
        }
        Command::Inflate {
            root,
            threads,
            keep_verbatim,
        } => {
            let work = if keep_verbatim {
                ctlake_bench::inflate::Work::KeepVerbatim
            } else {
                ctlake_bench::inflate::Work::Inflate
            };
            let inflated =
                ctlake_bench::inflate::inflate_all(&root, threads.unwrap_or_else(cores), work)?;
            println!(
                "{}",
                serde_json::to_string(&inflated).expect("serialisable")
            );
        }
    }
    Ok(())
}
