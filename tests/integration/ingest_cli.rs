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
        stderr.contains("54 listed, 53 read (1 insight), 1 digest"),
        "{stderr}"
    );
    assert!(
        stderr.contains("476 read = 476 written + 0 duplicates + 0 rejected"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "ingest writes nothing to stdout");

    // An Insight object that failed is not counted among those read.
    let capped = dir.path().join("capped");
    let out = common::ingest_cli(&sample, &capped, dir.path(), &["--max-object-bytes", "10"]);
    common::assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("54 listed, 0 read (0 insight), 1 digest"),
        "{stderr}"
    );
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

/// A copy of the sample archive under `dir`, and the argument naming it.
fn sample_copy(dir: &Path) -> std::path::PathBuf {
    let copy = dir.join("sample");
    copy_dir(&common::repo().join("sample-logs"), &copy);
    copy
}

fn parquet_files(lake: &Path) -> usize {
    walkdir::WalkDir::new(lake.join("cloudtrail"))
        .into_iter()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "parquet")
        })
        .count()
}

#[test]
fn a_lake_refused_inside_its_input_leaves_nothing_there() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    std::os::unix::fs::symlink(&sample, dir.path().join("link")).unwrap();
    for lake in [sample.join("lake"), dir.path().join("link/lake")] {
        let out = common::ingest_cli(&sample, &lake, dir.path(), &[]);
        common::assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("is inside the input") && stderr.contains("never written to"),
            "{stderr}"
        );
        assert!(
            !sample.join("lake").exists(),
            "{} was created",
            lake.display()
        );
    }
}

#[test]
fn a_missing_input_stops_the_run_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    let missing = dir.path().join("no-such-archive");
    let lake = dir.path().join("lake");
    let out = ctlake(
        &[
            "ingest",
            sample.to_str().unwrap(),
            missing.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
        ],
        dir.path(),
    );
    common::assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}: cannot read", missing.display())),
        "{stderr}"
    );
    assert!(
        !lake.exists(),
        "nothing is written when an input is missing"
    );
}

#[test]
fn the_same_files_by_another_path_are_already_in_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    common::assert_exit(&common::ingest_cli(&sample, &lake, dir.path(), &[]), 0);
    let files = parquet_files(&lake);
    std::os::unix::fs::symlink(&sample, dir.path().join("link")).unwrap();
    for other in [dir.path().join("link"), sample.join("AWSLogs/../AWSLogs")] {
        common::assert_exit(&common::ingest_cli(&other, &lake, dir.path(), &[]), 0);
        let report = common::newest_report(&lake);
        assert_eq!(report["objects_unchanged"], 54, "{}", other.display());
        assert_eq!(report["records_read"], 0, "{}", other.display());
    }
    assert_eq!(parquet_files(&lake), files);
    let copies = common::query(&lake, "SELECT count(*) AS n FROM duplicates");
    assert_eq!(common::rows_as_json(&copies)[0]["n"], 0);
}

#[test]
fn a_run_of_only_copies_writes_no_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    common::assert_exit(&common::ingest_cli(&sample, &lake, dir.path(), &[]), 0);
    let files = parquet_files(&lake);
    assert_eq!(files, 11);
    // Another copy of the archive: other objects, the same events.
    let again = dir.path().join("again");
    copy_dir(&sample, &again);
    let out = common::ingest_cli(&again, &lake, dir.path(), &[]);
    common::assert_exit(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("476 read = 0 written + 476 duplicates + 0 rejected"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::newest_report(&lake)["files"], serde_json::json!([]));
    assert_eq!(parquet_files(&lake), files);
}

