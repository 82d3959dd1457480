//! The DataFusion session over a ctlake lake.
//!
//! [`open_lake`] registers the lake's events as table `cloudtrail`: a
//! listing table over Hive-partitioned Parquet, read with the schema fixed in
//! `ctlake-schema` (never inferred), its strings as string views. Filters on
//! the partition columns `account`, `region` and `date` prune whole folders
//! before any file is opened; other filters prune row groups by statistics
//! and bloom filters.
//!
//! A lake under an `s3://` prefix is read in place through the same S3
//! client options as ingest ([`open_lake_at`]).
//!
//! Beside `cloudtrail`, the session has the lake's other tables:
//! `duplicates` (copies of stored events, with where each was read),
//! `rejected` (records and objects that gave no event, verbatim),
//! `objects` (the manifest: every object each run read) and the view
//! `conflicts` (stored events sharing an eventID and recipientAccountId but
//! not their content).
//!
//! Only committed runs are visible: files of an ingest still running, or
//! killed, are hidden from every table.
//!
//! Unquoted identifiers are folded to lower case, so `eventName`,
//! `EVENTNAME` and `eventname` name the same column.
//!
//! ```no_run
//! # async fn run() -> datafusion::error::Result<()> {
//! let ctx = ctlake_query::open_lake("lake".as_ref())?;
//! let df = ctx.sql("SELECT eventName, count(*) FROM cloudtrail GROUP BY 1").await?;
//! df.show().await?;
//! # Ok(())
//! # }
//! ```

mod committed;
mod compact;
mod dialect;
mod functions;
mod ip;
mod text_literals;
mod time_partitions;

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use ctlake_schema::{
    DIGESTS_TABLE, DUPLICATES_TABLE, MARKER_FILE, META_DIR, OBJECTS_DIR, OBJECTS_TABLE,
    REJECTED_TABLE, TABLE_NAME, digests_schema, duplicates_schema, file_schema, objects_schema,
    partition_fields, rejected_schema, run_of_file,
};
use ctlake_store::object_store::path::Path as StorePath;
use ctlake_store::object_store::{ObjectStore, ObjectStoreExt};
use ctlake_store::{Location, S3Options};
use datafusion::datasource::file_format::parquet::{ParquetFormat, transform_schema_to_view};
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::optimizer::{Analyzer, AnalyzerRule};
use datafusion::prelude::SessionConfig;

/// What a session may use of the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct Resources {
    /// Bytes that sorts, joins and aggregates may hold at once (window
    /// functions' own buffers are not counted); sorts and aggregates spill
    /// to temporary files beyond it, and what cannot spill fails with
    /// DataFusion's "Resources exhausted". `None` leaves memory unbounded.
    pub memory_limit: Option<usize>,
}

/// A session configured for lake queries, with no tables yet and memory
/// unbounded.
pub fn session() -> SessionContext {
    session_with(Resources::default())
        .expect("the default runtime builds without touching the disk")
}

