//! What an ingest run did: every object and every record accounted for.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use ctlake_schema::{META_DIR, REPORT_SUFFIX, RUNS_DIR};
use serde::Serialize;

use crate::source::ObjectKind;
use crate::writer::{Conflict, WrittenFile};

/// An object that could not be read completely.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectFailure {
    /// Where the object is.
    pub location: String,
    /// What went wrong, naming the object.
    pub reason: String,
    /// Records read from it before the failure (and written or rejected).
    pub records_recovered: u64,
}

/// An object listed but not read, as its name or folder says it holds no
/// CloudTrail events.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedObject {
    /// Where the object is.
    pub location: String,
    /// Why it was not read.
    pub reason: &'static str,
}

/// A record that did not become a row. Its text is in the `rejected` table.
#[derive(Debug, Clone, Serialize)]
pub struct RecordRejection {
    /// Where the object is.
    pub location: String,
    /// Index in the object's `Records` array.
    pub index: u64,
    /// Why it was rejected.
    pub reason: String,
}

/// The outcome of one ingest run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Identifier of the run; also part of every file name it wrote.
    pub run_id: String,
    /// The archives read, as given.
    pub inputs: Vec<String>,
    /// Objects listed under the inputs, with entries that could not be
    /// read (a dangling link: one of the `failures`): the listed are the
    /// read, digests, skipped, not selected, unchanged and failed.
    pub objects_listed: u64,
    /// Log and Insight objects read to the end.
    pub objects_read: u64,
    /// Of those read, CloudTrail-Insight objects.
    pub insight_objects: u64,
    /// CloudTrail-Digest objects: kept in the `digests` table for `ctlake
    /// verify`, not parsed as events.
    pub digest_objects: u64,
    /// Objects skipped by key: not `.json`/`.json.gz`, or another service's folder.
    pub objects_skipped: u64,
    /// The first thousand of them, named, with why.
    pub skipped: Vec<SkippedObject>,
    /// Objects listed but outside the selection (`--account`, `--region`, `--start`, `--end`).
    pub objects_excluded: u64,
    /// Objects an earlier run already read, unchanged since (same ETag, or
    /// same size and modification time): not read again.
    pub objects_unchanged: u64,
    /// Files of interrupted runs removed before this one started.
    pub uncommitted_files_removed: u64,
    /// Archives where a selection was given but no `AWSLogs/` layout was found.
    pub no_layout: Vec<String>,
    /// Archives where nothing listed matches the selection.
    pub nothing_selected: Vec<String>,
    /// Archives that hold no CloudTrail log or Insight file at all: a
    /// mistyped path, or a copy that lost its logs.
    pub no_logs: Vec<String>,
    /// Archives that hold CloudTrail digest files and no log file: digests
    /// collected apart from their logs, kept for `ctlake verify`.
    pub digests_only: Vec<String>,
    /// Why the run stopped early, when it did (refused credentials, missing bucket).
    pub aborted: Option<String>,
    /// Records found in `Records` arrays.
    pub records_read: u64,
    /// Rows written to the lake.
    pub events_written: u64,
    /// Records that were copies of events already in the lake (same eventID,
    /// recipientAccountId and content): recorded in the `duplicates` table
    /// instead of stored twice.
    pub duplicates: u64,
    /// Records whose eventID and recipientAccountId met a stored event with
    /// other content: stored, and listed here.
    pub conflicts: Vec<Conflict>,
    /// Member paths outside ctlake's columns (kept in `extra`), with how many
    /// records had each: new fields of a new event version show up here.
    pub new_fields: BTreeMap<String, u64>,
    /// Member paths given twice in one record, with how many records did:
    /// the column holds the last value, `extra` the earlier.
    pub repeated_keys: BTreeMap<String, u64>,
    /// Records that could not become rows (see `rejections`).
    pub records_rejected: u64,
    /// Bytes read from the source, as stored (compressed).
    pub bytes_read: u64,
    /// Bytes after decompression.
    pub bytes_decompressed: u64,
    /// Bytes of Parquet written.
    pub bytes_written: u64,
    /// Parquet files published.
    pub files: Vec<WrittenFile>,
    /// Files of the `duplicates` and `rejected` tables published.
    pub side_files: Vec<WrittenFile>,
    /// Objects that failed, with the reason.
    pub failures: Vec<ObjectFailure>,
    /// Records that were rejected, with the reason.
    pub rejections: Vec<RecordRejection>,
    /// Peak resident memory of the process by the end of the run, in bytes
    /// (Linux `VmHWM`; absent elsewhere).
    pub peak_memory_bytes: Option<u64>,
    /// Wall time of the run.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl IngestReport {
    /// Whether no input held a CloudTrail log file, so the run could not
    /// have done anything useful.
    pub fn found_no_logs(&self) -> bool {
        !self.inputs.is_empty() && self.no_logs.len() == self.inputs.len()
    }

    /// Whether everything listed was read and every record written.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.rejections.is_empty() && self.aborted.is_none()
    }

    pub(crate) fn count_kind(&mut self, kind: ObjectKind) {
        match kind {
            ObjectKind::Digest => self.digest_objects += 1,
            ObjectKind::OtherService | ObjectKind::NotJson => self.objects_skipped += 1,
            ObjectKind::Insight | ObjectKind::Log => {}
        }
    }
}

