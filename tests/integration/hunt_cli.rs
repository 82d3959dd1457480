//! `ctlake hunt`: selection, parameters, windows, output shapes, exit codes.

use serde_json::Value;

use crate::common::{self, ctlake};

fn sample() -> String {
    common::repo().join("sample-logs").display().to_string()
}

fn hunt(args: &[&str], scratch: &std::path::Path) -> std::process::Output {
    let lake = sample();
    let mut all = vec!["hunt", "--lake", lake.as_str()];
    all.extend_from_slice(args);
    ctlake(&all, scratch)
}

#[test]
fn findings_exit_1_none_exit_0_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = hunt(&["CT-DE-001", "--format", "json"], dir.path());
    common::assert_exit(&out, 1);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hunts = doc["hunts"].as_array().unwrap();
    assert_eq!(hunts.len(), 1);
    assert_eq!(hunts[0]["hunt_id"], "CT-DE-001");
    assert_eq!(hunts[0]["techniques"][0], "T1562.008");
    let findings = hunts[0]["findings"].as_array().unwrap();
    let ids: Vec<&str> = findings
        .iter()
        .map(|f| f["eventid"].as_str().unwrap())
        .collect();
    // The incident account's tampering, then the sample trail's StopLogging.
    assert_eq!(
        ids,
        [
            "00000030-0000-4000-8000-000000000005",
            "00000030-0000-4000-8000-000000000006",
            "00000030-0000-4000-8000-000000000007",
            "00000030-0000-4000-8000-000000000008",
            "00000000-0000-4000-8000-000000000009"
        ]
    );
    for column in ctlake_hunt::FINDING_COLUMNS {
        assert!(
            findings[0].get(*column).is_some(),
            "{column} in {}",
            findings[0]
        );
    }
    assert_eq!(doc["total_findings"], 5);
    // The same lake gives the same document.
    let again = hunt(&["CT-DE-001", "--format", "json"], dir.path());
    assert_eq!(again.stdout, out.stdout);

    // Both principals on the allow-list: nothing to report.
    let out = hunt(
        &[
            "CT-DE-001",
            "--param",
            "allow_principals=arn:aws:sts::111122223333:federated-user/contractor,arn:aws:iam::123456789012:user/mallory",
        ],
        dir.path(),
    );
    common::assert_exit(&out, 0);
    assert!(out.stdout.is_empty());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("looked at nothing"),
        "the window holds events"
    );

    // A window before the event: nothing either.
    let out = hunt(&["defense-evasion", "--end", "2024-03-09"], dir.path());
    common::assert_exit(&out, 0);

    // Errors: an unknown hunt, an unknown parameter, a hunt whose SQL fails.
    let out = hunt(&["no-such-hunt"], dir.path());
    common::assert_exit(&out, 2);
    let out = hunt(&["CT-DE-001", "--param", "colour=red"], dir.path());
    common::assert_exit(&out, 2);
    let broken = dir.path().join("broken.sql");
    std::fs::write(
        &broken,
        "/* hunt\nid = \"X-1\"\ntitle = \"t\"\ndescription = \"d\"\ntactics = []\ntechniques = []\nseverity = \"low\"\n*/\nSELECT nope FROM cloudtrail",
    )
    .unwrap();
    let out = hunt(&[broken.to_str().unwrap(), "CT-DE-001"], dir.path());
    common::assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hunt X-1"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("CT-DE-001"),
        "the other hunt still ran"
    );
}

/// No findings over a window without events says so, with where the
/// lake's events lie: `--since 7d` over last year's archive is a trap.
#[test]
fn a_window_without_events_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let out = hunt(
        &["--start", "2025-01-01", "--end", "2025-01-02"],
        dir.path(),
    );
    common::assert_exit(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "warning: the lake holds no events from 2025-01-01 00:00:00 UTC until before 2025-01-03 00:00:00 UTC: the hunts looked at nothing (its events run from 2024-03-01 00:30:00 UTC to 2024-03-11 10:07:00 UTC"
        ),
        "{stderr}"
    );
}

