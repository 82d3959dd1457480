//! Lake's text flags compared with the lake's booleans.
//!
//! CloudTrail Lake keeps flags such as
//! `userIdentity.sessionContext.attributes.mfaAuthenticated` as the strings
//! `'true'` and `'false'`, and Lake queries compare them so. The lake keeps
//! them as booleans, which DataFusion will not compare with a string. Run
//! before type coercion, this rule turns a `'true'` or `'false'` literal
//! compared with a boolean into that boolean; any other string still fails.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, lit};
use datafusion::optimizer::AnalyzerRule;

/// Reads `'true'` and `'false'` compared with a boolean as booleans.
#[derive(Debug, Default)]
pub(crate) struct BooleanText;

impl AnalyzerRule for BooleanText {
    fn name(&self) -> &'static str {
        "boolean_text"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            let mut schema = DFSchema::empty();
            for input in plan.inputs() {
                schema.merge(input.schema());
            }
            // The nodes above refer to these expressions by name: a rewritten
            // `count_if(flag = 'true')` keeps the name it was planned with.
            let names = NamePreserver::new(&plan);
            plan.map_expressions(|expr| {
                let name = names.save(&expr);
                expr.transform_up(|expr| Ok(rewrite(expr, &schema)))
                    .map(|rewritten| rewritten.update_data(|expr| name.restore(expr)))
            })?
            .map_data(LogicalPlan::recompute_schema)
        })
        .map(|transformed| transformed.data)
    }
}

fn rewrite(expr: Expr, schema: &DFSchema) -> Transformed<Expr> {
    let boolean = |e: &Expr| e.get_type(schema).is_ok_and(|t| t == DataType::Boolean);
    match &expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(
                op,
                Operator::Eq
                    | Operator::NotEq
                    | Operator::IsDistinctFrom
                    | Operator::IsNotDistinctFrom
            ) =>
        {
            let (left, right) = match (flag(left), flag(right)) {
                (None, Some(value)) if boolean(left) => (left.as_ref().clone(), lit(value)),
                (Some(value), None) if boolean(right) => (lit(value), right.as_ref().clone()),
                _ => return Transformed::no(expr),
            };
            Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(left),
                *op,
                Box::new(right),
            )))
        }
        Expr::InList(InList {
            expr: value,
            list,
            negated,
        }) if boolean(value) => {
            let Some(flags) = list.iter().map(flag).collect::<Option<Vec<_>>>() else {
                return Transformed::no(expr);
            };
            Transformed::yes(Expr::InList(InList::new(
                value.clone(),
                flags.into_iter().map(lit).collect(),
                *negated,
            )))
        }
        _ => Transformed::no(expr),
    }
}

/// The boolean a string literal spells, in any case.
fn flag(expr: &Expr) -> Option<bool> {
    let Expr::Literal(
        ScalarValue::Utf8(Some(text))
        | ScalarValue::Utf8View(Some(text))
        | ScalarValue::LargeUtf8(Some(text)),
        _,
    ) = expr
    else {
        return None;
    };
    match text.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}
