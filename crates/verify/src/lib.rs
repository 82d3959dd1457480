//! Integrity of the evidence: CloudTrail's digest files checked against the
//! log files a lake read, as `aws cloudtrail validate-logs` checks a bucket,
//! but offline and over whatever copy of the archive was ingested.
//!
//! CloudTrail delivers, for each trail and region, a digest file an hour
//! that lists the log files it delivered in that hour with the SHA-256 of
//! each file's decompressed bytes, the SHA-256 and signature of the previous
//! digest, and its own RSA signature (in the S3 object's metadata). Ingest
//! keeps every digest verbatim in the `digests` table and the SHA-256 of
//! every log file it read in the manifest (`objects.sha256`); [`verify`]
//! compares the two:
//!
//! - each log file a digest lists is in the lake with that hash (`valid`),
//!   is not (`missing`), has another (`modified`) or could not be read
//!   whole (`unreadable`);
//! - each log file delivered inside the hours the digests cover, and listed
//!   by none of them, is `unlisted`: added to the archive, or written by a
//!   second trail without validation;
//! - each digest names its own key, and the previous digest it names is in
//!   the lake with the hash and signature it gives (a chain, so deleting or
//!   editing a digest shows in the next one);
//! - each digest's signature verifies with CloudTrail's public key for its
//!   fingerprint, when the keys are given (`aws cloudtrail list-public-keys`
//!   output). A digest read from S3 has its signature in its metadata; one
//!   from a local copy takes it from the next digest's
//!   `previousDigestSignature`, so only the newest of a chain is left
//!   `unsigned`.
//!
//! Files are matched by name (the part after the last `/`): CloudTrail's
//! names are unique, and a copy of an archive keeps them wherever it puts
//! the folders.

mod keys;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::{DateTime, NaiveDateTime, Utc};
use datafusion::execution::context::SessionContext;
use serde::Deserialize;

pub use keys::PublicKeys;
use keys::Signature;

/// What can go wrong verifying a lake.
#[derive(Debug, thiserror::Error)]
#[expect(
    missing_docs,
    reason = "variant fields are named for what they hold; the variant says the rest"
)]
#[non_exhaustive]
pub enum Error {
    /// A public keys file could not be read.
    #[error("{path}: {message}")]
    Keys { path: PathBuf, message: String },
    /// Reading the lake's tables failed.
    #[error("reading the lake's {table}: {source}")]
    Query {
        table: &'static str,
        source: datafusion::error::DataFusionError,
    },
}

/// Result of this crate's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// The digest's text cannot be read as a CloudTrail digest.
    InvalidFormat,
    /// A log file whose hash differs from the one its digest lists.
    Modified,
    /// A listed log file, or a previous digest, that is not in the lake.
    Missing,
    /// A digest whose signature does not verify, or that names another key
    /// than its own, or whose previous digest differs from what it says.
    Invalid,
    /// A log file that could not be read whole, so its hash is unknown.
    Unreadable,
    /// A log file delivered within the digests' hours that none lists.
    Unlisted,
    /// A digest signed with a key the given lists do not hold.
    NoKey,
    /// A digest whose signature is not known: the newest of a local copy.
    Unsigned,
    /// A log file with the hash a digest lists whose signature is not known.
    Unverified,
    /// A listed log file from a day folder the lake read nothing of: not
    /// selected when the archive was ingested.
    NotRead,
    /// A log file delivered hours after the newest digest of its account
    /// and region: CloudTrail writes one every hour, so the digests after
    /// it are gone, or validation was turned off.
    Late,
    /// A log file outside the hours every digest of its account and region
    /// covers: nothing can vouch for it or miss it.
    Uncovered,
    /// A digest whose signature was not checked: no public keys given.
    Unchecked,
    /// Everything checked holds.
    Valid,
}

impl Status {
    /// The status as `verify` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFormat => "invalid-format",
            Self::Modified => "modified",
            Self::Missing => "missing",
            Self::Invalid => "invalid",
            Self::Unreadable => "unreadable",
            Self::Unlisted => "unlisted",
            Self::NoKey => "no-key",
            Self::Unsigned => "unsigned",
            Self::Unverified => "unverified",
            Self::NotRead => "not-read",
            Self::Late => "late",
            Self::Uncovered => "uncovered",
            Self::Unchecked => "unchecked",
            Self::Valid => "valid",
        }
    }

    /// Whether the status shows the evidence is not as CloudTrail delivered
    /// it, or cannot be shown to be. `unsigned`, `unverified`, `not-read`,
    /// `uncovered` and `unchecked` say what was not checked, not that a
    /// check failed.
    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            Self::Valid
                | Self::Unchecked
                | Self::Unsigned
                | Self::Unverified
                | Self::NotRead
                | Self::Late
                | Self::Uncovered
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One checked digest or log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `digest` or `log`.
    pub check: &'static str,
    /// What the check found.
    pub status: Status,
    /// The file: where the lake read it, or, when it is missing, the
    /// bucket and key its digest names.
    pub object: String,
    /// The digest that lists the log file (none for a digest's own check).
    pub digest: Option<String>,
    /// What was compared, and what differs.
    pub detail: String,
}

/// Every check of a lake.
#[derive(Debug, Default)]
pub struct Verification {
    /// Checks in order: digests, then log files, each by location.
    pub checks: Vec<Check>,
}

impl Verification {
    /// How many checks have each status.
    pub fn counts(&self) -> BTreeMap<Status, usize> {
        let mut counts = BTreeMap::new();
        for c in &self.checks {
            *counts.entry(c.status).or_default() += 1;
        }
        counts
    }

    /// Whether no check found a problem.
    pub fn is_clean(&self) -> bool {
        self.checks.iter().all(|c| !c.status.is_problem())
    }

    /// How many digests were checked.
    pub fn digests(&self) -> usize {
        self.checks.iter().filter(|c| c.check == "digest").count()
    }

    /// The checks as one batch of [`schema`], all of them or only those
    /// that found a problem or left something unchecked.
    pub fn to_batch(&self, all: bool) -> RecordBatch {
        let kept: Vec<&Check> = self
            .checks
            .iter()
            .filter(|c| all || c.status != Status::Valid)
            .collect();
        let column = |f: &dyn Fn(&Check) -> Option<&str>| -> Arc<dyn Array> {
            Arc::new(kept.iter().map(|c| f(c)).collect::<StringArray>())
        };
        RecordBatch::try_new(
            schema(),
            vec![
                column(&|c| Some(c.check)),
                column(&|c| Some(c.status.as_str())),
                column(&|c| Some(&c.object)),
                column(&|c| c.digest.as_deref()),
                column(&|c| Some(&c.detail)),
            ],
        )
        .expect("columns match the schema")
    }
}

/// Columns of `verify`'s output.
pub fn schema() -> SchemaRef {
    let text = |name, nullable| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("check", false),
        text("status", false),
        text("object", false),
        text("digest", true),
        text("detail", false),
    ]))
}