/// A session configured for lake queries within `resources`, with no
/// tables yet: the JSON functions of datafusion-functions-json and the Trino
/// functions Lake queries use are registered.
pub fn session_with(resources: Resources) -> Result<SessionContext> {
    let mut config = SessionConfig::new().with_information_schema(true);
    let options = config.options_mut();
    // Evaluate filters while decoding Parquet, so selective hunts read few pages.
    options.execution.parquet.pushdown_filters = true;
    options.execution.parquet.reorder_filters = true;
    // A lake file's footer and page index take tens of KiB; DataFusion's
    // default first read of 512 KiB per file was most of the time to plan a
    // query over a lake of a hundred files.
    options.execution.parquet.metadata_size_hint = Some(FOOTER_READ_BYTES);
    // Statistics gathered at planning cost a metadata conversion per column
    // and file before any row is read: twice the whole time of a selective
    // hunt over a hundred files. Scans still prune row groups and pages by
    // each file's statistics as they open it.
    options.execution.collect_statistics = false;
    // Hunts group by high-cardinality keys (session ARNs, addresses): when a
    // partial aggregation does not halve its input it costs more than the
    // rows it saves the final one.
    options
        .execution
        .skip_partial_aggregation_probe_ratio_threshold = 0.5;
    // NULLs last whatever the direction, as in Trino (CloudTrail Lake), so a
    // Lake top-N over a column with NULLs gives Lake's answer.
    "nulls_last".clone_into(&mut options.sql_parser.default_null_ordering);
    // Before type coercion, which would refuse the comparisons it rewrites.
    let mut analyzer_rules: Vec<Arc<dyn AnalyzerRule + Send + Sync>> =
        vec![Arc::new(text_literals::TextLiterals)];
    analyzer_rules.extend(Analyzer::new().rules);
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = resources.memory_limit {
        // Fair shares, so one sort in a hunt of several cannot starve the
        // others into failing; the five largest holders are named when the
        // limit is reached.
        runtime = runtime.with_memory_pool(Arc::new(TrackConsumersPool::new(
            FairSpillPool::new(limit),
            NonZeroUsize::new(5).expect("5 is not zero"),
        )));
    }
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime.build_arc()?)
        .with_default_features()
        .with_analyzer_rules(analyzer_rules)
        .with_physical_optimizer_rule(Arc::new(compact::CompactScans))
        .build();
    let mut ctx = SessionContext::new_with_state(state);
    datafusion_functions_json::register_all(&mut ctx)
        .expect("registering functions in a new session cannot fail");
    for udf in functions::all().into_iter().chain(ip::all()) {
        ctx.register_udf(udf);
    }
    ctx.add_optimizer_rule(std::sync::Arc::new(time_partitions::DateFromEventTime));
    Ok(ctx)
}

pub use dialect::{Typed, parse, typed};

/// The bytes read from the end of each Parquet file to reach its metadata.
const FOOTER_READ_BYTES: usize = 64 * 1024;

/// The Parquet format of the lake's tables, with the session's reading
/// options (a format's own defaults would ignore them when planning).
fn parquet_format(ctx: &SessionContext) -> ParquetFormat {
    ParquetFormat::default().with_options(ctx.state().table_options().parquet.clone())
}

/// The lake a session was opened on, kept in its configuration so that
/// statements can be checked against it and its files listed.
#[derive(Debug, Clone)]
struct LakeRoot {
    /// Its URL or path, as tables name it.
    url: String,
    /// The store it is in, unfiltered: the registered one hides files
    /// queries must not read, which `status` must still see.
    store: Arc<dyn ObjectStore>,
    /// Its folder in `store`.
    path: StorePath,
    /// The run reports read, shared with the registered store's view.
    reports: Arc<committed::ReportCache>,
}

/// Plans one parsed statement. Statements that would change the lake
/// (`INSERT`, `UPDATE`, `DELETE`, `DROP`, `COPY … TO` or `CREATE EXTERNAL
/// TABLE` inside it) are refused unless `allow_write`; exporting results
/// elsewhere is allowed.
pub async fn plan(
    ctx: &SessionContext,
    statement: datafusion::sql::parser::Statement,
    allow_write: bool,
) -> Result<datafusion::logical_expr::LogicalPlan> {
    if !allow_write {
        let lake = ctx
            .state()
            .config()
            .get_extension::<LakeRoot>()
            .map(|root| root.url.clone());
        guard(&statement, lake.as_deref())?;
    }
    ctx.state().statement_to_plan(statement).await
}

/// Runs one statement of Lake or DataFusion SQL, read-only.
pub async fn sql(ctx: &SessionContext, text: &str) -> Result<datafusion::dataframe::DataFrame> {
    let mut statements = parse(text)?;
    if statements.len() != 1 {
        return Err(DataFusionError::Plan(format!(
            "expected one statement, found {}",
            statements.len()
        )));
    }
    let plan = plan(ctx, statements.remove(0), false).await?;
    ctx.execute_logical_plan(plan).await
}