#[test]
fn an_object_over_the_cap_is_read_again_when_the_cap_is_raised() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let text = format!(
        r#"{{"Records":[{}]}}"#,
        (0..20).map(record).collect::<Vec<_>>().join(",")
    );
    write_gz(&archive.join("big.json.gz"), text.as_bytes());
    let lake = dir.path().join("lake");
    let small = ["--max-object-bytes", "1000"];
    let out = common::ingest_cli(&archive, &lake, dir.path(), &small);
    common::assert_exit(&out, 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("see --max-object-bytes"));
    // The same cap would fail the same way: the object is not read again.
    common::assert_exit(&common::ingest_cli(&archive, &lake, dir.path(), &small), 0);
    assert_eq!(common::newest_report(&lake)["objects_unchanged"], 1);
    // A larger one reads it.
    common::assert_exit(&common::ingest_cli(&archive, &lake, dir.path(), &[]), 0);
    let report = common::newest_report(&lake);
    assert_eq!(report["events_written"], 20);
    assert_eq!(report["objects_unchanged"], 0);
}

#[test]
fn every_records_array_and_a_byte_order_mark_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    write_gz(
        &archive.join("twice.json.gz"),
        format!(r#"{{"Records":[{}],"Records":[{}]}}"#, record(0), record(1)).as_bytes(),
    );
    write_gz(
        &archive.join("bom.json.gz"),
        format!("\u{feff}{{\"Records\":[{}]}}", record(2)).as_bytes(),
    );
    let lake = dir.path().join("lake");
    let out = common::ingest_cli(&archive, &lake, dir.path(), &[]);
    // The object with two arrays is reported, and none of its records lost.
    common::assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"twice.json.gz: 2 "Records" arrays in one object"#),
        "{stderr}"
    );
    let rows = common::rows_as_json(&common::query(
        &lake,
        "SELECT eventid, source_index FROM cloudtrail ORDER BY eventid",
    ));
    let rows: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["eventid"].as_str().unwrap(),
                r["source_index"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("trunc-0000", 0), ("trunc-0001", 1), ("trunc-0002", 0)]
    );
}

#[test]
fn a_selection_that_matches_nothing_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    let out = common::ingest_cli(&sample, &lake, dir.path(), &["--start", "2030-01-01"]);
    common::assert_exit(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nothing there matches --account/--region/--start/--end"),
        "{stderr}"
    );
    assert!(!stderr.contains("no AWSLogs/ folder"), "{stderr}");
}

/// A trailing comma (`--account 1111…,`) used to recurse on the same folder
/// until the stack overflowed; names that cannot be folders are refused
/// before anything is written.
#[test]
fn selections_that_name_no_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    for (flag, value, message) in [
        (
            "--account",
            "111122223333,",
            "--account \"\": an account id is twelve digits",
        ),
        (
            "--account",
            "1111",
            "--account \"1111\": an account id is twelve digits",
        ),
        (
            "--region",
            "us-east-1,,eu-west-1",
            "--region \"\": a region is",
        ),
        (
            "--region",
            "../us-east-1",
            "--region \"../us-east-1\": a region is",
        ),
    ] {
        let out = common::ingest_cli(&sample, &lake, dir.path(), &[flag, value]);
        common::assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{flag} {value}: {stderr}");
        assert!(!lake.exists(), "{flag} {value}: nothing is written");
    }
}

/// Inputs that overlap would read their common objects twice in one run
/// and store every event a second time as its own duplicate; a lake's own
/// files are not an archive. Both are refused before anything is written.
#[test]
fn overlapping_inputs_and_inputs_inside_the_lake_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    let inner = sample.join("AWSLogs/111122223333");
    for (second, shown) in [
        (&inner, "AWSLogs/111122223333 is the input"),
        (&sample, "is the input"),
    ] {
        let out = ctlake(
            &[
                "ingest",
                sample.to_str().unwrap(),
                second.to_str().unwrap(),
                "--lake",
                lake.to_str().unwrap(),
            ],
            dir.path(),
        );
        common::assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(shown), "{stderr}");
        assert!(
            stderr.contains("each event counted as a duplicate of itself"),
            "{stderr}"
        );
        assert!(!lake.exists());
    }
    // `..` after a folder that does not exist still leads inside the input.
    let sneaky = dir.path().join("missing/../sample/lake");
    assert!(sneaky.to_str().unwrap().contains("missing/../sample"));
    let out = common::ingest_cli(&sample, &sneaky, dir.path(), &[]);
    common::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("evidence folders are never written to"));
    assert!(!sample.join("lake").exists());

    common::assert_exit(&common::ingest_cli(&sample, &lake, dir.path(), &[]), 0);
    let out = common::ingest_cli(&lake.join("cloudtrail"), &lake, dir.path(), &[]);
    common::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is inside the lake"));
}