/// A file of the lake's manifest, as one run read it.
#[derive(Debug)]
struct Object {
    location: String,
    kind: String,
    run: String,
    sha256: Option<String>,
    error: Option<String>,
    signature: Option<String>,
    /// Accounts and regions its events give, where a log file's differ
    /// from its folders': filed where no digest is expected to list it.
    claims: Vec<(String, String)>,
}

/// A digest as the lake holds it.
struct StoredDigest {
    location: String,
    sha256: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DigestDoc {
    aws_account_id: Option<String>,
    digest_start_time: Option<String>,
    digest_end_time: String,
    digest_s3_bucket: String,
    digest_s3_object: String,
    digest_public_key_fingerprint: Option<String>,
    previous_digest_s3_object: Option<String>,
    previous_digest_hash_value: Option<String>,
    previous_digest_signature: Option<String>,
    log_files: Vec<LogFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogFile {
    s3_bucket: Option<String>,
    s3_object: String,
    hash_value: String,
}

/// The name of a file: what follows the last `/` of its key or path.
fn name(location: &str) -> &str {
    location.rsplit('/').next().unwrap_or(location)
}

/// Account, region and time a CloudTrail file name gives:
/// `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz` for a log,
/// `<account>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDDTHHMMSSZ>.json.gz`
/// for a digest (a trail's name may itself hold `_`).
fn named(file: &str) -> Option<(&str, &str, DateTime<Utc>)> {
    let parts: Vec<&str> = file.split('_').collect();
    let (account, service, region) = (parts.first()?, parts.get(1)?, parts.get(2)?);
    let (stamp, format) = match *service {
        "CloudTrail" => (*parts.get(3)?, "%Y%m%dT%H%MZ"),
        "CloudTrail-Digest" => (digest_stem(file).rsplit('_').next()?, "%Y%m%dT%H%M%SZ"),
        _ => return None,
    };
    let time = NaiveDateTime::parse_from_str(stamp, format).ok()?.and_utc();
    Some((account, region, time))
}

/// A digest's name without `.json.gz`, and without the `_backfill` that
/// digests CloudTrail delivers late add before it.
fn digest_stem(file: &str) -> &str {
    let stem = file.strip_suffix(".json.gz").unwrap_or(file);
    stem.strip_suffix("_backfill").unwrap_or(stem)
}

fn rfc3339(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

async fn strings(
    ctx: &SessionContext,
    table: &'static str,
    sql: &str,
) -> Result<Vec<Vec<Option<String>>>> {
    let error = |source| Error::Query { table, source };
    let batches = ctx
        .sql(sql)
        .await
        .map_err(error)?
        .collect()
        .await
        .map_err(error)?;
    let mut rows = Vec::new();
    for batch in batches {
        // The lake's strings may come as views; these queries are small.
        let columns = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::cast(c, &DataType::Utf8))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| error(e.into()))?;
        let columns: Vec<&StringArray> = columns.iter().map(AsArray::as_string).collect();
        for row in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| c.is_valid(row).then(|| c.value(row).to_owned()))
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Every manifest row of a log or digest file: each run that read it.
async fn objects(ctx: &SessionContext) -> Result<Vec<Object>> {
    let rows = strings(
        ctx,
        "objects",
        "SELECT location, kind, run, sha256, error,
                json_as_text(metadata, 'signature') AS signature
         FROM objects WHERE kind IN ('log', 'insight', 'digest')",
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|mut r| Object {
            signature: r[5].take(),
            error: r[4].take(),
            sha256: r[3].take(),
            run: r[2].take().unwrap_or_default(),
            kind: r[1].take().unwrap_or_default(),
            location: r[0].take().unwrap_or_default(),
            claims: Vec::new(),
        })
        .collect())
}

/// The latest copy of each digest the lake holds.
async fn digests(ctx: &SessionContext) -> Result<Vec<StoredDigest>> {
    let rows = strings(
        ctx,
        "digests",
        "SELECT source_object, sha256, digest
         FROM (SELECT *, row_number() OVER (PARTITION BY source_object ORDER BY run DESC) AS n
               FROM digests)
         WHERE n = 1 ORDER BY source_object",
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|mut r| StoredDigest {
            text: r[2].take().unwrap_or_default(),
            sha256: r[1].take().unwrap_or_default(),
            location: r[0].take().unwrap_or_default(),
        })
        .collect())
}

/// Checks the digests and log files of the lake open in `ctx` (tables
/// `digests` and `objects`), with signatures checked against `keys` when
/// it holds any.
pub async fn verify(ctx: &SessionContext, keys: &PublicKeys) -> Result<Verification> {
    let mut objects = objects(ctx).await?;
    // A file in an Insight folder that holds other events is a log file put
    // where no digest is expected to list it: it is checked as one.
    let disguised: HashSet<String> = strings(
        ctx,
        "cloudtrail",
        "SELECT DISTINCT source_object FROM cloudtrail
         WHERE coalesce(eventcategory, '') <> 'Insight'
           AND source_object IN (SELECT location FROM objects WHERE kind = 'insight')",
    )
    .await?
    .into_iter()
    .filter_map(|mut row| row[0].take())
    .collect();
    for o in &mut objects {
        if o.kind == "insight" && disguised.contains(&o.location) {
            o.kind = "log".into();
        }
    }
    let stored = digests(ctx).await?;
    claim_regions(ctx, &mut objects, &stored).await?;
    let breaks = if restarts(&stored) {
        trail_breaks(ctx).await?
    } else {
        Vec::new()
    };
    Ok(check(&objects, &stored, keys, &breaks))
}

/// Whether a trail starts a new chain after an earlier digest of it: only
/// then is the event that ended a chain looked for, which reads the lake.
fn restarts(stored: &[StoredDigest]) -> bool {
    let mut first: HashMap<Trail, DateTime<Utc>> = HashMap::new();
    let mut starts = Vec::new();
    for d in stored {
        let (Some(key), Some((_, _, time))) = (chain_of(&d.location), named(name(&d.location)))
        else {
            continue;
        };
        first
            .entry(key)
            .and_modify(|t| *t = (*t).min(time))
            .or_insert(time);
        if serde_json::from_str::<DigestDoc>(&d.text)
            .is_ok_and(|doc| doc.previous_digest_s3_object.is_none())
        {
            starts.push((key, time));
        }
    }
    starts.iter().any(|(key, time)| first[key] < *time)
}

