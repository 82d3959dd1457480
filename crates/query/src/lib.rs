//! The DataFusion session over a ctlake lake.
//!
//! [`open_lake`] registers the lake's events as table `cloudtrail`: a
//! listing table over Hive-partitioned Parquet, read with the schema fixed in
//! `ctlake-schema` (never inferred). Filters on the partition columns
//! `account`, `region` and `date` prune whole folders before any file is
//! opened; other filters prune row groups by statistics and bloom filters.
//!
//! A lake under an `s3://` prefix is read in place through the same S3
//! client options as ingest ([`open_lake_at`]).
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

use std::path::Path;
use std::sync::Arc;

use ctlake_schema::{MARKER_FILE, META_DIR, TABLE_NAME, file_schema, partition_fields};
use ctlake_store::object_store::path::Path as StorePath;
use ctlake_store::object_store::{ObjectStore, ObjectStoreExt};
use ctlake_store::{Location, S3Options};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::prelude::SessionConfig;

/// A session configured for lake queries, with no tables yet.
pub fn session() -> SessionContext {
    let mut config = SessionConfig::new().with_information_schema(true);
    let options = config.options_mut();
    // Evaluate filters while decoding Parquet, so selective hunts read few pages.
    options.execution.parquet.pushdown_filters = true;
    options.execution.parquet.reorder_filters = true;
    SessionContext::new_with_config(config)
}

pub use ctlake_schema::is_lake;

/// Opens the lake at `root` in a new session.
pub fn open_lake(root: &Path) -> Result<SessionContext> {
    let ctx = session();
    register_lake(&ctx, root)?;
    Ok(ctx)
}

/// Registers the lake at `root` as table `cloudtrail` in `ctx`.
pub fn register_lake(ctx: &SessionContext, root: &Path) -> Result<()> {
    if !is_lake(root) {
        return Err(DataFusionError::Configuration(format!(
            "{}: not a ctlake lake (no {META_DIR}/{MARKER_FILE}); create one with `ctlake ingest`",
            root.display()
        )));
    }
    let root = std::path::absolute(root)?;
    let dir = root.join(TABLE_NAME);
    register_table(ctx, ListingTableUrl::parse(format!("{}/", dir.display()))?)
}

/// Opens the lake at `location` (a folder or an `s3://` prefix) in a new session.
pub async fn open_lake_at(location: &Location, s3: &S3Options) -> Result<SessionContext> {
    let ctx = session();
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
            ctx.register_object_store(&base, store);
            let table = if prefix.is_empty() {
                format!("s3://{bucket}/{TABLE_NAME}/")
            } else {
                format!("s3://{bucket}/{prefix}/{TABLE_NAME}/")
            };
            register_table(&ctx, ListingTableUrl::parse(table)?)?;
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
        Ok(_) => Ok(true),
        Err(ctlake_store::object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(DataFusionError::Execution(format!("{location}: {e}"))),
    }
}

fn register_table(ctx: &SessionContext, url: ListingTableUrl) -> Result<()> {
    let options = ListingOptions::new(Arc::new(ParquetFormat::default().with_enable_pruning(true)))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partition_fields());
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(file_schema());
    let table = ListingTable::try_new(config)?;
    ctx.register_table(TABLE_NAME, Arc::new(table))?;
    Ok(())
}
