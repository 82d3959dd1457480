//! `ctlake verify`: an archive with signed, chained digests, checked as
//! delivered and after it was tampered with.

use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{assert_exit, copy_tree, ctlake, ingest_cli, repo, write_gz};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";
const BUCKET: &str = "trail-bucket";
const FINGERPRINT: &str = "5ab3c2d1e0f9a8b7c6d5e4f3a2b1c0d9";

fn sha256(bytes: &[u8]) -> String {
    crate::common::hex(&Sha256::digest(bytes))
}

fn signing_key() -> ring::signature::RsaKeyPair {
    let der = std::fs::read(repo().join("tests/fixtures/digest-signing-key.der")).unwrap();
    ring::signature::RsaKeyPair::from_der(&der).unwrap()
}

fn sign(key: &ring::signature::RsaKeyPair, text: &str) -> String {
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        text.as_bytes(),
        &mut signature,
    )
    .unwrap();
    crate::common::hex(&signature)
}

fn log_key(stamp: &str, unique: &str) -> String {
    format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/03/10/{ACCOUNT}_CloudTrail_{REGION}_{stamp}_{unique}.json.gz"
    )
}

fn log_text(hour: u32, name: &str) -> Vec<u8> {
    json!({"Records": [{
        "eventVersion": "1.08",
        "eventID": format!("00000000-0000-0000-0000-0000000000{hour:02}"),
        "eventTime": format!("2024-03-10T{hour:02}:03:00Z"),
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": REGION,
        "recipientAccountId": ACCOUNT,
    }]})
    .to_string()
    .into_bytes()
}

