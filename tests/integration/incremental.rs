//! Re-running ingest: only new or changed objects are read, leftovers of an
//! interrupted run are removed, and one ingest writes a lake at a time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{self, ctlake, query, rows_as_json};

fn ingest(archive: &Path, lake: &Path, scratch: &Path) -> (Output, Value) {
    let out = common::ingest_cli(archive, lake, scratch, &[]);
    (out, common::newest_report(lake))
}

/// Every row by eventid, as a hash of its content.
fn rows(lake: &Path) -> BTreeMap<String, String> {
    rows_as_json(&query(lake, "SELECT * FROM cloudtrail"))
        .into_iter()
        .map(|row| {
            let id = row["eventid"].as_str().unwrap().to_owned();
            let hash = common::hex(&Sha256::digest(Value::Object(row).to_string()));
            (id, hash)
        })
        .collect()
}

fn sample_copy(dir: &Path) -> PathBuf {
    let archive = dir.join("archive");
    common::copy_tree(&common::repo().join("sample-logs"), &archive);
    archive
}

#[test]
fn reingest_reads_only_new_objects_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let archive = sample_copy(dir.path());
    let whole = dir.path().join("whole");
    let (out, first) = ingest(&archive, &whole, dir.path());
    assert!(out.status.success());
    assert_eq!(first["events_written"], common::SAMPLE_EVENTS);
    let expected = rows(&whole);
    assert_eq!(expected.len() as u64, common::SAMPLE_EVENTS);

    // The same archive again: nothing read, nothing written, same rows.
    let (out, again) = ingest(&archive, &whole, dir.path());
    assert!(out.status.success());
    assert_eq!(again["objects_read"], 0);
    assert_eq!(
        again["objects_unchanged"],
        first["objects_read"].as_u64().unwrap() + 1
    );
    assert_eq!(again["events_written"], 0);
    assert_eq!(rows(&whole), expected);

    // In two halves, the later half first: the same lake.
    let eu = "AWSLogs/111122223333/CloudTrail/eu-west-1";
    let held_back = dir.path().join("held-back");
    std::fs::rename(archive.join(eu), &held_back).unwrap();
    let halves = dir.path().join("halves");
    let (out, part) = ingest(&archive, &halves, dir.path());
    assert!(out.status.success());
    let first_half = part["events_written"].as_u64().unwrap();
    assert!(first_half > 0 && first_half < common::SAMPLE_EVENTS);
    std::fs::rename(&held_back, archive.join(eu)).unwrap();
    let (out, rest) = ingest(&archive, &halves, dir.path());
    assert!(out.status.success());
    assert_eq!(
        rest["events_written"].as_u64().unwrap(),
        common::SAMPLE_EVENTS - first_half
    );
    assert_eq!(rows(&halves), expected);

    // A changed object is read again.
    let file = walkdir::WalkDir::new(archive.join(eu))
        .into_iter()
        .map(|e| e.unwrap())
        .find(|e| e.file_type().is_file())
        .unwrap();
    let modified = std::fs::metadata(file.path()).unwrap().modified().unwrap();
    let touched = modified + std::time::Duration::from_mins(1);
    std::fs::File::options()
        .write(true)
        .open(file.path())
        .unwrap()
        .set_modified(touched)
        .unwrap();
    let (_, changed) = ingest(&archive, &halves, dir.path());
    assert_eq!(changed["objects_read"], 1);
}

#[test]
fn leftovers_of_an_interrupted_run_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let archive = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    let (out, _) = ingest(&archive, &lake, dir.path());
    assert!(out.status.success());
    let expected = rows(&lake);

    // What a run killed after publishing one file leaves: its start marker,
    // a published file of its own, and a staging file.
    let killed = "20991231T000000Z-deadbeef";
    std::fs::write(lake.join(format!("_ctlake/runs/{killed}.started")), b"").unwrap();
    let published = walkdir::WalkDir::new(lake.join("cloudtrail"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let partition = published.parent().unwrap();
    std::fs::copy(
        &published,
        partition.join(format!("part-{killed}-00000.parquet")),
    )
    .unwrap();
    std::fs::write(
        partition.join(format!(".part-{killed}-00001.parquet.inprogress")),
        b"PAR1",
    )
    .unwrap();
    // Queries see committed runs only.
    assert_eq!(
        rows_as_json(&query(&lake, "SELECT count(*) AS n FROM cloudtrail"))[0]["n"],
        common::SAMPLE_EVENTS
    );

    let (out, report) = ingest(&archive, &lake, dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report["uncommitted_files_removed"], 2);
    assert_eq!(rows(&lake), expected);
    assert!(!lake.join(format!("_ctlake/runs/{killed}.started")).exists());
}

#[test]
fn one_ingest_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let archive = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    let (out, _) = ingest(&archive, &lake, dir.path());
    assert!(out.status.success());
    let lock = lake.join("_ctlake/lock");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let run = || {
        ctlake(
            &[
                "ingest",
                archive.to_str().unwrap(),
                "--lake",
                lake.to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let holder = |pid: u32| format!(r#"{{"run":"r","pid":{pid},"host":"{}"}}"#, host.trim());

    // Held by a live process (this test): refused, lock untouched.
    std::fs::write(&lock, holder(std::process::id())).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another ingest is writing this lake"),
        "{stderr}"
    );
    assert!(lock.exists());

    // Held by a process that is gone: taken over, and released at the end.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(&lock, holder(pid)).unwrap();
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!lock.exists());
}

/// The lake's event files with their size and modification time.
fn data_files(lake: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    walkdir::WalkDir::new(lake.join("cloudtrail"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            (e.into_path(), (meta.len(), meta.modified().unwrap()))
        })
        .collect()
}

#[test]
fn a_late_event_joins_its_old_day_without_rewriting_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let archive = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    let (out, _) = ingest(&archive, &lake, dir.path());
    assert!(out.status.success());
    let before = data_files(&lake);

    // Delivered two days later, about an event of 2024-03-10.
    let delivery = r#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-03-10T23:59:59Z",
        "eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1",
        "eventID":"late-1","recipientAccountId":"111122223333",
        "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory"}}]}"#;
    common::write_gz(
        &archive.join(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/12/111122223333_CloudTrail_us-east-1_20240312T0005Z_late.json.gz",
        ),
        delivery.as_bytes(),
    );
    let (out, report) = ingest(&archive, &lake, dir.path());
    assert!(out.status.success());
    assert_eq!(report["events_written"], 1);
    let after = data_files(&lake);
    for (path, stamp) in &before {
        assert_eq!(
            after.get(path),
            Some(stamp),
            "{} was rewritten",
            path.display()
        );
    }
    let added: Vec<_> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    assert_eq!(added.len(), 1);
    assert!(
        added[0]
            .to_str()
            .unwrap()
            .contains("account=111122223333/region=us-east-1/date=2024-03-10/"),
        "{}",
        added[0].display()
    );
    let day = rows_as_json(&query(
        &lake,
        "SELECT count(*) AS n FROM cloudtrail WHERE date = DATE '2024-03-10' AND eventid = 'late-1'",
    ));
    assert_eq!(day[0]["n"], 1);
}
