//! `ctlake query`: formats, exit status, identifier case, the embedded default.

use crate::common::{self, ctlake};

fn sample() -> String {
    common::repo().join("sample-logs").display().to_string()
}

#[test]
fn raw_archive_is_ingested_once_and_queried() {
    let dir = tempfile::tempdir().unwrap();
    let sql = "SELECT eventName, count(*) AS n FROM cloudtrail WHERE useridentity_type = 'AssumedRole' AND account <> '123456789012' GROUP BY 1 ORDER BY 1";
    let out = ctlake(
        &["query", "--lake", &sample(), "-e", sql, "--format", "csv"],
        dir.path(),
    );
    common::assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "eventName,n\nAuthorizeSecurityGroupIngress,1\nDescribeInstances,1\nGetObject,1\nPutRolePolicy,1\nRunInstances,1\n"
            .replace("eventName", "eventname")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("ingesting"));

    // Second run: the cached lake is reused, nothing is ingested again.
    let again = ctlake(
        &[
            "query",
            &sample(),
            "-e",
            // Saved queries often open with a comment: SQL, not an option.
            "-- how many\nSELECT count(*) AS n FROM cloudtrail",
            "--format",
            "ndjson",
        ],
        dir.path(),
    );
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        format!("{{\"n\":{}}}\n", common::SAMPLE_EVENTS)
    );
    assert!(!String::from_utf8_lossy(&again.stderr).contains("ingesting"));
}

