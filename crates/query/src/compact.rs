//! Filtered scans hand up batches that hold only the bytes their rows use.
//!
//! The lake's strings are read as views into the decompressed Parquet pages
//! (see `register_events`), and a batch's buffers are sized for a full batch.
//! When a filter evaluated in the scan keeps a few rows of a page, each kept
//! view still holds the whole page, and each column of a batch of 40 rows
//! the room of 8,192. An operator that keeps its input (a sort, the rows a
//! query collects) then holds every page and batch the scan made: 5,500
//! console logins of a 1 GB lake sorted by time held 1.5 GB, which grows
//! with the lake, not the answer.
//!
//! [`CompactScans`] puts a [`CompactScanExec`] above every data source that
//! evaluates a filter, once the plan is otherwise final. Each batch passes
//! on at once (a top-k sort tightens its filter on the scan, and a limit
//! stops it, as rows arrive), with its view columns copied out when their
//! buffers are at least twice the bytes their rows use (the threshold of
//! Arrow's batch coalescer), and every column copied when the batch is
//! short. Scans without a filter hand up whole pages, and are left alone.

use std::fmt;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, GenericByteViewArray, RecordBatch, RecordBatchOptions, UInt32Array,
};
use arrow::compute::take_arrays;
use arrow::datatypes::{BinaryViewType, ByteViewType, DataType, StringViewType};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::CardinalityEffect;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet, RecordOutput,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, Statistics,
};
use futures::StreamExt;

/// Puts a [`CompactScanExec`] above every scan that filters. Runs after the
/// default rules, so that no rule has to see through it.
#[derive(Debug, Default)]
pub(crate) struct CompactScans;

impl PhysicalOptimizerRule for CompactScans {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            if node.is::<CompactScanExec>() {
                return Ok(Transformed::new(node, false, TreeNodeRecursion::Jump));
            }
            if !filters_in_scan(&node) {
                return Ok(Transformed::no(node));
            }
            let wrapped: Arc<dyn ExecutionPlan> = Arc::new(CompactScanExec::new(node));
            Ok(Transformed::new(wrapped, true, TreeNodeRecursion::Jump))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &'static str {
        "compact_scans"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Whether `plan` is a scan of files that evaluates a filter as it reads.
fn filters_in_scan(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<DataSourceExec>()
        .and_then(|scan| scan.data_source().downcast_ref::<FileScanConfig>())
        .is_some_and(|files| files.file_source().filter().is_some())
}

/// Passes its input's batches on, compacted.
#[derive(Debug)]
pub(crate) struct CompactScanExec {
    input: Arc<dyn ExecutionPlan>,
    metrics: ExecutionPlanMetricsSet,
}

impl CompactScanExec {
    fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        Self {
            input,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for CompactScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => {
                write!(f, "CompactScanExec")
            }
            // The tree shows the name; there is nothing to add.
            DisplayFormatType::TreeRender => Ok(()),
        }
    }
}

impl ExecutionPlan for CompactScanExec {
    fn name(&self) -> &'static str {
        "CompactScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        // Rows, their order and partitioning are the input's.
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self::new(children.swap_remove(0))))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let target_rows = context.session_config().batch_size();
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let compacted = input.map(move |batch| {
            let timer = baseline.elapsed_compute().timer();
            let batch = compact(batch?, target_rows)?;
            timer.done();
            Ok(batch.record_output(&baseline))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, compacted)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(Arc::clone(&input_stats[0]))
    }

    fn cardinality_effect(&self) -> CardinalityEffect {
        CardinalityEffect::Equal
    }
}

/// `batch` with each sparse view column copied into buffers of its own,
/// and every column copied when the batch is short: a filter that keeps a
/// few rows leaves the room of a full batch in each column.
fn compact(batch: RecordBatch, target_rows: usize) -> Result<RecordBatch> {
    let mut columns = batch.columns().to_vec();
    let mut changed = false;
    for column in &mut columns {
        let dense = match column.data_type() {
            DataType::Utf8View => compacted::<StringViewType>(column.as_string_view()),
            DataType::BinaryView => compacted::<BinaryViewType>(column.as_binary_view()),
            _ => None,
        };
        if let Some(dense) = dense {
            *column = dense;
            changed = true;
        }
    }
    let rows = batch.num_rows();
    if rows < target_rows / 2 {
        let all = UInt32Array::from_iter_values(0..rows as u32);
        columns = take_arrays(&columns, &all, None)?;
        changed = true;
    }
    if !changed {
        return Ok(batch);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        batch.schema(),
        columns,
        &options,
    )?)
}

