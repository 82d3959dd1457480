//! Lake's text literals compared with the lake's booleans and times.
//!
//! CloudTrail Lake keeps flags such as
//! `userIdentity.sessionContext.attributes.mfaAuthenticated` as the strings
//! `'true'` and `'false'`, and Lake queries compare them so. The lake keeps
//! them as booleans, which DataFusion will not compare with a string. And
//! Trino reads time text with the seconds left out or a one-digit month or
//! day (`eventTime > '2024-3-10 23:00'`), which Arrow's cast refuses.
//! Run before type coercion, this rule turns a `'true'` or `'false'`
//! literal compared with a boolean into that boolean, and time text
//! compared with a timestamp (`=`, `<`, `BETWEEN`, `IN`, whatever the
//! timestamp: a column, an alias, `min(eventtime)`) into the form Arrow
//! reads; any other string still fails.

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{Between, InList};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, lit};
use datafusion::optimizer::AnalyzerRule;
use regex::Regex;

/// Reads text compared with a boolean or a timestamp as Lake does.
#[derive(Debug, Default)]
pub(crate) struct TextLiterals;

impl AnalyzerRule for TextLiterals {
    fn name(&self) -> &'static str {
        "text_literals"
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
    let target = |e: &Expr| match e.get_type(schema) {
        Ok(DataType::Boolean) => Some(Target::Boolean),
        Ok(DataType::Timestamp(..)) => Some(Target::Time),
        _ => None,
    };
    // Each text literal compared with `value` as its type reads it; other
    // operands as they are.
    let read_all = |value: &Expr, operands: &[&Expr]| -> Option<Vec<Expr>> {
        let target = target(value)?;
        let read: Vec<Option<Expr>> = operands.iter().map(|e| target.read(e)).collect();
        read.iter().any(Option::is_some).then(|| {
            read.into_iter()
                .zip(operands)
                .map(|(read, e)| read.unwrap_or_else(|| (*e).clone()))
                .collect()
        })
    };
    match &expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(
                op,
                Operator::Eq
                    | Operator::NotEq
                    | Operator::Lt
                    | Operator::LtEq
                    | Operator::Gt
                    | Operator::GtEq
                    | Operator::IsDistinctFrom
                    | Operator::IsNotDistinctFrom
            ) =>
        {
            let (left, right) = match (read_all(left, &[right]), read_all(right, &[left])) {
                (Some(mut read), _) => (left.as_ref().clone(), read.remove(0)),
                (None, Some(mut read)) => (read.remove(0), right.as_ref().clone()),
                (None, None) => return Transformed::no(expr),
            };
            Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(left),
                *op,
                Box::new(right),
            )))
        }
        Expr::Between(Between {
            expr: value,
            negated,
            low,
            high,
        }) => match read_all(value, &[low, high]).as_deref() {
            Some([low, high]) => Transformed::yes(Expr::Between(Between::new(
                value.clone(),
                *negated,
                Box::new(low.clone()),
                Box::new(high.clone()),
            ))),
            _ => Transformed::no(expr),
        },
        Expr::InList(InList {
            expr: value,
            list,
            negated,
        }) => match read_all(value, &list.iter().collect::<Vec<_>>()) {
            Some(list) => {
                Transformed::yes(Expr::InList(InList::new(value.clone(), list, *negated)))
            }
            None => Transformed::no(expr),
        },
        _ => Transformed::no(expr),
    }
}

/// The type a text literal is compared with.
#[derive(Clone, Copy)]
enum Target {
    Boolean,
    Time,
}

impl Target {
    /// The literal `expr` as this type reads it, when it is text to read.
    fn read(self, expr: &Expr) -> Option<Expr> {
        match self {
            Self::Boolean => flag(expr).map(lit),
            Self::Time => time_text(expr).map(lit),
        }
    }
}

/// Time text as Trino reads it (`2024-3-10 23:00`: one-digit month or day,
/// seconds left out) in the form Arrow reads, when it is not in it already.
fn time_text(expr: &Expr) -> Option<String> {
    static TRINO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:([ T])(\d{1,2}):(\d{1,2})(?::(\d{1,2})(\.\d+)?)?)?(\s*(?:Z|[+-]\d{2}:?\d{2}|UTC)?)$",
        )
        .expect("a valid pattern")
    });
    let c = TRINO.captures(text(expr)?)?;
    let n = |i: usize| {
        c.get(i)
            .map_or(0, |m| m.as_str().parse::<u32>().unwrap_or(0))
    };
    let time = match c.get(4) {
        Some(sep) => format!(
            "{}{:02}:{:02}:{:02}{}",
            sep.as_str(),
            n(5),
            n(6),
            n(7),
            c.get(8).map_or("", |m| m.as_str())
        ),
        None => String::new(),
    };
    let normal = format!("{}-{:02}-{:02}{time}{}", &c[1], n(2), n(3), &c[9]);
    (normal != c[0]).then_some(normal)
}

/// The text of a string literal.
fn text(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(text))
            | ScalarValue::Utf8View(Some(text))
            | ScalarValue::LargeUtf8(Some(text)),
            _,
        ) => Some(text),
        _ => None,
    }
}

/// The boolean a string literal spells, in any case.
fn flag(expr: &Expr) -> Option<bool> {
    match text(expr)?.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}
