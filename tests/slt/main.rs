//! sqllogictest runner: every `tests/slt/**/*.slt` file runs against a lake
//! ingested from the CloudTrail Lake sample trail in `sample-logs/` (accounts
//! 111122223333 and its organisation member 444455556666; the hunt scenarios
//! of 123456789012 are left out). Ends with a plain `N passed, N failed` line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::context::SessionContext;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

struct Lake {
    ctx: SessionContext,
}

#[derive(Debug)]
struct Failure(String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

fn cells(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, Failure> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Failure(e.to_string()))?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| {
                        let text = f.value(row).to_string();
                        if text.is_empty() {
                            "(empty)".to_owned()
                        } else {
                            text
                        }
                    })
                    .collect(),
            );
        }
    }
    Ok(rows)
}

#[async_trait::async_trait]
impl AsyncDB for Lake {
    type Error = Failure;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, Failure> {
        let df = ctlake_query::sql(&self.ctx, sql)
            .await
            .map_err(|e| Failure(e.to_string()))?;
        let width = df.schema().fields().len();
        let batches = df.collect().await.map_err(|e| Failure(e.to_string()))?;
        let rows = cells(&batches)?;
        if sql
            .trim_start()
            .to_lowercase()
            .starts_with("explain analyze")
        {
            return Ok(DBOutput::Rows {
                types: vec![DefaultColumnType::Any; 2],
                rows: scan_pruning(&rows),
            });
        }
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; width],
            rows,
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &'static str {
        "ctlake"
    }
}

/// What `EXPLAIN ANALYZE` says about pruning, without its timings and
/// paths: the Parquet scan's predicate and its pruning counts, one
/// `(name, value)` row each, so slt files can pin how much a filter skips.
fn scan_pruning(plan: &[Vec<String>]) -> Vec<Vec<String>> {
    const SHOWN: &[&str] = &[
        "files_ranges_pruned_statistics",
        "row_groups_pruned_statistics",
        "row_groups_pruned_bloom_filter",
        "page_index_rows_pruned",
        "pushdown_rows_pruned",
        "output_rows",
    ];
    let mut out = Vec::new();
    for line in plan.iter().flatten().flat_map(|cell| cell.lines()) {
        let Some(scan) = line.trim().strip_prefix("DataSourceExec: ") else {
            continue;
        };
        if let Some(predicate) = scan
            .split(", predicate=")
            .nth(1)
            .and_then(|p| p.split(", pruning_predicate=").next())
        {
            out.push(vec!["predicate".to_owned(), predicate.to_owned()]);
        }
        let metrics = scan
            .split("metrics=[")
            .nth(1)
            .and_then(|m| m.strip_suffix(']'))
            .unwrap_or_default();
        for metric in metrics.split(", ") {
            if let Some((name, value)) = metric.split_once('=')
                && SHOWN.contains(&name)
            {
                out.push(vec![name.to_owned(), value.to_owned()]);
            }
        }
    }
    out
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("tests/slt is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

fn main() -> ExitCode {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("temp dir");
    let lake = scratch.path().join("lake");
    let mut options = ctlake_ingest::IngestOptions::new(
        vec![repo.join("sample-logs").into()],
        lake.clone().into(),
    );
    options.selection.accounts = vec!["111122223333".to_owned(), "444455556666".to_owned()];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt
        .block_on(ctlake_ingest::ingest(
            &options,
            std::sync::Arc::new(ctlake_ingest::NoProgress),
        ))
        .expect("sample-logs ingest");
    assert!(report.is_clean(), "sample-logs ingest cleanly:\n{report}");

    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let mut files = Vec::new();
    slt_files(&repo.join("tests/slt"), &mut files);
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for file in files.iter().filter(|f| {
        filter
            .as_ref()
            .is_none_or(|p| f.to_string_lossy().contains(p.as_str()))
    }) {
        let name = file
            .strip_prefix(&repo)
            .unwrap_or(file)
            .display()
            .to_string();
        let lake = lake.clone();
        let mut runner = sqllogictest::Runner::new(move || {
            let lake = lake.clone();
            async move {
                Ok(Lake {
                    ctx: ctlake_query::open_lake(&lake).map_err(|e| Failure(e.to_string()))?,
                })
            }
        });
        match rt.block_on(runner.run_file_async(file)) {
            Ok(()) => {
                println!("ok     {name}");
                passed += 1;
            }
            Err(e) => {
                println!("FAILED {name}\n{e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
