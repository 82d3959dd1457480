//! Saved hunts: SQL files with a header saying what they look for, run over
//! a lake for a time window, returning one row per finding.
//!
//! # File format
//!
//! A hunt is one `.sql` file. It starts with a block comment holding a TOML
//! header, followed by one SQL query in the lake's dialect (flattened
//! columns or CloudTrail Lake paths):
//!
//! ```sql
//! /* hunt
//! id = "CT-DE-001"
//! title = "CloudTrail logging stopped"
//! description = "StopLogging turns a trail off: later activity goes unrecorded."
//! tactics = ["TA0005"]
//! techniques = ["T1562.008"]
//! severity = "high"
//! false_positives = ["A planned trail migration by the logging team"]
//! tags = ["cloudtrail", "defense-evasion"]
//!
//! [params.allow_principals]
//! default = []
//! description = "Principals allowed to stop trails"
//! */
//! SELECT eventtime, eventid, eventname, useridentity_arn AS principal, ...
//! FROM cloudtrail
//! WHERE eventname = 'StopLogging'
//!   AND eventtime >= {{start}} AND eventtime < {{end}}
//!   AND useridentity_arn NOT IN {{allow_principals}}
//! ```
//!
//! `{{name}}` is replaced by the parameter's value as an SQL literal: a
//! string is quoted, a number or boolean written as is, a list becomes a
//! parenthesised list for `IN` (an empty list matches nothing). `{{start}}`
//! and `{{end}}` are the hunt window as timestamps.
//!
//! Every hunt returns at least the columns of [`FINDING_COLUMNS`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::TimestampNanosecondType;
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::execution::context::SessionContext;
use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};

/// The hunts that ship with ctlake (the repository's `queries/` folder).
static BUNDLED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../queries");

/// Columns every hunt returns, in this order, before any of its own.
pub const FINDING_COLUMNS: &[&str] = &[
    "eventtime",
    "eventid",
    "eventname",
    "principal",
    "sourceipaddress",
    "useragent",
    "account",
    "region",
    "source_object",
    "reason",
];

/// The hunt's own fields that ndjson writes beside each finding's columns
/// in one object, so no column of a hunt's may take their names.
pub const HUNT_FIELDS: &[&str] = &["hunt_id", "title", "severity", "tactics", "techniques"];

/// What can go wrong loading or running hunts.
#[derive(Debug, thiserror::Error)]
#[expect(
    missing_docs,
    reason = "variant fields are named for what they hold; the variant says the rest"
)]
#[non_exhaustive]
pub enum Error {
    /// A hunt file could not be read.
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A hunt file's header or layout is wrong.
    #[error("{path}: {message}")]
    Format { path: String, message: String },
    /// Two hunts in one folder have the same id.
    #[error("hunt id {id} is defined twice: {first} and {second}")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
    /// A selector named no hunt; `unusable` lists the hunt files that could
    /// not be read, one of which may be the hunt meant.
    #[error(
        "no hunt matches {selector:?} (see `ctlake hunt --list`){}",
        unusable_text(unusable)
    )]
    NoMatch {
        selector: String,
        unusable: Vec<String>,
    },
    /// A parameter given on the command line is wrong.
    #[error("{0}")]
    Param(String),
    /// The time window could not be read.
    #[error("{0}")]
    Window(String),
    /// The hunt's SQL failed.
    #[error("hunt {id}: {source}")]
    Query {
        id: String,
        source: datafusion::error::DataFusionError,
    },
    /// Looking for events in the hunt window failed.
    #[error("looking for events in the hunt window: {0}")]
    Coverage(datafusion::error::DataFusionError),
    /// The hunt returns a column named as one of [`HUNT_FIELDS`].
    #[error(
        "hunt {id}: the query returns a column {column}, a name the hunt's own fields take in ndjson output; rename it"
    )]
    ReservedColumn { id: String, column: String },

    /// The hunt ran but does not return the finding columns.
    #[error("hunt {id}: the query must return the columns {expected}; it returns {found}")]
    Columns {
        id: String,
        expected: String,
        found: String,
    },
}

/// Result of this crate's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How bad a finding of a hunt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Likely worth a look.
    Medium,
    /// Look now.
    High,
    /// Look now, and assume compromise.
    Critical,
}

/// A parameter a hunt declares.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Its value unless `--param name=value` says otherwise.
    pub default: toml::Value,
    /// What it means.
    pub description: String,
}