fn guard(statement: &datafusion::sql::parser::Statement, lake: Option<&str>) -> Result<()> {
    use datafusion::sql::parser::Statement as S;
    let refuse = |what: &str| {
        Err(DataFusionError::Plan(format!(
            "{what} refused: the lake{} is evidence and read-only; pass --allow-write to change it anyway",
            lake.map(|l| format!(" at {l}")).unwrap_or_default()
        )))
    };
    let inside = |target: &str| lake.is_some_and(|root| is_inside(target, root));
    match statement {
        S::Statement(s) => match dialect::writes(s) {
            Some(what) => refuse(what),
            None => Ok(()),
        },
        S::Explain(explain) => guard(&explain.statement, lake),
        S::CopyTo(copy) if inside(&copy.target) => refuse(&format!(
            "COPY TO {} (inside the lake; write results elsewhere, e.g. TO 'results.csv')",
            copy.target
        )),
        S::CreateExternalTable(table) if table.locations.iter().any(|l| inside(l)) => {
            refuse(&format!(
                "CREATE EXTERNAL TABLE over {} (inside the lake)",
                table.locations.join(", ")
            ))
        }
        _ => Ok(()),
    }
}

/// Whether `target` (a path or URL) is at or under the lake `root`, read
/// as DataFusion will write it: through its URL, with symlinks and `..`
/// resolved, so neither `other/../lake` nor a link to the lake gets past.
fn is_inside(target: &str, root: &str) -> bool {
    let Ok(listing) = ListingTableUrl::parse(target) else {
        return false;
    };
    let url: &url::Url = listing.as_ref();
    if let Some(root) = root.strip_prefix("s3://") {
        let root = root.trim_end_matches('/');
        let (bucket, prefix) = root.split_once('/').unwrap_or((root, ""));
        let key = listing.prefix().as_ref();
        return url.scheme() == "s3"
            && url.host_str() == Some(bucket)
            && (prefix.is_empty() || key == prefix || key.starts_with(&format!("{prefix}/")));
    }
    url.scheme() == "file"
        && url
            .to_file_path()
            .is_ok_and(|path| ctlake_store::physical(&path).starts_with(root))
}

pub use ctlake_schema::is_lake;

/// Opens the lake at `root` in a new session.
pub fn open_lake(root: &Path) -> Result<SessionContext> {
    let ctx = session();
    register_lake(&ctx, root)?;
    Ok(ctx)
}

/// Registers the lake at `root` as table `cloudtrail` in `ctx`, with the
/// lake's other tables.
pub fn register_lake(ctx: &SessionContext, root: &Path) -> Result<()> {
    if !is_lake(root) {
        return Err(DataFusionError::Configuration(format!(
            "{}: not a ctlake lake (no {META_DIR}/{MARKER_FILE}); create one with `ctlake ingest`",
            root.display()
        )));
    }
    check_layout(
        &std::fs::read(root.join(META_DIR).join(MARKER_FILE))?,
        &root.display(),
    )?;
    // Symlinks and `..` resolved: object_store refuses a path with `..`, and
    // the write guard compares targets with the lake's real folder.
    let root = ctlake_store::physical(root);
    let store_root =
        StorePath::from_absolute_path(&root).map_err(|e| DataFusionError::External(Box::new(e)))?;
    let reports = Arc::default();
    ctx.register_object_store(
        &url::Url::parse("file://").map_err(|e| DataFusionError::External(Box::new(e)))?,
        Arc::new(committed::CommittedView::on_local_disk(
            store_root.clone(),
            Arc::clone(&reports),
        )),
    );
    register_tables(
        ctx,
        LakeRoot {
            url: root.display().to_string(),
            store: Arc::new(ctlake_store::object_store::local::LocalFileSystem::new()),
            path: store_root,
            reports,
        },
    )
}

/// The layout version a lake marker names must be the one this build writes.
fn check_layout(marker: &[u8], lake: &dyn std::fmt::Display) -> Result<()> {
    let layout = serde_json::from_slice::<serde_json::Value>(marker)
        .ok()
        .and_then(|v| v["layout"].as_u64());
    if layout == Some(u64::from(ctlake_schema::LAYOUT_VERSION)) {
        return Ok(());
    }
    Err(DataFusionError::Configuration(format!(
        "{lake}: lake layout {} but this ctlake reads layout {}; ingest the archive again into a new lake",
        layout.map_or_else(|| "unknown".to_owned(), |v| v.to_string()),
        ctlake_schema::LAYOUT_VERSION
    )))
}

