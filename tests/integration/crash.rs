//! Kill-and-resume: ingest killed with SIGKILL at seeded points, then resumed.
//!
//! An investigator's ingest can die at any instant (the OOM killer,
//! `kill -9`, a CI job timing out). The lake's promise is that whatever was on disk at that
//! instant, the next ingest ends with exactly the lake an uninterrupted run
//! would have written: no event lost, none stored twice, every duplicate and
//! rejection still accounted for, and nothing uncommitted ever visible to a
//! query in between. Kills land at random (seeded) instants over the length
//! of a whole run, so they can land in lake creation, locking, cleanup,
//! decoding, publishing and the commit itself; a few more land the moment
//! the run's first files appear, so a clean-up of written but uncommitted
//! files is always among them. Set `CTLAKE_CRASH_SEED` to replay or explore
//! other kill schedules; the delays are reproducible, the instant the kernel
//! delivers the signal is not.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::common::{self, command, write_gz};

/// The kill schedule's seed unless `CTLAKE_CRASH_SEED` names another.
const SEED: u64 = 0x00c7_1a4e_5eed;
/// Kill points per test run: enough to land in every phase, few enough that
/// the test stays well under a minute in a debug build.
const KILL_POINTS: usize = 12;
/// Kill points that must land while a run was under way (start marker, no
/// report): without them the test would only prove that killing an idle
/// process is harmless.
const MIN_MID_RUN: usize = 3;
/// Runs killed the moment they have files of their own in the lake.
const DEBRIS_ATTEMPTS: usize = 2;

// Several accounts, regions and days, so events land in many partitions.
const ACCOUNTS: [&str; 2] = ["111122223333", "444455556666"];
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const DAYS: [u32; 3] = [10, 11, 12];
const FILES_PER_PARTITION: usize = 40;
const RECORDS_PER_FILE: usize = 50;
/// Whole files delivered twice under another name, as overlapping trails or
/// re-copied exports do.
const COPIED_FILES: usize = 4;

/// What the generated archive should produce, to check the reference lake
/// really exercises duplicates, conflicts and rejections.
struct Expected {
    records: usize,
    duplicates: usize,
    conflict_id: String,
}

/// A CloudTrail event with enough variety that content hashes differ.
fn record(rng: &mut fastrand::Rng, account: &str, region: &str, day: u32) -> Value {
    let names = ["GetObject", "PutObject", "ListObjects", "DeleteObject"];
    let users = ["alice", "bob", "carol"];
    json!({
        "eventVersion": "1.08",
        "eventTime": format!(
            "2024-03-{day:02}T{:02}:{:02}:{:02}Z",
            rng.u8(0..24),
            rng.u8(0..60),
            rng.u8(0..60)
        ),
        "eventSource": "s3.amazonaws.com",
        "eventName": names[rng.usize(..names.len())],
        "awsRegion": region,
        "sourceIPAddress": format!("198.51.100.{}", rng.u8(1..255)),
        "userAgent": "aws-cli/2",
        "userIdentity": {
            "type": "IAMUser",
            "arn": format!("arn:aws:iam::{account}:user/{}", users[rng.usize(..users.len())]),
            "accountId": account,
        },
        "eventID": format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            rng.u32(..),
            rng.u16(..),
            rng.u16(..0x1000),
            rng.u16(..),
            rng.u64(..1 << 48)
        ),
        "eventType": "AwsApiCall",
        "recipientAccountId": account,
        "requestParameters": {"bucketName": "b", "key": format!("k/{}", rng.u32(..))},
    })
}

/// The same event written with its keys in another order and spaced
/// differently: a duplicate only canonical content hashing can recognise.
fn reordered(record: &Value) -> String {
    let fields: Vec<String> = record
        .as_object()
        .unwrap()
        .iter()
        .rev()
        .map(|(key, value)| format!("{} : {value}", Value::from(key.as_str())))
        .collect();
    format!("{{ {} }}", fields.join(" , "))
}