/// The header of a hunt file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Stable identifier, e.g. `CT-DE-001`.
    pub id: String,
    /// One line.
    pub title: String,
    /// What it finds and why that matters.
    pub description: String,
    /// MITRE ATT&CK tactic ids, e.g. `TA0005`.
    pub tactics: Vec<String>,
    /// MITRE ATT&CK technique ids, e.g. `T1562.008`.
    pub techniques: Vec<String>,
    /// How bad a finding is.
    pub severity: Severity,
    /// Known benign causes of findings.
    #[serde(default)]
    pub false_positives: Vec<String>,
    /// Free tags to select hunts by.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Parameters, by name.
    #[serde(default)]
    pub params: BTreeMap<String, ParamSpec>,
}

/// A hunt: its header, its SQL and where it came from.
#[derive(Debug, Clone)]
pub struct Hunt {
    /// What the header says.
    pub header: Header,
    /// The query, with `{{param}}` placeholders.
    pub sql: String,
    /// The file it was read from (`bundled:<name>` for built-in hunts).
    pub origin: String,
}

impl Hunt {
    /// Reads a hunt from its file text.
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let format = |message: String| Error::Format {
            path: origin.to_owned(),
            message,
        };
        let rest = text
            .trim_start()
            .strip_prefix("/* hunt")
            .ok_or_else(|| format("a hunt starts with a `/* hunt` header comment".to_owned()))?;
        let (header, sql) = rest
            .split_once("*/")
            .ok_or_else(|| format("the header comment is not closed with `*/`".to_owned()))?;
        let header: Header = toml::from_str(header).map_err(|e| format(format!("header: {e}")))?;
        let sql = sql.trim().trim_end_matches(';').trim().to_owned();
        if sql.is_empty() {
            return Err(format("no SQL after the header".to_owned()));
        }
        for name in placeholders(&sql) {
            if !matches!(name, "start" | "end") && !header.params.contains_key(name) {
                return Err(format(format!(
                    "{{{{{name}}}}} is used but not declared under [params]"
                )));
            }
        }
        Ok(Self {
            header,
            sql,
            origin: origin.to_owned(),
        })
    }

    /// The SQL with every placeholder replaced: `overrides` first, then the
    /// declared defaults; `{{start}}`/`{{end}}` from `window`.
    pub fn bind(&self, window: &Window, overrides: &BTreeMap<String, String>) -> Result<String> {
        for name in overrides.keys() {
            if !self.header.params.contains_key(name) {
                return Err(Error::Param(format!(
                    "hunt {} has no parameter {name} (it has: {})",
                    self.header.id,
                    self.header
                        .params
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let mut sql = self.sql.clone();
        let mut values = BTreeMap::new();
        values.insert("start".to_owned(), timestamp(window.start));
        values.insert("end".to_owned(), timestamp(window.end));
        for (name, spec) in &self.header.params {
            let value = match overrides.get(name) {
                Some(text) => parse_like(&spec.default, text).map_err(|message| {
                    Error::Param(format!("hunt {}: {name}: {message}", self.header.id))
                })?,
                None => spec.default.clone(),
            };
            values.insert(
                name.clone(),
                literal(&value).map_err(|message| Error::Format {
                    path: self.origin.clone(),
                    message: format!("{name}: {message}"),
                })?,
            );
        }
        for (name, value) in values {
            sql = sql.replace(&format!("{{{{{name}}}}}"), &value);
        }
        Ok(sql)
    }
}

/// Names between `{{` and `}}` in `sql`.
fn placeholders(sql: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = sql;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    out
}

fn timestamp(t: DateTime<Utc>) -> String {
    format!(
        "TIMESTAMP '{}'",
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A value that matches no real field, for an empty `IN` list.
const NOTHING: &str = "'\u{1}no value\u{1}'";

/// A parameter value as an SQL literal.
fn literal(value: &toml::Value) -> Result<String, String> {
    Ok(match value {
        toml::Value::String(s) => quote(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) if items.is_empty() => format!("({NOTHING})"),
        toml::Value::Array(items) => {
            let items: Result<Vec<_>, _> = items.iter().map(literal).collect();
            format!("({})", items?.join(", "))
        }
        other => return Err(format!("unsupported parameter value {other:?}")),
    })
}

/// `text` read as a value of the same type as `like`: a list is given as
/// comma-separated items.
fn parse_like(like: &toml::Value, text: &str) -> Result<toml::Value, String> {
    Ok(match like {
        toml::Value::Integer(_) => toml::Value::Integer(
            text.parse()
                .map_err(|_| format!("{text:?} is not an integer"))?,
        ),
        toml::Value::Float(_) => toml::Value::Float(
            text.parse()
                .map_err(|_| format!("{text:?} is not a number"))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(
            text.parse()
                .map_err(|_| format!("{text:?} is not true or false"))?,
        ),
        toml::Value::Array(_) => toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        ),
        _ => toml::Value::String(text.to_owned()),
    })
}

/// The time window hunts look at: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First instant looked at.
    pub start: DateTime<Utc>,
    /// First instant not looked at.
    pub end: DateTime<Utc>,
}

/// The first and last instants a hunt looks at: those a lake can hold (its
/// times are nanoseconds in 64 bits, 1677-09-21 to 2262-04-11), less room
/// for what hunts compute from them: baselines reach back from `{{start}}`
/// by days and windows forward from `{{end}}` by minutes, and a time past
/// the lake's range fails the query.
fn earliest() -> DateTime<Utc> {
    midnight(1700, 1, 1)
}

fn latest() -> DateTime<Utc> {
    midnight(2262, 1, 1)
}

fn midnight(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date")
        .and_utc()
}

impl Window {
    /// All the times hunts look at, 1700 to 2262.
    pub fn all() -> Self {
        Self {
            start: earliest(),
            end: latest(),
        }
    }

    /// The window from `--since` (a duration back from `now`, e.g. `7d`)
    /// or `--start`/`--end` (dates or RFC 3339 times; `--end` alone or a
    /// date means up to the end of that day). Bounds beyond the times hunts
    /// look at stand for the first or last of them.
    pub fn from_args(
        since: Option<&str>,
        start: Option<&str>,
        end: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let mut window = Self::all();
        if let Some(since) = since {
            let back = humantime::parse_duration(since).map_err(|e| {
                Error::Window(format!("--since {since}: {e} (e.g. 7d, 36h, 2weeks)"))
            })?;
            window.start = chrono::Duration::from_std(back)
                .ok()
                .and_then(|back| now.checked_sub_signed(back))
                .map_or(earliest(), |start| start.max(earliest()));
            window.end = now;
        }
        if let Some(start) = start {
            window.start = instant(start, false)?.clamp(earliest(), latest());
        }
        if let Some(end) = end {
            window.end = instant(end, true)?.clamp(earliest(), latest());
        }
        if window.start >= window.end {
            let given: Vec<String> = [("--since", since), ("--start", start), ("--end", end)]
                .into_iter()
                .filter_map(|(flag, value)| Some(format!("{flag} {}", value?)))
                .collect();
            return Err(Error::Window(format!(
                "{}: the window ends before it starts, so there is nothing to look at",
                given.join(" ")
            )));
        }
        Ok(window)
    }
}

/// A date or RFC 3339 time; a date as an end means the end of that day.
fn instant(text: &str, end: bool) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::Window(format!(
            "{text:?} is not a date (2024-03-10) or an RFC 3339 time (2024-03-10T12:00:00Z)"
        ))
    })?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// The hunts available: the bundled ones, then those of extra folders
/// (a user's hunt overrides a bundled one with the same id).
#[derive(Debug, Default)]
pub struct Catalogue {
    hunts: BTreeMap<String, Hunt>,
    problems: Vec<Error>,
}

impl Catalogue {
    /// The bundled hunts and those in `dirs`. A folder that cannot be read
    /// is an error; a hunt file in it that cannot be used (unreadable, a bad
    /// header, an id another file has) is one of [`Catalogue::problems`],
    /// so one bad file in a shared folder does not stop every other hunt.
    pub fn load(dirs: &[PathBuf]) -> Result<Self> {
        let mut catalogue = Self::default();
        let mut bundled: Vec<_> = BUNDLED
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "sql"))
            .collect();
        bundled.sort_by_key(|f| f.path());
        for file in bundled {
            let origin = format!("bundled:{}", file.path().display());
            let text = file.contents_utf8().ok_or_else(|| Error::Format {
                path: origin.clone(),
                message: "not UTF-8".to_owned(),
            })?;
            catalogue.add(Hunt::parse(&origin, text)?, false)?;
        }
        for dir in dirs {
            let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
                path: dir.clone(),
                source,
            })?;
            let mut paths: Vec<_> = entries
                .filter_map(std::result::Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect();
            paths.sort();
            for path in paths {
                if let Err(e) = read_hunt(&path).and_then(|hunt| catalogue.add(hunt, true)) {
                    catalogue.problems.push(e);
                }
            }
        }
        Ok(catalogue)
    }

    /// The hunt files of the extra folders that could not be used.
    pub fn problems(&self) -> &[Error] {
        &self.problems
    }

    fn add(&mut self, hunt: Hunt, overrides: bool) -> Result<()> {
        let id = hunt.header.id.clone();
        if let Some(existing) = self.hunts.get(&id)
            && !(overrides && existing.origin.starts_with("bundled:"))
        {
            return Err(Error::DuplicateId {
                id,
                first: existing.origin.clone(),
                second: hunt.origin,
            });
        }
        self.hunts.insert(id, hunt);
        Ok(())
    }

    /// Every hunt, by id.
    pub fn hunts(&self) -> impl Iterator<Item = &Hunt> {
        self.hunts.values()
    }

    /// The hunts `selectors` name: ids, tags, tactic or technique ids, or
    /// paths of hunt files. No selector means every hunt.
    pub fn select(&self, selectors: &[String]) -> Result<Vec<Hunt>> {
        if selectors.is_empty() {
            return Ok(self.hunts.values().cloned().collect());
        }
        let mut chosen: BTreeMap<String, Hunt> = BTreeMap::new();
        for selector in selectors {
            let path = Path::new(selector);
            // A name ending in .sql is a file, so a missing one is said to be.
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("sql"))
            {
                let hunt = read_hunt(path)?;
                chosen.insert(hunt.header.id.clone(), hunt);
                continue;
            }
            let wanted = selector.to_lowercase();
            // A technique names its sub-techniques too: T1562 selects T1562.008.
            let names = |tag: &String| {
                let tag = tag.to_lowercase();
                tag == wanted
                    || tag
                        .strip_prefix(&wanted)
                        .is_some_and(|sub| sub.starts_with('.'))
            };
            let mut matched = false;
            for hunt in self.hunts.values() {
                let h = &hunt.header;
                if h.id.eq_ignore_ascii_case(selector)
                    || h.tags.iter().any(|t| t.to_lowercase() == wanted)
                    || h.tactics.iter().any(|t| t.to_lowercase() == wanted)
                    || h.techniques.iter().any(names)
                {
                    chosen.insert(h.id.clone(), hunt.clone());
                    matched = true;
                }
            }
            if !matched {
                return Err(Error::NoMatch {
                    selector: selector.clone(),
                    unusable: self.problems.iter().map(ToString::to_string).collect(),
                });
            }
        }
        Ok(chosen.into_values().collect())
    }
}

