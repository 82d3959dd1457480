//! Every event read is a row, and every row says what its source says.
//!
//! The expected values come from a walk over the source JSON that shares no
//! code with ingest: its own gzip reading, its own `serde_json::Value` tree,
//! its own table of JSON paths and its own time parsing. For each row, every
//! scalar column must equal the value at its path, every JSON-text column must
//! parse to the same JSON value, and everything in the record that has no
//! column must be found at the same path in `extra`.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};

use crate::common;

#[derive(Clone, Copy, PartialEq)]
enum K {
    Str,
    Bool,
    Time,
    Json,
    Resources,
    Struct,
}

/// Column → JSON pointer into the record, written out independently of the
/// schema crate's catalogue.
const PATHS: &[(&str, &str, K)] = &[
    ("eventversion", "/eventVersion", K::Str),
    ("eventtime", "/eventTime", K::Time),
    ("eventsource", "/eventSource", K::Str),
    ("eventname", "/eventName", K::Str),
    ("awsregion", "/awsRegion", K::Str),
    ("sourceipaddress", "/sourceIPAddress", K::Str),
    ("useragent", "/userAgent", K::Str),
    ("errorcode", "/errorCode", K::Str),
    ("errormessage", "/errorMessage", K::Str),
    ("requestparameters", "/requestParameters", K::Json),
    ("responseelements", "/responseElements", K::Json),
    ("additionaleventdata", "/additionalEventData", K::Json),
    ("serviceeventdetails", "/serviceEventDetails", K::Json),
    ("edgedevicedetails", "/edgeDeviceDetails", K::Json),
    ("insightdetails", "/insightDetails", K::Json),
    ("requestid", "/requestID", K::Str),
    ("eventid", "/eventID", K::Str),
    ("eventtype", "/eventType", K::Str),
    ("apiversion", "/apiVersion", K::Str),
    ("readonly", "/readOnly", K::Bool),
    ("managementevent", "/managementEvent", K::Bool),
    ("resources", "/resources", K::Resources),
    ("recipientaccountid", "/recipientAccountId", K::Str),
    ("sharedeventid", "/sharedEventID", K::Str),
    ("annotation", "/annotation", K::Str),
    ("vpcendpointid", "/vpcEndpointId", K::Str),
    ("vpcendpointaccountid", "/vpcEndpointAccountId", K::Str),
    ("eventcategory", "/eventCategory", K::Str),
    ("addendum", "/addendum", K::Struct),
    (
        "sessioncredentialfromconsole",
        "/sessionCredentialFromConsole",
        K::Bool,
    ),
    ("tlsdetails", "/tlsDetails", K::Struct),
    ("useridentity_type", "/userIdentity/type", K::Str),
    (
        "useridentity_principalid",
        "/userIdentity/principalId",
        K::Str,
    ),
    ("useridentity_arn", "/userIdentity/arn", K::Str),
    ("useridentity_accountid", "/userIdentity/accountId", K::Str),
    (
        "useridentity_accesskeyid",
        "/userIdentity/accessKeyId",
        K::Str,
    ),
    ("useridentity_username", "/userIdentity/userName", K::Str),
    ("useridentity_invokedby", "/userIdentity/invokedBy", K::Str),
    (
        "useridentity_credentialid",
        "/userIdentity/credentialId",
        K::Str,
    ),
    (
        "useridentity_identityprovider",
        "/userIdentity/identityProvider",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_sessionissuer_type",
        "/userIdentity/sessionContext/sessionIssuer/type",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_sessionissuer_principalid",
        "/userIdentity/sessionContext/sessionIssuer/principalId",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_sessionissuer_arn",
        "/userIdentity/sessionContext/sessionIssuer/arn",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_sessionissuer_accountid",
        "/userIdentity/sessionContext/sessionIssuer/accountId",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_sessionissuer_username",
        "/userIdentity/sessionContext/sessionIssuer/userName",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_attributes_mfaauthenticated",
        "/userIdentity/sessionContext/attributes/mfaAuthenticated",
        K::Bool,
    ),
    (
        "useridentity_sessioncontext_attributes_creationdate",
        "/userIdentity/sessionContext/attributes/creationDate",
        K::Time,
    ),
    (
        "useridentity_sessioncontext_sourceidentity",
        "/userIdentity/sessionContext/sourceIdentity",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_ec2roledelivery",
        "/userIdentity/sessionContext/ec2RoleDelivery",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_assumedroot",
        "/userIdentity/sessionContext/assumedRoot",
        K::Bool,
    ),
    (
        "useridentity_sessioncontext_webidfederationdata_federatedprovider",
        "/userIdentity/sessionContext/webIdFederationData/federatedProvider",
        K::Str,
    ),
    (
        "useridentity_sessioncontext_webidfederationdata_attributes",
        "/userIdentity/sessionContext/webIdFederationData/attributes",
        K::Json,
    ),
    (
        "useridentity_onbehalfof_userid",
        "/userIdentity/onBehalfOf/userId",
        K::Str,
    ),
    (
        "useridentity_onbehalfof_identitystorearn",
        "/userIdentity/onBehalfOf/identityStoreArn",
        K::Str,
    ),
    (
        "useridentity_inscopeof_sourcearn",
        "/userIdentity/inScopeOf/sourceArn",
        K::Str,
    ),
    (
        "useridentity_inscopeof_sourceaccount",
        "/userIdentity/inScopeOf/sourceAccount",
        K::Str,
    ),
    (
        "useridentity_inscopeof_issuertype",
        "/userIdentity/inScopeOf/issuerType",
        K::Str,
    ),
    (
        "useridentity_inscopeof_credentialsissuedto",
        "/userIdentity/inScopeOf/credentialsIssuedTo",
        K::Str,
    ),
    (
        "useridentity_invokedbydelegate_accountid",
        "/userIdentity/invokedByDelegate/accountId",
        K::Str,
    ),
];