/// A trail-layout object key, with the random suffix CloudTrail gives each delivery.
fn object_path(rng: &mut fastrand::Rng, account: &str, region: &str, day: u32) -> PathBuf {
    let suffix: String = std::iter::repeat_with(|| rng.alphanumeric())
        .take(16)
        .collect();
    PathBuf::from(format!(
        "AWSLogs/{account}/CloudTrail/{region}/2024/03/{day:02}/{account}_CloudTrail_{region}_202403{day:02}T{:02}{:02}Z_{suffix}.json.gz",
        rng.u8(0..24),
        rng.u8(0..60)
    ))
}

/// Writes an archive under `root` big enough that a debug ingest runs for a
/// noticeable time, with every kind of row the lake keeps: events across
/// accounts, regions and days, whole-file and re-serialised duplicates, an
/// eventID conflict, a rejected record and a rejected object.
fn write_archive(root: &Path, rng: &mut fastrand::Rng) -> Expected {
    let mut files: Vec<(PathBuf, Vec<String>)> = Vec::new();
    let mut events = Vec::new();
    for account in ACCOUNTS {
        for region in REGIONS {
            for day in DAYS {
                for _ in 0..FILES_PER_PARTITION {
                    let batch: Vec<Value> = (0..RECORDS_PER_FILE)
                        .map(|_| record(rng, account, region, day))
                        .collect();
                    let path = object_path(rng, account, region, day);
                    files.push((path, batch.iter().map(Value::to_string).collect()));
                    events.push(batch);
                }
            }
        }
    }
    let mut records = files.len() * RECORDS_PER_FILE;

    // Extras go into the first few files and the last; copies are taken from
    // the files between, so each extra row exists exactly once.
    let last = files.len() - 1;
    files[last].1.push(reordered(&events[0][3]));
    let mut conflict = events[1][7].clone();
    conflict["sourceIPAddress"] = json!("203.0.113.99");
    let conflict_id = conflict["eventID"].as_str().unwrap().to_owned();
    files[2].1.push(conflict.to_string());
    records += 2;
    let mut no_time = record(rng, ACCOUNTS[0], REGIONS[0], DAYS[0]);
    no_time.as_object_mut().unwrap().remove("eventTime");
    files[3].1.push(no_time.to_string());

    for _ in 0..COPIED_FILES {
        let (from, batch) = files[rng.usize(10..last)].clone();
        let (stem, _) = from.to_str().unwrap().rsplit_once('_').unwrap();
        let suffix: String = std::iter::repeat_with(|| rng.alphanumeric())
            .take(16)
            .collect();
        files.push((PathBuf::from(format!("{stem}_{suffix}.json.gz")), batch));
        records += RECORDS_PER_FILE;
    }
    for (path, batch) in &files {
        let body = format!("{{\"Records\":[{}]}}", batch.join(","));
        write_gz(&root.join(path), body.as_bytes());
    }
    let bad = object_path(rng, ACCOUNTS[1], REGIONS[1], DAYS[2]);
    std::fs::write(root.join(bad), b"{\"Records\": not gzip at all").unwrap();
    Expected {
        records,
        duplicates: COPIED_FILES * RECORDS_PER_FILE + 1,
        conflict_id,
    }
}

/// The ingest every run of the test performs: same archive, same options.
fn ingest(archive: &Path, lake: &Path, scratch: &Path) -> Command {
    command(
        &[
            "ingest",
            archive.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
            "-q",
            "-j",
            "2",
        ],
        scratch,
    )
}

/// Runs a command that must finish, with its stderr at hand for assertions.
fn run(mut command: Command) -> Output {
    command.output().expect("ctlake runs")
}

/// Rows of `sql` through `ctlake query`, the way a script would read them.
fn rows(lake: &Path, scratch: &Path, sql: &str) -> Vec<Map<String, Value>> {
    let out = run(command(
        &[
            "query",
            "--lake",
            lake.to_str().unwrap(),
            "-e",
            sql,
            "--format",
            "ndjson",
        ],
        scratch,
    ));
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| match serde_json::from_str(line).unwrap() {
            Value::Object(row) => row,
            other => panic!("row is not an object: {other}"),
        })
        .collect()
}