/// Services whose events CloudTrail logs as us-east-1 wherever a trail
/// files them.
const GLOBAL_SERVICES: &str = "'iam.amazonaws.com', 'sts.amazonaws.com', 'signin.amazonaws.com', \
    'cloudfront.amazonaws.com', 'route53.amazonaws.com', 'route53domains.amazonaws.com', \
    'organizations.amazonaws.com', 'waf.amazonaws.com', 'shield.amazonaws.com', \
    'globalaccelerator.amazonaws.com', 'account.amazonaws.com', 'support.amazonaws.com', \
    'trustedadvisor.amazonaws.com', 'ce.amazonaws.com', 'budgets.amazonaws.com', \
    'health.amazonaws.com'";

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Gives each log file filed under an account and region without digests
/// the digested accounts and regions its events are of, when none of its
/// events is of its folder's: a file moved where no digest would be looked
/// for is checked where it belongs. Global services' events place no file.
/// Reads only those partitions, and nothing when every log file's folder
/// has digests.
async fn claim_regions(
    ctx: &SessionContext,
    objects: &mut [Object],
    stored: &[StoredDigest],
) -> Result<()> {
    let digested: HashSet<(&str, &str)> = stored
        .iter()
        .filter_map(|d| named(name(&d.location)).map(|(a, r, _)| (a, r)))
        .collect();
    let undigested: HashSet<(String, String)> = objects
        .iter()
        .filter(|o| o.kind == "log")
        .filter_map(|o| foldered(&o.location))
        .filter(|(a, r, _)| !digested.contains(&(*a, *r)))
        .map(|(a, r, _)| (a.to_owned(), r.to_owned()))
        .collect();
    if digested.is_empty() || undigested.is_empty() {
        return Ok(());
    }
    let partitions: Vec<String> = digested
        .iter()
        .copied()
        .chain(undigested.iter().map(|(a, r)| (a.as_str(), r.as_str())))
        .map(|(a, r)| format!("(account = {} AND region = {})", sql_text(a), sql_text(r)))
        .collect();
    // A trail of one region files the global services' events (logged as
    // us-east-1) in its own region's folder: those place no file.
    let sql = format!(
        "SELECT DISTINCT source_object, account, region FROM cloudtrail
         WHERE ({}) AND eventsource NOT IN ({GLOBAL_SERVICES})",
        partitions.join(" OR ")
    );
    let mut events_of: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for mut row in strings(ctx, "cloudtrail", &sql).await? {
        if let [Some(location), Some(account), Some(region)] =
            [row[0].take(), row[1].take(), row[2].take()]
        {
            events_of
                .entry(location)
                .or_default()
                .push((account, region));
        }
    }
    for o in objects.iter_mut().filter(|o| o.kind == "log") {
        let (Some((account, region, _)), Some(pairs)) =
            (foldered(&o.location), events_of.get(&o.location))
        else {
            continue;
        };
        if digested.contains(&(account, region))
            || pairs
                .iter()
                .any(|(a, r)| (a.as_str(), r.as_str()) == (account, region))
        {
            continue;
        }
        o.claims = pairs
            .iter()
            .filter(|(a, r)| digested.contains(&(a.as_str(), r.as_str())))
            .cloned()
            .collect();
    }
    Ok(())
}

/// The lake's successful `StopLogging`, `DeleteTrail` and `UpdateTrail`
/// calls, which can end a trail's chain of digests.
async fn trail_breaks(ctx: &SessionContext) -> Result<Vec<TrailBreak>> {
    let rows = strings(
        ctx,
        "cloudtrail",
        "SELECT to_char(eventtime, '%Y-%m-%dT%H:%M:%SZ'), json_as_text(requestparameters, 'name'),
                source_object
         FROM cloudtrail
         WHERE eventsource = 'cloudtrail.amazonaws.com'
           AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail')
           AND errorcode IS NULL",
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|mut row| {
            Some(TrailBreak {
                time: rfc3339(row[0].as_deref())?,
                trail: row[1].take()?,
                source: row[2].take()?,
            })
        })
        .collect())
}

/// A parsed digest and where the lake read it.
struct Digest<'a> {
    stored: &'a StoredDigest,
    doc: DigestDoc,
}

/// Hours of delivery the digests of one account and region cover, merged
/// where one digest's hour ends as the next begins.
type Windows = Vec<Span>;

/// The hours digests cover, by where their trail writes (bucket, prefix
/// and organization folder), account and region: an organization's
/// digests do not cover an account trail's files beside them, nor one
/// prefix's another's. A file outside the trail layout is held against
/// the digests of its account and region wherever they are.
#[derive(Default)]
struct Coverage {
    by_root: HashMap<(String, String, String), Windows>,
    any_root: HashMap<(String, String), Windows>,
}

impl Coverage {
    fn add(&mut self, root: Option<&str>, account: &str, region: &str, hours: Span) {
        if let Some(root) = root {
            self.by_root
                .entry((root.to_owned(), account.to_owned(), region.to_owned()))
                .or_default()
                .push(hours);
        }
        self.any_root
            .entry((account.to_owned(), region.to_owned()))
            .or_default()
            .push(hours);
    }

    fn merge(&mut self) {
        self.by_root.values_mut().for_each(merge);
        self.any_root.values_mut().for_each(merge);
    }

    fn get(&self, root: Option<&str>, account: &str, region: &str) -> Option<&Windows> {
        match root {
            Some(root) => {
                self.by_root
                    .get(&(root.to_owned(), account.to_owned(), region.to_owned()))
            }
            None => self.any_root.get(&(account.to_owned(), region.to_owned())),
        }
    }
}

/// A chain of digests: organization (or empty), account, region, trail
/// and home region. An organization's trail and an account's own may share
/// a name, and so may trails of two home regions.
type Trail<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);
/// The first and last time of something.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// What the checks of one digest need to know of the others.
struct Chains<'a> {
    by_name: HashMap<&'a str, &'a Digest<'a>>,
    /// Digests that name each digest as their previous one.
    successors: HashMap<&'a str, Vec<&'a Digest<'a>>>,
    /// Digest objects the lake could not read, by name.
    unreadable: HashSet<&'a str>,
    /// First and last digest time of each trail and region.
    span: HashMap<Trail<'a>, Span>,
    /// Signatures from the digests' S3 metadata, by name.
    signatures: HashMap<&'a str, &'a str>,
    /// Where the trail writes, account, region and day of every folder the
    /// lake read a file of.
    days_read: HashSet<(&'a str, &'a str, &'a str, DateTime<Utc>)>,
    /// Each trail's digests by time, and whether each starts a chain.
    starts: HashMap<Trail<'a>, Vec<(DateTime<Utc>, bool)>>,
    /// The earliest delivery of a log file the lake holds, by where its
    /// trail writes, account and region.
    earliest_log: HashMap<(&'a str, &'a str, &'a str), DateTime<Utc>>,
    /// Events in the lake that end a trail's chain of digests.
    breaks: &'a [TrailBreak],
    /// Log files some digest lists with the hash the lake read: an event
    /// in one was delivered by CloudTrail, not added.
    vouched: HashSet<&'a str>,
    /// Regions the lake read log files of.
    regions_read: HashSet<&'a str>,
}

/// What the lake says of the end of a chain its trail starts again after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChainEnd {
    /// Its trail does not start a new chain after it.
    NoRestart,
    /// A StopLogging, UpdateTrail or DeleteTrail of the trail in a log file
    /// a digest vouches for ended it.
    Explained,
    /// The lake holds nothing of the trail's home region, where that event
    /// would be.
    HomeNotRead,
    /// Nothing in the lake ended it: the digests after it may be gone.
    Unexplained,
}

