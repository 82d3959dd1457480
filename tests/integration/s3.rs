//! S3 as source and lake, against a real S3-compatible server (moto) over
//! HTTP on loopback, with a recording, fault-injecting proxy in between.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{query, rows_as_json, write_gz};
use crate::s3_server::{Fault, Proxy, Seen, moto};

const PLAIN: &str = "111122223333";
const ORG: &str = "o-a1b2c3d4e5";
const MEMBER: &str = "444455556666";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const DAYS: [u32; 3] = [10, 11, 12];
/// Log files per account, region and day, and events per file.
const FILES: usize = 2;
const EVENTS: usize = 3;

/// Writes the test archive: 2 accounts × 2 regions × 3 days of log files
/// (the second account in an organization-trail tree), a digest per account
/// and region and day, one Insight file, and another service's file.
/// Returns the number of CloudTrail events (log and insight).
fn write_archive(root: &Path) -> usize {
    let mut events = 0;
    for (account, tree) in [(PLAIN, String::new()), (MEMBER, format!("{ORG}/"))] {
        for region in REGIONS {
            for day in DAYS {
                let folder =
                    format!("AWSLogs/{tree}{account}/CloudTrail/{region}/2024/03/{day:02}");
                for file in 0..FILES {
                    let records: Vec<Value> = (0..EVENTS)
                        .map(|i| {
                            let n = events + file * EVENTS + i;
                            json!({
                                "eventVersion": "1.09",
                                "eventTime": format!("2024-03-{day:02}T0{file}:1{i}:00Z"),
                                "eventSource": "s3.amazonaws.com",
                                "eventName": if i == 0 { "GetObject" } else { "ListBuckets" },
                                "awsRegion": region,
                                "sourceIPAddress": format!("198.51.100.{}", n % 250),
                                "userIdentity": {"type": "IAMUser", "accountId": account,
                                    "arn": format!("arn:aws:iam::{account}:user/u{i}")},
                                "requestParameters": {"bucketName": format!("b{n}")},
                                "eventID": format!("{account}-{region}-{day}-{file}-{i}"),
                                "recipientAccountId": account,
                                "eventType": "AwsApiCall"
                            })
                        })
                        .collect();
                    let name = format!(
                        "{account}_CloudTrail_{region}_202403{day:02}T0{file}05Z_f{file}.json.gz"
                    );
                    write_gz(
                        &root.join(&folder).join(name),
                        json!({ "Records": records }).to_string().as_bytes(),
                    );
                }
                events += FILES * EVENTS;
                let digest = format!(
                    "AWSLogs/{tree}{account}/CloudTrail-Digest/{region}/2024/03/{day:02}/{account}_CloudTrail-Digest_{region}_t_{region}_202403{day:02}T010000Z.json.gz"
                );
                write_gz(&root.join(digest), br#"{"digestStartTime":"x"}"#);
            }
        }
    }
    let insight = format!(
        "AWSLogs/{PLAIN}/CloudTrail-Insight/us-east-1/2024/03/11/{PLAIN}_CloudTrail-Insight_us-east-1_20240311T0100Z_i.json.gz"
    );
    let record = json!({"eventVersion": "1.07", "eventTime": "2024-03-11T01:00:00Z",
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "awsRegion": "us-east-1",
        "eventID": "insight-1", "eventType": "AwsCloudTrailInsight", "eventCategory": "Insight",
        "recipientAccountId": PLAIN, "insightDetails": {"state": "Start"}});
    write_gz(
        &root.join(insight),
        json!({ "Records": [record] }).to_string().as_bytes(),
    );
    write_gz(
        &root.join(format!(
            "AWSLogs/{PLAIN}/Config/us-east-1/2024/03/10/config.json.gz"
        )),
        b"{}",
    );
    events + 1
}

/// A test case: its own bucket, holding the archive, behind its own proxy.
struct Case {
    scratch: tempfile::TempDir,
    bucket: String,
    archive: PathBuf,
    events: usize,
    proxy: Proxy,
}

impl Case {
    fn new(name: &str) -> Self {
        Self::with(name, write_archive)
    }

    /// A case whose archive `write` writes, returning its events.
    fn with(name: &str, write: impl FnOnce(&Path) -> usize) -> Self {
        let scratch = tempfile::tempdir().unwrap();
        let archive = scratch.path().join("archive");
        let events = write(&archive);
        let bucket = format!("ctlake-{name}");
        moto().upload(&bucket, &archive, true);
        let proxy = Proxy::start(&moto().endpoint);
        Self {
            scratch,
            bucket,
            archive,
            events,
            proxy,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// Runs ctlake against the proxy as fixture user `user`, with no other
    /// AWS configuration from this machine.
    fn ctlake(&self, user: &str, args: &[&str]) -> Output {
        let (key, secret) = moto().user(user);
        let mut cmd = self.command(args);
        cmd.env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret);
        cmd.output().unwrap()
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ctlake"));
        cmd.args(args)
            .args(["--endpoint-url", &self.proxy.endpoint, "--retries", "3"])
            .env("CTLAKE_CACHE_DIR", self.path("cache"))
            .env("AWS_CONFIG_FILE", self.path("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path("no-aws-credentials"),
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_S3")
            .env_remove("CTLAKE_LAKE");
        cmd
    }

    /// Ingests the local copy of the archive into `lake` with `selection` flags.
    fn ingest_local(&self, lake: &Path, selection: &[&str]) {
        let mut args = vec![
            "ingest",
            self.archive.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
        ];
        args.extend_from_slice(selection);
        let out = crate::common::ctlake(&args, self.scratch.path());
        assert!(out.status.success(), "{}", text(&out));
    }

    fn url(&self) -> String {
        format!("s3://{}", self.bucket)
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every row of the lake: eventid → hash of the whole row, with
/// `source_object` made relative to the archive root so that a local and an
/// S3 ingest of the same files compare equal.
fn row_hashes(lake: &Path, root: &str) -> BTreeMap<String, String> {
    let rows = rows_as_json(&query(lake, "SELECT * FROM cloudtrail"));
    rows.into_iter()
        .map(|mut row| {
            let id = row["eventid"].as_str().unwrap().to_owned();
            let source = row["source_object"].as_str().unwrap();
            let relative = source
                .strip_prefix(root)
                .unwrap_or_else(|| panic!("{source} is not under {root}"))
                .to_owned();
            row.insert("source_object".into(), Value::String(relative));
            let hash = crate::common::hex(&Sha256::digest(Value::Object(row).to_string()));
            (id, hash)
        })
        .collect()
}

fn report_of(lake: &Path) -> Value {
    let runs = lake.join("_ctlake/runs");
    let entry = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap();
    serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap()
}

#[test]
fn s3_ingest_equals_local_ingest_and_only_reads() {
    let case = Case::new("equal");
    let local = case.path("local-lake");
    case.ingest_local(&local, &[]);

    let remote = case.path("s3-lake");
    let out = case.ctlake(
        "reader",
        &["ingest", &case.url(), "--lake", remote.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));

    let local_rows = row_hashes(&local, &format!("{}/", case.archive.display()));
    let remote_rows = row_hashes(&remote, &format!("{}/", case.url()));
    assert_eq!(local_rows.len(), case.events);
    assert_eq!(local_rows, remote_rows);

    // The evidence is only listed and read: ListObjectsV2 and GetObject.
    let seen = case.proxy.seen();
    assert!(!seen.is_empty());
    for request in &seen {
        assert!(
            request.method == "GET",
            "a {} reached the source bucket: {}",
            request.method,
            request.target
        );
    }
    // Every log, insight and digest object was read once; the Config file never.
    let gets: Vec<String> = seen
        .iter()
        .filter_map(|s| s.object_key(&case.bucket))
        .collect();
    assert_eq!(gets.len(), 2 * 2 * 3 * (FILES + 1) + 1, "{gets:#?}");
    assert!(gets.iter().all(|k| !k.contains("/Config/")));

    // The manifest records ETag, version and the digests' signature metadata.
    let manifest = rows_as_json(&query_objects(&remote));
    assert_eq!(manifest.len(), gets.len());
    for row in &manifest {
        assert!(
            row["etag"].as_str().is_some_and(|e| !e.is_empty()),
            "{row:?}"
        );
        assert!(row.contains_key("version_id"), "{row:?}");
        assert!(row.contains_key("last_modified"), "{row:?}");
        let digest = row["kind"] == "digest";
        assert_eq!(row.contains_key("metadata"), digest, "{row:?}");
        if digest {
            let metadata: Value = serde_json::from_str(row["metadata"].as_str().unwrap()).unwrap();
            assert_eq!(metadata["signature-algorithm"], "SHA256withRSA");
            assert_eq!(metadata["signature"].as_str().unwrap().len(), 64);
        }
    }
}

/// The manifest of a local lake, read with DataFusion.
fn query_objects(lake: &Path) -> Vec<arrow::array::RecordBatch> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        let dir = lake.join("_ctlake/objects/");
        ctx.register_parquet(
            "objects",
            dir.to_str().unwrap(),
            datafusion::prelude::ParquetReadOptions::default(),
        )
        .await
        .unwrap();
        ctx.sql("SELECT * FROM objects ORDER BY location")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap()
    })
}

/// One account in the organization tree, one region, one day (plus the next).
const SELECTION: [&str; 8] = [
    "--account",
    MEMBER,
    "--region",
    "eu-west-1",
    "--start",
    "2024-03-10",
    "--end",
    "2024-03-10T18:00:00Z",
];

#[test]
fn selection_lists_and_reads_only_the_matching_folders() {
    let case = Case::new("select");
    let lake = case.path("lake");
    let out = case.ctlake(
        "reader",
        &["ingest", &case.url(), "--lake", lake.to_str().unwrap()]
            .into_iter()
            .chain(SELECTION)
            .collect::<Vec<_>>(),
    );
    assert!(out.status.success(), "{}", text(&out));

    // Days 10 and 11 (the day after --end): 2 days × 2 files × 3 events.
    let rows = rows_as_json(&query(
        &lake,
        "SELECT DISTINCT recipientaccountid, awsregion, CAST(date AS VARCHAR) AS d FROM cloudtrail ORDER BY d",
    ));
    assert_eq!(
        rows.iter()
            .map(|r| Value::Object(r.clone()).to_string())
            .collect::<Vec<_>>(),
        [
            r#"{"awsregion":"eu-west-1","d":"2024-03-10","recipientaccountid":"444455556666"}"#,
            r#"{"awsregion":"eu-west-1","d":"2024-03-11","recipientaccountid":"444455556666"}"#
        ]
    );
    let count = rows_as_json(&query(&lake, "SELECT count(*) AS n FROM cloudtrail"));
    assert_eq!(count[0]["n"], 2 * FILES * EVENTS);

    let selected = format!("AWSLogs/{ORG}/{MEMBER}/");
    let days = ["2024/03/10/", "2024/03/11/"];
    let in_selection = |key: &str| {
        key.starts_with(&selected)
            && key.contains("/eu-west-1/")
            && days.iter().any(|d| key.contains(d))
    };
    let seen = case.proxy.seen();
    let lists: Vec<&Seen> = seen.iter().filter(|s| s.is_list()).collect();
    for list in &lists {
        let prefix = list.param("prefix").unwrap_or_default();
        let discovery = list.param("delimiter").as_deref() == Some("/")
            && (prefix.is_empty() || prefix == "AWSLogs/");
        assert!(
            discovery || in_selection(&prefix),
            "list outside the selection: {prefix:?}"
        );
    }
    // Day folders of three services (log, insight, digest) in two days.
    assert_eq!(lists.len(), 2 + 3 * 2, "{lists:#?}");
    let gets: BTreeSet<String> = seen
        .iter()
        .filter_map(|s| s.object_key(&case.bucket))
        .collect();
    assert!(gets.iter().all(|k| in_selection(k)), "{gets:#?}");
    // Two days of log files and digests.
    assert_eq!(gets.len(), 2 * (FILES + 1), "{gets:#?}");

    // The same selection on the local copy of the archive gives the same rows.
    let local = case.path("local-lake");
    case.ingest_local(&local, &SELECTION);
    assert_eq!(
        row_hashes(&local, &format!("{}/", case.archive.display())),
        row_hashes(&lake, &format!("{}/", case.url()))
    );
}

#[test]
fn faults_are_retried_or_reported_and_the_rest_is_ingested() {
    let case = Case::new("faults");
    let slow = format!("{PLAIN}_CloudTrail_us-east-1_20240310T0005Z_f0");
    let cut = format!("{PLAIN}_CloudTrail_eu-west-1_20240311T0105Z_f1");
    let broken = format!("{MEMBER}_CloudTrail_us-east-1_20240312T0005Z_f0");
    case.proxy.inject(&slow, Fault::SlowDown(2));
    case.proxy.inject(&cut, Fault::CutBody(1));
    case.proxy.inject(&broken, Fault::AlwaysFail);
    let lake = case.path("lake");
    let out = case.ctlake(
        "reader",
        &["ingest", &case.url(), "--lake", lake.to_str().unwrap()],
    );
    // Exit 1: the lake was written, one object is reported.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&broken), "{stderr}");

    let report = report_of(&lake);
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(
        failures[0]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{broken}.json.gz"))
    );
    assert_eq!(report["events_written"], case.events - EVENTS);
    let count = rows_as_json(&query(&lake, "SELECT count(*) AS n FROM cloudtrail"));
    assert_eq!(count[0]["n"], case.events - EVENTS);

    let gets = |part: &str| {
        case.proxy
            .seen()
            .iter()
            .filter(|s| s.object_key(&case.bucket).is_some_and(|k| k.contains(part)))
            .count()
    };
    // Two SlowDowns then success; one cut body then success; 1 + 3 retries for the broken one.
    assert_eq!(gets(&slow), 3);
    assert_eq!(gets(&cut), 2);
    assert_eq!(gets(&broken), 4);
}

#[test]
fn profiles_from_shared_files_and_clear_credential_errors() {
    let case = Case::new("creds");
    let (key, secret) = moto().user("reader");
    let config = case.path("aws-config");
    let credentials = case.path("aws-credentials");
    std::fs::write(
        &config,
        "[profile evidence]\nregion = us-east-1\n\n[profile wrong]\nregion = us-east-1\n",
    )
    .unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[evidence]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n\
             [wrong]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI\n"
        ),
    )
    .unwrap();
    let with_profile = |profile: &str, args: &[&str]| {
        let mut cmd = case.command(args);
        cmd.args(["--profile", profile])
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
        cmd.output().unwrap()
    };

    // The embedded default: query an S3 archive directly.
    let out = with_profile(
        "evidence",
        &[
            "query",
            &case.url(),
            "-e",
            "SELECT count(*) AS n FROM cloudtrail",
            "--format",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("n\n{}\n", case.events)
    );

    // Refused keys, a user without s3:ListBucket, a bucket that does not exist:
    // exit 2 at once, naming the bucket, with the cause and what to do.
    let lake = case.path("lake");
    let lake = lake.to_str().unwrap();
    let bucket = case.url();
    let failures = [
        (
            with_profile("wrong", &["ingest", &bucket, "--lake", lake]),
            bucket.as_str(),
            "InvalidAccessKeyId",
            "credentials were refused",
        ),
        (
            case.ctlake("nobody", &["ingest", &bucket, "--lake", lake]),
            bucket.as_str(),
            "AccessDenied",
            "access denied",
        ),
        (
            case.ctlake(
                "reader",
                &["ingest", "s3://ctlake-no-such-bucket", "--lake", lake],
            ),
            "s3://ctlake-no-such-bucket",
            "NoSuchBucket",
            "no such bucket",
        ),
    ];
    for (out, names, code, hint) in failures {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        for expected in [names, code, hint] {
            assert!(stderr.contains(expected), "{expected:?} missing: {stderr}");
        }
    }
}

/// `ctlake status` of a lake on S3.
fn status_of_remote(case: &Case, lake: &str) -> Value {
    let out = case.ctlake("admin", &["status", lake, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_lake_on_s3_answers_like_a_local_lake() {
    let case = Case::new("lake");
    let empty = case.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    moto().upload("ctlake-lakes", &empty, false);

    let local = case.path("local-lake");
    case.ingest_local(&local, &[]);
    let remote = "s3://ctlake-lakes/cases/one";
    let out = case.ctlake(
        "admin",
        &["ingest", case.archive.to_str().unwrap(), "--lake", remote],
    );
    assert!(out.status.success(), "{}", text(&out));

    let sql = "SELECT account, region, CAST(date AS VARCHAR) AS d, eventname, count(*) AS n, \
               min(eventid) AS first FROM cloudtrail GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
    let out = case.ctlake("admin", &["query", remote, "-e", sql, "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let from_s3 = String::from_utf8_lossy(&out.stdout).into_owned();
    let out = crate::common::ctlake(
        &[
            "query",
            local.to_str().unwrap(),
            "-e",
            sql,
            "--format",
            "csv",
        ],
        case.scratch.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(from_s3, String::from_utf8_lossy(&out.stdout));
    assert_eq!(from_s3.lines().count(), 1 + 2 * 2 * 3 * 2 + 1);

    // Another copy of the archive holds the same events: every one is a
    // duplicate, found by reading the partitions' keys back from S3.
    let stored = status_of_remote(&case, remote);
    let copy = case.path("copy");
    crate::common::copy_tree(&case.archive, &copy);
    let out = case.ctlake(
        "admin",
        &["ingest", copy.to_str().unwrap(), "--lake", remote],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events = stored["totals"]["events"].as_u64().unwrap();
    assert!(
        stderr.contains(&format!("= 0 written + {events} duplicates + 0 rejected")),
        "{stderr}"
    );
    let status = status_of_remote(&case, remote);
    assert_eq!(status["balanced"], true);
    assert_eq!(status["totals"]["events"], events);
    assert_eq!(status["totals"]["duplicate_rows"], events);

    // Only complete objects were published: no staging names in the bucket.
    let puts: Vec<Seen> = case
        .proxy
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT" || s.method == "POST")
        .collect();
    assert!(!puts.is_empty());
    assert!(
        puts.iter().all(|s| !s.target.contains("inprogress")),
        "{puts:#?}"
    );

    // Ingesting into a prefix that holds other data is refused.
    let out = case.ctlake(
        "admin",
        &[
            "ingest",
            case.archive.to_str().unwrap(),
            "--lake",
            &format!("{}/AWSLogs", case.url()),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a ctlake lake"),
        "{}",
        text(&out)
    );
}

#[test]
fn digests_read_from_s3_keep_their_signatures_for_verify() {
    let mut keys = Value::Null;
    let case = Case::with("verify", |root| {
        keys = crate::verify::signed_archive(root, true);
        3
    });
    let keys_file = case.path("keys.json");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    let lake = case.path("lake");
    let lake = lake.to_str().unwrap();
    let out = case.ctlake(
        "reader",
        &["ingest", &case.url(), "--lake", lake, "--quiet"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = case.ctlake(
        "reader",
        &[
            "verify",
            "--lake",
            lake,
            "--public-keys",
            keys_file.to_str().unwrap(),
            "--all",
            "--format",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    // Each digest's own signature came with it from S3, the newest's too.
    let statuses: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|line| line.split(',').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        statuses,
        [
            "digest valid",
            "digest valid",
            "digest valid",
            "log valid",
            "log valid",
            "log valid"
        ]
    );
    assert!(text(&out).contains("6 checks: 6 valid"), "{}", text(&out));
}
