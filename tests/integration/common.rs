//! Shared helpers: the ctlake binary, temporary lakes, reading rows back.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::RecordBatch;
use serde_json::Value;

/// The repository root.
/// Events in `sample-logs/`: the CloudTrail Lake sample trail of
/// 111122223333 and its organisation member (23) and the hunt scenarios of
/// the incident account 123456789012 (453).
pub const SAMPLE_EVENTS: u64 = 476;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/corpora` beside the repository, when present.
pub fn corpora() -> Option<PathBuf> {
    let dir = repo().join("../shared/corpora");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: ../shared/corpora is absent (conformance corpora are only beside the repository)"
        );
        None
    }
}

/// The ctlake binary with `args`, isolated from the user's cache and history.
pub fn command(args: &[&str], scratch: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ctlake"));
    command
        .args(args)
        .env("CTLAKE_CACHE_DIR", scratch.join("cache"))
        .env("CTLAKE_HISTORY", scratch.join("history"))
        .env_remove("CTLAKE_LAKE");
    command
}

/// Runs the ctlake binary with `args`, isolated from the user's cache and history.
pub fn ctlake(args: &[&str], scratch: &Path) -> Output {
    command(args, scratch).output().expect("ctlake runs")
}

/// Ingests `inputs` into a new lake under `dir` with the library.
pub fn ingest(inputs: &[PathBuf], dir: &Path) -> (PathBuf, ctlake_ingest::IngestReport) {
    ingest_with(inputs, dir, |_| {})
}

/// [`ingest`], with the default options changed by `adjust` first.
pub fn ingest_with(
    inputs: &[PathBuf],
    dir: &Path,
    adjust: impl FnOnce(&mut ctlake_ingest::IngestOptions),
) -> (PathBuf, ctlake_ingest::IngestReport) {
    let lake = dir.join("lake");
    let mut options = ctlake_ingest::IngestOptions::new(
        inputs.iter().cloned().map(Into::into).collect(),
        lake.clone().into(),
    );
    adjust(&mut options);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt
        .block_on(ctlake_ingest::ingest(
            &options,
            std::sync::Arc::new(ctlake_ingest::NoProgress),
        ))
        .expect("ingest runs");
    (lake, report)
}

/// Runs `sql` over the lake and returns the batches.
pub fn query(lake: &Path, sql: &str) -> Vec<RecordBatch> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let ctx = ctlake_query::open_lake(lake).expect("lake opens");
        ctlake_query::sql(&ctx, sql)
            .await
            .expect("plans")
            .collect()
            .await
            .expect("runs")
    })
}

/// Rows as JSON objects (NULL columns left out), as arrow-json writes them.
pub fn rows_as_json(batches: &[RecordBatch]) -> Vec<serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    let mut writer = arrow::json::LineDelimitedWriter::new(&mut out);
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.finish().unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| match serde_json::from_str(l).unwrap() {
            Value::Object(m) => m,
            other => panic!("row is not an object: {other}"),
        })
        .collect()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    ctlake_ingest::hex(bytes)
}

/// Writes `data` gzip-compressed to `path`.
pub fn write_gz(path: &Path, data: &[u8]) {
    use std::io::Write;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    std::fs::write(path, e.finish().unwrap()).unwrap();
}

/// `ctlake ingest ARCHIVE --lake LAKE` with `extra` arguments, to run.
pub fn ingest_command(archive: &Path, lake: &Path, scratch: &Path, extra: &[&str]) -> Command {
    let mut args = vec![
        "ingest",
        archive.to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    command(&args, scratch)
}

/// Runs `ctlake ingest ARCHIVE --lake LAKE` with `extra` arguments.
pub fn ingest_cli(archive: &Path, lake: &Path, scratch: &Path, extra: &[&str]) -> Output {
    ingest_command(archive, lake, scratch, extra)
        .output()
        .expect("ctlake runs")
}

/// The report of the lake's latest committed run.
pub fn newest_report(lake: &Path) -> Value {
    let newest = std::fs::read_dir(lake.join("_ctlake/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .max()
        .unwrap();
    serde_json::from_str(&std::fs::read_to_string(newest).unwrap()).unwrap()
}

/// `ctlake status --format json` of the lake; it must exit 0 (books balance).
pub fn status(lake: &Path, scratch: &Path) -> Value {
    status_exiting(lake, scratch, 0)
}

/// `ctlake status --format json` of the lake, which must exit with `code`.
pub fn status_exiting(lake: &Path, scratch: &Path, code: i32) -> Value {
    let out = ctlake(
        &[
            "status",
            "--lake",
            lake.to_str().unwrap(),
            "--format",
            "json",
        ],
        scratch,
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Copies the folder `from` to `to`, files and sub-folders.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Asserts the process exited with `code`, showing its stderr if not.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