const STRUCT_KEYS: &[(&str, &[(&str, &str)])] = &[
    (
        "/addendum",
        &[
            ("reason", "reason"),
            ("updatedFields", "updatedfields"),
            ("originalRequestID", "originalrequestid"),
            ("originalEventID", "originaleventid"),
        ],
    ),
    (
        "/tlsDetails",
        &[
            ("tlsVersion", "tlsversion"),
            ("cipherSuite", "ciphersuite"),
            ("clientProvidedHostHeader", "clientprovidedhostheader"),
            ("keyExchange", "keyexchange"),
        ],
    ),
];

fn nanos(text: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return t.timestamp_nanos_opt();
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, f) {
            return t.timestamp_nanos_opt();
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y%m%dT%H%M%SZ",
        "%Y%m%dT%H%M%S%.fZ",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, f) {
            return t.and_utc().timestamp_nanos_opt();
        }
    }
    None
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Reads every record of every log object under `root`, by location.
#[expect(
    clippy::disallowed_types,
    reason = "the oracle reads evidence without ingest's code"
)]
fn read_sources(root: &Path, out: &mut HashMap<String, Vec<Value>>) {
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_sources(&path, out);
            continue;
        }
        let name = path.to_string_lossy().to_string();
        if !name.ends_with(".json.gz") || name.contains("CloudTrail-Digest") {
            continue;
        }
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap())
            .read_to_end(&mut text)
            .unwrap();
        let doc: Value = serde_json::from_slice(&text).unwrap();
        let Value::Array(records) = doc["Records"].clone() else {
            panic!("{name}: no Records")
        };
        // ctlake names each object by its canonical path.
        out.insert(
            std::fs::canonicalize(&path).unwrap().display().to_string(),
            records,
        );
    }
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Whether the record's value at `pointer` fits the column of kind `k`.
fn fits(k: K, v: &Value) -> bool {
    match k {
        K::Str => v.is_string(),
        K::Bool => as_bool(v).is_some(),
        K::Time => v.as_str().and_then(nanos).is_some(),
        K::Json => true,
        K::Struct | K::Resources => v.is_object() || v.is_array(),
    }
}

