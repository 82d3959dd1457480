//! `ctlake status`: what a lake holds and whether its books balance.

use std::io::Write;

use anyhow::Context;
use arrow::array::RecordBatch;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::args::StatusFormat;

/// Totals the lake's tables must agree on: rows stored, copies and rejects
/// counted by the manifests versus the rows the tables hold.
const BOOKS: &str = "
SELECT
  (SELECT count(DISTINCT location) FROM objects) AS objects,
  (SELECT count(*) FROM objects) AS object_reads,
  (SELECT count(*) FROM objects o WHERE error IS NOT NULL AND NOT EXISTS
     (SELECT 1 FROM objects n WHERE n.location = o.location AND n.run > o.run)) AS objects_failed,
  (SELECT coalesce(sum(records), 0) FROM objects) AS records_read,
  (SELECT coalesce(sum(written), 0) FROM objects) AS written,
  (SELECT coalesce(sum(duplicates), 0) FROM objects) AS duplicates,
  (SELECT coalesce(sum(rejected), 0) FROM objects) AS rejected,
  (SELECT count(*) FROM cloudtrail) AS events,
  (SELECT count(*) FROM duplicates) AS duplicate_rows,
  (SELECT count(*) FROM rejected WHERE scope = 'record') AS rejected_record_rows,
  (SELECT count(*) FROM rejected WHERE scope = 'object') AS rejected_object_rows,
  (SELECT count(*) FROM conflicts) AS conflict_rows,
  (SELECT count(DISTINCT eventid) FROM conflicts) AS conflict_eventids";

const OBJECT_KINDS: &str = "
SELECT kind, count(DISTINCT location) AS objects, sum(records) AS records
FROM objects GROUP BY kind ORDER BY kind";

const PARTITIONS: &str = "
SELECT account, region, count(*) AS events,
       min(eventtime) AS first_event, max(eventtime) AS last_event
FROM cloudtrail GROUP BY account, region ORDER BY account, region";

async fn rows(ctx: &SessionContext, sql: &str) -> anyhow::Result<Vec<Map<String, Value>>> {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await?.collect().await?;
    crate::print_format::json_rows(&batches)
}