/// A text column of a row; a NULL or non-text value there is a broken lake,
/// not a difference to report.
fn text(row: &Map<String, Value>, column: &str) -> String {
    match &row[column] {
        Value::String(s) => s.clone(),
        other => panic!("{column} is not text: {other}"),
    }
}

/// What a reader of the lake sees right after a kill.
fn count_events(lake: &Path, scratch: &Path) -> u64 {
    rows(lake, scratch, "SELECT count(*) AS n FROM cloudtrail")[0]["n"]
        .as_u64()
        .unwrap()
}

/// Everything that must be the same in a resumed lake as in the reference.
/// Which copy of a duplicate is stored depends on read order, so events are
/// compared by identity and content, provenance over stored and duplicate
/// rows together.
struct Snapshot {
    /// (eventid, recipientaccountid, content_hash) of every stored event.
    events: Vec<(String, String, String)>,
    /// (eventid, content_hash, source_object, source_index) of every record
    /// stored or recorded as a duplicate.
    evidence: Vec<(String, String, String, i64)>,
    /// (source_object, source_index, scope, reason) of every rejection.
    rejected: Vec<(String, Option<i64>, String, String)>,
    /// The status command's verdict on the lake.
    status: Value,
}

/// Reads a lake through the CLI, sorted, so lakes written in different read
/// orders compare equal.
fn snapshot(lake: &Path, scratch: &Path) -> Snapshot {
    let mut events: Vec<_> = rows(
        lake,
        scratch,
        "SELECT eventid, recipientaccountid, content_hash FROM cloudtrail",
    )
    .iter()
    .map(|r| {
        (
            text(r, "eventid"),
            text(r, "recipientaccountid"),
            text(r, "content_hash"),
        )
    })
    .collect();
    events.sort();
    let mut evidence: Vec<_> = rows(
        lake,
        scratch,
        "SELECT eventid, content_hash, source_object, source_index FROM cloudtrail \
         UNION ALL SELECT eventid, content_hash, source_object, source_index FROM duplicates",
    )
    .iter()
    .map(|r| {
        (
            text(r, "eventid"),
            text(r, "content_hash"),
            text(r, "source_object"),
            r["source_index"].as_i64().unwrap(),
        )
    })
    .collect();
    evidence.sort();
    let mut rejected: Vec<_> = rows(
        lake,
        scratch,
        "SELECT source_object, source_index, scope, reason FROM rejected",
    )
    .iter()
    .map(|r| {
        (
            text(r, "source_object"),
            r.get("source_index").and_then(Value::as_i64),
            text(r, "scope"),
            text(r, "reason"),
        )
    })
    .collect();
    rejected.sort();
    let status = common::status(lake, scratch);
    Snapshot {
        events,
        evidence,
        rejected,
        status,
    }
}

/// Fails with what is missing and what is extra rather than two dumps of
/// thousands of rows, so a failure says which evidence the kill cost.
fn assert_same<T: Ord + Debug>(what: &str, expected: &[T], found: &[T], context: &str) {
    if expected == found {
        return;
    }
    let mut balance: BTreeMap<&T, i64> = BTreeMap::new();
    for row in expected {
        *balance.entry(row).or_default() += 1;
    }
    for row in found {
        *balance.entry(row).or_default() -= 1;
    }
    let missing: Vec<_> = balance.iter().filter(|(_, n)| **n > 0).take(5).collect();
    let extra: Vec<_> = balance.iter().filter(|(_, n)| **n < 0).take(5).collect();
    panic!(
        "{context}: {what} differ ({} expected, {} found)\nmissing (first 5, with count): {missing:?}\nextra (first 5, with surplus): {extra:?}",
        expected.len(),
        found.len()
    );
}