/// Checks one row against its source record; returns the problems found.
fn check_row(record: &Value, row: &Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    let extra: Value = row.get("extra").map_or(Value::Null, |e| {
        serde_json::from_str(e.as_str().unwrap()).unwrap()
    });
    let in_extra = |pointer: &str, v: &Value| extra.pointer(pointer) == Some(v);
    for (column, pointer, k) in PATHS {
        let source = record.pointer(pointer).filter(|v| !v.is_null());
        let cell = row.get(*column);
        match (source, k) {
            (None, _) => {
                if cell.is_some() {
                    problems.push(format!(
                        "{column}: {cell:?} but the record has nothing at {pointer}"
                    ));
                }
            }
            (Some(v), _) if !fits(*k, v) => {
                if cell.is_some() || !in_extra(pointer, v) {
                    problems.push(format!(
                        "{column}: value {v} of another type is not kept in extra"
                    ));
                }
            }
            (Some(v), K::Str) => {
                if cell != Some(v) {
                    problems.push(format!("{column}: {cell:?} != {v}"));
                }
            }
            (Some(v), K::Bool) => {
                if cell.and_then(Value::as_bool) != as_bool(v) {
                    problems.push(format!("{column}: {cell:?} != {v}"));
                }
            }
            (Some(v), K::Time) => {
                let got = cell.and_then(Value::as_str).and_then(nanos);
                if got.is_none() || got != v.as_str().and_then(nanos) {
                    problems.push(format!("{column}: {cell:?} != {v}"));
                }
            }
            (Some(v), K::Json) => {
                let got: Option<Value> = cell
                    .and_then(Value::as_str)
                    .map(|s| serde_json::from_str(s).unwrap());
                if got.as_ref() != Some(v) {
                    problems.push(format!("{column}: {got:?} != {v}"));
                }
            }
            (Some(v), K::Resources) => {
                check_resources(column, v, cell, in_extra(pointer, v), &mut problems);
            }
            (Some(v), K::Struct) => {
                let keys = STRUCT_KEYS.iter().find(|(p, _)| p == pointer).unwrap().1;
                let Value::Object(fields) = v else {
                    if !in_extra(pointer, v) {
                        problems.push(format!("{column}: non-object {v} not in extra"));
                    }
                    continue;
                };
                for (key, value) in fields {
                    let member = keys.iter().find(|(k, _)| k == key).map(|(_, c)| *c);
                    let got = member.and_then(|m| cell.and_then(|c| c.get(m)));
                    match (member, value) {
                        (Some(_), Value::Null) => {}
                        (Some(_), Value::String(_)) if got == Some(value) => {}
                        _ if in_extra(&format!("{pointer}/{}", pointer_escape(key)), value) => {}
                        _ => problems.push(format!("{column}.{key}: {got:?} != {value}")),
                    }
                }
            }
        }
    }
    check_unmapped(record, "", &extra, &mut problems);
    problems
}

fn check_resources(
    column: &str,
    v: &Value,
    cell: Option<&Value>,
    kept_in_extra: bool,
    problems: &mut Vec<String>,
) {
    let expected: Option<Vec<Value>> = v.as_array().and_then(|items| {
        items
            .iter()
            .map(|item| {
                let obj = item.as_object()?;
                let mut out = Map::new();
                for (key, value) in obj {
                    let name = match key.as_str() {
                        "ARN" => "arn",
                        "accountId" => "accountid",
                        "type" => "type",
                        _ => return None,
                    };
                    match value {
                        Value::Null => {}
                        Value::String(_) => {
                            out.insert(name.to_owned(), value.clone());
                        }
                        _ => return None,
                    }
                }
                Some(Value::Object(out))
            })
            .collect()
    });
    match expected {
        Some(items) if cell == Some(&Value::Array(items.clone())) => {}
        None if cell.is_none() && kept_in_extra => {}
        _ => problems.push(format!("{column}: {cell:?} does not match {v}")),
    }
}

/// Every member of the record outside the column paths must be in `extra`.
fn check_unmapped(value: &Value, pointer: &str, extra: &Value, problems: &mut Vec<String>) {
    let Value::Object(members) = value else {
        return;
    };
    for (key, v) in members {
        let path = format!("{pointer}/{}", pointer_escape(key));
        let is_column = PATHS.iter().any(|(_, p, _)| *p == path);
        let is_parent = PATHS
            .iter()
            .any(|(_, p, _)| p.starts_with(&format!("{path}/")));
        if is_column {
            continue;
        }
        if is_parent && v.is_object() {
            check_unmapped(v, &path, extra, problems);
        } else if is_parent && v.is_null() {
            // A null object carries nothing beyond its absence.
        } else if extra.pointer(&path) != Some(v) {
            problems.push(format!("{path}: {v} has no column and is not in extra"));
        }
    }
}

/// The content hash by an independent route: serde_json's `Value` keeps
/// object keys sorted, so its compact text is the canonical form (for keys
/// that need no escaping and are not repeated, which holds in the corpora)
/// once whole numbers are spelled as integers.
fn content_hash(record: &Value) -> String {
    let digest = blake3::hash(whole_numbers(record).to_string().as_bytes());
    common::hex(&digest.as_bytes()[..16])
}