fn count(row: &Map<String, Value>, key: &str) -> u64 {
    row.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Gathers the status of the lake open in `ctx` and prints it. Returns
/// whether the books balance and the lake's files are as its runs wrote them.
pub async fn run(
    ctx: &SessionContext,
    location: &ctlake_ingest::Location,
    format: StatusFormat,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let books = rows(ctx, BOOKS).await?.pop().context("no totals")?;
    let kinds = rows(ctx, OBJECT_KINDS).await?;
    let partitions = rows(ctx, PARTITIONS).await?;
    let runs = ctlake_query::lake_runs(ctx, location).await?;

    let mut problems = Vec::new();
    for (counted, stored, what) in [
        ("written", "events", "events stored"),
        ("duplicates", "duplicate_rows", "duplicate records"),
        ("rejected", "rejected_record_rows", "rejected records"),
    ] {
        if count(&books, counted) != count(&books, stored) {
            problems.push(format!(
                "manifests count {} {what} but the tables hold {}",
                count(&books, counted),
                count(&books, stored)
            ));
        }
    }
    let balanced = problems.is_empty();
    let files = ctlake_query::lake_files(ctx).await?;
    for path in &files.unwritten {
        problems.push(format!(
            "{path}: no ingest run wrote this file; queries do not read it"
        ));
    }
    for (path, run) in &files.missing {
        problems.push(format!("{path}: run {run} wrote this file and it is gone"));
    }
    for (path, written, now) in &files.resized {
        problems.push(format!(
            "{path}: its run wrote {written} bytes and it holds {now}: changed since; queries do not read it"
        ));
    }
    let mut sources: Vec<String> = runs
        .reports
        .iter()
        .flat_map(|r| r["inputs"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    sources.sort();
    sources.dedup();
    let last = runs.reports.last().map(|r| {
        json!({
            "run_id": r["run_id"],
            "objects_read": r["objects_read"],
            "records_read": r["records_read"],
            "events_written": r["events_written"],
            "duplicates": r["duplicates"],
            "records_rejected": r["records_rejected"],
            "failed_objects": r["failures"].as_array().map_or(0, Vec::len),
        })
    });
    let status = json!({
        "lake": location.to_string(),
        "sources": sources,
        "runs": runs.reports.len(),
        "uncommitted_runs": runs.uncommitted,
        "last_ingest": last,
        "totals": books,
        "objects_by_kind": kinds,
        "partitions": partitions,
        "balanced": balanced,
        "files": {
            "unwritten": files.unwritten,
            "missing": files.missing.iter().map(|(path, run)| json!({"path": path, "run_id": run})).collect::<Vec<_>>(),
            "resized": files.resized.iter().map(|(path, written, now)| json!({"path": path, "written_bytes": written, "bytes": now})).collect::<Vec<_>>(),
        },
        "problems": problems,
    });
    match format {
        StatusFormat::Json => writeln!(out, "{status:#}")?,
        StatusFormat::Table => write_text(&status, out)?,
    }
    Ok(problems.is_empty())
}

fn write_text(s: &Value, out: &mut impl Write) -> std::io::Result<()> {
    let n = |v: &Value, key: &str| v[key].as_u64().unwrap_or(0);
    let t = &s["totals"];
    writeln!(out, "lake: {}", s["lake"].as_str().unwrap_or_default())?;
    for source in s["sources"].as_array().into_iter().flatten() {
        writeln!(out, "  source: {}", source.as_str().unwrap_or_default())?;
    }
    writeln!(out, "runs: {} committed", n(s, "runs"))?;
    if let Some(last) = s["last_ingest"].as_object() {
        writeln!(
            out,
            "  last ingest: run {}: {} objects read, {} records = {} written + {} duplicates + {} rejected, {} objects failed",
            last["run_id"].as_str().unwrap_or_default(),
            last["objects_read"],
            last["records_read"],
            last["events_written"],
            last["duplicates"],
            last["records_rejected"],
            last["failed_objects"],
        )?;
    }
    for run in s["uncommitted_runs"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  uncommitted run {} (running now, or killed; hidden from queries, removed by the next ingest)",
            run.as_str().unwrap_or_default()
        )?;
    }
    let kinds = kinds_text(s);
    // An object read again (changed, or failed before) is one object.
    let reads = if n(t, "object_reads") > n(t, "objects") {
        format!(", read {} times in all", n(t, "object_reads"))
    } else {
        String::new()
    };
    writeln!(
        out,
        "objects: {} in the manifests{kinds}{reads}, {} failed when last tried",
        n(t, "objects"),
        n(t, "objects_failed")
    )?;
    writeln!(
        out,
        "records: {} read = {} stored + {} duplicates + {} rejected",
        n(t, "records_read"),
        n(t, "written"),
        n(t, "duplicates"),
        n(t, "rejected")
    )?;
    writeln!(
        out,
        "tables: cloudtrail {} rows, duplicates {}, rejected {} records + {} object reads",
        n(t, "events"),
        n(t, "duplicate_rows"),
        n(t, "rejected_record_rows"),
        n(t, "rejected_object_rows")
    )?;
    writeln!(
        out,
        "eventID conflicts: {} stored events share {} eventIDs with other content (SELECT * FROM conflicts)",
        n(t, "conflict_rows"),
        n(t, "conflict_eventids")
    )?;
    let partitions = s["partitions"].as_array().cloned().unwrap_or_default();
    if !partitions.is_empty() {
        writeln!(out, "events by account and region:")?;
        writeln!(
            out,
            "  {:<14} {:<16} {:>10}  {:<20}  {:<20}",
            "account", "region", "events", "first", "last"
        )?;
        for p in &partitions {
            writeln!(
                out,
                "  {:<14} {:<16} {:>10}  {:<20}  {:<20}",
                p["account"].as_str().unwrap_or_default(),
                p["region"].as_str().unwrap_or_default(),
                n(p, "events"),
                p["first_event"].as_str().unwrap_or_default(),
                p["last_event"].as_str().unwrap_or_default(),
            )?;
        }
    }
    if s["balanced"] == Value::Bool(true) {
        writeln!(
            out,
            "books balance: every record read is stored, a duplicate, or rejected"
        )?;
    }
    for problem in s["problems"].as_array().into_iter().flatten() {
        writeln!(out, "PROBLEM: {}", problem.as_str().unwrap_or_default())?;
    }
    Ok(())
}

/// The objects by kind, as " (1 digest, 52 log)", or nothing for none.
fn kinds_text(s: &Value) -> String {
    let kinds: Vec<String> = s["objects_by_kind"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            format!(
                "{} {}",
                k["objects"].as_u64().unwrap_or(0),
                k["kind"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if kinds.is_empty() {
        String::new()
    } else {
        format!(" ({})", kinds.join(", "))
    }
}