/// Registers every table of the lake whose root URL (or path) is `root.url`.
fn register_tables(ctx: &SessionContext, root: LakeRoot) -> Result<()> {
    let url = |dir: &str| ListingTableUrl::parse(format!("{}/{dir}/", root.url));
    register_events(ctx, url(TABLE_NAME)?)?;
    register_plain(
        ctx,
        DUPLICATES_TABLE,
        url(DUPLICATES_TABLE)?,
        duplicates_schema(),
    )?;
    register_plain(ctx, REJECTED_TABLE, url(REJECTED_TABLE)?, rejected_schema())?;
    register_plain(ctx, DIGESTS_TABLE, url(DIGESTS_TABLE)?, digests_schema())?;
    register_plain(
        ctx,
        OBJECTS_TABLE,
        url(&format!("{META_DIR}/{OBJECTS_DIR}"))?,
        objects_schema(),
    )?;
    for (name, sql) in [("conflicts", CONFLICTS_VIEW), ("insights", INSIGHTS_VIEW)] {
        let view = futures::executor::block_on(ctx.sql(sql))?;
        ctx.register_table(name, view.into_view())?;
    }
    ctx.state_ref()
        .write()
        .config_mut()
        .set_extension(Arc::new(root));
    Ok(())
}

/// Insight events, which CloudTrail Lake keeps in their own event data store.
const INSIGHTS_VIEW: &str = "SELECT * FROM cloudtrail WHERE eventcategory = 'Insight'";

/// Every stored version of an event whose eventID and recipientAccountId
/// are shared by other content: possible tampering, or sample data reusing
/// placeholder ids.
const CONFLICTS_VIEW: &str = "
SELECT c.eventid, c.recipientaccountid, c.eventtime, c.eventname, c.content_hash,
       c.source_object, c.source_index
FROM cloudtrail c
JOIN (SELECT eventid, recipientaccountid FROM cloudtrail
      GROUP BY eventid, recipientaccountid
      HAVING count(DISTINCT content_hash) > 1) k
  ON c.eventid = k.eventid
 AND c.recipientaccountid IS NOT DISTINCT FROM k.recipientaccountid";

/// Opens the lake at `location` (a folder or an `s3://` prefix) in a new
/// session within `resources`.
pub async fn open_lake_at(
    location: &Location,
    s3: &S3Options,
    resources: Resources,
) -> Result<SessionContext> {
    let ctx = session_with(resources)?;
    match location {
        Location::Local(root) => register_lake(&ctx, root)?,
        Location::S3 { bucket, prefix } => {
            let store = ctlake_store::s3_store(bucket, s3)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            if !remote_marker(&*store, prefix, location).await? {
                return Err(DataFusionError::Configuration(format!(
                    "{location}: not a ctlake lake (no {META_DIR}/{MARKER_FILE}); create one with `ctlake ingest --lake {location}`"
                )));
            }
            let base = url::Url::parse(&format!("s3://{bucket}"))
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let path = StorePath::from(prefix.as_str());
            let reports = Arc::default();
            ctx.register_object_store(
                &base,
                Arc::new(committed::CommittedView::new(
                    Arc::clone(&store),
                    path.clone(),
                    Arc::clone(&reports),
                )),
            );
            let url = if prefix.is_empty() {
                format!("s3://{bucket}")
            } else {
                format!("s3://{bucket}/{prefix}")
            };
            register_tables(
                &ctx,
                LakeRoot {
                    url,
                    store,
                    path,
                    reports,
                },
            )?;
        }
    }
    Ok(ctx)
}

/// Whether `location` holds a lake. For S3 this reads the marker object.
pub async fn is_lake_at(location: &Location, s3: &S3Options) -> Result<bool> {
    match location {
        Location::Local(root) => Ok(is_lake(root)),
        Location::S3 { bucket, prefix } => {
            let store = ctlake_store::s3_store(bucket, s3)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            remote_marker(&*store, prefix, location).await
        }
    }
}