/// A `StopLogging`, `DeleteTrail` or `UpdateTrail` the lake holds: each can
/// end a trail's chain of digests, which starts again later.
#[derive(Debug, Clone)]
pub(crate) struct TrailBreak {
    time: DateTime<Utc>,
    /// The trail's name or ARN, as the request gives it.
    trail: String,
    /// The log file the event is in.
    source: String,
}

impl<'a> Chains<'a> {
    fn new(
        parsed: &'a [Digest<'a>],
        objects: &'a [Object],
        latest: &HashMap<&'a str, &'a Object>,
        breaks: &'a [TrailBreak],
    ) -> Self {
        let mut successors: HashMap<&str, Vec<&Digest>> = HashMap::new();
        for d in parsed {
            if let Some(previous) = &d.doc.previous_digest_s3_object {
                successors.entry(name(previous)).or_default().push(d);
            }
        }
        let unreadable: Vec<&str> = latest
            .values()
            .filter(|o| o.kind == "digest" && o.error.is_some())
            .map(|o| o.location.as_str())
            .collect();
        let mut span: HashMap<Trail, Span> = HashMap::new();
        let locations = parsed
            .iter()
            .map(|d| d.stored.location.as_str())
            .chain(unreadable.iter().copied());
        for location in locations {
            if let (Some(key), Some((_, _, time))) = (chain_of(location), named(name(location))) {
                span.entry(key)
                    .and_modify(|(first, last)| {
                        *first = (*first).min(time);
                        *last = (*last).max(time);
                    })
                    .or_insert((time, time));
            }
        }
        let mut starts: HashMap<Trail, Vec<(DateTime<Utc>, bool)>> = HashMap::new();
        for d in parsed {
            let location = d.stored.location.as_str();
            if let (Some(key), Some((_, _, time))) = (chain_of(location), named(name(location))) {
                let first = d.doc.previous_digest_s3_object.is_none();
                starts.entry(key).or_default().push((time, first));
            }
        }
        for times in starts.values_mut() {
            times.sort();
        }
        let mut earliest_log: HashMap<(&str, &str, &str), DateTime<Utc>> = HashMap::new();
        for o in objects.iter().filter(|o| o.kind == "log") {
            let delivered = named(name(&o.location))
                .map(|(_, _, minute)| minute)
                .or_else(|| foldered(&o.location).and_then(|(_, _, day)| day));
            if let (Some(key), Some(delivered)) = (place(&o.location), delivered) {
                earliest_log
                    .entry(key)
                    .and_modify(|t| *t = (*t).min(delivered))
                    .or_insert(delivered);
            }
        }
        let mut hashes: HashMap<&str, Vec<&str>> = HashMap::new();
        for o in objects.iter().filter(|o| o.kind == "log") {
            if let Some(hash) = &o.sha256 {
                hashes.entry(name(&o.location)).or_default().push(hash);
            }
        }
        let vouched = parsed
            .iter()
            .flat_map(|d| &d.doc.log_files)
            .filter(|log| {
                hashes
                    .get(name(&log.s3_object))
                    .is_some_and(|h| h.iter().any(|h| h.eq_ignore_ascii_case(&log.hash_value)))
            })
            .map(|log| name(&log.s3_object))
            .collect();
        let regions_read = objects
            .iter()
            .filter(|o| o.kind == "log")
            .filter_map(|o| foldered(&o.location).map(|(_, region, _)| region))
            .collect();
        Self {
            by_name: parsed
                .iter()
                .map(|d| (name(&d.stored.location), d))
                .collect(),
            successors,
            unreadable: unreadable.into_iter().map(name).collect(),
            span,
            signatures: objects
                .iter()
                .filter(|o| o.kind == "digest")
                .filter_map(|o| Some((name(&o.location), o.signature.as_deref()?)))
                .collect(),
            days_read: objects
                .iter()
                .filter_map(|o| {
                    let (root, account, region) = place(&o.location)?;
                    let (_, _, day) = foldered(&o.location)?;
                    Some((root, account, region, day?))
                })
                .collect(),
            starts,
            earliest_log,
            breaks,
            vouched,
            regions_read,
        }
    }

    /// Whether the lake holds no other digest of `d`'s trail (copies of
    /// one digest are one): a trail of one digest, which nothing links to.
    fn is_alone(&self, d: &Digest) -> bool {
        let location = d.stored.location.as_str();
        chain_of(location)
            .and_then(|key| self.starts.get(&key))
            .is_none_or(|times| times.iter().all(|(time, _)| *time == times[0].0))
    }

    /// Whether the next digest of `d`'s trail starts a new chain.
    fn restarts_after(&self, d: &Digest) -> bool {
        let location = d.stored.location.as_str();
        let times = chain_of(location).and_then(|key| self.starts.get(&key));
        times
            .zip(named(name(location)))
            .and_then(|(times, (_, _, own))| times.iter().find(|(time, _)| *time > own))
            .is_some_and(|(_, first)| *first)
    }

    /// Whether `d` is the last digest of a chain its trail starts again
    /// after, and what ended the chain: an event of the trail within an
    /// hour of `d`'s hours (CloudTrail breaks the chain within an hour of
    /// logging stopping or validation turned off, in each region at its
    /// own hour), in a log file a digest vouches for, since an added file
    /// could say anything.
    /// No digest names such a digest, so its signature is known only from
    /// its S3 metadata, as the newest digest's is. Without the event,
    /// digests after it may have been deleted.
    fn chain_end(&self, d: &Digest) -> ChainEnd {
        let (Some((_, _, trail, home)), Some(start), Some(end)) = (
            trail_of(name(&d.stored.location)),
            rfc3339(d.doc.digest_start_time.as_deref()),
            rfc3339(Some(&d.doc.digest_end_time)),
        ) else {
            return ChainEnd::NoRestart;
        };
        if !self.restarts_after(d) {
            return ChainEnd::NoRestart;
        }
        let suffix = format!(":trail/{trail}");
        let explained = self.breaks.iter().any(|b| {
            (b.trail == trail || b.trail.ends_with(&suffix))
                && start - chrono::TimeDelta::hours(1) <= b.time
                && b.time < end + chrono::TimeDelta::hours(1)
                && self.vouched.contains(name(&b.source))
        });
        if explained {
            ChainEnd::Explained
        } else if !self.regions_read.contains(home) {
            ChainEnd::HomeNotRead
        } else {
            ChainEnd::Unexplained
        }
    }

    /// Whether the digest at `location` is the newest the lake holds of its
    /// chain.
    fn is_newest(&self, location: &str) -> bool {
        let span = chain_of(location).and_then(|key| self.span.get(&key));
        span.zip(named(name(location)))
            .is_some_and(|((_, last), (_, _, time))| time >= *last)
    }

    /// Whether `previous`, missing from the lake, is older than the first
    /// digest the lake holds of the chain of the digest at `location`, and
    /// older than every log file the lake holds of its account and region:
    /// not ingested, or expired with the logs it listed (a bucket's
    /// lifecycle rule), not lost. Log files delivered before it ends are
    /// what it would list: a first link deleted from among them is lost.
    fn before_lake(&self, location: &str, previous: &str) -> bool {
        let first = chain_of(location).and_then(|key| self.span.get(&key));
        let Some((_, _, ends)) = named(name(previous)) else {
            return false;
        };
        let older = first.is_some_and(|(first, _)| ends < *first);
        let logs_before = place(location)
            .and_then(|key| self.earliest_log.get(&key))
            .is_some_and(|earliest| *earliest < ends);
        older && !logs_before
    }
}