/// A path with no CloudTrail log (mistyped, or a copy that lost its logs)
/// is named; when no input holds one, nothing useful was done: exit 2.
#[test]
fn inputs_without_logs_are_named_and_none_at_all_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("not-logs");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("readme.txt"), "hello").unwrap();
    let lake = dir.path().join("lake");
    let out = common::ingest_cli(&empty, &lake, dir.path(), &["--quiet"]);
    common::assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no CloudTrail log file in"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let sample = sample_copy(dir.path());
    let out = ctlake(
        &[
            "ingest",
            empty.to_str().unwrap(),
            sample.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
        ],
        dir.path(),
    );
    common::assert_exit(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: {}: holds no CloudTrail log file",
            empty.display()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("{}: holds no", sample.display())),
        "{stderr}"
    );
}

/// A selection that meets only a digest selected no log: the warning says
/// the selection matched nothing, not that the archive holds no logs.
#[test]
fn a_selection_meeting_only_a_digest_selected_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let account = "AWSLogs/111122223333";
    let archive = dir.path().join("archive");
    for part in ["CloudTrail/eu-west-1", "CloudTrail-Digest/us-east-1"] {
        copy_dir(
            &common::repo().join("sample-logs").join(account).join(part),
            &archive.join(account).join(part),
        );
    }
    let lake = dir.path().join("lake");
    let out = common::ingest_cli(&archive, &lake, dir.path(), &["--region", "us-east-1"]);
    common::assert_exit(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nothing there matches --account/--region/--start/--end"),
        "{stderr}"
    );
    assert!(!stderr.contains("holds no CloudTrail log file"), "{stderr}");
}

/// Digests collected apart from their logs are kept, and the run is no
/// failure: a note says the archive holds digests only.
#[test]
fn an_archive_of_digests_only_is_kept_for_verify() {
    let dir = tempfile::tempdir().unwrap();
    let part = "AWSLogs/111122223333/CloudTrail-Digest";
    let archive = dir.path().join("digests");
    copy_dir(
        &common::repo().join("sample-logs").join(part),
        &archive.join(part),
    );
    let lake = dir.path().join("lake");
    let out = common::ingest_cli(&archive, &lake, dir.path(), &[]);
    common::assert_exit(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds digest files only"), "{stderr}");
    assert!(!stderr.contains("nothing was ingested"), "{stderr}");
    let digests = common::query(&lake, "SELECT count(*) AS n FROM digests");
    assert_eq!(common::rows_as_json(&digests)[0]["n"], 1);
}

#[test]
fn status_reads_lakes_only() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    let out = ctlake(&["status", sample.to_str().unwrap()], dir.path());
    common::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a ctlake lake"));
    assert!(
        !dir.path().join("cache").exists(),
        "no cached lake is built"
    );
}

#[test]
fn a_report_nobody_reads_does_not_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_copy(dir.path());
    let lake = dir.path().join("lake");
    let mut child = common::ingest_command(&sample, &lake, dir.path(), &[])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(common::newest_report(&lake)["events_written"], 476);
}

/// Object keys and record values are the attacker's: where the report and
/// errors quote them, control characters are shown, not sent to the terminal.
#[test]
fn diagnostics_show_control_characters_rather_than_send_them() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let day = archive.join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10");
    write_gz(
        &day.join("evil\u{1b}]0;owned\u{7}\u{1b}[2J.json.gz"),
        b"not JSON",
    );
    write_gz(
        &day.join("good.json.gz"),
        format!(r#"{{"Records":[{}]}}"#, record(1)).as_bytes(),
    );
    let out = common::ingest_cli(&archive, &dir.path().join("lake"), dir.path(), &[]);
    common::assert_exit(&out, 1);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("evil\u{241b}]0;owned\u{2407}\u{241b}[2J.json.gz"),
        "{stderr}"
    );
    assert!(
        !stderr.chars().any(|c| c != '\n' && c.is_control()),
        "{stderr:?}"
    );
}