/// Every query over a cached lake says what its archive lacked, not only
/// the one that built it: the gap is in each answer.
#[test]
fn a_cached_lake_repeats_what_could_not_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let day = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/11";
    common::copy_tree(
        &common::repo().join("sample-logs").join(day),
        &archive.join(day),
    );
    std::fs::write(
        archive
            .join(day)
            .join("111122223333_CloudTrail_eu-west-1_20240311T1015Z_broken0000000000.json.gz"),
        b"\x1f\x8b\x08\x00 not deflate",
    )
    .unwrap();
    let archive = archive.display().to_string();
    for run in ["first", "second"] {
        let out = ctlake(
            &[
                "query",
                &archive,
                "-e",
                "SELECT count(*) AS n FROM cloudtrail",
            ],
            dir.path(),
        );
        common::assert_exit(&out, 0);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "warning: not everything in {archive} could be ingested"
            )),
            "{run} run: {stderr}"
        );
        if run == "second" {
            assert!(!stderr.contains("is not a lake: ingesting"), "{stderr}");
            assert!(
                stderr.contains("1 objects not read completely, 0 records rejected"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn identifiers_resolve_in_any_case() {
    let dir = tempfile::tempdir().unwrap();
    let sql = "SELECT EVENTNAME, UserIdentity_Arn FROM CloudTrail WHERE eventName = 'StopLogging' AND \"Account\" = '111122223333'";
    let out = ctlake(
        &["query", &sample(), "-e", sql, "--format", "json"],
        dir.path(),
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "[{\"eventname\":\"StopLogging\",\"useridentity_arn\":\"arn:aws:sts::111122223333:federated-user/contractor\"}]\n"
    );
}

#[test]
fn sql_errors_exit_two_with_the_message_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = ctlake(
        &[
            "query",
            &sample(),
            "-e",
            "SELECT nosuchcolumn FROM cloudtrail",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuchcolumn"));
    // An error quoting the words "Broken pipe" is still an error: only
    // stdout's reader going away ends a run quietly.
    let out = ctlake(
        &[
            "query",
            &sample(),
            "-e",
            "SELECT CAST('Broken pipe' AS INT) AS x",
        ],
        dir.path(),
    );
    common::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Broken pipe"));
}

#[test]
fn sql_from_a_file_runs_every_statement() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.sql");
    let run = |format: &str| {
        let out = ctlake(
            &[
                "query",
                &sample(),
                "-f",
                file.to_str().unwrap(),
                "--format",
                format,
            ],
            dir.path(),
        );
        common::assert_exit(&out, 0);
        String::from_utf8(out.stdout).unwrap()
    };
    std::fs::write(&file, "-- two statements\nSELECT 1 AS a;\nSELECT count(*) AS n FROM cloudtrail WHERE eventcategory = 'Insight';\n").unwrap();
    assert_eq!(run("csv"), "a\n1\nn\n2\n");

    // Saved with a byte-order mark, a view defined first: the json output is
    // the one query's array, nothing for the statement without columns.
    std::fs::write(
        &file,
        "\u{feff}CREATE VIEW case_events AS SELECT * FROM cloudtrail WHERE eventcategory = 'Insight';\n\
         SELECT count(*) AS n FROM case_events;\n",
    )
    .unwrap();
    assert_eq!(run("json"), "[{\"n\":2}]\n");
}

#[test]
fn missing_lake_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = ctlake(
        &["query", "--lake", "/nonexistent/lake", "-e", "SELECT 1"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/lake: no such lake or archive")
    );
}

#[test]
fn the_lake_is_read_only_but_results_can_be_exported() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, _) = common::ingest(&[common::repo().join("sample-logs")], dir.path());
    let lake_arg = lake.to_str().unwrap();
    let files = || -> Vec<_> {
        walkdir::WalkDir::new(&lake)
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .collect()
    };
    let name = lake.file_name().unwrap().to_str().unwrap();
    std::os::unix::fs::symlink(&lake, dir.path().join("link")).unwrap();
    std::fs::create_dir(dir.path().join("work")).unwrap();
    let before = files();
    let inside = lake.join("cloudtrail/export.csv");
    // The lake given through `..` or a link, and targets that reach it
    // through a missing folder's `..` or through the link.
    let through_parent = format!("../{name}");
    for (lake_arg, sql) in [
        (
            lake_arg,
            "INSERT INTO cloudtrail SELECT * FROM cloudtrail".to_owned(),
        ),
        (
            lake_arg,
            "DELETE FROM cloudtrail WHERE eventname = 'StopLogging'".to_owned(),
        ),
        (lake_arg, "DROP TABLE cloudtrail".to_owned()),
        (
            lake_arg,
            format!("COPY (SELECT 1) TO '{}'", inside.display()),
        ),
        (
            lake_arg,
            format!(
                "CREATE EXTERNAL TABLE copy STORED AS PARQUET LOCATION '{}/cloudtrail/'",
                lake.display()
            ),
        ),
        (
            &through_parent,
            format!("COPY (SELECT 1) TO 'missing/../../{name}/cloudtrail/a.csv'"),
        ),
        (
            &through_parent,
            "COPY (SELECT 1) TO '../link/b.csv'".to_owned(),
        ),
        (
            "../link",
            format!("COPY (SELECT 1) TO '{}'", inside.display()),
        ),
        (
            lake_arg,
            format!(
                "COPY (SELECT 1) TO 'file://{}/c.csv'",
                dir.path().join("link").display()
            ),
        ),
    ] {
        let out = common::command(&["query", lake_arg, "-e", &sql], dir.path())
            .current_dir(dir.path().join("work"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sql}: {stderr}");
        assert!(
            stderr.contains("refused") && stderr.contains("--allow-write"),
            "{sql}: {stderr}"
        );
    }
    assert_eq!(files(), before, "the lake is unchanged");

    // Exporting results outside the lake is ordinary work.
    let export = dir.path().join("stoplogging.csv");
    let sql = format!(
        "COPY (SELECT eventName, userIdentity.arn FROM cloudtrail WHERE eventName = 'StopLogging' ORDER BY eventTime) TO '{}' STORED AS CSV",
        export.display()
    );
    let out = ctlake(&["query", lake_arg, "-e", &sql], dir.path());
    common::assert_exit(&out, 0);
    assert_eq!(
        std::fs::read_to_string(&export).unwrap(),
        "eventname,arn\nStopLogging,arn:aws:iam::123456789012:user/mallory\nStopLogging,arn:aws:sts::111122223333:federated-user/contractor\n"
    );
}

/// What `json_get` and `->` return (a union of JSON types) and nested columns
/// print as JSON values in the JSON formats, and as text a CSV reader can parse.
#[test]
fn json_values_and_nested_columns_print_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let sql = "SELECT requestparameters->'groupId' AS grp, \
               json_get(requestparameters, 'ipPermissions', 'items', 0, 'fromPort') AS port, \
               json_get(requestparameters, 'ipPermissions', 'items', 0, 'ipRanges') AS ranges, \
               json_get(requestparameters, 'nothing') AS missing, \
               named_struct('type', useridentity_type, 'regions', [awsregion, NULL]) AS who \
               FROM cloudtrail WHERE eventid = '00000000-0000-4000-8000-000000000019'";
    let print = |format: &str| {
        let out = ctlake(
            &["query", &sample(), "-e", sql, "--format", format],
            dir.path(),
        );
        common::assert_exit(&out, 0);
        String::from_utf8(out.stdout).unwrap()
    };
    let row = r#"{"grp":"sg-0123456789abcdef0","port":22,"ranges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"missing":null,"who":{"type":"AssumedRole","regions":["us-east-1",null]}}"#;
    assert_eq!(print("ndjson"), format!("{row}\n"));
    assert_eq!(print("json"), format!("[{row}]\n"));
    assert_eq!(
        print("csv"),
        "grp,port,ranges,missing,who\n\
         sg-0123456789abcdef0,22,\"{\"\"items\"\":[{\"\"cidrIp\"\":\"\"0.0.0.0/0\"\"}]}\",,\
         \"{\"\"type\"\":\"\"AssumedRole\"\",\"\"regions\"\":[\"\"us-east-1\"\",null]}\"\n"
    );
    let table = print("table");
    assert!(
        table.contains(
            r#"| sg-0123456789abcdef0 | 22   | {"items":[{"cidrIp":"0.0.0.0/0"}]} | NULL    |"#
        ),
        "{table}"
    );
}

/// A folder with no logs, or a folder inside a lake, is an error, not an
/// empty answer a script would take for "no such activity".
#[test]
fn a_folder_without_logs_is_an_error_not_an_empty_answer() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not a log").unwrap();
    let count = |path: &std::path::Path| {
        ctlake(
            &[
                "query",
                path.to_str().unwrap(),
                "-e",
                "SELECT count(*) AS n FROM cloudtrail",
            ],
            dir.path(),
        )
    };
    let out = count(&empty);
    common::assert_exit(&out, 2);
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{} holds no CloudTrail log that could be read (1 objects listed: 1 skipped as not \
             CloudTrail logs, 0 digest, 0 outside the selection, 0 failed); nothing to query",
            empty.display()
        )),
        "{stderr}"
    );
    // Nothing is cached for it: logs copied in later are read.
    common::copy_tree(&common::repo().join("sample-logs"), &empty);
    let out = count(&empty);
    common::assert_exit(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("| {} ", common::SAMPLE_EVENTS))
    );

    let (lake, _) = common::ingest(&[common::repo().join("sample-logs")], dir.path());
    for inside in [lake.join("cloudtrail"), lake.join("_ctlake")] {
        let out = count(&inside);
        common::assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "{} is inside the lake {}: give the lake's own folder",
                inside.display(),
                lake.display()
            )),
            "{stderr}"
        );
    }
}