#[test]
fn user_hunts_and_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("my-hunts");
    std::fs::create_dir_all(&mine).unwrap();
    // Saved with a byte-order mark, as editors on Windows do.
    std::fs::write(
        mine.join("root.sql"),
        String::from("\u{feff}")
            + r#"/* hunt
id = "MY-001"
title = "Root used"
description = "Any call made as the root user."
tactics = ["TA0004"]
techniques = ["T1078.004"]
severity = "high"
tags = ["mine"]
*/
SELECT eventtime, eventid, eventname, useridentity_arn AS principal, sourceipaddress,
       useragent, recipientaccountid AS account, awsregion AS region, source_object,
       'root user' AS reason
FROM cloudtrail
WHERE useridentity_type = 'Root' AND eventtime >= {{start}} AND eventtime < {{end}}
"#,
    )
    .unwrap();
    let list = |format: &str| {
        let out = ctlake(
            &[
                "hunt",
                "--list",
                "--hunts",
                mine.to_str().unwrap(),
                "--format",
                format,
            ],
            dir.path(),
        );
        common::assert_exit(&out, 0);
        out.stdout
    };
    let ids: Vec<String> = String::from_utf8_lossy(&list("ndjson"))
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        ids.contains(&"MY-001".to_owned()) && ids.contains(&"CT-DE-001".to_owned()),
        "{ids:?}"
    );
    // json is one document of the same entries, as a script's json.load reads it.
    let listed: Vec<Value> = serde_json::from_slice(&list("json")).unwrap();
    let json_ids: Vec<&str> = listed.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(json_ids, ids);

    let lake = sample();
    let out = ctlake(
        &[
            "hunt",
            "mine",
            "--lake",
            &lake,
            "--hunts",
            mine.to_str().unwrap(),
            "--format",
            "csv",
        ],
        dir.path(),
    );
    common::assert_exit(&out, 1);
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "hunt_id,severity,techniques,eventtime,eventid,eventname,principal,sourceipaddress,useragent,account,region,source_object,reason"
    );
    assert_eq!(
        lines.count(),
        4,
        "sample-logs has four root events: one in the sample trail, three in CT-PE-001's scenario"
    );
}

#[test]
fn findings_of_one_event_id_and_time_print_in_one_order() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let root_call = r#"{"eventVersion":"1.08","eventTime":"2024-03-10T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","eventID":"same-id","recipientAccountId":"111122223333","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root"}}"#;
    // Two deliveries of one eventID with other content: both are stored, in
    // the order they are read, which is not the order of their other columns.
    for (name, ip) in [("a.json.gz", "198.51.100.2"), ("b.json.gz", "198.51.100.1")] {
        let record = root_call.replace(
            r#""awsRegion""#,
            &format!(r#""sourceIPAddress":"{ip}","awsRegion""#),
        );
        common::write_gz(
            &archive.join(name),
            format!(r#"{{"Records":[{record}]}}"#).as_bytes(),
        );
    }
    let lake = dir.path().join("lake");
    common::assert_exit(&common::ingest_cli(&archive, &lake, dir.path(), &["-q"]), 0);
    let lake = lake.display().to_string();
    let out = ctlake(
        &["hunt", "--lake", &lake, "CT-PE-001", "--format", "ndjson"],
        dir.path(),
    );
    common::assert_exit(&out, 1);
    let ips: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["sourceipaddress"].to_string())
        .collect();
    assert_eq!(ips, [r#""198.51.100.1""#, r#""198.51.100.2""#]);
}

#[test]
fn findings_exit_1_when_the_reader_stops_early() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample();
    let mut child = common::command(
        &["hunt", "--lake", &lake, "CT-DE-001", "--format", "ndjson"],
        dir.path(),
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

fn listed(args: &[&str], scratch: &std::path::Path) -> Vec<Value> {
    let mut all = vec!["hunt", "--list", "--format", "json"];
    all.extend_from_slice(args);
    let out = ctlake(&all, scratch);
    common::assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Selectors add up whatever they overlap, in any order; a technique names
/// its sub-techniques; `--list` shows what the selectors pick.
#[test]
fn selectors_overlap_and_name_sub_techniques() {
    let dir = tempfile::tempdir().unwrap();
    let ids = |hunts: &[Value]| -> Vec<String> {
        hunts
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let one_way = ids(&listed(&["T1562.008", "defense-evasion"], dir.path()));
    let other_way = ids(&listed(&["defense-evasion", "T1562.008"], dir.path()));
    assert_eq!(one_way, other_way);
    assert_eq!(
        ids(&listed(&["CT-DE-001", "CT-DE-001"], dir.path())),
        ["CT-DE-001"]
    );

    let parent = listed(&["T1562"], dir.path());
    let techniques = |h: &Value| -> Vec<String> {
        h["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    };
    let exact = parent
        .iter()
        .filter(|h| techniques(h).iter().any(|t| t == "T1562"))
        .count();
    assert!(parent.len() > exact, "T1562 picks its sub-techniques too");
    assert!(ids(&parent).contains(&"CT-DE-001".to_owned()));
    for hunt in &parent {
        assert!(
            techniques(hunt)
                .iter()
                .any(|t| t == "T1562" || t.starts_with("T1562.")),
            "{hunt}"
        );
    }
    // A prefix that is not a whole technique id names nothing.
    let out = ctlake(&["hunt", "--list", "T156"], dir.path());
    common::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains(r#"no hunt matches "T156""#));
    let out = ctlake(&["hunt", "--list", "missing.sql"], dir.path());
    common::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.sql: No such file"));
}

/// A hunt file that cannot be used fails alone: the other hunts run and
/// print, the file is named among the errors, and the run exits 2. A
/// `--hunts` folder that is not there is an error, not an empty folder.
#[test]
fn a_bad_hunt_file_fails_alone_and_a_missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("my-hunts");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("broken.sql"), "SELECT 1").unwrap();
    let mine = mine.to_str().unwrap();
    let out = hunt(
        &["CT-DE-001", "--hunts", mine, "--format", "json"],
        dir.path(),
    );
    common::assert_exit(&out, 2);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["hunts"][0]["hunt_id"], "CT-DE-001");
    assert_eq!(doc["hunts"][0]["findings"].as_array().unwrap().len(), 5);
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["hunt_id"], Value::Null);
    assert!(
        errors[0]["error"].as_str().unwrap().contains("broken.sql"),
        "{errors:?}"
    );
    let out = ctlake(&["hunt", "--list", "--hunts", mine], dir.path());
    common::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stdout).contains("CT-DE-001"));
    // Asked for by its id, the hunt of the broken file is said to be there
    // and unusable, not merely not found.
    let out = hunt(&["MY-001", "--hunts", mine], dir.path());
    common::assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"no hunt matches "MY-001""#)
            && stderr.contains("these hunt files could not be used")
            && stderr.contains("broken.sql"),
        "{stderr}"
    );

    let missing = dir.path().join("no-such-folder");
    let out = ctlake(
        &["hunt", "--list", "--hunts", missing.to_str().unwrap()],
        dir.path(),
    );
    common::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-folder: No such file"));

    let out = hunt(
        &[
            "CT-DE-001",
            "--param",
            "allow_principals=a",
            "--param",
            "allow_principals=b",
        ],
        dir.path(),
    );
    common::assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--param allow_principals is given twice")
    );
}