async fn remote_marker(store: &dyn ObjectStore, prefix: &str, location: &Location) -> Result<bool> {
    let marker = if prefix.is_empty() {
        format!("{META_DIR}/{MARKER_FILE}")
    } else {
        format!("{prefix}/{META_DIR}/{MARKER_FILE}")
    };
    match store.get(&StorePath::from(marker)).await {
        Ok(found) => {
            check_layout(
                &found
                    .bytes()
                    .await
                    .map_err(|e| DataFusionError::External(Box::new(e)))?,
                location,
            )?;
            Ok(true)
        }
        Err(ctlake_store::object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(DataFusionError::Execution(format!("{location}: {e}"))),
    }
}

fn register_events(ctx: &SessionContext, url: ListingTableUrl) -> Result<()> {
    let options = ListingOptions::new(Arc::new(parquet_format(ctx).with_enable_pruning(true)))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partition_fields());
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        // Strings read as views: most string columns are dictionary-encoded
        // in the lake (eventname, eventsource, errorcode, ARNs, addresses),
        // and a view points into its page's dictionary where a plain string
        // is copied out of it; that copy took about a third of the time of
        // hunts grouping or filtering on such columns.
        .with_schema(Arc::new(transform_schema_to_view(&file_schema())));
    let table = ListingTable::try_new(config)?;
    ctx.register_table(TABLE_NAME, Arc::new(table))?;
    Ok(())
}

fn register_plain(
    ctx: &SessionContext,
    name: &str,
    url: ListingTableUrl,
    schema: SchemaRef,
) -> Result<()> {
    let options =
        ListingOptions::new(Arc::new(parquet_format(ctx))).with_file_extension(".parquet");
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// What a lake's runs folder holds: the reports of committed runs (oldest
/// first) and the ids of runs that started and never committed.
#[derive(Debug, Default)]
pub struct LakeRuns {
    /// Each committed run's report, as JSON.
    pub reports: Vec<serde_json::Value>,
    /// Runs going on now, or killed (their files are hidden from queries).
    pub uncommitted: Vec<String>,
}

/// The lake `ctx` was opened on by [`open_lake_at`].
fn lake_root(ctx: &SessionContext) -> Result<Arc<LakeRoot>> {
    ctx.state()
        .config()
        .get_extension::<LakeRoot>()
        .ok_or_else(|| DataFusionError::Internal("the session has no lake".into()))
}

/// Reads the run reports of the lake at `location`, registered in `ctx` by
/// [`open_lake_at`].
pub async fn lake_runs(ctx: &SessionContext, location: &Location) -> Result<LakeRuns> {
    use futures::TryStreamExt;
    let root = lake_root(ctx)?;
    let dir = root
        .path
        .clone()
        .join(META_DIR)
        .join(ctlake_schema::RUNS_DIR);
    let mut names: Vec<StorePath> = root
        .store
        .list(Some(&dir))
        .map_ok(|meta| meta.location)
        .try_collect()
        .await?;
    names.sort();
    let mut runs = LakeRuns::default();
    let reported: HashSet<String> = names
        .iter()
        .filter_map(|p| p.filename()?.strip_suffix(ctlake_schema::REPORT_SUFFIX))
        .map(str::to_owned)
        .collect();
    for path in &names {
        let Some(name) = path.filename() else {
            continue;
        };
        if name.ends_with(ctlake_schema::REPORT_SUFFIX) {
            let bytes = root.store.get(path).await?.bytes().await?;
            let report = serde_json::from_slice(&bytes).map_err(|e| {
                DataFusionError::Execution(format!("{location}: run report {path}: {e}"))
            })?;
            runs.reports.push(report);
        } else if let Some(run) = name.strip_suffix(ctlake_schema::STARTED_SUFFIX)
            && !reported.contains(run)
        {
            runs.uncommitted.push(run.to_owned());
        }
    }
    Ok(runs)
}

/// The files in a lake's table folders set against what its committed
/// runs' reports say they wrote. Evidence in a lake is written once: a file
/// that no run wrote, or that changed or went away since, is a finding.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LakeFiles {
    /// Files no committed run wrote (copied in by hand, planted): queries
    /// do not read them. Paths relative to the lake.
    pub unwritten: Vec<String>,
    /// Files a committed run wrote that are gone: (path, run).
    pub missing: Vec<(String, String)>,
    /// Files whose size is not the one their run wrote: (path, written,
    /// now). Queries do not read them.
    pub resized: Vec<(String, u64, u64)>,
}