/// `--memory-limit`: a group-by larger than the limit spills and still gives
/// the exact answer; what cannot spill fails with the limit named; without
/// the flag memory is unbounded.
#[test]
fn memory_limit_spills_or_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let groups = "SELECT count(*) AS n, max(k) AS top FROM (SELECT value % 1000003 AS k, count(*) AS c FROM range(0, 3000000) GROUP BY k)";
    let out = ctlake(
        &[
            "query",
            &sample(),
            "--memory-limit",
            "80MiB",
            "-e",
            groups,
            "--format",
            "csv",
        ],
        dir.path(),
    );
    common::assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "n,top\n1000003,1000002\n"
    );
    let explained = ctlake(
        &[
            "query",
            &sample(),
            "--memory-limit",
            "80MiB",
            "-e",
            &format!("EXPLAIN ANALYZE {groups}"),
        ],
        dir.path(),
    );
    common::assert_exit(&explained, 0);
    let plan = String::from_utf8(explained.stdout).unwrap();
    let spills: Vec<u64> = plan
        .split("spill_count=")
        .skip(1)
        .map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        spills.iter().any(|&n| n > 0),
        "the group-by spilled: {plan}"
    );

    let whole = "SELECT cardinality(array_agg(value)) AS n FROM range(0, 16000000)";
    let out = common::command(
        &["query", &sample(), "-e", whole, "--format", "csv"],
        dir.path(),
    )
    .env("CTLAKE_MEMORY_LIMIT", "80MiB")
    .output()
    .unwrap();
    common::assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the query needs more memory than its limit allows (raise --memory-limit"),
        "{stderr}"
    );
    assert!(stderr.contains("Resources exhausted"), "{stderr}");
    assert!(stderr.contains("pool_size: 80.0 MB"), "{stderr}");
    let out = ctlake(
        &["query", &sample(), "-e", whole, "--format", "csv"],
        dir.path(),
    );
    common::assert_exit(&out, 0);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n\n16000000\n");

    let out = ctlake(
        &[
            "query",
            &sample(),
            "--memory-limit",
            "1MiB",
            "-e",
            "SELECT 1",
        ],
        dir.path(),
    );
    common::assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("1MiB is below the least a query can run in (64.0 MiB)")
    );
}

/// CSV rows go out as they are computed: a reader sees the first rows of an
/// answer too large to hold, and `| head` ending the pipe ends ctlake with
/// status 0.
#[test]
fn results_stream_to_a_reader_that_stops_early() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = common::command(
        &[
            "query",
            &sample(),
            "--format",
            "csv",
            "-e",
            "SELECT value FROM range(0, 1000000000000)",
        ],
        dir.path(),
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let first: Vec<String> = std::io::BufReader::new(stdout)
            .lines()
            .take(3)
            .map(Result::unwrap)
            .collect();
        send.send(first).unwrap();
    });
    let Ok(first) = lines.recv_timeout(std::time::Duration::from_mins(2)) else {
        child.kill().unwrap();
        panic!("no rows came before the query finished");
    };
    assert_eq!(first, ["value", "0", "1"]);
    let out = child.wait_with_output().unwrap();
    common::assert_exit(&out, 0);
}
