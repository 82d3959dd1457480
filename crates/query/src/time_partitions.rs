//! An `eventtime` range also selects `date` partitions.
//!
//! A partition's `date` is its events' `eventTime` day in UTC, so a filter
//! such as `eventtime >= TIMESTAMP '2024-03-03 10:00:00'` implies
//! `date >= DATE '2024-03-03'`. DataFusion cannot know that, and would open
//! every partition to read its files' statistics; this rule adds the implied
//! `date` filter, which prunes partition folders before any file is read.

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Result, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, Operator};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

const TIME: &str = "eventtime";
const DATE: &str = "date";
const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// Adds `date` bounds implied by `eventtime` comparisons with a constant.
#[derive(Debug, Default)]
pub(crate) struct DateFromEventTime;

impl OptimizerRule for DateFromEventTime {
    fn name(&self) -> &'static str {
        "date_from_eventtime"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        // The scan's own filters: by the time they are pushed there, the
        // plan above may no longer carry the `date` column.
        let LogicalPlan::TableScan(mut scan) = plan else {
            return Ok(Transformed::no(plan));
        };
        let schema =
            DFSchema::try_from_qualified_schema(scan.table_name.clone(), &scan.source.schema())?;
        let mut implied: Vec<Expr> = Vec::new();
        for filter in &scan.filters {
            if let Some(bound) = date_bound(filter, &schema)
                && !scan.filters.contains(&bound)
                && !implied.contains(&bound)
            {
                implied.push(bound);
            }
        }
        if implied.is_empty() {
            return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
        }
        scan.filters.extend(implied);
        Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
    }
}

/// The `date` comparison `expr` implies, if it compares `eventtime` with a
/// timestamp constant and the same relation has a `date` column.
fn date_bound(expr: &Expr, schema: &DFSchema) -> Option<Expr> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expr else {
        return None;
    };
    let (column, op, value) = match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), Expr::Literal(v, _)) => (c, *op, v),
        (Expr::Literal(v, _), Expr::Column(c)) => (c, op.swap()?, v),
        _ => return None,
    };
    if !column.name.eq_ignore_ascii_case(TIME) {
        return None;
    }
    let date = Column::new(column.relation.clone(), DATE);
    schema.has_column(&date).then_some(())?;
    let nanos = nanos(value)?;
    let day = nanos.div_euclid(NANOS_PER_DAY);
    let midnight = nanos.rem_euclid(NANOS_PER_DAY) == 0;
    let (op, day) = match op {
        Operator::Eq => (Operator::Eq, day),
        Operator::Gt | Operator::GtEq => (Operator::GtEq, day),
        // Before midnight is the day before.
        Operator::Lt if midnight => (Operator::LtEq, day - 1),
        Operator::Lt | Operator::LtEq => (Operator::LtEq, day),
        _ => return None,
    };
    let day = i32::try_from(day).ok()?;
    Some(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(Expr::Column(date)),
        op,
        Box::new(Expr::Literal(ScalarValue::Date32(Some(day)), None)),
    )))
}

/// A timestamp constant as nanoseconds since the epoch, UTC.
fn nanos(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampMicrosecond(Some(v), _) => v.checked_mul(1_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000_000),
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000_000),
        _ => None,
    }
}
