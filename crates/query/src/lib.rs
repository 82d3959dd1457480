//! The DataFusion session over a ctlake lake.
//!
//! [`open_lake`] registers the lake's events as table `cloudtrail`: a
//! listing table over Hive-partitioned Parquet, read with the schema fixed in
//! `ctlake-schema` (never inferred). Filters on the partition columns
//! `account`, `region` and `date` prune whole folders before any file is
//! opened; other filters prune row groups by statistics and bloom filters.
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
    let url = ListingTableUrl::parse(format!("{}/", dir.display()))?;
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