/// Lists the table folders of the lake `ctx` was opened on, unfiltered,
/// and checks them against the reports of its committed runs. An ingest's
/// staging files (`.<name>.inprogress`) are no table's files and are left
/// to [`LakeRuns::uncommitted`]; so are the files of runs that have not
/// committed.
pub async fn lake_files(ctx: &SessionContext) -> Result<LakeFiles> {
    use futures::TryStreamExt;
    let root = lake_root(ctx)?;
    let mut written = committed::Written::read(&*root.store, &root.path, &root.reports)
        .await?
        .files;
    let runs_dir = root
        .path
        .clone()
        .join(META_DIR)
        .join(ctlake_schema::RUNS_DIR);
    let started: Vec<String> = root
        .store
        .list(Some(&runs_dir))
        .try_filter_map(|meta| {
            let run = meta
                .location
                .filename()
                .and_then(|name| name.strip_suffix(ctlake_schema::STARTED_SUFFIX))
                .map(str::to_owned);
            std::future::ready(Ok(run))
        })
        .try_collect()
        .await?;
    let committed: HashSet<&str> = written.values().map(|(_, run)| run.as_str()).collect();
    let uncommitted: HashSet<String> = started
        .into_iter()
        .filter(|run| !committed.contains(run.as_str()))
        .collect();
    let mut check = LakeFiles::default();
    let mut dirs = vec![TABLE_NAME.to_owned()];
    dirs.extend(ctlake_schema::run_file_dirs());
    for dir in dirs {
        let mut listed = root.store.list(Some(&root.path.clone().join(dir)));
        while let Some(meta) = listed.try_next().await? {
            let Some(parts) = meta.location.prefix_match(&root.path) else {
                continue;
            };
            let relative = parts
                .map(|p| p.as_ref().to_owned())
                .collect::<Vec<_>>()
                .join("/");
            let name = meta.location.filename().unwrap_or_default();
            let staging = name.starts_with('.') && name.ends_with(".inprogress");
            if staging || run_of_file(name).is_some_and(|run| uncommitted.contains(run)) {
                continue;
            }
            match written.remove(&relative) {
                Some((Some(bytes), _)) if bytes != meta.size => {
                    check.resized.push((relative, bytes, meta.size));
                }
                Some(_) => {}
                None => check.unwritten.push(relative),
            }
        }
    }
    check.missing = written
        .into_iter()
        .filter(|(_, (bytes, _))| bytes.is_some())
        .map(|(path, (_, run))| (path, run))
        .collect();
    check.unwritten.sort();
    check.missing.sort();
    check.resized.sort();
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::is_inside;

    #[test]
    fn targets_inside_an_s3_lake_are_found_however_written() {
        for root in ["s3://b/cases/42", "s3://b/cases/42/"] {
            for target in [
                "s3://b/cases/42",
                "s3://b/cases/42/cloudtrail/x.parquet",
                "s3://b/cases/other/../42/x.csv",
                "s3://b/cases/4%32/x.csv",
            ] {
                assert!(is_inside(target, root), "{target} in {root}");
            }
            for target in [
                "s3://b/cases/420/x.csv",
                "s3://c/cases/42/x.csv",
                "results.csv",
            ] {
                assert!(!is_inside(target, root), "{target} in {root}");
            }
        }
        assert!(is_inside("s3://b/x.csv", "s3://b"));
        assert!(is_inside("s3://b/x.csv", "s3://b/"));
    }

    #[test]
    fn targets_inside_a_local_lake_are_found_through_links_and_parents() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        std::fs::create_dir(&lake).unwrap();
        std::os::unix::fs::symlink(&lake, dir.path().join("link")).unwrap();
        let root = ctlake_store::physical(&lake);
        let root = root.to_str().unwrap();
        let at = |p: &str| format!("{}/{p}", dir.path().display());
        for target in [
            at("lake/x.csv"),
            at("missing/../lake/x.csv"),
            at("link/cloudtrail/x.parquet"),
            format!("file://{}", at("link/x.csv")),
        ] {
            assert!(is_inside(&target, root), "{target}");
        }
        for target in [at("lake2/x.csv"), at("x.csv")] {
            assert!(!is_inside(&target, root), "{target}");
        }
    }
}