/// `value` with every float that is a whole number in the 64-bit integer
/// range (`70.0`, `7e1`, `-0.0`) replaced by that integer, as JSON reads them
/// as one value.
fn whole_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap();
            let integer = if f.fract() != 0.0 {
                None
            } else if (i64::MIN as f64..0.0).contains(&f) {
                Some(serde_json::Number::from(f as i64))
            } else if (0.0..u64::MAX as f64).contains(&f) {
                Some(serde_json::Number::from(f as u64))
            } else {
                None
            };
            integer.map_or_else(|| value.clone(), Value::Number)
        }
        Value::Array(items) => Value::Array(items.iter().map(whole_numbers).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), whole_numbers(v)))
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// Ingests `inputs` and checks every row against the sources.
fn conform(inputs: &[PathBuf]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let (lake, report) = common::ingest(inputs, dir.path());
    let mut sources = HashMap::new();
    for input in inputs {
        read_sources(input, &mut sources);
    }
    // A record becomes a row when it is an object with a readable eventTime
    // and a string eventID, unless an identical record (same eventID,
    // recipientAccountId and content, whatever the key order) came first.
    let mut well_formed = 0;
    let mut distinct = std::collections::HashSet::new();
    for records in sources.values() {
        for r in records {
            let time_ok = r
                .get("eventTime")
                .and_then(Value::as_str)
                .and_then(nanos)
                .is_some();
            let id = r.get("eventID").and_then(Value::as_str);
            if r.is_object() && time_ok && id.is_some() {
                well_formed += 1;
                distinct.insert(content_hash(r));
            }
        }
    }
    let stored = distinct.len();
    let total: usize = sources.values().map(Vec::len).sum();
    assert_eq!(report.records_read as usize, total, "records read");
    assert_eq!(
        report.events_written as usize, stored,
        "rows written = distinct well-formed records read"
    );
    assert_eq!(
        report.duplicates as usize,
        well_formed - stored,
        "duplicates"
    );
    assert_eq!(report.records_rejected as usize, total - well_formed);

    let rows = common::rows_as_json(&common::query(&lake, "SELECT * FROM cloudtrail"));
    assert_eq!(rows.len(), stored, "rows in the lake");
    let mut problems = Vec::new();
    for row in &rows {
        let location = row["source_object"].as_str().unwrap();
        let index = row["source_index"].as_u64().unwrap() as usize;
        let record = &sources[location][index];
        let eventjson = row["eventjson"].as_str().unwrap();
        if serde_json::from_str::<Value>(eventjson).ok().as_ref() != Some(record) {
            problems.push(format!("{location}#{index}: eventjson is not the record"));
        }
        if row["content_hash"].as_str() != Some(content_hash(record).as_str()) {
            problems.push(format!("{location}#{index}: content_hash differs"));
        }
        for p in check_row(record, row) {
            problems.push(format!("{location}#{index}: {p}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} mismatches, first: {:#?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    rows.len()
}

#[test]
fn sample_logs_conform() {
    assert_eq!(
        conform(&[common::repo().join("sample-logs")]) as u64,
        common::SAMPLE_EVENTS
    );
}

/// `<source>/<sub>` of every corpus source folder, or None without the corpora.
fn corpus_folders(sub: &str) -> Option<Vec<PathBuf>> {
    let corpora = common::corpora()?;
    let folders = std::fs::read_dir(&corpora)
        .unwrap()
        .map(|e| e.unwrap().path().join(sub))
        .filter(|p| p.is_dir())
        .collect();
    Some(folders)
}

#[test]
fn corpora_trail_trees_conform() {
    // 15,761 records: 28 without an eventID, 4 exact copies of others.
    if let Some(inputs) = corpus_folders("AWSLogs") {
        assert_eq!(conform(&inputs), 15_729);
    }
}

#[test]
fn corpora_odd_records_conform() {
    // 2,810 odd records, of which 46 have no readable eventTime and 15 no eventID.
    if let Some(inputs) = corpus_folders("odd") {
        assert_eq!(conform(&inputs), 2_749);
    }
}

#[test]
fn every_column_is_checked() {
    let schema = ctlake_schema::file_schema();
    for field in schema.fields() {
        let name = field.name().as_str();
        let covered = PATHS.iter().any(|(c, _, _)| *c == name)
            || matches!(
                name,
                "source_object" | "source_index" | "eventjson" | "content_hash" | "extra"
            );
        assert!(covered, "column {name} has no conformance path");
    }
}