/// The latest manifest row of each location.
fn latest(objects: &[Object]) -> HashMap<&str, &Object> {
    let mut latest: HashMap<&str, &Object> = HashMap::new();
    for o in objects {
        let slot = latest.entry(o.location.as_str()).or_insert(o);
        if o.run > slot.run {
            *slot = o;
        }
    }
    latest
}

fn check(
    objects: &[Object],
    stored: &[StoredDigest],
    keys: &PublicKeys,
    breaks: &[TrailBreak],
) -> Verification {
    // Every run's row of a log file: a run that read another version of it
    // stored that version's records.
    let mut logs_by_name: HashMap<&str, Vec<&Object>> = HashMap::new();
    for o in objects
        .iter()
        .filter(|o| o.kind == "log" || o.kind == "insight")
    {
        logs_by_name.entry(name(&o.location)).or_default().push(o);
    }
    let mut checks = Vec::new();
    let mut parsed = Vec::new();
    for d in stored {
        match serde_json::from_str::<DigestDoc>(&d.text) {
            Ok(doc) => parsed.push(Digest { stored: d, doc }),
            Err(e) => checks.push(digest_check(
                &d.location,
                Status::InvalidFormat,
                format!("not a CloudTrail digest: {e}"),
            )),
        }
    }
    let latest = latest(objects);
    for o in latest.values() {
        if let (true, Some(error)) = (o.kind == "digest", &o.error) {
            checks.push(digest_check(
                &o.location,
                Status::Unreadable,
                format!("could not be read: {error}"),
            ));
        }
    }
    let chains = Chains::new(&parsed, objects, &latest, breaks);
    let mut listed: HashSet<&str> = HashSet::new();
    let mut log_checks = Vec::new();
    let mut coverage = Coverage::default();
    for d in &parsed {
        let own = name(&d.stored.location);
        let mut digest = check_digest(d, &chains, keys);
        let trusted = matches!(digest.status, Status::Valid | Status::Unchecked);
        let readable_times = digest.status != Status::InvalidFormat;
        // A digest of unknown signature that is its trail's only one is what
        // anyone can add (a made-up trail): what it lists is checked as if
        // no digest listed it, and its hours cover nothing.
        let alone = !trusted && chains.is_alone(d);
        if alone {
            digest.detail.push_str(
                "; it is the only digest of its trail in the lake, so the files it lists are checked as if no digest listed them",
            );
        }
        checks.push(digest);
        for log in &d.doc.log_files {
            let file = name(&log.s3_object);
            if !alone {
                listed.insert(file);
            }
            log_checks.extend(check_log(
                d,
                log,
                logs_by_name.get(file),
                trusted,
                &chains.days_read,
            ));
        }
        let start = rfc3339(d.doc.digest_start_time.as_deref());
        let end = rfc3339(Some(&d.doc.digest_end_time));
        if let (true, Some((_, region, _)), Some(account), Some(start), Some(end)) = (
            readable_times && !alone,
            named(own),
            &d.doc.aws_account_id,
            start,
            end,
        ) {
            let root = place(&d.stored.location).map(|(root, _, _)| root);
            coverage.add(root, account, region, (start, end));
        }
    }
    coverage.merge();
    log_checks.extend(unlisted(&latest, &listed, &coverage));
    checks.sort_by(|a, b| a.object.cmp(&b.object));
    log_checks
        .sort_by(|a, b| (&a.object, &a.digest, &a.detail).cmp(&(&b.object, &b.digest, &b.detail)));
    checks.extend(log_checks);
    Verification { checks }
}

fn digest_check(location: &str, status: Status, detail: String) -> Check {
    Check {
        check: "digest",
        status,
        object: location.to_owned(),
        digest: None,
        detail,
    }
}

/// Sorts `windows` and joins those that touch or overlap: a log file
/// delivered in the minute one digest's hour ends and the next begins is
/// inside the two together.
fn merge(windows: &mut Windows) {
    windows.sort();
    let mut merged: Windows = Vec::with_capacity(windows.len());
    for &(start, end) in windows.iter() {
        match merged.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = (*last_end).max(end),
            _ => merged.push((start, end)),
        }
    }
    *windows = merged;
}

/// Account, region and delivery day of a file from its folders:
/// `…/<account>/CloudTrail[-Digest|-Insight]/<region>/YYYY/MM/DD/<file>`.
fn foldered(location: &str) -> Option<(&str, &str, Option<DateTime<Utc>>)> {
    let parts: Vec<&str> = location.split('/').collect();
    let at = parts.iter().rposition(|p| {
        matches!(
            *p,
            "CloudTrail" | "CloudTrail-Digest" | "CloudTrail-Insight"
        )
    })?;
    let (account, region) = (*parts.get(at.checked_sub(1)?)?, *parts.get(at + 1)?);
    let day = parts
        .get(at + 2..at + 5)
        .and_then(|d| chrono::NaiveDate::parse_from_str(&d.join("/"), "%Y/%m/%d").ok())
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    Some((account, region, day))
}