/// A `{"Records":[...]}` of events `ids` in 111122223333's folder layout.
fn events(ids: &[&str]) -> Vec<u8> {
    let records: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"eventVersion":"1.09","eventTime":"2024-03-10T10:00:00Z","eventName":"GetObject","awsRegion":"us-east-1","eventID":"{id}","recipientAccountId":"111122223333"}}"#
            )
        })
        .collect();
    format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes()
}

#[cfg(unix)]
#[test]
fn files_are_read_by_their_exact_names() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    // A backslash is part of a Unix name: `x\b.json.gz` is not `x/b.json.gz`.
    write_gz(&input.join("x/b.json.gz"), &events(&["slash-1", "slash-2"]));
    write_gz(
        &input.join("x\\b.json.gz"),
        &events(&["bs-1", "bs-2", "bs-3"]),
    );
    // A name that is not UTF-8 is named as failed, not read as its look-alike.
    write_gz(&input.join("a\u{FFFD}.json.gz"), &events(&["lookalike"]));
    write_gz(
        &input.join(OsStr::from_bytes(b"a\xff.json.gz")),
        &events(&["not-utf8"]),
    );
    std::os::unix::fs::symlink(dir.path().join("nowhere"), input.join("dangling.json.gz")).unwrap();
    let (lake, report) = common::ingest(std::slice::from_ref(&input), dir.path());
    let rows = common::rows_as_json(&common::query(
        &lake,
        "SELECT eventid, source_object FROM cloudtrail ORDER BY eventid",
    ));
    let stored: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            let object = r["source_object"].as_str().unwrap();
            let name = object.strip_prefix(input.to_str().unwrap()).unwrap();
            (r["eventid"].as_str().unwrap().to_owned(), name.to_owned())
        })
        .collect();
    let expected = [
        ("bs-1", "/x\\b.json.gz"),
        ("bs-2", "/x\\b.json.gz"),
        ("bs-3", "/x\\b.json.gz"),
        ("lookalike", "/a\u{FFFD}.json.gz"),
        ("slash-1", "/x/b.json.gz"),
        ("slash-2", "/x/b.json.gz"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(stored, expected);
    assert_eq!((report.records_read, report.duplicates), (6, 0));
    let mut failed: Vec<(String, String)> = report
        .failures
        .iter()
        .map(|f| (f.location.clone(), f.reason.clone()))
        .collect();
    failed.sort();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed[0].0.ends_with("/a\u{FFFD}.json.gz"), "{failed:?}");
    assert!(failed[0].1.contains("not valid UTF-8"), "{failed:?}");
    assert!(failed[1].0.ends_with("/dangling.json.gz"), "{failed:?}");
    // Every entry listed is read or failed, the dangling link too.
    assert_eq!((report.objects_listed, report.objects_read), (5, 3));
}

#[test]
fn skipped_objects_are_named_and_misplaced_logs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let name = "111122223333_CloudTrail_us-east-1_20240310T1000Z_0000000000000001.json.gz";
    // An account folder lost in a copy: the name still says what the file is.
    write_gz(
        &input
            .join("AWSLogs/CloudTrail/us-east-1/2024/03/10")
            .join(name),
        &events(&["misplaced"]),
    );
    write_gz(
        &input.join("AWSLogs/111122223333/Config/us-east-1/2024/3/10/111122223333_Config_us-east-1_ConfigHistory_x.json.gz"),
        br#"{"configurationItems":[]}"#,
    );
    std::fs::write(input.join("notes.txt"), b"chain of custody").unwrap();
    let (_, report) = common::ingest(std::slice::from_ref(&input), dir.path());
    assert_eq!((report.records_read, report.events_written), (1, 1));
    let mut skipped: Vec<(String, &str)> = report
        .skipped
        .iter()
        .map(|s| {
            let at = s.location.rfind('/').unwrap();
            (s.location[at + 1..].to_owned(), s.reason)
        })
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            (
                "111122223333_Config_us-east-1_ConfigHistory_x.json.gz".to_owned(),
                "in another service's folder under AWSLogs/, and not named as a CloudTrail file"
            ),
            ("notes.txt".to_owned(), "not a .json or .json.gz file"),
        ]
    );
    assert_eq!(report.objects_skipped, 2);
    assert!(
        report
            .to_string()
            .contains("notes.txt: not a .json or .json.gz file")
    );
}