fn unusable_text(unusable: &[String]) -> String {
    if unusable.is_empty() {
        return String::new();
    }
    format!(
        "; these hunt files could not be used: {}",
        unusable.join("; ")
    )
}

fn read_hunt(path: &Path) -> Result<Hunt> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    // Editors on Windows save UTF-8 with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Hunt::parse(&path.display().to_string(), text)
}

/// A hunt's findings: rows with at least [`FINDING_COLUMNS`], ordered by
/// event time, id and then every other column, so runs over the same lake
/// print the same.
#[derive(Debug, Clone)]
pub struct Findings {
    /// The hunt that found them.
    pub hunt: Hunt,
    /// The rows.
    pub batches: Vec<RecordBatch>,
}

impl Findings {
    /// How many findings.
    pub fn len(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Runs `hunt` over the lake open in `ctx`.
pub async fn run(
    ctx: &SessionContext,
    hunt: &Hunt,
    window: &Window,
    overrides: &BTreeMap<String, String>,
) -> Result<Findings> {
    let id = hunt.header.id.clone();
    let sql = hunt.bind(window, overrides)?;
    let query = |source| Error::Query {
        id: id.clone(),
        source,
    };
    let df = ctlake_query::sql(ctx, &sql).await.map_err(query)?;
    let found: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    if found.len() < FINDING_COLUMNS.len()
        || found[..FINDING_COLUMNS.len()]
            .iter()
            .zip(FINDING_COLUMNS)
            .any(|(a, b)| a != b)
    {
        return Err(Error::Columns {
            id,
            expected: FINDING_COLUMNS.join(", "),
            found: found.join(", "),
        });
    }
    // ndjson writes a finding's columns beside its hunt's fields: a column of
    // the same name would overwrite the hunt's own severity or id.
    if let Some(clash) = found[FINDING_COLUMNS.len()..]
        .iter()
        .find(|name| HUNT_FIELDS.contains(&name.as_str()))
    {
        return Err(Error::ReservedColumn {
            id,
            column: clash.clone(),
        });
    }
    // Every column breaks ties, so findings that differ anywhere (two
    // records sharing an eventID and time) print in the same order each run.
    let order = df
        .schema()
        .fields()
        .iter()
        .filter(|f| !f.data_type().is_nested())
        .map(|f| datafusion::prelude::ident(f.name()).sort(true, false))
        .collect();
    let df = df.sort(order).map_err(query)?;
    let batches = df.collect().await.map_err(query)?;
    Ok(Findings {
        hunt: hunt.clone(),
        batches,
    })
}

/// What a window holds: hunts that find nothing in an empty window have
/// looked at nothing, which a responder must be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The window holds events.
    Events,
    /// The window holds none; the lake's events run from the first time to
    /// the last.
    Outside(DateTime<Utc>, DateTime<Utc>),
    /// The lake holds no events at all.
    EmptyLake,
}

/// Whether `window` holds any of the lake's events, and where they lie
/// when it holds none. The test stops at the first event of the dates the
/// window spans.
pub async fn coverage(ctx: &SessionContext, window: &Window) -> Result<Coverage> {
    let query = Error::Coverage;
    let any = format!(
        "SELECT 1 FROM cloudtrail WHERE eventtime >= {} AND eventtime < {} LIMIT 1",
        timestamp(window.start),
        timestamp(window.end)
    );
    let batches = ctlake_query::sql(ctx, &any)
        .await
        .map_err(query)?
        .collect()
        .await
        .map_err(query)?;
    if batches.iter().any(|b| b.num_rows() > 0) {
        return Ok(Coverage::Events);
    }
    let span = "SELECT min(eventtime), max(eventtime) FROM cloudtrail";
    let batches = ctlake_query::sql(ctx, span)
        .await
        .map_err(query)?
        .collect()
        .await
        .map_err(query)?;
    let time = |column: usize| {
        batches.first().and_then(|b| {
            let times = b.column(column).as_primitive::<TimestampNanosecondType>();
            (!times.is_null(0)).then(|| DateTime::from_timestamp_nanos(times.value(0)))
        })
    };
    Ok(match (time(0), time(1)) {
        (Some(first), Some(last)) => Coverage::Outside(first, last),
        _ => Coverage::EmptyLake,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUNT: &str = r#"/* hunt
id = "T-1"
title = "t"
description = "d"
tactics = ["TA0005"]
techniques = ["T1562.008"]
severity = "high"
[params.allow]
default = []
description = "allowed"
[params.threshold]
default = 5
description = "n"
*/
SELECT 1 WHERE x NOT IN {{allow}} AND n >= {{threshold}} AND t >= {{start}};
"#;

    #[test]
    fn binds_parameters_as_literals() {
        let hunt = Hunt::parse("t.sql", HUNT).unwrap();
        let window =
            Window::from_args(None, Some("2024-03-10"), Some("2024-03-10"), Utc::now()).unwrap();
        let sql = hunt.bind(&window, &BTreeMap::new()).unwrap();
        assert!(sql.contains("NOT IN ('\u{1}no value\u{1}')"), "{sql}");
        assert!(sql.contains("n >= 5"));
        assert!(sql.contains("t >= TIMESTAMP '2024-03-10T00:00:00Z'"));
        let overrides = BTreeMap::from([
            ("allow".to_owned(), "a'b, c".to_owned()),
            ("threshold".to_owned(), "9".to_owned()),
        ]);
        let sql = hunt.bind(&window, &overrides).unwrap();
        assert!(sql.contains("NOT IN ('a''b', 'c')"), "{sql}");
        assert!(sql.contains("n >= 9"));
        let bad = BTreeMap::from([("threshold".to_owned(), "many".to_owned())]);
        assert!(hunt.bind(&window, &bad).is_err());
        let unknown = BTreeMap::from([("nope".to_owned(), "1".to_owned())]);
        assert!(hunt.bind(&window, &unknown).is_err());
    }

    #[test]
    fn undeclared_placeholders_and_bad_headers_are_refused() {
        assert!(Hunt::parse("x.sql", "SELECT 1").is_err());
        let undeclared = HUNT.replace("{{threshold}}", "{{limit}}");
        assert!(Hunt::parse("x.sql", &undeclared).is_err());
        let unknown_key = HUNT.replace("severity = \"high\"", "severity = \"high\"\ncolour = 1");
        assert!(Hunt::parse("x.sql", &unknown_key).is_err());
    }

    #[test]
    fn windows() {
        let now = DateTime::parse_from_rfc3339("2024-03-17T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let w = Window::from_args(Some("7d"), None, None, now).unwrap();
        assert_eq!(w.start.to_rfc3339(), "2024-03-10T00:00:00+00:00");
        assert!(Window::from_args(None, Some("2024-03-11"), Some("2024-03-10"), now).is_err());
        assert!(Window::from_args(Some("soon"), None, None, now).is_err());
    }

    #[test]
    fn bundled_hunts_load() {
        let catalogue = Catalogue::load(&[]).unwrap();
        assert!(catalogue.hunts().count() > 0);
    }
}
