//! `ctlake ingest` over broken inputs: each named with its reason, the rest ingested.

use std::path::Path;

use crate::common::{self, ctlake, write_gz};

fn record(i: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"2024-03-10T10:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"trunc-{i:04}","recipientAccountId":"111122223333","requestParameters":{{"bucketName":"b","key":"k/{i}/{}"}}}}"#,
        i / 60,
        i % 60,
        "x".repeat(i % 7 * 40)
    )
}

/// A folder of good sample files among the broken fixtures.
fn broken_archive(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("archive");
    let good = common::repo().join("sample-logs/AWSLogs/111122223333/CloudTrail/eu-west-1");
    let target = root.join("AWSLogs/111122223333/CloudTrail/eu-west-1");
    copy_dir(&good, &target);
    let bad = root.join("AWSLogs/111122223333/CloudTrail/us-west-2/2024/03/10");
    let records: Vec<String> = (0..200).map(record).collect();
    let mut whole = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(&mut whole, flate2::Compression::default());
        e.write_all(format!(r#"{{"Records":[{}]}}"#, records.join(",")).as_bytes())
            .unwrap();
        e.finish().unwrap();
    }
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("truncated.json.gz"),
        &whole[..whole.len() * 6 / 10],
    )
    .unwrap();
    write_gz(&bad.join("not-json.json.gz"), b"this is not JSON at all\n");
    write_gz(&bad.join("no-records.json.gz"), br#"{"foo":[1,2,3]}"#);
    std::fs::write(bad.join("plain-text.json.gz"), b"{\"Records\":[]}").unwrap();
    std::fs::write(bad.join("empty.json.gz"), b"").unwrap();
    root
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

#[test]
fn broken_files_are_named_and_the_rest_is_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let archive = broken_archive(dir.path());
    let lake = dir.path().join("lake");
    let out = ctlake(
        &[
            "ingest",
            archive.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "partial ingest exits 1:\n{stderr}"
    );
    for (name, reason) in [
        ("truncated.json.gz", "gzip stream broken"),
        ("not-json.json.gz", "invalid JSON"),
        ("no-records.json.gz", "no \"Records\" array"),
        ("plain-text.json.gz", "named .gz but is not gzip"),
        ("empty.json.gz", "empty object"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not reported:\n{stderr}"));
        assert!(line.contains(reason), "{name}: {line}");
    }
    assert!(stderr.contains("6 listed, 1 read"), "{stderr}");

    // The good file's 8 events and every complete record before the cut are in.
    let rows = common::query(
        &lake,
        "SELECT count(*) FROM cloudtrail WHERE account = '111122223333' AND region = 'eu-west-1'",
    );
    assert_eq!(common::rows_as_json(&rows)[0]["count(*)"], 8);
    let recovered = common::rows_as_json(&common::query(
        &lake,
        "SELECT count(*) AS n, max(source_index) AS last FROM cloudtrail WHERE source_object LIKE '%truncated.json.gz'",
    ));
    let n = recovered[0]["n"].as_u64().unwrap();
    assert!(
        n > 0 && n < 200,
        "recovered {n} of 200 records before the cut"
    );
    assert_eq!(
        recovered[0]["last"].as_u64().unwrap(),
        n - 1,
        "the recovered records are the first ones"
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("truncated.json.gz"))
        .unwrap();
    assert!(
        line.contains(&format!("({n} records before the failure were kept)")),
        "{line}"
    );
}

#[test]
fn clean_archive_exits_zero_and_reports_totals() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let sample = common::repo().join("sample-logs");
    let out = ctlake(
        &[
            "ingest",
            sample.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("54 listed, 53 read (1 insight), 1 digest set aside"),
        "{stderr}"
    );
    assert!(
        stderr.contains("476 read = 476 written + 0 duplicates + 0 rejected"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "ingest writes nothing to stdout");
}

#[test]
fn refuses_to_write_into_a_folder_that_is_not_a_lake() {
    let dir = tempfile::tempdir().unwrap();
    let sample = common::repo().join("sample-logs");
    let out = ctlake(
        &[
            "ingest",
            dir.path().to_str().unwrap(),
            "--lake",
            sample.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("not a ctlake lake and not empty; refusing to write into it")
    );
}
