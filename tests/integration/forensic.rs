//! Bad input among good files: every record read is stored, a duplicate, or
//! rejected with its reason, and the totals reconcile exactly.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::common::{self, query, rows_as_json, write_gz};

/// The trail folder every test object is filed under.
const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10";

/// A well-formed record; `extra` is spliced in as further members.
fn rec(id: &str, extra: &str) -> String {
    format!(
        concat!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","#,
            r#""arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"}},"#,
            r#""eventTime":"2024-03-10T09:00:00Z","eventSource":"s3.amazonaws.com","#,
            r#""eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","#,
            r#""userAgent":"aws-cli/2","eventID":"{}","eventType":"AwsApiCall","#,
            r#""recipientAccountId":"111122223333"{}}}"#
        ),
        id, extra
    )
}

fn records(items: &[String]) -> String {
    format!(r#"{{"Records":[{}]}}"#, items.join(","))
}

fn put(archive: &Path, name: &str, text: &str) {
    write_gz(&archive.join(DAY).join(name), text.as_bytes());
}

/// Writes the archive; returns how many records of the truncated object
/// are complete before its cut.
fn bad_archive(archive: &Path) -> usize {
    let mut good: Vec<String> = (0..5).map(|i| rec(&format!("good-{i}"), "")).collect();
    // Whole numbers written as floats, as Insight thresholds are.
    good[0] = rec(
        "good-0",
        r#","requestParameters":{"threshold":70.0,"size":1e1,"zero":-0.0}"#,
    );
    // New fields of a future event version, at the top and in userIdentity.
    good[4] = good[4]
        .replacen(
            r#""accountId":"111122223333"}"#,
            r#""accountId":"111122223333","newThing":"x"}"#,
            1,
        )
        .replacen(
            r#""eventVersion":"1.08""#,
            r#""eventVersion":"1.08","brandNewField":1"#,
            1,
        );
    let good_text = records(&good);
    put(archive, "good.json.gz", &good_text);
    // A whole file delivered twice under another name.
    put(archive, "copy-of-good.json.gz", &good_text);

    let complete = write_truncated(archive);
    write_broken(archive);
    // Re-delivered: good-0 pretty-printed with its keys in another order
    // and its numbers spelled as a re-export spells them (a duplicate),
    // good-1 with other content (a conflict), and one action's copies for
    // two accounts (sharedEventID: two events).
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&good[0]).unwrap()).unwrap();
    let pretty = pretty
        .replace("70.0", "70")
        .replace("10.0", "1E+1")
        .replace("-0.0", "0");
    assert!(pretty.contains(r#""threshold": 70,"#), "{pretty}");
    let conflicting = rec("good-1", "").replace("GetObject", "DeleteObject");
    let shared = |account: &str| {
        rec("shared-1", r#","sharedEventID":"s-1""#).replace(
            r#""recipientAccountId":"111122223333""#,
            &format!(r#""recipientAccountId":"{account}""#),
        )
    };
    put(
        archive,
        "redelivered.json.gz",
        &records(&[
            pretty,
            conflicting,
            shared("111122223333"),
            shared("444455556666"),
        ]),
    );

    // 64 MiB of zeros in 1 KiB of gzip members: over the 16 MiB cap below.
    let member = gz(&vec![0u8; 1 << 20]);
    std::fs::write(archive.join(DAY).join("bomb.json.gz"), member.repeat(64)).unwrap();

    write_gz(
        &archive
            .join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/10/d-Digest.json.gz"),
        br#"{"digestStartTime":"2024-03-10T08:00:00Z","logFiles":[]}"#,
    );
    write_gz(
        &archive.join("AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/03/10/i.json.gz"),
        records(&[rec("insight-0", "").replace("AwsApiCall", "AwsCloudTrailInsight")]).as_bytes(),
    );
    complete
}

/// A truncated upload: the gzip stream stops part-way. Returns how many
/// of its records are complete before the cut, by an independent inflate.
fn write_truncated(archive: &Path) -> usize {
    let trunc: Vec<String> = (0..400)
        .map(|i| {
            rec(
                &format!("trunc-{i}"),
                &format!(r#","requestParameters":{{"key":"{:x}"}}"#, i * 7919 % 1013),
            )
        })
        .collect();
    let trunc_text = records(&trunc);
    let whole = gz(trunc_text.as_bytes());
    let cut = &whole[..whole.len() * 6 / 10];
    let path = archive.join(DAY).join("truncated.json.gz");
    std::fs::write(&path, cut).unwrap();
    let mut prefix = Vec::new();
    #[expect(
        clippy::disallowed_types,
        reason = "the oracle inflates on its own, not through the code under test"
    )]
    let mut inflate = flate2::read::MultiGzDecoder::new(cut);
    let _ = inflate.read_to_end(&mut prefix);
    let mut end = r#"{"Records":["#.len();
    let complete = trunc
        .iter()
        .take_while(|r| {
            end += r.len();
            let fits = end <= prefix.len();
            end += 1;
            fits
        })
        .count();
    assert!(
        complete > 0 && complete < 400,
        "cut keeps {complete} of 400 ({} of {} bytes)",
        prefix.len(),
        trunc_text.len()
    );

    complete
}

/// Objects and records that are broken, odd or extreme, one kind each.
fn write_broken(archive: &Path) {
    let not_gzip = records(&[rec("plain-0", "")]);
    std::fs::write(archive.join(DAY).join("not-gzip.json.gz"), &not_gzip).unwrap();
    std::fs::write(archive.join(DAY).join("empty.json.gz"), b"").unwrap();
    put(
        archive,
        "invalid.json.gz",
        &format!(
            r#"{{"Records":[{},{{"eventID":"inv-1" "eventTime":"x"}}]}}"#,
            rec("inv-0", "")
        ),
    );
    put(archive, "no-records.json.gz", r#"{"foo":[]}"#);
    put(
        archive,
        "odd-records.json.gz",
        &records(&[
            "1".to_owned(),
            r#""text""#.to_owned(),
            rec("odd-ok", ""),
            rec("odd-no-time", "").replace(r#""eventTime":"2024-03-10T09:00:00Z","#, ""),
            rec("", "").replace(r#""eventID":"","#, ""),
            rec("odd-bad-time", "").replace("2024-03-10T09:00:00Z", "soon"),
            rec("", "").replace(r#""eventID":"""#, r#""eventID":12345"#),
            rec("odd-far-time", "").replace("2024-03-10T09:00:00Z", "9999-12-31T23:59:59Z"),
        ]),
    );

    // One byte that is not UTF-8 in the middle record's userAgent.
    let text = records(&[rec("u0", ""), rec("u1", ""), rec("u2", "")]);
    let u1 = text.find(r#""eventID":"u1""#).unwrap();
    let agent = text[..u1].rfind("aws-cli/2").unwrap();
    let mut bytes = text.into_bytes();
    bytes[agent + 3] = 0xff;
    write_gz(&archive.join(DAY).join("non-utf8.json.gz"), &bytes);

    let deep = format!("{}1{}", r#"{"a":"#.repeat(1000), "}".repeat(1000));
    put(
        archive,
        "deep.json.gz",
        &records(&[rec("deep", &format!(r#","requestParameters":{deep}"#))]),
    );
    let blob = "x".repeat(5 << 20);
    put(
        archive,
        "big.json.gz",
        &records(&[rec(
            "big",
            &format!(r#","requestParameters":{{"blob":"{blob}"}}"#),
        )]),
    );
    put(
        archive,
        "keys.json.gz",
        &records(&[rec("keys", &format!(r#","requestParameters":{KEYS}"#))]),
    );
}

/// Keys that differ only in case or hold `/` and `.`: kept exactly.
const KEYS: &str = r#"{"Key":"upper","key":"lower","KEY":"all","a/b":"slash","a.b":"dot"}"#;

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn file_name(row: &Map<String, Value>) -> &str {
    row["source_object"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
}

#[test]
fn every_record_of_a_bad_archive_is_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let complete = bad_archive(&archive);
    let lake = dir.path().join("lake");
    let out = common::ingest_cli(&archive, &lake, dir.path(), &["--max-object-bytes", CAP]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let r = common::newest_report(&lake);
    let n = |key: &str| r[key].as_u64().unwrap() as usize;

    // good 5 + copy 5 + truncated prefix + invalid 1 + odd 8 + non-UTF-8 3
    // + deep, big, keys 3 + re-delivered 4 + insight 1.
    assert_eq!(n("records_read"), 30 + complete);
    assert_eq!(n("duplicates"), 6, "the copied file and the pretty copy");
    assert_eq!(
        n("records_rejected"),
        8,
        "7 odd records and the non-UTF-8 one"
    );
    assert_eq!(n("events_written"), 16 + complete);
    assert_eq!(
        n("records_read"),
        n("events_written") + n("duplicates") + n("records_rejected")
    );
    assert_eq!(n("digest_objects"), 1);
    assert_eq!(n("insight_objects"), 1);
    assert_eq!(r["new_fields"]["brandNewField"], 2);
    assert_eq!(r["new_fields"]["userIdentity.newThing"], 2);

    let failures = check_failures(&r, &stderr);
    check_rejected(&lake, &failures);
    check_rows(&lake, complete);
    check_evidence(&lake, &r);
    // The lake's own books agree.
    let status = common::status(&lake, dir.path());
    assert_eq!(status["balanced"], true);
    assert_eq!(
        status["totals"]["events"].as_u64().unwrap() as usize,
        16 + complete
    );
    assert_eq!(status["totals"]["rejected_object_rows"], 6);
}

/// Each failed object is in the report and the summary, naming itself.
fn check_failures(r: &Value, stderr: &str) -> Vec<(String, String)> {
    let failures: Vec<(String, String)> = r["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let location = f["location"].as_str().unwrap();
            (
                location.rsplit('/').next().unwrap().to_owned(),
                f["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let names: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "bomb.json.gz",
            "empty.json.gz",
            "invalid.json.gz",
            "no-records.json.gz",
            "not-gzip.json.gz",
            "truncated.json.gz"
        ]
    );
    for (name, reason) in &failures {
        assert!(reason.contains(name), "{reason} names its object");
        assert!(
            stderr.contains(reason.as_str()),
            "{reason} is in the summary"
        );
    }
    assert!(
        failures[0]
            .1
            .contains("limit of 16777216 bytes (see --max-object-bytes)"),
        "{}",
        failures[0].1
    );

    failures
}

/// Every rejected record and failed object is in the `rejected` table.
fn check_rejected(lake: &Path, failures: &[(String, String)]) {
    let rejected = rows_as_json(&query(
        lake,
        "SELECT * FROM rejected ORDER BY source_object, source_index",
    ));
    let summary: Vec<(String, Option<u64>, String)> = rejected
        .iter()
        .map(|row| {
            (
                file_name(row).to_owned(),
                row.get("source_index").and_then(Value::as_u64),
                row["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |name: &str, index: Option<u64>, reason: &str| {
        assert!(
            summary
                .iter()
                .any(|(n, i, r)| n == name && *i == index && r.contains(reason)),
            "{name}#{index:?} `{reason}` not in {summary:#?}"
        );
    };
    expect("odd-records.json.gz", Some(0), "not a JSON object");
    expect("odd-records.json.gz", Some(1), "not a JSON object");
    expect("odd-records.json.gz", Some(3), "no eventTime");
    expect("odd-records.json.gz", Some(4), "no eventID");
    expect("odd-records.json.gz", Some(5), "\"soon\" is not a time");
    expect(
        "odd-records.json.gz",
        Some(6),
        "eventID 12345 is not a string",
    );
    expect(
        "odd-records.json.gz",
        Some(7),
        "eventTime \"9999-12-31T23:59:59Z\" is outside the times the lake holds",
    );
    expect("non-utf8.json.gz", Some(1), "not valid UTF-8");
    for (name, _) in failures {
        expect(name, None, name);
    }
    assert_eq!(rejected.len(), 14);
    let raw = |name: &str, index: Option<u64>| {
        rejected
            .iter()
            .find(|row| {
                file_name(row) == name && row.get("source_index").and_then(Value::as_u64) == index
            })
            .and_then(|row| row.get("raw").and_then(Value::as_str).map(str::to_owned))
    };
    assert_eq!(
        raw("odd-records.json.gz", Some(1)).as_deref(),
        Some(r#""text""#)
    );
    assert!(
        raw("non-utf8.json.gz", Some(1))
            .unwrap()
            .contains('\u{fffd}')
    );
    assert_eq!(
        raw("not-gzip.json.gz", None).as_deref(),
        Some(not_gzip_text().as_str())
    );
    assert_eq!(raw("empty.json.gz", None).as_deref(), Some(""));
    assert!(
        raw("invalid.json.gz", None)
            .unwrap()
            .starts_with(r#",{"eventID":"inv-1""#)
    );
    assert!(
        raw("bomb.json.gz", None).is_none(),
        "a bomb's text is not kept"
    );
}

/// The truncated prefix is kept; deep, big and odd-keyed values are exact.
fn check_rows(lake: &Path, complete: usize) {
    let ids = rows_as_json(&query(
        lake,
        "SELECT eventid, count(*) AS n FROM cloudtrail GROUP BY eventid ORDER BY eventid",
    ));
    let count_of = |id: &str| {
        ids.iter()
            .find(|r| r["eventid"] == id)
            .map_or(0, |r| r["n"].as_u64().unwrap())
    };
    for i in 0..complete {
        assert_eq!(count_of(&format!("trunc-{i}")), 1);
    }
    assert_eq!(count_of(&format!("trunc-{complete}")), 0);
    for id in [
        "good-0",
        "good-2",
        "inv-0",
        "odd-ok",
        "u0",
        "u2",
        "deep",
        "big",
        "keys",
        "insight-0",
    ] {
        assert_eq!(count_of(id), 1, "{id}");
    }
    assert_eq!(count_of("good-1"), 2, "a conflict keeps both versions");
    assert_eq!(count_of("shared-1"), 2, "per-account copies are two events");
    let cell = |sql: &str| rows_as_json(&query(lake, sql)).remove(0);
    let deep = format!("{}1{}", r#"{"a":"#.repeat(1000), "}".repeat(1000));
    assert_eq!(
        cell("SELECT requestparameters AS p FROM cloudtrail WHERE eventid = 'deep'")["p"],
        deep.as_str()
    );
    assert_eq!(
        cell("SELECT length(requestparameters) AS n FROM cloudtrail WHERE eventid = 'big'")["n"],
        (5 << 20) + 11
    );
    assert_eq!(
        cell("SELECT requestparameters AS p FROM cloudtrail WHERE eventid = 'keys'")["p"],
        KEYS
    );
    // The record is also kept as delivered, byte for byte.
    assert_eq!(
        cell("SELECT eventjson AS j FROM cloudtrail WHERE eventid = 'keys'")["j"],
        rec("keys", &format!(r#","requestParameters":{KEYS}"#)).as_str()
    );
    let extra = cell("SELECT extra FROM cloudtrail WHERE eventid = 'good-4'");
    let extra: Value = serde_json::from_str(extra["extra"].as_str().unwrap()).unwrap();
    assert_eq!(extra["brandNewField"], 1);
    assert_eq!(extra["userIdentity"]["newThing"], "x");
}

/// Copies are on record where they were seen; the conflict is listed.
fn check_evidence(lake: &Path, r: &Value) {
    // Every place a copy was seen is on record: the stored row's object plus
    // the duplicates' (which copy is stored depends on read order). The
    // conflicting good-1 matches neither, so it is not among them.
    let evidence = rows_as_json(&query(
        lake,
        "SELECT eventid, source_object FROM cloudtrail WHERE eventid LIKE 'good-%' AND eventname = 'GetObject'
         UNION ALL SELECT eventid, source_object FROM duplicates
         ORDER BY eventid, source_object",
    ));
    let seen: Vec<(&str, &str)> = evidence
        .iter()
        .map(|d| (d["eventid"].as_str().unwrap(), file_name(d)))
        .collect();
    let mut expected = vec![("good-0", "redelivered.json.gz")];
    for id in ["good-0", "good-1", "good-2", "good-3", "good-4"] {
        expected.push((id, "copy-of-good.json.gz"));
        expected.push((id, "good.json.gz"));
    }
    expected.sort_unstable();
    assert_eq!(seen, expected);
    let conflicts = rows_as_json(&query(lake, "SELECT DISTINCT eventid FROM conflicts"));
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0]["eventid"], "good-1");
    assert_eq!(r["conflicts"].as_array().unwrap().len(), 1);
}

fn not_gzip_text() -> String {
    records(&[rec("plain-0", "")])
}

/// The size cap of these tests: under the 64 MiB bomb.
const CAP: &str = "16777216";

/// Runs ingest with the test cap, quietly; returns the exit code.
fn ingest(archive: &Path, lake: &Path, scratch: &Path) -> Option<i32> {
    common::ingest_cli(archive, lake, scratch, &["--max-object-bytes", CAP, "-q"])
        .status
        .code()
}

/// What must be equal between two ingests of one archive: the stored
/// events, every place each was seen, the rejects, and the books.
fn lake_contents(lake: &Path) -> Vec<Vec<Map<String, Value>>> {
    let mut out: Vec<_> = [
        "SELECT eventid, recipientaccountid, content_hash FROM cloudtrail
         ORDER BY eventid, recipientaccountid, content_hash",
        "SELECT eventid, content_hash, source_object, source_index FROM cloudtrail
         UNION ALL SELECT eventid, content_hash, source_object, source_index FROM duplicates
         ORDER BY eventid, content_hash, source_object, source_index",
        "SELECT source_object, source_index, scope, reason, raw, raw_bytes FROM rejected
         ORDER BY source_object, source_index",
        "SELECT eventid, recipientaccountid, content_hash FROM conflicts
         ORDER BY eventid, content_hash",
    ]
    .iter()
    .map(|sql| rows_as_json(&query(lake, sql)))
    .collect();
    let status = common::status(lake, lake.parent().unwrap());
    let Value::Object(mut totals) = status["totals"].clone() else {
        panic!("status has totals");
    };
    // Objects and their outcomes are counted once per run that read them.
    totals.retain(|k, _| !k.starts_with("objects"));
    out.push(vec![totals]);
    out
}

/// Moves the archive's objects whose names are in `names` to `to`, keeping
/// their paths relative to the archive.
fn move_objects(from: &Path, to: &Path, names: &[&str]) {
    let files: Vec<_> = walkdir::WalkDir::new(from)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file())
        .filter(|p| names.contains(&p.file_name().unwrap().to_str().unwrap()))
        .collect();
    for file in files {
        let dest = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::rename(&file, &dest).unwrap();
    }
}

#[test]
fn twice_or_in_halves_either_way_gives_the_same_lake() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    bad_archive(&archive);
    let once = dir.path().join("once");
    assert_eq!(ingest(&archive, &once, dir.path()), Some(1));
    let expected = lake_contents(&once);
    assert!(expected[0].len() > 20);

    // Twice: the second run reads nothing, the lake is unchanged.
    assert_eq!(ingest(&archive, &once, dir.path()), Some(0));
    assert_eq!(lake_contents(&once), expected);

    // Each half holds one copy of the re-delivered events, a failed object
    // and rejected records, so dedup and accounting cross the runs.
    let first = [
        "good.json.gz",
        "truncated.json.gz",
        "odd-records.json.gz",
        "deep.json.gz",
        "empty.json.gz",
        "d-Digest.json.gz",
    ];
    let second = [
        "copy-of-good.json.gz",
        "redelivered.json.gz",
        "non-utf8.json.gz",
        "invalid.json.gz",
        "big.json.gz",
        "keys.json.gz",
        "not-gzip.json.gz",
        "no-records.json.gz",
        "bomb.json.gz",
        "i.json.gz",
    ];
    for (name, held) in [("a-then-b", &second[..]), ("b-then-a", &first[..])] {
        let aside = dir.path().join(format!("aside-{name}"));
        move_objects(&archive, &aside, held);
        let lake = dir.path().join(name);
        ingest(&archive, &lake, dir.path());
        move_objects(&aside, &archive, held);
        ingest(&archive, &lake, dir.path());
        assert_eq!(lake_contents(&lake), expected, "{name}");
    }
}

#[test]
fn a_gzip_bomb_is_capped_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    // Two 1 GiB bombs of 1 MiB each, so both workers inflate one at once.
    let member = gz(&vec![0u8; 1 << 20]);
    for name in ["bomb-1.json.gz", "bomb-2.json.gz"] {
        std::fs::create_dir_all(archive.join(DAY)).unwrap();
        std::fs::write(archive.join(DAY).join(name), member.repeat(1024)).unwrap();
    }
    put(&archive, "good.json.gz", &records(&[rec("good-0", "")]));
    let lake = dir.path().join("lake");
    let cap: u64 = 64 << 20;
    let out = common::ingest_cli(
        &archive,
        &lake,
        dir.path(),
        &["--max-object-bytes", &cap.to_string(), "-j", "2"],
    );
    assert_eq!(out.status.code(), Some(1));
    let r = common::newest_report(&lake);
    assert_eq!(r["events_written"], 1);
    assert_eq!(r["failures"].as_array().unwrap().len(), 2);
    // The README's bound: 64 MiB + jobs × (cap + compressed object size).
    let bound = (64 << 20) + 2 * (cap + member.len() as u64 * 1024);
    let peak = r["peak_memory_bytes"]
        .as_u64()
        .expect("Linux reports VmHWM");
    eprintln!("peak memory {} MiB, bound {} MiB", peak >> 20, bound >> 20);
    assert!(peak < bound, "peak {peak} over the bound {bound}");
}

/// Copies are counted against the object they were read from, in the
/// manifest written while the run goes: objects are handed to the workers
/// in chunks, and here each copy is in another chunk than its original.
#[test]
fn each_object_in_the_manifest_counts_its_own_copies() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let (originals, per_object) = (150, 3);
    for i in 0..originals {
        let items: Vec<String> = (0..per_object)
            .map(|j| rec(&format!("copied-{i:03}-{j}"), ""))
            .collect();
        let text = records(&items);
        put(&archive, &format!("a-{i:03}.json.gz"), &text);
        // Sorted after every original: listed at least 64 objects later.
        put(&archive, &format!("z-{i:03}.json.gz"), &text);
    }
    let (lake, report) = common::ingest(&[archive], dir.path());
    assert_eq!(report.records_read, 2 * originals * per_object);
    assert_eq!(report.events_written, originals * per_object);
    assert_eq!(report.duplicates, originals * per_object);

    let rows = rows_as_json(&query(
        &lake,
        "SELECT location, records, written, duplicates FROM objects ORDER BY location",
    ));
    assert_eq!(rows.len() as u64, 2 * originals);
    let count = |row: &Map<String, Value>, key: &str| row[key].as_u64().unwrap();
    let name = |row: &Map<String, Value>| {
        let location = row["location"].as_str().unwrap();
        location.rsplit('/').next().unwrap().to_owned()
    };
    let (first, second) = rows.split_at(originals as usize);
    for (a, z) in first.iter().zip(second) {
        assert_eq!(name(a)[2..], name(z)[2..]);
        for row in [a, z] {
            assert_eq!(count(row, "records"), per_object);
            // An object's records are read and written together: all of
            // them are stored, or all are copies.
            assert!(
                matches!(
                    (count(row, "written"), count(row, "duplicates")),
                    (3, 0) | (0, 3)
                ),
                "{row:?}"
            );
        }
        assert_eq!(count(a, "written") + count(z, "written"), per_object);
    }
}

/// At most 64 partition files are open at once. A partition whose file was
/// closed to make room for others, and whose events come again later in
/// the run, gets a second file and still knows what its first holds: a copy
/// of an event in the closed file is a duplicate, whether that file was
/// still being closed or already published when the partition came back.
#[test]
fn a_partition_that_comes_back_after_its_file_closed_still_catches_copies() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let original = rec("comes-back-1", "");
    put(
        &archive,
        "a.json.gz",
        &records(std::slice::from_ref(&original)),
    );
    // 80 other partitions of 110 events: more than a batch of rows between
    // the first object and the last.
    let (others, per_other) = (80, 110);
    for i in 0..others {
        let items: Vec<String> = (0..per_other)
            .map(|j| {
                rec(&format!("other-{i:02}-{j:03}"), "").replace(
                    r#""recipientAccountId":"111122223333""#,
                    &format!(r#""recipientAccountId":"2000000000{i:02}""#),
                )
            })
            .collect();
        put(&archive, &format!("m-{i:02}.json.gz"), &records(&items));
    }
    put(
        &archive,
        "z.json.gz",
        &records(&[original, rec("comes-back-2", "")]),
    );

    // One worker: objects reach the writer in the order they are listed.
    let (lake, report) = common::ingest_with(&[archive], dir.path(), |options| options.jobs = 1);
    let others_written = (others * per_other) as u64;
    assert_eq!(report.records_read, others_written + 3);
    assert_eq!(report.events_written, others_written + 2);
    assert_eq!(report.duplicates, 1);
    let files_of = |account: &str| {
        report
            .files
            .iter()
            .filter(|f| f.path.contains(&format!("account={account}/")))
            .count()
    };
    assert_eq!(files_of("111122223333"), 2);
    assert_eq!(report.files.len(), others + 2);

    let rows = rows_as_json(&query(
        &lake,
        "SELECT eventid, count(*) AS n FROM cloudtrail WHERE account = '111122223333' \
         GROUP BY eventid ORDER BY eventid",
    ));
    let counted: Vec<(&str, u64)> = rows
        .iter()
        .map(|r| (r["eventid"].as_str().unwrap(), r["n"].as_u64().unwrap()))
        .collect();
    assert_eq!(counted, [("comes-back-1", 1), ("comes-back-2", 1)]);
    let total = rows_as_json(&query(&lake, "SELECT count(*) AS n FROM cloudtrail"));
    assert_eq!(total[0]["n"], others_written + 2);
}