/// Log files in `latest` that no digest lists: `unlisted` when delivered
/// within the hours the digests of their account and region cover,
/// `uncovered` when outside them. Where a file is and what
/// it is called are both the archive's to lie about: the folders place it
/// (as CloudTrail filed it), else its name; a name that gives no minute is
/// placed by its folder's day.
fn unlisted(
    latest: &HashMap<&str, &Object>,
    listed: &HashSet<&str>,
    coverage: &Coverage,
) -> Vec<Check> {
    let mut found = Vec::new();
    for o in latest.values().filter(|o| o.kind == "log") {
        let file = name(&o.location);
        if listed.contains(file) {
            continue;
        }
        let by_name = named(file);
        let by_folder = foldered(&o.location);
        let uncovered = |detail: String| Check {
            check: "log",
            status: Status::Uncovered,
            object: o.location.clone(),
            digest: None,
            detail,
        };
        let Some((account, region)) = by_folder
            .map(|(a, r, _)| (a, r))
            .or(by_name.map(|(a, r, _)| (a, r)))
        else {
            found.push(uncovered(
                "neither its folders nor its name give its account and region: no digest can list it".into(),
            ));
            continue;
        };
        let root = place(&o.location).map(|(root, _, _)| root);
        // A file moved out of its region's folder into one without digests
        // is checked where its events say it belongs.
        let (folder_account, folder_region) = (account, region);
        let claimed = o
            .claims
            .iter()
            .find(|(a, r)| coverage.get(root, a, r).is_some())
            .filter(|_| coverage.get(root, account, region).is_none());
        let (account, region) =
            claimed.map_or((account, region), |(a, r)| (a.as_str(), r.as_str()));
        let Some(windows) = coverage.get(root, account, region) else {
            found.push(uncovered(format!(
                "the lake holds no digest of {account} {region}: not checked"
            )));
            continue;
        };
        let Some(at) = delivery(by_name, by_folder) else {
            found.push(uncovered(
                "neither its name nor its folders give its delivery time: not checked".into(),
            ));
            continue;
        };
        let Some((s, e)) = windows.iter().find(|w| at.inside(w)) else {
            if let Some(late) = late(windows, &at, account, region) {
                found.push(Check {
                    status: Status::Late,
                    ..uncovered(late)
                });
                continue;
            }
            let gap = gap(windows, at.from, at.to);
            found.push(uncovered(format!(
                "{} {}, outside the hours digests of {account} {region} cover{gap}: not checked",
                at.placed,
                at.shown(),
            )));
            continue;
        };
        let mut detail = format!(
            "{} {} within the hours digests of {account} {region} cover ({} to {}), but no digest lists it: added to the archive, or written by another trail that has no digests",
            at.placed,
            at.shown(),
            s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        if claimed.is_some() {
            detail = format!(
                "{detail}; filed under {folder_account} {folder_region}, which has no digests, though its events are of {account} {region}"
            );
        }
        if let Some((a, r, t)) =
            by_name.filter(|(a, r, t)| (*a, *r) != (account, region) || !at.exact || at.from != *t)
        {
            detail = format!(
                "{detail}; its name says account {a} region {r} at {}",
                t.format("%Y-%m-%dT%H:%MZ")
            );
        }
        found.push(Check {
            check: "log",
            status: Status::Unlisted,
            object: o.location.clone(),
            digest: None,
            detail,
        });
    }
    found
}

/// When a log file was delivered, as far as the archive says.
struct Delivery {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// How it was placed, as the detail says it.
    placed: &'static str,
    /// Whether its name gave the minute, rather than its folder the day.
    exact: bool,
}

impl Delivery {
    /// Whether it lies in the hours `window` covers: the whole minute, or
    /// any of the day.
    fn inside(&self, (start, end): &Span) -> bool {
        if self.exact {
            *start <= self.from && self.to <= *end
        } else {
            *start < self.to && self.from < *end
        }
    }

    fn shown(&self) -> String {
        let format = if self.exact {
            "%Y-%m-%dT%H:%MZ"
        } else {
            "%Y-%m-%d"
        };
        self.from.format(format).to_string()
    }
}

/// A name gives the delivery minute: the whole minute must lie in the
/// digests' hours for the file to belong in one. Without one, or with a day
/// other than its folder's (CloudTrail files by delivery day), any hour of
/// the folder's day does.
fn delivery(
    by_name: Option<(&str, &str, DateTime<Utc>)>,
    by_folder: Option<(&str, &str, Option<DateTime<Utc>>)>,
) -> Option<Delivery> {
    let folder_day = by_folder.and_then(|(_, _, day)| day);
    let minute = by_name
        .map(|(_, _, minute)| minute)
        .filter(|m| folder_day.is_none_or(|day| m.date_naive() == day.date_naive()));
    match (minute, folder_day) {
        (Some(minute), _) => Some(Delivery {
            from: minute,
            to: minute + chrono::Duration::minutes(1),
            placed: "delivered at",
            exact: true,
        }),
        (None, Some(day)) => Some(Delivery {
            from: day,
            to: day + chrono::Duration::days(1),
            placed: "its name gives no delivery time on its folder's day; filed on",
            exact: false,
        }),
        (None, None) => None,
    }
}

/// How long after the newest digest's hour a log file may come before the
/// digests after it should be in the archive: the next digest is delivered
/// within about an hour of the hour it covers.
const DIGEST_LAG: chrono::TimeDelta = chrono::TimeDelta::hours(2);

/// Says why a file delivered well after the hours the digests cover is
/// suspect, when it is.
fn late(windows: &Windows, at: &Delivery, account: &str, region: &str) -> Option<String> {
    let (_, newest) = windows.last()?;
    (at.exact && at.from >= *newest + DIGEST_LAG).then(|| {
        format!(
            "delivered at {}, {} hours after the newest digest of {account} {region} ends ({}): CloudTrail writes one every hour, so the digests after it are gone, or validation was turned off (an UpdateTrail or StopLogging in the lake says which): not checked",
            at.shown(),
            (at.from - *newest).num_hours(),
            newest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    })
}

/// Digests come every hour, even of hours without logs: a gap between the
/// hours they cover is a digest the lake lacks. Says so when `from` to `to`
/// lies in one.
fn gap(windows: &Windows, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    windows
        .windows(2)
        .find(|pair| pair[0].1 <= from && to <= pair[1].0)
        .map(|pair| {
            format!(
                " (in a gap from {} to {}: the digests of those hours are not in the lake)",
                pair[0].1.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                pair[1].0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        })
        .unwrap_or_default()
}

/// Account, region, trail and home region a digest's name gives.
fn trail_of(file: &str) -> Option<(&str, &str, &str, &str)> {
    let stem = digest_stem(file);
    let parts: Vec<&str> = stem.split('_').collect();
    if parts.len() < 6 || parts[1] != "CloudTrail-Digest" {
        return None;
    }
    let home = parts[parts.len() - 2];
    let trail_end = stem.len() - parts[parts.len() - 1].len() - home.len() - 2;
    let trail_start = parts[0].len() + parts[1].len() + parts[2].len() + 3;
    Some((parts[0], parts[2], stem.get(trail_start..trail_end)?, home))
}

/// Where a file's trail writes, its account and region, from its folders:
/// `<bucket, prefix and organization folder>/<account>/CloudTrail[-Digest|
/// -Insight]/<region>/…`. Two trails with their own prefixes, or an
/// organization's trail beside an account's own, are apart.
fn place(location: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = location.split('/').collect();
    let at = parts.iter().rposition(|p| {
        matches!(
            *p,
            "CloudTrail" | "CloudTrail-Digest" | "CloudTrail-Insight"
        )
    })?;
    let account_at = at.checked_sub(1)?;
    let root_len = parts[..account_at]
        .iter()
        .map(|p| p.len() + 1)
        .sum::<usize>();
    let root = location.get(..root_len)?;
    Some((root, parts[account_at], *parts.get(at + 1)?))
}

/// The chain of the digest at `location`: its name's trail, and the
/// organization folder above its account's, if any.
fn chain_of(location: &str) -> Option<Trail<'_>> {
    let (account, region, trail, home) = trail_of(name(location))?;
    let parts: Vec<&str> = location.split('/').collect();
    let org = parts
        .iter()
        .rposition(|p| *p == "CloudTrail-Digest")
        .and_then(|at| at.checked_sub(2))
        .map(|at| parts[at])
        .filter(|folder| folder.starts_with("o-"))
        .unwrap_or("");
    Some((org, account, region, trail, home))
}

fn check_digest(d: &Digest, chains: &Chains, keys: &PublicKeys) -> Check {
    let own = name(&d.stored.location);
    let mut found: Vec<(Status, String)> = Vec::new();
    for (field, value) in [
        ("digestStartTime", d.doc.digest_start_time.as_deref()),
        ("digestEndTime", Some(d.doc.digest_end_time.as_str())),
    ] {
        if rfc3339(value).is_none() {
            found.push((
                Status::InvalidFormat,
                format!("{field} {value:?} is not a time"),
            ));
        }
    }
    if name(&d.doc.digest_s3_object) != own {
        found.push((
            Status::Invalid,
            format!(
                "it says it is {}/{}: moved or renamed",
                d.doc.digest_s3_bucket, d.doc.digest_s3_object
            ),
        ));
    }
    found.extend(check_previous(d, chains));
    let successors = chains.successors.get(own).map_or(&[][..], Vec::as_slice);
    // Copies of one digest (the archive collected twice) are one successor.
    let distinct: HashSet<(&str, &str)> = successors
        .iter()
        .map(|s| (name(&s.stored.location), s.stored.sha256.as_str()))
        .collect();
    if distinct.len() > 1 {
        found.push((
            Status::Invalid,
            format!(
                "{} digests name it as their previous one, where a chain goes on in one: {}",
                distinct.len(),
                distinct
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let own_signature = chains.signatures.get(own).copied();
    let given: Vec<&str> = successors
        .iter()
        .filter_map(|s| s.doc.previous_digest_signature.as_deref())
        .collect();
    if let Some(other) = given
        .iter()
        .find(|s| own_signature.is_some_and(|own| !own.eq_ignore_ascii_case(s)))
    {
        found.push((
            Status::Invalid,
            format!("the next digest gives it the signature {other}, not the one in its metadata"),
        ));
    }
    let signature = own_signature.or(given.first().copied());
    let chain_end = chains.chain_end(d);
    let ends_a_chain = matches!(chain_end, ChainEnd::Explained | ChainEnd::HomeNotRead);
    if signature.is_none() && !chains.is_newest(&d.stored.location) && !ends_a_chain {
        let restart = if chain_end == ChainEnd::Unexplained {
            "; its trail starts a new chain after it, but the lake holds no StopLogging, UpdateTrail or DeleteTrail of the trail in its hours, in a log file a digest lists, to explain the break"
        } else {
            ""
        };
        found.push((
            Status::Invalid,
            format!("its signature is not known and it is not the newest digest of its trail: no digest names it as its previous one (made up, or the digest after it is gone){restart}"),
        ));
    } else {
        found.push(signature_status(d, signature, keys, chain_end));
    }
    let status = found.iter().map(|(s, _)| *s).min().unwrap_or(Status::Valid);
    digest_check(
        &d.stored.location,
        status,
        found
            .into_iter()
            .map(|(_, text)| text)
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// The link from `d` to the digest before it.
fn check_previous(d: &Digest, chains: &Chains) -> Option<(Status, String)> {
    let Some(previous) = &d.doc.previous_digest_s3_object else {
        return Some((
            Status::Valid,
            "starts a chain (validation turned on, or logging started again)".into(),
        ));
    };
    if let Some(p) = chains.by_name.get(name(previous)) {
        let expected = d.doc.previous_digest_hash_value.as_deref().unwrap_or("");
        return (!p.stored.sha256.eq_ignore_ascii_case(expected)).then(|| {
            (
                Status::Invalid,
                format!(
                    "its previous digest {} has SHA-256 {} where this one gives {expected}",
                    p.stored.location, p.stored.sha256
                ),
            )
        });
    }
    if chains.unreadable.contains(name(previous)) {
        return Some((
            Status::Unreadable,
            format!(
                "its previous digest {previous} could not be read, so the link to it is not checked"
            ),
        ));
    }
    (!chains.before_lake(&d.stored.location, previous)).then(|| {
        (
            Status::Missing,
            format!("its previous digest {previous} is not in the lake"),
        )
    })
}

fn signature_status(
    d: &Digest,
    signature: Option<&str>,
    keys: &PublicKeys,
    chain_end: ChainEnd,
) -> (Status, String) {
    let Some(signature) = signature else {
        let which = match chain_end {
            ChainEnd::Explained => {
                "the last of its chain before the trail starts a new one (logging stopped and started, or validation turned off and on)"
            }
            ChainEnd::HomeNotRead => {
                "the last of its chain before the trail starts a new one; the lake holds nothing of the trail's home region, where the event that ended the chain would be, so whether digests after it are gone is not checked"
            }
            ChainEnd::NoRestart | ChainEnd::Unexplained => "the newest digest of its trail",
        };
        return (
            Status::Unsigned,
            format!(
                "its signature is not known: it is {which}, whose signature travels in the S3 object's metadata, which a local copy loses"
            ),
        );
    };
    if keys.is_empty() {
        return (
            Status::Unchecked,
            "signature not checked: give --public-keys".into(),
        );
    }
    let fingerprint = d.doc.digest_public_key_fingerprint.as_deref().unwrap_or("");
    let text = keys::signed_text(
        &d.doc.digest_end_time,
        &d.doc.digest_s3_bucket,
        &d.doc.digest_s3_object,
        &d.stored.sha256,
        d.doc.previous_digest_signature.as_deref(),
    );
    match keys::check(keys, fingerprint, &text, signature) {
        Signature::Valid => (Status::Valid, "signature valid".into()),
        Signature::Invalid => (
            Status::Invalid,
            format!("signature does not verify with key {fingerprint}"),
        ),
        Signature::NotHex => (Status::Invalid, "signature is not hex".into()),
        Signature::NoKey => (
            Status::NoKey,
            format!("no public key with fingerprint {fingerprint:?} in the lists given"),
        ),
    }
}

/// Checks each run's copy of a log file `d` lists. `trusted` is whether
/// `d` passed its own checks; a hash that matches a digest whose signature
/// is not known (or that failed) is `unverified`, since whoever could
/// change the file could change that digest too.
fn check_log(
    d: &Digest,
    log: &LogFile,
    copies: Option<&Vec<&Object>>,
    trusted: bool,
    days_read: &HashSet<(&str, &str, &str, DateTime<Utc>)>,
) -> Vec<Check> {
    let digest = Some(d.stored.location.clone());
    let Some(copies) = copies.filter(|c| !c.is_empty()) else {
        // A digest lists the files of the hour before it, which may lie
        // in the day folder before its own: one `--start` did not select.
        // The digest's trail writes its logs where it writes the digest.
        let root = place(&d.stored.location).map_or("", |(root, _, _)| root);
        let (status, detail) = match foldered(&log.s3_object) {
            Some((account, region, Some(day)))
                if !days_read.contains(&(root, account, region, day)) =>
            {
                (
                    Status::NotRead,
                    format!(
                        "listed by its digest; the lake read nothing filed on {} for {account} {region}, so that day was not selected when the archive was ingested",
                        day.format("%Y-%m-%d")
                    ),
                )
            }
            _ => (
                Status::Missing,
                "listed by its digest, not in the lake: deleted, or not selected when the archive was ingested".into(),
            ),
        };
        return vec![Check {
            check: "log",
            status,
            object: format!(
                "{}/{}",
                log.s3_bucket.as_deref().unwrap_or(&d.doc.digest_s3_bucket),
                log.s3_object
            ),
            digest,
            detail,
        }];
    };
    copies
        .iter()
        .map(|o| {
            let (status, detail) = match &o.sha256 {
                None => (
                    Status::Unreadable,
                    format!(
                        "could not be read whole (run {}): {}",
                        o.run,
                        o.error.as_deref().unwrap_or("not read")
                    ),
                ),
                Some(hash) if hash.eq_ignore_ascii_case(&log.hash_value) && trusted => {
                    (Status::Valid, format!("SHA-256 {hash} (run {})", o.run))
                }
                Some(hash) if hash.eq_ignore_ascii_case(&log.hash_value) => (
                    Status::Unverified,
                    format!("SHA-256 {hash} (run {}), as listed by a digest that is not itself verified", o.run),
                ),
                Some(hash) => (
                    Status::Modified,
                    format!(
                        "SHA-256 {hash} as run {} read it, where its digest lists {}",
                        o.run, log.hash_value
                    ),
                ),
            };
            Check {
                check: "log",
                status,
                object: o.location.clone(),
                digest: digest.clone(),
                detail,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn windows_that_touch_or_overlap_merge() {
        let t = |h: u32, m: u32| {
            chrono::NaiveDate::from_ymd_opt(2024, 3, 10)
                .unwrap()
                .and_hms_opt(h, m, 33)
                .unwrap()
                .and_utc()
        };
        let mut windows = vec![
            (t(1, 12), t(2, 12)),
            (t(0, 12), t(1, 12)),
            (t(5, 0), t(6, 0)),
            (t(5, 30), t(5, 40)),
        ];
        merge(&mut windows);
        assert_eq!(windows, vec![(t(0, 12), t(2, 12)), (t(5, 0), t(6, 0))]);
    }

    #[test]
    fn a_trail_writes_under_its_prefix_and_organization() {
        assert_eq!(
            place("s3://b/main/AWSLogs/o-abc/1/CloudTrail-Digest/r/2024/03/10/x.json.gz"),
            Some(("s3://b/main/AWSLogs/o-abc/", "1", "r"))
        );
        assert_eq!(
            place("/evidence/sec/AWSLogs/1/CloudTrail/r/2024/03/10/x.json.gz"),
            Some(("/evidence/sec/AWSLogs/", "1", "r"))
        );
        assert_eq!(place("/evidence/x.json.gz"), None);
    }

    #[test]
    fn a_listed_file_from_a_day_the_lake_did_not_read_is_not_missing() {
        let key = |day: &str, file: &str| format!("AWSLogs/1/CloudTrail/r/2024/03/{day}/{file}");
        let object = |location: String| Object {
            location,
            kind: "log".into(),
            run: "a".into(),
            sha256: Some("00".into()),
            error: None,
            signature: None,
            claims: Vec::new(),
        };
        // A digest of 00:30 on the 10th lists a file of the 9th, one of the
        // 10th that was read, and one of the 10th that is gone.
        let digest = json!({
            "awsAccountId": "1",
            "digestStartTime": "2024-03-09T23:30:00Z",
            "digestEndTime": "2024-03-10T00:30:00Z",
            "digestS3Bucket": "b",
            "digestS3Object": "AWSLogs/1/CloudTrail-Digest/r/2024/03/10/1_CloudTrail-Digest_r_t_r_20240310T003000Z.json.gz",
            "previousDigestS3Object": null,
            "logFiles": [
                {"s3Object": key("09", "1_CloudTrail_r_20240309T2340Z_a.json.gz"), "hashValue": "00"},
                {"s3Object": key("10", "1_CloudTrail_r_20240310T0010Z_b.json.gz"), "hashValue": "00"},
                {"s3Object": key("10", "1_CloudTrail_r_20240310T0020Z_c.json.gz"), "hashValue": "00"},
            ],
        });
        let stored = StoredDigest {
            location: "/e/AWSLogs/1/CloudTrail-Digest/r/2024/03/10/1_CloudTrail-Digest_r_t_r_20240310T003000Z.json.gz".into(),
            sha256: "ff".into(),
            text: digest.to_string(),
        };
        let objects = [object(format!(
            "/e/{}",
            key("10", "1_CloudTrail_r_20240310T0010Z_b.json.gz")
        ))];
        let statuses: Vec<Status> = check(&objects, &[stored], &PublicKeys::default(), &[])
            .checks
            .iter()
            .map(|c| c.status)
            .collect();
        // The digest is its trail's only one: the file it lists that was
        // read is also checked as if none listed it.
        assert_eq!(
            statuses,
            [
                Status::Unsigned,
                Status::Uncovered,
                Status::Unverified,
                Status::NotRead,
                Status::Missing,
            ]
        );
    }

    #[test]
    fn folders_place_a_file_whatever_its_name() {
        let (a, r, day) =
            foldered("/e/AWSLogs/o-1/111/CloudTrail/eu-west-1/2024/03/10/evil.json.gz").unwrap();
        assert_eq!((a, r), ("111", "eu-west-1"));
        assert_eq!(day.unwrap().to_rfc3339(), "2024-03-10T00:00:00+00:00");
        assert_eq!(foldered("/e/loose/evil.json.gz"), None);
    }

    #[test]
    fn names_give_account_region_and_time() {
        let (a, r, t) =
            named("111122223333_CloudTrail_us-east-1_20240310T0005Z_abc.json.gz").unwrap();
        assert_eq!((a, r), ("111122223333", "us-east-1"));
        assert_eq!(t.to_rfc3339(), "2024-03-10T00:05:00+00:00");
        let file =
            "111122223333_CloudTrail-Digest_eu-west-1_my_trail_us-east-1_20240310T012233Z.json.gz";
        let (_, r, t) = named(file).unwrap();
        assert_eq!(r, "eu-west-1");
        assert_eq!(t.to_rfc3339(), "2024-03-10T01:22:33+00:00");
        assert_eq!(
            trail_of(file),
            Some(("111122223333", "eu-west-1", "my_trail", "us-east-1"))
        );
        assert_eq!(named("notes.json.gz"), None);
        let late = "111122223333_CloudTrail-Digest_eu-west-1_t_us-east-1_20240310T012233Z_backfill.json.gz";
        assert_eq!(
            named(late).unwrap().2.to_rfc3339(),
            "2024-03-10T01:22:33+00:00"
        );
        assert_eq!(
            trail_of(late),
            Some(("111122223333", "eu-west-1", "t", "us-east-1"))
        );
        // An organization's trail and the account's own, of one name.
        let org =
            format!("/e/AWSLogs/o-abc/111122223333/CloudTrail-Digest/eu-west-1/2024/03/10/{file}");
        let own = format!("/e/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/03/10/{file}");
        assert_eq!(chain_of(&org).unwrap().0, "o-abc");
        assert_eq!(chain_of(&own).unwrap().0, "");
    }
}