/// The acceptance criterion: the resumed lake holds the same evidence as the
/// uninterrupted one, and its own books (per-run counts against rows) balance.
fn assert_same_lake(reference: &Snapshot, resumed: &Snapshot, context: &str) {
    assert_same(
        "cloudtrail events",
        &reference.events,
        &resumed.events,
        context,
    );
    assert_same(
        "evidence rows",
        &reference.evidence,
        &resumed.evidence,
        context,
    );
    assert_same(
        "rejected rows",
        &reference.rejected,
        &resumed.rejected,
        context,
    );
    let status = &resumed.status;
    assert_eq!(status["balanced"], true, "{context}: {status:#}");
    assert_eq!(
        status["uncommitted_runs"],
        json!([]),
        "{context}: {status:#}"
    );
    for total in ["events", "duplicates", "rejected"] {
        assert_eq!(
            status["totals"][total], reference.status["totals"][total],
            "{context}: total {total}: {status:#}"
        );
    }
}

/// Run ids with a start marker and with a report, as the runs folder shows them.
#[derive(Default)]
struct Runs {
    started: BTreeSet<String>,
    reported: BTreeSet<String>,
}

/// The runs a lake records; none when the kill came before the lake existed.
fn runs(lake: &Path) -> Runs {
    let mut runs = Runs::default();
    let Ok(entries) = std::fs::read_dir(lake.join("_ctlake/runs")) else {
        return runs;
    };
    for entry in entries {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(run) = name.strip_suffix(".started") {
            runs.started.insert(run.to_owned());
        } else if let Some(run) = name.strip_suffix(".json") {
            runs.reported.insert(run.to_owned());
        }
    }
    runs
}

/// Where in an ingest a kill landed, judged from what it left on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// No lake marker yet: killed while starting up or creating the lake.
    BeforeLake,
    /// A lake, but no start marker of this run: locking or cleaning up.
    Opening,
    /// This run's start marker and no report: reading, writing, committing.
    MidRun,
    /// This run's report exists: killed after its commit, or it had exited.
    Committed,
}

/// The phase a kill left `lake` in; `before` are the runs already there, so
/// a killed resume is judged by its own markers, not its predecessor's.
fn phase(lake: &Path, before: &Runs) -> Phase {
    if !lake.join("_ctlake/lake.json").is_file() {
        return Phase::BeforeLake;
    }
    let now = runs(lake);
    if now.reported.difference(&before.reported).next().is_some() {
        Phase::Committed
    } else if now.started.difference(&before.started).next().is_some() {
        Phase::MidRun
    } else {
        Phase::Opening
    }
}

/// When a kill is sent.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// A fixed time after the process starts.
    After(Duration),
    /// As soon as the run has Parquet in the lake that no committed run owns.
    /// How soon a small archive's files appear depends on the machine's
    /// speed and load, so a kill at a random instant may never find one;
    /// this one does, unless the run wrote and committed between two looks.
    OnDebris,
}

/// Starts an ingest, SIGKILLs it as `kill` says, and says where it landed;
/// `None` when it waited for debris and the run ended without any being seen.
fn kill(mut ingest: Command, lake: &Path, kill: Kill) -> Option<Phase> {
    let before = runs(lake);
    let mut child: Child = ingest
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ctlake starts");
    match kill {
        Kill::After(delay) => std::thread::sleep(delay),
        Kill::OnDebris => loop {
            if child.try_wait().unwrap().is_some() {
                return None;
            }
            if holds_data(&debris(lake)) {
                break;
            }
            std::thread::sleep(Duration::from_micros(500));
        },
    }
    // Child::kill is SIGKILL on Unix; a process that already exited is reaped.
    let _ = child.kill();
    child.wait().unwrap();
    Some(phase(lake, &before))
}

/// Between a kill and the resume, queries must see committed runs only: none
/// at all, or the whole of a run that committed before it died.
fn assert_nothing_half_visible(lake: &Path, scratch: &Path, reference_events: u64, ctx: &str) {
    if !lake.join("_ctlake/lake.json").is_file() {
        return;
    }
    let expected = if runs(lake).reported.is_empty() {
        0
    } else {
        reference_events
    };
    assert_eq!(
        count_events(lake, scratch),
        expected,
        "{ctx}: events visible after the kill"
    );
}