/// A StopLogging of the trail `management` at three minutes past `hour`.
fn stop_logging_text(hour: u32) -> Vec<u8> {
    json!({"Records": [{
        "eventVersion": "1.08",
        "eventID": format!("00000000-0000-0000-0000-0000000001{hour:02}"),
        "eventTime": format!("2024-03-10T{hour:02}:03:00Z"),
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
        "awsRegion": REGION,
        "recipientAccountId": ACCOUNT,
        "requestParameters": {"name": format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/management")},
    }]})
    .to_string()
    .into_bytes()
}

/// Three hours of one trail: a log file an hour and the hour's digest,
/// each digest chained to the one before and signed with the test key, its
/// signature beside it in a metadata sidecar for the S3 fixture to upload
/// when `sidecars`. Returns the `list-public-keys` output with the key.
pub fn signed_archive(root: &Path, sidecars: bool) -> Value {
    signed_hours(root, sidecars, None)
}

/// [`signed_archive`], with the digest of `restart`'s hour starting a new
/// chain, as after logging was stopped (in the hour before) and started.
fn signed_hours(root: &Path, sidecars: bool, restart: Option<u32>) -> Value {
    let key = signing_key();
    let mut previous: Option<(String, String, String)> = None;
    for hour in 0..3u32 {
        if restart == Some(hour) {
            previous = None;
        }
        let log = log_key(&format!("20240310T{hour:02}05Z"), &format!("unique{hour}"));
        let text = if restart == Some(hour + 1) {
            stop_logging_text(hour)
        } else {
            log_text(hour, "ListBuckets")
        };
        write_gz(&root.join(&log), &text);
        let end = format!("2024-03-10T{:02}:00:00Z", hour + 1);
        let digest_key = format!(
            "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/10/{ACCOUNT}_CloudTrail-Digest_{REGION}_management_{REGION}_20240310T{:02}0000Z.json.gz",
            hour + 1
        );
        let (previous_key, previous_hash, previous_signature) = previous.clone().unzip3();
        let digest = json!({
            "awsAccountId": ACCOUNT,
            "digestStartTime": format!("2024-03-10T{hour:02}:00:00Z"),
            "digestEndTime": end,
            "digestS3Bucket": BUCKET,
            "digestS3Object": digest_key,
            "digestPublicKeyFingerprint": FINGERPRINT,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": format!("2024-03-10T{hour:02}:03:00Z"),
            "oldestEventTime": format!("2024-03-10T{hour:02}:03:00Z"),
            "previousDigestS3Bucket": previous_key.as_ref().map(|_| BUCKET),
            "previousDigestS3Object": previous_key,
            "previousDigestHashValue": previous_hash,
            "previousDigestHashAlgorithm": previous.as_ref().map(|_| "SHA-256"),
            "previousDigestSignature": previous_signature,
            "logFiles": [{
                "s3Bucket": BUCKET,
                "s3Object": log,
                "hashValue": sha256(&text),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": format!("2024-03-10T{hour:02}:03:00Z"),
                "oldestEventTime": format!("2024-03-10T{hour:02}:03:00Z"),
            }],
        })
        .to_string();
        let hash = sha256(digest.as_bytes());
        let signed = format!(
            "{end}\n{BUCKET}/{digest_key}\n{hash}\n{}",
            previous_signature_of(previous.as_ref())
        );
        let signature = sign(&key, &signed);
        write_gz(&root.join(&digest_key), digest.as_bytes());
        if sidecars {
            let metadata = json!({"signature": signature, "signature-algorithm": "SHA256withRSA"});
            std::fs::write(
                root.join(format!("{digest_key}.metadata.json")),
                metadata.to_string(),
            )
            .unwrap();
        }
        previous = Some((digest_key, hash, signature));
    }
    json!({"PublicKeyList": [{
        "Value": base64::engine::general_purpose::STANDARD.encode(key.public().as_ref()),
        "ValidityStartTime": "2024-01-01T00:00:00Z",
        "ValidityEndTime": "2025-01-01T00:00:00Z",
        "Fingerprint": FINGERPRINT,
    }]})
}

fn previous_signature_of(previous: Option<&(String, String, String)>) -> &str {
    previous.map_or("null", |(_, _, signature)| signature.as_str())
}

trait Unzip3 {
    fn unzip3(self) -> (Option<String>, Option<String>, Option<String>);
}

impl Unzip3 for Option<(String, String, String)> {
    fn unzip3(self) -> (Option<String>, Option<String>, Option<String>) {
        match self {
            Some((a, b, c)) => (Some(a), Some(b), Some(c)),
            None => (None, None, None),
        }
    }
}

/// The signed archive in `dir/archive` and its key list in `dir/keys.json`.
fn signed_case(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let archive = dir.join("archive");
    let keys = signed_archive(&archive, false);
    let keys_file = dir.join("keys.json");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    (archive, keys_file)
}

/// The folder of `service` (`CloudTrail`, `CloudTrail-Digest`, …) for the
/// archive's one day.
fn day_folder(archive: &Path, service: &str) -> std::path::PathBuf {
    archive.join(format!("AWSLogs/{ACCOUNT}/{service}/{REGION}/2024/03/10"))
}

/// `ctlake verify` of `lake` with `extra` arguments, as JSON rows, and the
/// process's output.
fn verify(lake: &Path, scratch: &Path, extra: &[&str]) -> (Vec<Value>, std::process::Output) {
    let mut args = vec![
        "verify",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = ctlake(&args, scratch);
    let rows = serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (rows, out)
}

/// Ingests `archive` into `lake`, which must succeed, then [`verify`]s it.
fn ingest_and_verify(
    archive: &Path,
    lake: &Path,
    scratch: &Path,
    extra: &[&str],
) -> (Vec<Value>, std::process::Output) {
    assert_exit(&ingest_cli(archive, lake, scratch, &["--quiet"]), 0);
    verify(lake, scratch, extra)
}

/// (check, status, file name) of each row, in order.
fn outcomes(rows: &[Value]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|r| {
            let object = r["object"].as_str().unwrap();
            (
                r["check"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                object.rsplit('/').next().unwrap().to_owned(),
            )
        })
        .collect()
}

fn row(check: &str, status: &str, file: &str) -> (String, String, String) {
    (check.into(), status.into(), file.into())
}

fn digest_name(hour: u32) -> String {
    digest_name_at(&format!("{hour:02}0000"))
}

fn digest_name_at(time: &str) -> String {
    format!("{ACCOUNT}_CloudTrail-Digest_{REGION}_management_{REGION}_20240310T{time}Z.json.gz")
}

fn log_name(stamp: &str, unique: &str) -> String {
    log_key(stamp, unique)
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn an_archive_as_delivered_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, keys_file) = signed_case(dir.path());
    let lake = dir.path().join("lake");
    let (rows, out) = ingest_and_verify(
        &archive,
        &lake,
        dir.path(),
        &["--all", "--public-keys", keys_file.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    // A local copy loses the newest digest's signature (S3 metadata); the
    // others' come from the digest after them, and verify.
    assert_eq!(
        outcomes(&rows),
        vec![
            row("digest", "valid", &digest_name(1)),
            row("digest", "valid", &digest_name(2)),
            row("digest", "unsigned", &digest_name(3)),
            row("log", "valid", &log_name("20240310T0005Z", "unique0")),
            row("log", "valid", &log_name("20240310T0105Z", "unique1")),
            row("log", "unverified", &log_name("20240310T0205Z", "unique2")),
        ]
    );
    assert!(
        rows[0]["detail"]
            .as_str()
            .unwrap()
            .contains("starts a chain"),
        "{rows:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("6 checks: 1 unsigned, 1 unverified, 4 valid"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without the keys, the hashes and the chain are still checked, and
    // only the checks that are not `valid` are printed.
    let (rows, out) = verify(&lake, dir.path(), &[]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signature was checked"));
    assert_eq!(
        outcomes(&rows),
        vec![
            row("digest", "unchecked", &digest_name(1)),
            row("digest", "unchecked", &digest_name(2)),
            row("digest", "unsigned", &digest_name(3)),
            row("log", "unverified", &log_name("20240310T0205Z", "unique2")),
        ]
    );

    // The same archive collected twice, into two folders: copies of one
    // digest are one link of its chain, each copy of a log file is checked.
    let twice = dir.path().join("twice");
    copy_tree(&archive, &twice.join("first"));
    copy_tree(&archive, &twice.join("second"));
    let lake = dir.path().join("lake-twice");
    let (rows, out) = ingest_and_verify(
        &twice,
        &lake,
        dir.path(),
        &["--all", "--public-keys", keys_file.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    // Each copy of a digest checks each copy of the files it lists.
    let mut statuses = std::collections::BTreeMap::new();
    for (check, status, _) in outcomes(&rows) {
        *statuses.entry(format!("{check} {status}")).or_insert(0) += 1;
    }
    assert_eq!(
        statuses,
        std::collections::BTreeMap::from([
            ("digest unsigned".to_owned(), 2),
            ("digest valid".to_owned(), 4),
            ("log unverified".to_owned(), 4),
            ("log valid".to_owned(), 8),
        ]),
        "{rows:#?}"
    );
}

#[test]
fn tampering_with_logs_and_digests_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, keys_file) = signed_case(dir.path());
    let tampered = dir.path().join("tampered");
    copy_tree(&archive, &tampered);
    // One event renamed, one log file deleted, one added in a covered hour.
    write_gz(
        &tampered.join(log_key("20240310T0105Z", "unique1")),
        &log_text(1, "GetObject"),
    );
    std::fs::remove_file(tampered.join(log_key("20240310T0205Z", "unique2"))).unwrap();
    write_gz(
        &tampered.join(log_key("20240310T0130Z", "injected")),
        &log_text(1, "ListBuckets"),
    );
    // The first digest edited: its signature and the next digest's
    // record of it no longer hold.
    let first = tampered.join(
        Path::new(&format!(
            "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/10"
        ))
        .join(digest_name(1)),
    );
    let text = String::from_utf8(
        ctlake_ingest::inflate("first", &std::fs::read(&first).unwrap(), 1 << 20).unwrap(),
    )
    .unwrap();
    write_gz(&first, text.replace("03:00Z\"", "04:00Z\"").as_bytes());

    let lake = dir.path().join("lake");
    let (rows, out) = ingest_and_verify(
        &tampered,
        &lake,
        dir.path(),
        &["--public-keys", keys_file.to_str().unwrap()],
    );
    assert_exit(&out, 1);
    let missing = format!("{BUCKET}/{}", log_key("20240310T0205Z", "unique2"));
    assert_eq!(
        outcomes(&rows),
        vec![
            row("digest", "invalid", &digest_name(1)),
            row("digest", "invalid", &digest_name(2)),
            row("digest", "unsigned", &digest_name(3)),
            // Listed by the edited digest, which no longer vouches for it.
            row("log", "unverified", &log_name("20240310T0005Z", "unique0")),
            row("log", "modified", &log_name("20240310T0105Z", "unique1")),
            row("log", "unlisted", &log_name("20240310T0130Z", "injected")),
            row("log", "missing", &log_name("20240310T0205Z", "unique2")),
        ]
    );
    assert_eq!(rows[6]["object"], missing.as_str());
    let detail = |i: usize| rows[i]["detail"].as_str().unwrap().to_owned();
    assert!(
        detail(0).contains("signature does not verify"),
        "{}",
        detail(0)
    );
    assert!(detail(1).contains("its previous digest"), "{}", detail(1));
    assert!(
        detail(4).contains(&sha256(&log_text(1, "GetObject"))),
        "{}",
        detail(4)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 modified, 1 missing, 2 invalid, 1 unlisted, 1 unsigned, 1 unverified"),
        "{stderr}"
    );
}

#[test]
fn a_digest_that_is_not_json_fails_its_object_and_a_lake_without_digests_has_nothing_to_verify() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    write_gz(
        &archive.join(log_key("20240310T0005Z", "unique0")),
        &log_text(0, "ListBuckets"),
    );
    let lake = dir.path().join("lake");
    assert_exit(&ingest_cli(&archive, &lake, dir.path(), &["--quiet"]), 0);
    let out = ctlake(&["verify", "--lake", lake.to_str().unwrap()], dir.path());
    assert_exit(&out, 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("holds no CloudTrail digest file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let broken = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/10/{}",
        digest_name(1)
    );
    write_gz(&archive.join(&broken), b"{\"awsAccountId\":");
    let out = ingest_cli(&archive, &lake, dir.path(), &[]);
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{broken}: not a CloudTrail digest: invalid JSON")),
        "{stderr}"
    );
}

#[test]
fn forged_digests_odd_names_and_earlier_versions_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, keys_file) = signed_case(dir.path());
    let disguised = add_forgeries(&archive);
    let folder = |service: &str| day_folder(&archive, service);

    // The first log file read once with an edited event, then as delivered.
    let first = archive.join(log_key("20240310T0005Z", "unique0"));
    write_gz(&first, &log_text(0, "StopLogging"));
    let lake = dir.path().join("lake");
    assert_exit(&ingest_cli(&archive, &lake, dir.path(), &["--quiet"]), 0);
    write_gz(&first, &log_text(0, "ListBuckets"));
    let (rows, out) = ingest_and_verify(
        &archive,
        &lake,
        dir.path(),
        &["--public-keys", keys_file.to_str().unwrap()],
    );
    assert_exit(&out, 1);
    assert_eq!(
        outcomes(&rows),
        vec![
            row("digest", "invalid", &digest_name_at("013000")),
            row("digest", "unsigned", &digest_name(3)),
            row("log", "unlisted", &disguised),
            // The run that read the edited version stored its events.
            row("log", "unlisted", &log_name("20240309T1200Z", "elsewhen")),
            row("log", "modified", &log_name("20240310T0005Z", "unique0")),
            row("log", "unverified", &log_name("20240310T0140Z", "forged")),
            row("log", "unverified", &log_name("20240310T0205Z", "unique2")),
            row("log", "uncovered", &log_name("20240310T0305Z", "later")),
            row("log", "unlisted", "evil.json.gz"),
            row(
                "log",
                "unlisted",
                &format!("{ACCOUNT}_CloudTrail_us-west-2_20240310T0145Z_moved.json.gz"),
            ),
            row(
                "log",
                "uncovered",
                &format!("{ACCOUNT}_CloudTrail_us-west-2_20240310T0150Z_mixed.json.gz"),
            ),
        ],
        "{rows:#?}"
    );
    let detail = |i: usize| rows[i]["detail"].as_str().unwrap().to_owned();
    assert!(
        detail(0).contains("not the newest digest of its trail"),
        "{}",
        detail(0)
    );
    assert!(detail(3).contains("its name says account"), "{}", detail(3));
    assert!(detail(7).contains("outside the hours"), "{}", detail(7));
    assert!(
        detail(8).contains("its name gives no delivery time"),
        "{}",
        detail(8)
    );
    assert!(
        detail(9).contains(&format!("filed under {ACCOUNT} us-west-2, which has no digests, though its events are of {ACCOUNT} {REGION}")),
        "{}",
        detail(9)
    );

    // A digest that cannot be read is a finding, and so is a key list that
    // holds no key.
    write_gz(&folder("CloudTrail-Digest").join(digest_name(2)), b"[1, 2");
    assert_exit(&ingest_cli(&archive, &lake, dir.path(), &["--quiet"]), 1);
    let (rows, out) = verify(&lake, dir.path(), &[]);
    assert_exit(&out, 1);
    let broken = rows
        .iter()
        .find(|r| r["object"].as_str().unwrap().ends_with(&digest_name(2)))
        .unwrap();
    assert_eq!(broken["status"], "unreadable", "{rows:#?}");
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"PublicKeyList": []}"#).unwrap();
    let out = ctlake(
        &[
            "verify",
            "--lake",
            lake.to_str().unwrap(),
            "--public-keys",
            empty.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no key"));
}

/// Adds to the signed archive at `archive` what
/// `forged_digests_odd_names_and_earlier_versions_are_found` must find.
/// Returns the name of the log file put in the Insight folder.
fn add_forgeries(archive: &Path) -> String {
    let folder = |service: &str| day_folder(archive, service);
    // A made-up digest in the middle of the chain, unsigned, starting a
    // chain of its own, that lists a log file added with it.
    let forged_log = log_key("20240310T0140Z", "forged");
    let forged = json!({
        "awsAccountId": ACCOUNT,
        "digestStartTime": "2024-03-10T01:00:00Z",
        "digestEndTime": "2024-03-10T01:30:00Z",
        "digestS3Bucket": BUCKET,
        "digestS3Object": format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/10/{}", digest_name_at("013000")),
        "previousDigestS3Object": null,
        "logFiles": [{"s3Bucket": BUCKET, "s3Object": forged_log,
                      "hashValue": sha256(&log_text(1, "CreateUser"))}],
    });
    write_gz(&archive.join(&forged_log), &log_text(1, "CreateUser"));
    write_gz(
        &folder("CloudTrail-Digest").join(digest_name_at("013000")),
        forged.to_string().as_bytes(),
    );
    // A log file whose name says nothing, filed in a covered day; one whose
    // name gives another day than its folder's; one delivered after the
    // newest digest, which nothing can check.
    write_gz(
        &folder("CloudTrail").join("evil.json.gz"),
        &log_text(2, "DeleteTrail"),
    );
    write_gz(
        &folder("CloudTrail").join(log_name("20240309T1200Z", "elsewhen")),
        &log_text(2, "DeleteTrail"),
    );
    write_gz(
        &archive.join(log_key("20240310T0305Z", "later")),
        &log_text(3, "ListBuckets"),
    );
    // Events of the trail's region filed under a region without digests.
    write_gz(
        &archive.join(format!(
            "AWSLogs/{ACCOUNT}/CloudTrail/us-west-2/2024/03/10/{ACCOUNT}_CloudTrail_us-west-2_20240310T0145Z_moved.json.gz"
        )),
        &log_text(1, "StopLogging"),
    );
    // A second trail's file, without digests, holding one event of its own
    // region and one of the digested region (a global service's, as
    // single-region trails logged them): it is where CloudTrail filed it.
    let mut mixed: Value = serde_json::from_slice(&log_text(1, "CreateUser")).unwrap();
    let mut own = mixed["Records"][0].clone();
    own["awsRegion"] = "us-west-2".into();
    own["eventID"] = "mixed-own-region".into();
    mixed["Records"].as_array_mut().unwrap().push(own);
    write_gz(
        &archive.join(format!(
            "AWSLogs/{ACCOUNT}/CloudTrail/us-west-2/2024/03/10/{ACCOUNT}_CloudTrail_us-west-2_20240310T0150Z_mixed.json.gz"
        )),
        mixed.to_string().as_bytes(),
    );
    // Ordinary events in a file of the Insight folder, which digests need not list.
    let disguised =
        format!("{ACCOUNT}_CloudTrail-Insight_{REGION}_20240310T0150Z_disguised.json.gz");
    write_gz(
        &folder("CloudTrail-Insight").join(&disguised),
        &log_text(1, "PutBucketPolicy"),
    );
    disguised
}

/// A chain restarted with no tampering verifies; a first or middle link
/// deleted from days the lake read is found, and the hour a deleted digest
/// covered is named as a gap.
#[test]
fn chain_restarts_and_deleted_links() {
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys.json");
    let restarted = dir.path().join("restarted");
    let keys = signed_hours(&restarted, false, Some(2));
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    let keys = ["--all", "--public-keys", keys_file.to_str().unwrap()];
    let lake = dir.path().join("lake-restarted");
    let (rows, out) = ingest_and_verify(&restarted, &lake, dir.path(), &keys);
    assert_exit(&out, 0);
    assert_eq!(
        outcomes(&rows),
        vec![
            row("digest", "valid", &digest_name(1)),
            row("digest", "unsigned", &digest_name(2)),
            row("digest", "unsigned", &digest_name(3)),
            row("log", "valid", &log_name("20240310T0005Z", "unique0")),
            row("log", "unverified", &log_name("20240310T0105Z", "unique1")),
            row("log", "unverified", &log_name("20240310T0205Z", "unique2")),
        ],
        "{rows:#?}"
    );
    assert!(
        rows[1]["detail"]
            .as_str()
            .unwrap()
            .contains("the last of its chain before the trail starts a new one"),
        "{rows:#?}"
    );

    for (deleted, expected) in [
        (
            1,
            vec![
                row("digest", "missing", &digest_name(2)),
                row("digest", "unsigned", &digest_name(3)),
                row("log", "uncovered", &log_name("20240310T0005Z", "unique0")),
                // Its digest's chain is broken: it vouches for nothing.
                row("log", "unverified", &log_name("20240310T0105Z", "unique1")),
                row("log", "unverified", &log_name("20240310T0205Z", "unique2")),
            ],
        ),
        (
            2,
            vec![
                row("digest", "invalid", &digest_name(1)),
                row("digest", "missing", &digest_name(3)),
                row("log", "unverified", &log_name("20240310T0005Z", "unique0")),
                row("log", "uncovered", &log_name("20240310T0105Z", "unique1")),
                row("log", "unverified", &log_name("20240310T0205Z", "unique2")),
            ],
        ),
    ] {
        let archive = dir.path().join(format!("deleted{deleted}"));
        signed_hours(&archive, false, None);
        std::fs::remove_file(day_folder(&archive, "CloudTrail-Digest").join(digest_name(deleted)))
            .unwrap();
        let lake = dir.path().join(format!("lake-deleted{deleted}"));
        let (rows, out) = ingest_and_verify(&archive, &lake, dir.path(), &keys);
        assert_exit(&out, 1);
        assert_eq!(
            outcomes(&rows),
            expected,
            "digest {deleted} deleted: {rows:#?}"
        );
        let previous = format!(
            "its previous digest AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/10/{} is not in the lake",
            digest_name(deleted)
        );
        assert!(
            rows[1]["detail"].as_str().unwrap().contains(&previous)
                || rows[0]["detail"].as_str().unwrap().contains(&previous),
            "{rows:#?}"
        );
    }
    let gap = "in a gap from 2024-03-10T01:00:00Z to 2024-03-10T02:00:00Z: the digests of those hours are not in the lake";
    let lake = dir.path().join("lake-deleted2");
    let (rows, _) = verify(&lake, dir.path(), &keys);
    assert!(
        rows[3]["detail"].as_str().unwrap().contains(gap),
        "{rows:#?}"
    );
}

/// The newest digests deleted: log files from hours after the last digest
/// left are late, which verify warns of.
#[test]
fn logs_hours_after_the_newest_digest_are_late() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, keys_file) = signed_case(dir.path());
    write_gz(
        &archive.join(log_key("20240310T0310Z", "recent")),
        &log_text(3, "ListBuckets"),
    );
    write_gz(
        &archive.join(log_key("20240310T0510Z", "after")),
        &log_text(5, "DeleteTrail"),
    );
    let lake = dir.path().join("lake-cut");
    let (rows, out) = ingest_and_verify(
        &archive,
        &lake,
        dir.path(),
        &["--public-keys", keys_file.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    assert_eq!(
        outcomes(&rows)[1..],
        [
            row("log", "unverified", &log_name("20240310T0205Z", "unique2")),
            row("log", "uncovered", &log_name("20240310T0310Z", "recent")),
            row("log", "late", &log_name("20240310T0510Z", "after")),
        ],
        "{rows:#?}"
    );
    assert!(
        rows[3]["detail"]
            .as_str()
            .unwrap()
            .contains("2 hours after the newest digest"),
        "{rows:#?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: 1 log files were delivered hours after the newest digest"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A restart explains the end of a chain only with the event that ended
/// it: the last digest before a restart deleted (with the StopLogging, or
/// without) is still found. An archive whose oldest files expired (a
/// lifecycle rule) starts mid-chain and verifies, whatever other folders
/// hold of its account and region.
#[test]
fn restarts_need_their_event_and_expired_beginnings_verify() {
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys.json");
    let keys = signed_hours(&dir.path().join("unused"), false, None);
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    let keys = ["--public-keys", keys_file.to_str().unwrap()];
    let digests = |archive: &Path| day_folder(archive, "CloudTrail-Digest");

    for keep_stop in [false, true] {
        let archive = dir.path().join(format!("cut-before-restart-{keep_stop}"));
        signed_hours(&archive, false, Some(2));
        std::fs::remove_file(digests(&archive).join(digest_name(2))).unwrap();
        if !keep_stop {
            std::fs::remove_file(archive.join(log_key("20240310T0105Z", "unique1"))).unwrap();
        }
        let lake = dir.path().join(format!("lake-cut-{keep_stop}"));
        let (rows, out) = ingest_and_verify(&archive, &lake, dir.path(), &keys);
        assert_exit(&out, 1);
        let first = &rows[0];
        assert_eq!(first["status"], "invalid", "{rows:#?}");
        assert!(
            first["detail"].as_str().unwrap().contains(
                "holds no StopLogging, UpdateTrail or DeleteTrail of the trail in its hours"
            ),
            "{rows:#?}"
        );
    }

    let archive = dir.path().join("expired");
    signed_hours(&archive, false, None);
    std::fs::remove_file(digests(&archive).join(digest_name(1))).unwrap();
    std::fs::remove_file(archive.join(log_key("20240310T0005Z", "unique0"))).unwrap();
    // An organization trail's log of the same account, days earlier.
    write_gz(
        &archive.join(format!(
            "AWSLogs/o-abc123/{ACCOUNT}/CloudTrail/{REGION}/2024/03/09/{ACCOUNT}_CloudTrail_{REGION}_20240309T0905Z_org.json.gz"
        )),
        &log_text(0, "ListBuckets"),
    );
    let lake = dir.path().join("lake-expired");
    let (rows, out) = ingest_and_verify(&archive, &lake, dir.path(), &keys);
    assert_exit(&out, 0);
    assert_eq!(
        outcomes(&rows),
        [
            row("digest", "unsigned", &digest_name(3)),
            row("log", "unverified", &log_name("20240310T0205Z", "unique2")),
            row("log", "uncovered", &log_name("20240309T0905Z", "org")),
        ],
        "{rows:#?}"
    );
}

/// What explains a break must be what CloudTrail delivered: a StopLogging
/// in a file no digest lists explains nothing. Global services' events,
/// which a one-region trail files in its own region's folder, do not place
/// the file in us-east-1.
#[test]
fn added_files_explain_nothing_and_global_events_place_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let keys = signed_hours(&archive, false, Some(2));
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    std::fs::remove_file(day_folder(&archive, "CloudTrail-Digest").join(digest_name(2))).unwrap();
    std::fs::remove_file(archive.join(log_key("20240310T0105Z", "unique1"))).unwrap();
    write_gz(
        &archive.join(log_key("20240310T0040Z", "forgedstop")),
        &stop_logging_text(0),
    );
    let mut global: Value = serde_json::from_slice(&log_text(1, "CreateAccessKey")).unwrap();
    global["Records"][0]["eventSource"] = "iam.amazonaws.com".into();
    write_gz(
        &archive.join(format!(
            "AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2024/03/10/{ACCOUNT}_CloudTrail_eu-west-1_20240310T0045Z_global.json.gz"
        )),
        global.to_string().as_bytes(),
    );
    let lake = dir.path().join("lake");
    let (rows, out) = ingest_and_verify(
        &archive,
        &lake,
        dir.path(),
        &["--public-keys", keys_file.to_str().unwrap()],
    );
    assert_exit(&out, 1);
    let status = |file: &str| {
        rows.iter()
            .find(|r| r["object"].as_str().unwrap().ends_with(file))
            .map(|r| r["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        status(&digest_name(1)).as_deref(),
        Some("invalid"),
        "{rows:#?}"
    );
    assert_eq!(
        status(&log_name("20240310T0040Z", "forgedstop")).as_deref(),
        Some("unlisted"),
        "{rows:#?}"
    );
    assert_eq!(
        status(&format!(
            "{ACCOUNT}_CloudTrail_eu-west-1_20240310T0045Z_global.json.gz"
        ))
        .as_deref(),
        Some("uncovered"),
        "{rows:#?}"
    );
}

/// A made-up trail of one digest, which nothing can link to or sign for,
/// vouches for nothing: a forged log file it lists within the hours the
/// real trail's digests cover is unlisted.
#[test]
fn a_trail_of_one_made_up_digest_vouches_for_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, keys_file) = signed_case(dir.path());
    let forged_log = log_key("20240310T0150Z", "forged");
    write_gz(&archive.join(&forged_log), &log_text(1, "DeleteTrail"));
    let fake =
        format!("{ACCOUNT}_CloudTrail-Digest_{REGION}_backup_{REGION}_20240310T023500Z.json.gz");
    let digest = json!({
        "awsAccountId": ACCOUNT,
        "digestStartTime": "2024-03-10T01:35:00Z",
        "digestEndTime": "2024-03-10T02:35:00Z",
        "digestS3Bucket": BUCKET,
        "digestS3Object": format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/10/{fake}"),
        "previousDigestS3Object": null,
        "logFiles": [{"s3Bucket": BUCKET, "s3Object": forged_log,
                      "hashValue": sha256(&log_text(1, "DeleteTrail"))}],
    });
    write_gz(
        &day_folder(&archive, "CloudTrail-Digest").join(&fake),
        digest.to_string().as_bytes(),
    );
    let lake = dir.path().join("lake");
    let (rows, out) = ingest_and_verify(
        &archive,
        &lake,
        dir.path(),
        &["--public-keys", keys_file.to_str().unwrap()],
    );
    assert_exit(&out, 1);
    let forged = log_name("20240310T0150Z", "forged");
    let of = |file: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["object"].as_str().unwrap().ends_with(file))
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(of(&fake), ["unsigned"], "{rows:#?}");
    assert_eq!(of(&forged), ["unlisted", "unverified"], "{rows:#?}");
}

/// Another trail's files under their own prefix (or an account trail's
/// beside an organization's) are not the validated trail's to list: a
/// trail without validation there is not `unlisted`.
#[test]
fn digests_cover_only_their_own_trail_folders() {
    let dir = tempfile::tempdir().unwrap();
    let (archive, keys_file) = signed_case(dir.path());
    write_gz(
        &archive
            .join("other-trail")
            .join(log_key("20240310T0130Z", "other")),
        &log_text(1, "ListBuckets"),
    );
    let lake = dir.path().join("lake");
    let (rows, out) = ingest_and_verify(
        &archive,
        &lake,
        dir.path(),
        &["--public-keys", keys_file.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    let other = rows
        .iter()
        .find(|r| r["object"].as_str().unwrap().contains("/other-trail/"))
        .unwrap();
    assert_eq!(other["status"], "uncovered", "{rows:#?}");
    assert!(
        other["detail"]
            .as_str()
            .unwrap()
            .contains("the lake holds no digest of"),
        "{rows:#?}"
    );
}