/// A compact copy of `array` when its buffers are at least twice the bytes
/// its views use.
fn compacted<T: ByteViewType>(array: &GenericByteViewArray<T>) -> Option<ArrayRef> {
    let held: usize = array
        .data_buffers()
        .iter()
        .map(arrow::buffer::Buffer::capacity)
        .sum();
    if held == 0 || held < array.total_buffer_bytes_used().saturating_mul(2) {
        return None;
    }
    Some(Arc::new(array.gc()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringViewArray;
    use arrow::compute::filter;
    use arrow::datatypes::{Field, Schema};

    fn long(i: usize) -> String {
        format!("a value longer than twelve bytes, number {i:05}")
    }

    fn batch(strings: StringViewArray) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8View, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(strings)]).unwrap()
    }

    fn buffers(batch: &RecordBatch) -> usize {
        batch
            .column(0)
            .as_string_view()
            .data_buffers()
            .iter()
            .map(arrow::buffer::Buffer::capacity)
            .sum()
    }

    #[test]
    fn a_few_rows_of_a_large_buffer_are_copied_out() {
        let all: StringViewArray = (0..10_000).map(|i| Some(long(i))).collect();
        let keep: arrow::array::BooleanArray = (0..10_000).map(|i| Some(i % 1000 == 7)).collect();
        let sparse = filter(&all, &keep).unwrap();
        let before = batch(sparse.as_string_view().clone());

        let after = compact(before, 8).unwrap();

        let values: Vec<_> = after.column(0).as_string_view().iter().flatten().collect();
        let expected: Vec<_> = (0..10).map(|k| long(k * 1000 + 7)).collect();
        assert_eq!(values, expected);
        let kept = buffers(&after);
        assert!(kept < 1024, "kept {kept} bytes for 10 values");
    }

    #[test]
    fn dense_rows_keep_their_buffers() {
        let all: StringViewArray = (0..1_000)
            .map(|i| Some(long(i % 3)))
            .chain([None])
            .collect();
        let before = batch(all);
        let pointer = before.column(0).as_string_view().data_buffers()[0].as_ptr();

        let after = compact(before, 8).unwrap();

        assert_eq!(
            after.column(0).as_string_view().data_buffers()[0].as_ptr(),
            pointer
        );
    }

    #[test]
    fn a_batch_of_no_columns_keeps_its_rows() {
        // What a scan for `count(*)` hands up.
        let options = RecordBatchOptions::new().with_row_count(Some(3));
        let empty =
            RecordBatch::try_new_with_options(Arc::new(Schema::empty()), vec![], &options).unwrap();

        assert_eq!(compact(empty, 8192).unwrap().num_rows(), 3);
    }

    #[test]
    fn a_short_batch_loses_the_room_of_a_full_one() {
        let mut builder = arrow::array::StringViewBuilder::with_capacity(8192);
        for i in 0..30 {
            builder.append_value(long(i));
        }
        let before = batch(builder.finish());
        let held = before.get_array_memory_size();

        let after = compact(before, 8192).unwrap();

        let values: Vec<_> = after.column(0).as_string_view().iter().flatten().collect();
        assert_eq!(values, (0..30).map(long).collect::<Vec<_>>());
        let kept = after.get_array_memory_size();
        assert!(held > 100_000 && kept < 8192, "{held} bytes, then {kept}");
    }

    async fn plan(ctx: &datafusion::prelude::SessionContext, sql: &str) -> String {
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let again = CompactScans
            .optimize(Arc::clone(&plan), &ConfigOptions::default())
            .unwrap();
        let shown = |p: &Arc<dyn ExecutionPlan>| {
            datafusion::physical_plan::displayable(p.as_ref())
                .indent(false)
                .to_string()
        };
        assert_eq!(shown(&again), shown(&plan), "the rule wraps a scan once");
        shown(&plan)
    }

    #[tokio::test]
    async fn only_scans_that_filter_are_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.parquet");
        let ctx = crate::session();
        let copy = format!(
            "COPY (SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s)) TO '{}' STORED AS PARQUET",
            file.display()
        );
        ctx.sql(&copy).await.unwrap().collect().await.unwrap();
        ctx.register_parquet(
            "t",
            file.to_str().unwrap(),
            datafusion::prelude::ParquetReadOptions::default(),
        )
        .await
        .unwrap();

        let filtered = plan(&ctx, "SELECT s FROM t WHERE n = 2").await;
        assert_eq!(filtered.matches("CompactScanExec").count(), 1, "{filtered}");
        let whole = plan(&ctx, "SELECT s FROM t").await;
        assert!(!whole.contains("CompactScanExec"), "{whole}");
    }
}