/// Files a killed run left that no committed run owns: staging files and
/// the data and manifest files of runs without a report. Run files carry
/// their run id in their name. Entries that vanish while it looks (a
/// running ingest renames its staging files) are passed over.
fn debris(lake: &Path) -> Vec<String> {
    if !lake.exists() {
        return Vec::new();
    }
    let committed = runs(lake).reported;
    walkdir::WalkDir::new(lake)
        .into_iter()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.ends_with(".inprogress")
                || (name.ends_with(".parquet") && !committed.iter().any(|run| name.contains(run)))
        })
        .collect()
}

/// Whether debris holds events' Parquet, staged or published, rather than
/// only a marker of lake creation or locking.
fn holds_data(debris: &[String]) -> bool {
    debris.iter().any(|name| name.contains(".parquet"))
}

/// After a completed resume nothing of any killed run may remain: staging
/// files, start markers or the lock would confuse the next ingest or a reader.
fn assert_no_leftovers(lake: &Path, ctx: &str) {
    for entry in walkdir::WalkDir::new(lake) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy();
        assert!(
            !name.ends_with(".inprogress") && !name.ends_with(".started"),
            "{ctx}: left behind: {}",
            entry.path().display()
        );
    }
    assert!(
        !lake.join("_ctlake/lock").exists(),
        "{ctx}: the lock is still held"
    );
}

/// Checks the reference lake holds what the archive was built to produce,
/// so the comparisons below compare something meaningful.
fn check_reference(reference: &Snapshot, expected: &Expected, lake: &Path, scratch: &Path) {
    assert_eq!(reference.evidence.len(), expected.records);
    assert_eq!(
        reference.events.len(),
        expected.records - expected.duplicates
    );
    assert_eq!(reference.status["balanced"], true, "{:#}", reference.status);
    assert_eq!(reference.status["runs"], 1);
    let scopes: BTreeSet<&str> = reference.rejected.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(scopes, BTreeSet::from(["object", "record"]));
    let sql = format!(
        "SELECT count(*) AS n FROM cloudtrail WHERE eventid = '{}'",
        expected.conflict_id
    );
    assert_eq!(rows(lake, scratch, &sql)[0]["n"], 2, "conflict: both kept");
    let dates = rows(
        lake,
        scratch,
        "SELECT count(DISTINCT date_trunc('day', eventtime)) AS n FROM cloudtrail",
    );
    assert_eq!(dates[0]["n"], DAYS.len());
}

/// What every kill point is measured against: one archive, and the lake an
/// uninterrupted ingest of it wrote.
struct Reference<'a> {
    archive: PathBuf,
    scratch: &'a Path,
    snapshot: Snapshot,
    status: Option<i32>,
    /// How long the uninterrupted ingest ran, process start to exit: the
    /// span over which kills are spread.
    window: u64,
}

impl Reference<'_> {
    /// A delay within the uninterrupted run: one in four within its first
    /// sixteenth, so start-up, lake creation, locking and cleanup, which
    /// take little of the run, are hit as well as reading and publishing.
    fn delay(&self, rng: &mut fastrand::Rng) -> Duration {
        let shift = if rng.u8(..4) == 0 { 4 } else { 0 };
        Duration::from_millis(rng.u64(..=self.window >> shift))
    }
}

