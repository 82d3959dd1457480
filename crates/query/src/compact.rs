//! Scans hand up batches that hold only the bytes their rows use.
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
//! [`CompactScans`] puts a [`CompactScanExec`] above every data source once
//! the plan is otherwise final. It gathers small batches into batches of the
//! session's size with DataFusion's coalescer (as a `FilterExec` does), which
//! copies their rows, strings included when they are sparse. A large batch
//! passes through, its view columns copied out only when their buffers are at
//! least twice the bytes their rows use (the coalescer's own threshold), so
//! dense batches, such as whole pages or rows of a dictionary, cost nothing.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use arrow::array::{
    Array, ArrayRef, AsArray, GenericByteViewArray, RecordBatch, RecordBatchOptions, UInt32Array,
};
use arrow::compute::take_arrays;
use arrow::datatypes::{BinaryViewType, ByteViewType, DataType, SchemaRef, StringViewType};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce::LimitedBatchCoalescer;
use datafusion::physical_plan::execution_plan::CardinalityEffect;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet, RecordOutput,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, Statistics,
};
use futures::{Stream, StreamExt};

/// Puts a [`CompactScanExec`] above every data source. Runs after the
/// default rules, so that no rule has to see through it.
#[derive(Debug, Default)]
pub(crate) struct CompactScans;

impl PhysicalOptimizerRule for CompactScans {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if node.is::<DataSourceExec>() {
                Ok(Transformed::yes(
                    Arc::new(CompactScanExec::new(node)) as Arc<dyn ExecutionPlan>
                ))
            } else {
                Ok(Transformed::no(node))
            }
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

/// Passes its input's batches on gathered and compacted.
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
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "CompactScanExec")
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
        let coalescer = LimitedBatchCoalescer::new(input.schema(), target_rows, None);
        Ok(Box::pin(CompactStream {
            input,
            coalescer,
            target_rows,
            baseline: BaselineMetrics::new(&self.metrics, partition),
            ended: false,
        }))
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

/// The input's batches, the small ones gathered into batches of the
/// session's size, and each view column compacted when sparse.
struct CompactStream {
    input: SendableRecordBatchStream,
    coalescer: LimitedBatchCoalescer,
    target_rows: usize,
    baseline: BaselineMetrics,
    ended: bool,
}

impl Stream for CompactStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(batch) = this.coalescer.next_completed_batch() {
                let timer = this.baseline.elapsed_compute().timer();
                let batch = compact(batch, this.target_rows);
                timer.done();
                return Poll::Ready(Some(batch.map(|b| b.record_output(&this.baseline))));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            let next = ready!(this.input.poll_next_unpin(cx));
            let timer = this.baseline.elapsed_compute().timer();
            let pushed = match next {
                Some(Ok(batch)) => this.coalescer.push_batch(batch).map(|_| ()),
                Some(Err(e)) => Err(e),
                None => {
                    this.ended = true;
                    this.coalescer.finish()
                }
            };
            timer.done();
            if let Err(e) = pushed {
                this.ended = true;
                return Poll::Ready(Some(Err(e)));
            }
        }
    }
}

impl RecordBatchStream for CompactStream {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}

/// `batch` with each sparse view column copied into buffers of its own,
/// and every column copied when the batch is short: the coalescer's last
/// batch (or one it flushed before a large one) keeps the room of a full
/// batch in each column.
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

    #[tokio::test]
    async fn large_batches_pass_and_small_ones_are_gathered_in_order() {
        let all: StringViewArray = (0..10_000).map(|i| Some(long(i))).collect();
        let sparse = |from: usize| {
            let keep: arrow::array::BooleanArray =
                (0..10_000).map(|i| Some(i % 1000 == from)).collect();
            batch(filter(&all, &keep).unwrap().as_string_view().clone())
        };
        let large = batch((0..5_000).map(|i| Some(long(i))).collect());
        let pointer = large.column(0).as_string_view().data_buffers()[0].as_ptr();
        let input = vec![Ok(large), Ok(sparse(1)), Ok(sparse(2)), Ok(sparse(3))];
        let schema = input[0].as_ref().unwrap().schema();
        let metrics = ExecutionPlanMetricsSet::new();
        let stream = CompactStream {
            input: Box::pin(
                datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
                    schema.clone(),
                    futures::stream::iter(input),
                ),
            ),
            coalescer: LimitedBatchCoalescer::new(schema, 8192, None),
            target_rows: 8192,
            baseline: BaselineMetrics::new(&metrics, 0),
            ended: false,
        };

        let out: Vec<RecordBatch> = stream.map(Result::unwrap).collect().await;

        let rows: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(rows, [5_000, 30]);
        assert_eq!(
            out[0].column(0).as_string_view().data_buffers()[0].as_ptr(),
            pointer
        );
        let gathered: Vec<_> = out[1].column(0).as_string_view().iter().flatten().collect();
        let expected: Vec<_> = (1..4)
            .flat_map(|from| (0..10).map(move |k| long(k * 1000 + from)))
            .collect();
        assert_eq!(gathered, expected);
        // Strings, views and all: not the room of the 8,192 rows a batch
        // may hold.
        let held = out[1].get_array_memory_size();
        assert!(held < 8192, "{held} bytes for 30 values");
    }
}