#[cfg(unix)]
#[test]
fn a_file_reached_through_links_is_one_object_named_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_gz(&input.join("2024/a.json.gz"), &events(&["one"]));
    // A convenience link to the newest folder sorts both before and after it.
    std::os::unix::fs::symlink(input.join("2024"), input.join("0-latest")).unwrap();
    std::os::unix::fs::symlink(input.join("2024"), input.join("latest")).unwrap();
    std::fs::hard_link(input.join("2024/a.json.gz"), input.join("copy.json.gz")).unwrap();
    let (lake, report) = common::ingest(std::slice::from_ref(&input), dir.path());
    assert_eq!(
        (
            report.objects_listed,
            report.records_read,
            report.duplicates
        ),
        (1, 1, 0)
    );
    let rows = common::rows_as_json(&common::query(
        &lake,
        "SELECT source_object FROM cloudtrail",
    ));
    let real = std::fs::canonicalize(input.join("2024/a.json.gz")).unwrap();
    assert_eq!(rows[0]["source_object"], real.to_str().unwrap());
}

#[cfg(unix)]
#[test]
fn status_counts_objects_that_failed_when_last_tried() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let ids: Vec<String> = (0..400).map(|i| format!("big-{i:03}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    write_gz(&input.join("big.json.gz"), &events(&ids));
    std::os::unix::fs::symlink(dir.path().join("nowhere"), input.join("dangling.json.gz")).unwrap();
    let lake = dir.path().join("lake");
    let failed = || {
        let status = common::status(&lake, dir.path());
        (
            status["totals"]["objects_failed"].as_u64(),
            status["totals"]["events"].as_u64(),
        )
    };
    // Over the cap, then read in full: only the link, which no run could
    // list, still counts as failed.
    let out = common::ingest_cli(&input, &lake, dir.path(), &["--max-object-bytes", "20000"]);
    common::assert_exit(&out, 1);
    assert_eq!(failed(), (Some(2), Some(0)));
    let out = common::ingest_cli(&input, &lake, dir.path(), &[]);
    common::assert_exit(&out, 1);
    assert_eq!(failed(), (Some(1), Some(400)));
    // Two objects, each read by both runs.
    let status = common::status(&lake, dir.path());
    assert_eq!(status["totals"]["objects"], 2);
    assert_eq!(status["totals"]["object_reads"], 4);
}

/// A lake's files are written once. Files planted in a partition folder,
/// under any name, are read by nothing: not by queries, not by ingest when
/// it looks for copies. `status` names them, exits 1, and so does a
/// file changed or deleted since its run wrote it.
#[test]
fn files_no_run_wrote_are_read_by_nothing_and_status_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, other) = (dir.path().join("lake"), dir.path().join("other"));
    for (name, ids) in [("a", &["a-1", "a-2", "a-3"][..]), ("b", &["b-1"][..])] {
        write_gz(&dir.path().join(name).join("x.json.gz"), &events(ids));
    }
    let ingest = |input: &str, lake: &Path| {
        let out = common::ingest_cli(&dir.path().join(input), lake, dir.path(), &[]);
        common::assert_exit(&out, 0);
        let report = common::newest_report(lake);
        let file = report["files"][0].clone();
        (report, file["path"].as_str().unwrap().to_owned(), file)
    };
    let (first_run, first, first_file) = ingest("a", &lake);
    let (_, b_file, _) = ingest("b", &other);
    let count = || {
        common::rows_as_json(&common::query(
            &lake,
            "SELECT count(*) AS n FROM cloudtrail",
        ))[0]["n"]
            .as_u64()
    };
    let folder = Path::new(&first).parent().unwrap();
    let run = first_run["run_id"].as_str().unwrap();
    let planted = [
        folder.join("planted.parquet"),
        folder.join(format!("part-{run}-99999.parquet")),
    ];
    for path in &planted {
        std::fs::copy(other.join(&b_file), lake.join(path)).unwrap();
    }
    assert_eq!(count(), Some(3), "planted files are not read");
    let status = || common::status_exiting(&lake, dir.path(), 1);
    let found = status();
    assert_eq!(found["balanced"], true);
    let mut names: Vec<String> = planted.iter().map(|p| p.display().to_string()).collect();
    names.sort();
    assert_eq!(found["files"]["unwritten"], serde_json::json!(names));
    assert_eq!(
        found["problems"][0],
        format!(
            "{}: no ingest run wrote this file; queries do not read it",
            names[0]
        )
    );
    let out = ctlake(
        &["query", "--lake", lake.to_str().unwrap(), "-e", "SELECT 1"],
        dir.path(),
    );
    common::assert_exit(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(": 2 files that no run wrote; queries read none of them"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // b-1 is in a planted file of its partition, and is no copy.
    let (second_run, second, _) = ingest("b", &lake);
    assert_eq!(second_run["events_written"], 1);
    assert_eq!(second_run["duplicates"], 0);
    assert_eq!(count(), Some(4));
    for path in &planted {
        std::fs::remove_file(lake.join(path)).unwrap();
    }
    common::status(&lake, dir.path());

    // The second run's file put over the first's, and then deleted.
    std::fs::copy(lake.join(&second), lake.join(&first)).unwrap();
    assert_eq!(count(), Some(1), "a changed file is not read");
    let found = status();
    assert_eq!(found["balanced"], false, "4 events written, 1 stored");
    assert_eq!(
        found["files"]["resized"],
        serde_json::json!([{
            "path": first,
            "written_bytes": first_file["bytes"],
            "bytes": std::fs::metadata(lake.join(&second)).unwrap().len(),
        }])
    );
    std::fs::remove_file(lake.join(&first)).unwrap();
    assert_eq!(
        status()["files"]["missing"],
        serde_json::json!([{"path": first, "run_id": run}])
    );
}

#[test]
fn keys_given_twice_in_a_record_are_reported_and_both_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let record = r#"{"eventVersion":"1.09","eventTime":"2024-03-10T10:00:00Z","eventName":"GetObject","awsRegion":"us-east-1","eventID":"twice","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","userName":"alice","userName":"mallory"},"eventName":"DeleteTrail"}"#;
    write_gz(
        &input.join("a.json.gz"),
        format!(r#"{{"Records":[{record}]}}"#).as_bytes(),
    );
    let (lake, report) = common::ingest(std::slice::from_ref(&input), dir.path());
    let repeated: Vec<(&str, u64)> = report
        .repeated_keys
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    assert_eq!(repeated, [("eventName", 1), ("userIdentity.userName", 1)]);
    assert!(report.to_string().contains("keys given twice in a record"));
    let rows = common::rows_as_json(&common::query(
        &lake,
        "SELECT eventname, useridentity_username, extra FROM cloudtrail",
    ));
    assert_eq!(rows[0]["eventname"], "DeleteTrail");
    assert_eq!(rows[0]["useridentity_username"], "mallory");
    let extra: serde_json::Value =
        serde_json::from_str(rows[0]["extra"].as_str().unwrap()).unwrap();
    assert_eq!(extra["eventName"], "GetObject");
    assert_eq!(extra["userIdentity"]["userName"], "alice");
}

#[test]
fn utf16_text_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let text = String::from_utf8(events(&["wide"])).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    write_gz(&input.join("bom.json.gz"), &utf16);
    write_gz(&input.join("plain.json.gz"), &utf16[2..]);
    let (_, report) = common::ingest(std::slice::from_ref(&input), dir.path());
    assert_eq!(report.failures.len(), 2, "{report}");
    for failure in &report.failures {
        assert!(failure.reason.contains("the text is UTF-16"), "{failure:?}");
    }
}