/// How many failures and rejections the summary lists before "and N more".
const LISTED: usize = 20;

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "ingest run {}", self.run_id)?;
        writeln!(
            f,
            "  objects: {} listed, {} read ({} insight), {} digest, {} skipped, {} not selected, {} already in the lake, {} failed",
            self.objects_listed,
            self.objects_read,
            self.insight_objects,
            self.digest_objects,
            self.objects_skipped,
            self.objects_excluded,
            self.objects_unchanged,
            self.failures.len()
        )?;
        if self.uncommitted_files_removed > 0 {
            writeln!(
                f,
                "  removed {} files left by an interrupted run",
                self.uncommitted_files_removed
            )?;
        }
        for archive in &self.no_layout {
            writeln!(
                f,
                "  warning: {archive}: no AWSLogs/ folder found, so --account/--region/--start/--end selected nothing there"
            )?;
        }
        for archive in &self.nothing_selected {
            writeln!(
                f,
                "  warning: {archive}: nothing there matches --account/--region/--start/--end"
            )?;
        }
        for archive in &self.no_logs {
            writeln!(f, "  warning: {archive}: holds no CloudTrail log file")?;
        }
        for archive in &self.digests_only {
            writeln!(
                f,
                "  note: {archive}: holds digest files only (kept for `ctlake verify`), no log file"
            )?;
        }
        if let Some(reason) = &self.aborted {
            writeln!(f, "  STOPPED EARLY: {reason}")?;
        }
        writeln!(
            f,
            "  records: {} read = {} written + {} duplicates + {} rejected",
            self.records_read, self.events_written, self.duplicates, self.records_rejected
        )?;
        self.fmt_findings(f)?;
        writeln!(
            f,
            "  bytes:   {} in ({} decompressed), {} out in {} Parquet files",
            human(self.bytes_read),
            human(self.bytes_decompressed),
            human(self.bytes_written),
            self.files.len()
        )?;
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            writeln!(
                f,
                "  time:    {secs:.2} s, {:.0} events/s{}",
                self.records_read as f64 / secs,
                self.peak_memory_bytes
                    .map(|b| format!(", peak memory {}", human(b)))
                    .unwrap_or_default()
            )?;
        }
        self.fmt_failures(f)?;
        self.fmt_skipped(f)?;
        if !self.conflicts.is_empty() {
            writeln!(f, "eventID conflicts:")?;
            for c in self.conflicts.iter().take(LISTED) {
                writeln!(
                    f,
                    "  {} (account {}): {}#{}",
                    c.eventid,
                    c.recipientaccountid.as_deref().unwrap_or("none"),
                    c.location,
                    c.index
                )?;
            }
            self.fmt_more(f, self.conflicts.len(), "the conflicts view")?;
        }
        if !self.rejections.is_empty() {
            writeln!(f, "rejected records (kept in the rejected table):")?;
            for r in self.rejections.iter().take(LISTED) {
                writeln!(f, "  {}#{}: {}", r.location, r.index, r.reason)?;
            }
            self.fmt_more(f, self.rejections.len(), "the rejected table")?;
        }
        Ok(())
    }
}

impl IngestReport {
    /// Where to find the rest of a list cut at [`LISTED`].
    /// The objects that failed, and how many of their records were kept.
    fn fmt_failures(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.failures.is_empty() {
            return Ok(());
        }
        writeln!(f, "failed objects:")?;
        for failure in self.failures.iter().take(LISTED) {
            let kept = if failure.records_recovered > 0 {
                format!(
                    " ({} records before the failure were kept)",
                    failure.records_recovered
                )
            } else {
                String::new()
            };
            writeln!(f, "  {}{kept}", failure.reason)?;
        }
        self.fmt_more(f, self.failures.len(), "the objects table")
    }

    /// The objects not read because they hold no CloudTrail events.
    fn fmt_skipped(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.skipped.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "skipped objects (not read: no CloudTrail events by name or folder):"
        )?;
        for skipped in self.skipped.iter().take(LISTED) {
            writeln!(f, "  {}: {}", skipped.location, skipped.reason)?;
        }
        if self.objects_skipped > LISTED as u64 {
            writeln!(
                f,
                "  … and {} more: the first {} are in the lake's {META_DIR}/{RUNS_DIR}/{}{REPORT_SUFFIX}",
                self.objects_skipped - LISTED as u64,
                self.skipped.len(),
                self.run_id
            )?;
        }
        Ok(())
    }

    fn fmt_more(&self, f: &mut fmt::Formatter<'_>, count: usize, table: &str) -> fmt::Result {
        if count <= LISTED {
            return Ok(());
        }
        writeln!(
            f,
            "  … and {} more: all {count} are in {table} and in the lake's {META_DIR}/{RUNS_DIR}/{}{REPORT_SUFFIX}",
            count - LISTED,
            self.run_id
        )
    }

    /// The summary lines on conflicts, new fields and repeated keys, when there are any.
    fn fmt_findings(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.conflicts.is_empty() {
            writeln!(
                f,
                "  eventID conflicts: {} records share an eventID with a stored event of other content (all kept; see the conflicts view)",
                self.conflicts.len()
            )?;
        }
        counted(f, "new fields, kept in `extra`", &self.new_fields)?;
        counted(
            f,
            "keys given twice in a record (the column holds the last value, `extra` the earlier)",
            &self.repeated_keys,
        )?;
        Ok(())
    }
}

/// A summary line of member paths with their counts, when there are any.
fn counted(f: &mut fmt::Formatter<'_>, label: &str, paths: &BTreeMap<String, u64>) -> fmt::Result {
    if paths.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = paths
        .iter()
        .take(LISTED)
        .map(|(name, n)| format!("{name} ({n})"))
        .collect();
    let more = match paths.len().saturating_sub(LISTED) {
        0 => String::new(),
        more => format!(" and {more} more"),
    };
    writeln!(f, "  {label}: {}{more}", listed.join(", "))
}

/// The process's peak resident set size so far, from `/proc/self/status`.
pub(crate) fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Bytes in binary units, for people.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human(12), "12 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(3 << 30), "3.0 GiB");
    }
}