/// Hunts look at all of the lake unless told otherwise, 1969 and 2201
/// included (a window once ended at 2200 and began at 1970), and a window
/// reaching past the times they look at stands for their ends.
#[test]
fn windows_reach_all_of_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir
        .path()
        .join("archive/AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/10");
    std::fs::create_dir_all(&folder).unwrap();
    let stop = |id: &str, time: &str| {
        serde_json::json!({
            "eventVersion": "1.08", "eventTime": time, "eventID": id,
            "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
            "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9",
            "userAgent": "aws-cli", "recipientAccountId": "123456789012",
            "requestParameters": {"name": "main"},
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/eve"},
        })
    };
    let records = serde_json::json!({"Records": [
        stop("00000000-0000-4000-8000-000000000001", "1969-12-31T23:00:00Z"),
        stop("00000000-0000-4000-8000-000000000002", "2024-03-10T01:00:00Z"),
        stop("00000000-0000-4000-8000-000000000003", "2201-01-01T00:00:00Z"),
    ]});
    common::write_gz(
        &folder.join("123456789012_CloudTrail_us-east-1_20240310T0105Z_abc.json.gz"),
        records.to_string().as_bytes(),
    );
    let lake = dir.path().join("lake");
    common::assert_exit(
        &common::ingest_cli(&dir.path().join("archive"), &lake, dir.path(), &[]),
        0,
    );
    let lake = lake.to_str().unwrap();
    let found = |window: &[&str]| {
        let mut args = vec!["hunt", "CT-DE-001", "--lake", lake, "--format", "ndjson"];
        args.extend_from_slice(window);
        let out = ctlake(&args, dir.path());
        common::assert_exit(&out, 1);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["eventtime"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    let all = [
        "1969-12-31T23:00:00Z",
        "2024-03-10T01:00:00Z",
        "2201-01-01T00:00:00Z",
    ];
    assert_eq!(found(&[]), all);
    assert_eq!(
        found(&["--start", "1500-01-01", "--end", "2300-01-01"]),
        all
    );
    assert_eq!(found(&["--since", "100000000d"])[..2], all[..2]);

    let out = ctlake(
        &[
            "hunt",
            "CT-DE-001",
            "--lake",
            lake,
            "--start",
            "2024-03-11",
            "--end",
            "2024-03-10",
        ],
        dir.path(),
    );
    common::assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--start 2024-03-11 --end 2024-03-10: the window ends before it starts"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A hunt may add columns of its own, but not one named as the hunt's own
/// fields that ndjson prints beside them in each line.
#[test]
fn a_column_may_not_take_a_hunt_field_name() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("my-hunts");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("sev.sql"),
        r#"/* hunt
id = "MY-002"
title = "Errors"
description = "Calls that failed."
tactics = ["TA0007"]
techniques = ["T1526"]
severity = "low"
*/
SELECT eventtime, eventid, eventname, useridentity_arn AS principal, sourceipaddress,
       useragent, recipientaccountid AS account, awsregion AS region, source_object,
       'failed' AS reason, errorcode, 'x' AS severity
FROM cloudtrail
WHERE errorcode IS NOT NULL AND eventtime >= {{start}} AND eventtime < {{end}}
"#,
    )
    .unwrap();
    let out = hunt(
        &[
            "MY-002",
            "--hunts",
            mine.to_str().unwrap(),
            "--format",
            "ndjson",
        ],
        dir.path(),
    );
    common::assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("hunt MY-002: the query returns a column severity"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