/// One kill point: kill an ingest into a fresh lake as `first` says (and
/// sometimes its first resume too, at a random instant), resume to the end,
/// and compare with the reference. Returns where the first kill landed and
/// whether the resume had events' Parquet to clean up; `None` when `first`
/// waited for such files and the run committed without any being seen.
fn kill_point(
    reference: &Reference,
    rng: &mut fastrand::Rng,
    point: usize,
    seed: u64,
    first: Kill,
) -> Option<(Phase, bool)> {
    let (archive, scratch) = (&reference.archive, reference.scratch);
    let events = reference.snapshot.events.len() as u64;
    let lake = scratch.join(format!("killed-{point}"));
    let Some(landed) = kill(ingest(archive, &lake, scratch), &lake, first) else {
        std::fs::remove_dir_all(&lake).unwrap();
        return None;
    };
    let mut ctx = format!("seed {seed} point {point}: kill {first:?} ({landed:?})");
    // Printed before anything can fail, so a failure's output names the kill.
    eprintln!("{ctx}");
    assert_nothing_half_visible(&lake, scratch, events, &ctx);
    if rng.u8(..3) == 0 {
        let again = Kill::After(reference.delay(rng));
        let resumed =
            kill(ingest(archive, &lake, scratch), &lake, again).expect("a timed kill always lands");
        ctx = format!("{ctx}, resume killed {again:?} ({resumed:?})");
        eprintln!("{ctx}");
        assert_nothing_half_visible(&lake, scratch, events, &ctx);
    }

    let debris = debris(&lake);
    eprintln!(
        "seed {seed} point {point}: resuming over {} files of uncommitted runs",
        debris.len()
    );
    // After a committed run the resume has nothing to read, not even the
    // broken object (it would fail the same way), and so nothing to reject.
    let status = if runs(&lake).reported.is_empty() {
        reference.status
    } else {
        Some(0)
    };
    let out = run(ingest(archive, &lake, scratch));
    assert_eq!(
        out.status.code(),
        status,
        "{ctx}: resume: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_leftovers(&lake, &ctx);
    assert_same_lake(&reference.snapshot, &snapshot(&lake, scratch), &ctx);
    std::fs::remove_dir_all(&lake).unwrap();
    Some((landed, holds_data(&debris)))
}

#[test]
fn killed_ingest_resumes_to_the_uninterrupted_lake() {
    let seed = std::env::var("CTLAKE_CRASH_SEED")
        .map_or(SEED, |s| s.parse().expect("CTLAKE_CRASH_SEED is a number"));
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path();
    let archive = scratch.join("archive");
    let expected = write_archive(&archive, &mut rng);
    let began = Instant::now();

    let lake = scratch.join("reference");
    let out = run(ingest(&archive, &lake, scratch));
    let window = began.elapsed().as_millis() as u64;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snapshot = snapshot(&lake, scratch);
    check_reference(&snapshot, &expected, &lake, scratch);
    eprintln!(
        "seed {seed}: {} records, uninterrupted ingest {window} ms, {KILL_POINTS} kill points",
        expected.records
    );
    let reference = Reference {
        archive,
        scratch,
        snapshot,
        status: out.status.code(),
        window,
    };

    let mut phases = BTreeMap::<Phase, usize>::new();
    let mut cleaned_up = 0;
    for point in 0..KILL_POINTS {
        let delay = Kill::After(reference.delay(&mut rng));
        let (landed, data) =
            kill_point(&reference, &mut rng, point, seed, delay).expect("a timed kill lands");
        *phases.entry(landed).or_default() += 1;
        cleaned_up += usize::from(data);
    }
    eprintln!(
        "first kills by phase: {phases:?}; {cleaned_up} left Parquet to clean up; {:.1} s in all",
        began.elapsed().as_secs_f64()
    );
    let mid_run = phases.get(&Phase::MidRun).copied().unwrap_or_default();
    assert!(
        mid_run >= MIN_MID_RUN,
        "only {mid_run} of {KILL_POINTS} kills landed mid-run: {phases:?}"
    );
    // Whether a random instant finds written but uncommitted files depends on
    // how fast this machine is today, so the resume's clean-up is also put
    // to the test by kills sent the moment such files appear.
    let mut caught = 0;
    for point in KILL_POINTS..KILL_POINTS + DEBRIS_ATTEMPTS {
        // The run may still commit between the look and the signal.
        if let Some((_, data)) = kill_point(&reference, &mut rng, point, seed, Kill::OnDebris) {
            caught += usize::from(data);
        }
    }
    assert!(
        caught > 0,
        "in {DEBRIS_ATTEMPTS} runs no kill caught files of an uncommitted run before its commit"
    );
}
