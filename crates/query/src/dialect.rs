//! CloudTrail Lake's SQL (Trino over Lake's schema) translated to the lake's
//! DataFusion SQL, so saved Lake queries run unchanged.
//!
//! The translation is syntactic, on the parsed statement, before planning:
//!
//! - event data store references in `FROM`/`JOIN` (an EDS id or ARN, or the
//!   placeholders `$EDS_ID`, `<EDS ID>`, `<event_data_store_id>`) name
//!   `cloudtrail`;
//! - `userIdentity.a.b` paths, in any letter case, name the flattened
//!   column (`useridentity_a_b`), so filters through them prune exactly as
//!   filters on the column do; a path to a whole object (`userIdentity`,
//!   `userIdentity.sessionContext`) builds the nested struct;
//! - the free-form fields, stored as JSON text, answer Lake's map
//!   operations: `element_at(requestParameters, 'k')`, `requestParameters['k']`,
//!   `map_keys`, `map_values`, `cardinality`;
//! - Trino functions become their DataFusion equivalents (JSON functions
//!   with JSONPath on top of datafusion-functions-json; `count_if`,
//!   `max_by`, `regexp_extract`, `date`, `hour`, `to_iso8601`, …);
//! - functions taking lambdas are refused with a message naming them.

use std::collections::{BTreeMap, HashSet};
use std::ops::ControlFlow;
use std::sync::LazyLock;

use ctlake_schema::{COLUMNS, Kind};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::sql::parser::{CopyToSource, DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::DataType as SqlType;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, CastKind, DateTimeField, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, Join, JoinConstraint, JoinOperator, LimitClause, ObjectName, Query,
    Select, SelectItem, Statement, Subscript, TableAlias, TableFactor, Value, VisitMut, VisitorMut,
    visit_expressions_mut, visit_relations_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use regex::Regex;

use crate::ip;

/// Parses `sql` as Lake or DataFusion SQL and translates it to DataFusion's.
pub fn parse(sql: &str) -> Result<Vec<DFStatement>> {
    let sql = table_references(sql);
    let sql = ip_literals(&sql);
    let mut statements: Vec<DFStatement> =
        DFParser::parse_sql_with_dialect(&sql, &GenericDialect {})?.into();
    for statement in &mut statements {
        translate(statement)?;
    }
    Ok(statements)
}

/// How far typed SQL has got, as the parser's own tokenizer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    /// Only whitespace and comments: nothing to run.
    Blank,
    /// A statement still open: no `;` yet, or inside a string or a
    /// `/* */` comment that a later line closes.
    Open,
    /// Ends with `;`, comments after it aside.
    Complete,
}

/// Whether `sql` is ready to run. A `;` inside a string or a comment does
/// not end a statement, as it does not for [`parse`].
pub fn typed(sql: &str) -> Typed {
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return Typed::Open;
    };
    match tokens
        .iter()
        .rfind(|token| !matches!(token, Token::Whitespace(_)))
    {
        None => Typed::Blank,
        Some(Token::SemiColon) => Typed::Complete,
        Some(_) => Typed::Open,
    }
}

/// The start of a pattern for rewriting SQL text: string literals (also
/// `$$…$$`), quoted names and comments, matched whole so that nothing
/// inside them is rewritten.
macro_rules! passed_over {
    () => {
        r#"(?is)'(?:[^']|'')*'|"(?:[^"]|"")*"|\$\$.*?\$\$|--[^\n]*|/\*.*?\*/"#
    };
}

/// `FROM <EDS id|ARN|placeholder>` as `FROM cloudtrail`. Done on the text:
/// none of these forms is an SQL identifier. String literals and comments
/// are passed over whole: a hunt may look for these very words in the SQL
/// that CloudTrail Lake's own `StartQuery` events log.
fn table_references(sql: &str) -> std::borrow::Cow<'_, str> {
    static EDS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            passed_over!(),
            r#"|\b(FROM|JOIN)(\s+)(?:"|`)?("#,
            r"arn:aws[a-z-]*:cloudtrail:[a-z0-9-]*:\d*:eventdatastore/[A-Za-z0-9-]+",
            r"|\$EDS_ID\b",
            r"|event_data_store_id\b",
            r"|<[^<>\n]*>",
            r"|[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}",
            r#")(?:"|`)?"#
        ))
        .expect("valid pattern")
    });
    EDS.replace_all(sql, |found: &regex::Captures<'_>| {
        match (found.get(1), found.get(2)) {
            (Some(keyword), Some(space)) => {
                format!("{}{}cloudtrail", keyword.as_str(), space.as_str())
            }
            _ => found[0].to_owned(),
        }
    })
}

/// Trino's `IPADDRESS '10.0.0.1'`, a literal of a type sqlparser does not
/// know, as the cast it means.
fn ip_literals(sql: &str) -> std::borrow::Cow<'_, str> {
    static LITERAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(passed_over!(), r"|\bIPADDRESS\s*('(?:[^']|'')*')"))
            .expect("valid pattern")
    });
    LITERAL.replace_all(sql, |found: &regex::Captures<'_>| match found.get(1) {
        Some(text) => format!("CAST({} AS IPADDRESS)", text.as_str()),
        None => found[0].to_owned(),
    })
}

fn translate(statement: &mut DFStatement) -> Result<()> {
    match statement {
        DFStatement::Statement(s) => translate_sql(s),
        DFStatement::Explain(explain) => translate(&mut explain.statement),
        DFStatement::CopyTo(copy) => match &mut copy.source {
            CopyToSource::Query(query) => translate_sql(query),
            CopyToSource::Relation(_) => Ok(()),
        },
        DFStatement::CreateExternalTable(_) | DFStatement::Reset(_) => Ok(()),
    }
}

fn translate_sql<V: VisitMut>(node: &mut V) -> Result<()> {
    let mut shapes = Shapes::default();
    if let ControlFlow::Break(e) = node.visit(&mut shapes) {
        return Err(e);
    }
    let _ = visit_relations_mut(node, |name: &mut ObjectName| {
        if name.0.len() == 1 && name.to_string().eq_ignore_ascii_case("cloudtrail") {
            *name = ObjectName::from(vec![Ident::new("cloudtrail")]);
        }
        ControlFlow::<()>::Continue(())
    });
    let mut failure = None;
    let _ = visit_expressions_mut(node, |expr: &mut Expr| {
        match rewrite(expr, &shapes.unnested) {
            Ok(Some(new)) => {
                *expr = new;
                ControlFlow::Continue(())
            }
            Ok(None) => ControlFlow::Continue(()),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    failure.map_or(Ok(()), Err)
}

/// Rewrites of a query's shape, done before its expressions are translated:
/// `CROSS JOIN UNNEST(...)` as a derived table DataFusion can plan, and
/// names for translated select items, so a result column is called `arn`
/// (as in Lake) rather than after the expression it became.
#[derive(Default)]
struct Shapes {
    /// Aliases of unnested tables, whose qualifier is dropped.
    unnested: HashSet<String>,
}

impl VisitorMut for Shapes {
    type Break = DataFusionError;

    /// `FETCH FIRST n ROWS ONLY`, which Trino takes and DataFusion does
    /// not plan, as `LIMIT n`.
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<DataFusionError> {
        let Some(fetch) = query.fetch.take() else {
            return ControlFlow::Continue(());
        };
        if fetch.with_ties || fetch.percent {
            return ControlFlow::Break(DataFusionError::Plan(format!(
                "{fetch}: WITH TIES and PERCENT are not supported by ctlake; use FETCH FIRST n \
                 ROWS ONLY or LIMIT n"
            )));
        }
        let limit = fetch
            .quantity
            .clone()
            .unwrap_or_else(|| Expr::value(Value::Number("1".into(), false)));
        let offset = match query.limit_clause.take() {
            None => None,
            Some(LimitClause::LimitOffset {
                limit: None,
                offset,
                limit_by,
            }) if limit_by.is_empty() => offset,
            Some(other) => {
                return ControlFlow::Break(DataFusionError::Plan(format!(
                    "{} {fetch}: give either LIMIT or FETCH FIRST",
                    other.to_string().trim_start()
                )));
            }
        };
        query.limit_clause = Some(LimitClause::LimitOffset {
            limit: Some(limit),
            offset,
            limit_by: Vec::new(),
        });
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<DataFusionError> {
        if let Err(e) = self.unnest(select) {
            return ControlFlow::Break(e);
        }
        // Names given with AS and bare columns are kept wherever they stand;
        // derived names give way to them.
        let mut taken: HashSet<String> = select
            .projection
            .iter()
            .filter_map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => Some(ident_name(alias)),
                SelectItem::UnnamedExpr(Expr::Identifier(ident)) => Some(ident_name(ident)),
                _ => None,
            })
            .collect();
        for (position, item) in select.projection.iter_mut().enumerate() {
            let SelectItem::UnnamedExpr(expr) = item else {
                continue;
            };
            let expr = expr.clone();
            let mut translated = expr.clone();
            let _ = visit_expressions_mut(&mut translated, |e: &mut Expr| {
                if let Ok(Some(new)) = rewrite(e, &self.unnested) {
                    *e = new;
                }
                ControlFlow::<()>::Continue(())
            });
            // As Trino names them: a path by its last part, what is
            // translated by what was written. DataFusion would name a
            // struct field `t.s[f]` and both of `userIdentity.arn` and
            // `...sessionIssuer.arn` alike, and refuse two columns of one
            // name (`eventtime, CAST(eventtime AS date)`); the second of
            // two gets the text written for it. DataFusion names every
            // scalar subquery alike; Trino names it by its position.
            let name = match (&expr, output_name(&expr)) {
                (Expr::Identifier(_), _) if translated == expr => continue,
                (Expr::Subquery(_), _) => format!("_col{position}"),
                (Expr::Identifier(ident), _) => ident_name(ident),
                (_, Some(name)) if !taken.contains(&name) => name,
                (_, Some(_)) => expr.to_string(),
                (_, None) if translated != expr => expr.to_string(),
                (_, None) => continue,
            };
            taken.insert(name.clone());
            *item = SelectItem::ExprWithAlias {
                expr,
                alias: Ident::with_quote('"', name),
            };
        }
        ControlFlow::Continue(())
    }
}

/// The derived table `FROM relation CROSS JOIN UNNEST(arrays) AS alias`
/// becomes, under the name `base_name`: the relation's columns and one per
/// array, or, for one array of rows (or a map) given several names or
/// none, one per field. `outer`: `LEFT JOIN UNNEST ... ON true`, which keeps
/// a row whose array is empty or NULL, with NULL for what it unnests.
fn unnest_table(
    base_name: &str,
    relation: &TableFactor,
    array_exprs: &[Expr],
    alias: Option<&TableAlias>,
    outer: bool,
) -> Result<String> {
    let mut names: Vec<String> = alias
        .map(|a| a.columns.iter().map(|c| c.name.to_string()).collect())
        .unwrap_or_default();
    // DataFusion's unnest yields no row for an empty or NULL array; one
    // NULL element keeps the row.
    let unnest = |array: &str| {
        if outer {
            format!(
                "unnest(CASE WHEN cardinality({array}) > 0 THEN {array} ELSE make_array(NULL) END)"
            )
        } else {
            format!("unnest({array})")
        }
    };
    let spread = match array_exprs {
        [array] => unnested_fields(array),
        _ => None,
    };
    if let (Some((array, fields)), [_]) = (&spread, array_exprs)
        && names.len() != 1
    {
        // Trino: the names of an array of rows name its fields, in order,
        // and without names they keep the fields' own; a map gives a key
        // and a value.
        if names.is_empty() {
            names.clone_from(fields);
        }
        if names.len() != fields.len() {
            return Err(DataFusionError::Plan(format!(
                "UNNEST({}) {}: {} names for its {} fields ({}); give one name per field, \
                 or one name for the whole row",
                array_exprs[0],
                alias.map(ToString::to_string).unwrap_or_default(),
                names.len(),
                fields.len(),
                fields.join(", ")
            )));
        }
        let columns: Vec<String> = fields
            .iter()
            .zip(&names)
            .map(|(field, name)| format!("{UNNESTED_ROW}['{field}'] AS {name}"))
            .collect();
        return Ok(format!(
            "(SELECT * EXCLUDE ({UNNESTED_ROW}), {} FROM \
             (SELECT {base_name}.*, {} AS {UNNESTED_ROW} FROM {}) AS {base_name}) \
             AS {base_name}",
            columns.join(", "),
            unnest(array),
            relation
        ));
    }
    if let [array] = array_exprs
        && column_name(array).is_some_and(|c| is_json_column(&c))
    {
        return Err(DataFusionError::Plan(format!(
            "UNNEST({array}): a map unnests into two columns, its keys and its values; \
             name both, as in UNNEST({array}) AS t(k, v)"
        )));
    }
    if array_exprs.len() > 1 && outer {
        return Err(DataFusionError::Plan(
            "LEFT JOIN UNNEST of several arrays is not supported by ctlake; unnest one array"
                .to_owned(),
        ));
    }
    let columns: Vec<String> = array_exprs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let name = names
                .get(i)
                .map_or_else(|| format!("unnest_{i}"), Clone::clone);
            format!("{} AS {name}", unnest(&e.to_string()))
        })
        .collect();
    Ok(format!(
        "(SELECT {base_name}.*, {} FROM {}) AS {base_name}",
        columns.join(", "),
        relation
    ))
}

/// The column an array of rows is unnested into before its fields are named.
const UNNESTED_ROW: &str = "__ctlake_unnested_row";

/// For an array that unnests into several columns, the array to unnest
/// and its fields' names, in order: a lake column that is an array of rows
/// (`resources`), or a free-form field, which Lake has as a map and which
/// unnests into entries of a key and a value.
fn unnested_fields(array: &Expr) -> Option<(String, Vec<String>)> {
    let name = column_name(array)?;
    if is_json_column(&name) {
        return Some((
            format!("json_map_entries({array})"),
            vec!["key".to_owned(), "value".to_owned()],
        ));
    }
    let schema = ctlake_schema::file_schema();
    let field = schema.field_with_name(&name).ok()?;
    let DataType::List(item) = field.data_type() else {
        return None;
    };
    let DataType::Struct(fields) = item.data_type() else {
        return None;
    };
    Some((
        array.to_string(),
        fields.iter().map(|f| f.name().clone()).collect(),
    ))
}

/// An identifier's name as the planner resolves it: lower case unless quoted.
fn ident_name(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The name DataFusion gives a projection of `expr` when that name is a
/// column's or a field's (a cast keeps its operand's name); `None` for other
/// expressions, which it names by their text.
fn output_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident_name(ident)),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident_name),
        Expr::Cast { expr, .. } | Expr::Nested(expr) => output_name(expr),
        _ => None,
    }
}

impl Shapes {
    /// `FROM t CROSS JOIN UNNEST(e) AS u(x)` (or `FROM t, UNNEST(e) AS u(x)`)
    /// as `FROM (SELECT t.*, unnest(e) AS x FROM t) AS t`; several UNNEST
    /// joins in a row nest, and `LEFT JOIN UNNEST(e) AS u(x) ON true`
    /// keeps the rows whose array is empty.
    fn unnest(&mut self, select: &mut Select) -> Result<()> {
        // A subquery's lone UNNEST of a lake column unnests the outer row's
        // array: a correlation DataFusion cannot plan.
        if let [only] = select.from.as_slice()
            && let TableFactor::UNNEST { array_exprs, .. } = &only.relation
            && let Some(array) = array_exprs
                .iter()
                .find(|e| column_name(e).is_some_and(|c| is_lake_column(&c)))
        {
            return Err(DataFusionError::Plan(format!(
                "FROM UNNEST({array}) in a subquery is not supported by ctlake; join it \
                 instead: FROM cloudtrail CROSS JOIN UNNEST({array}) AS t(...) with the \
                 condition in WHERE (and SELECT DISTINCT for one row per event)"
            )));
        }
        // The comma form is a cross join.
        if select.from.len() == 2
            && matches!(select.from[1].relation, TableFactor::UNNEST { .. })
            && select.from[1].joins.is_empty()
        {
            let unnest = select.from.remove(1);
            select.from[0].joins.insert(
                0,
                Join {
                    relation: unnest.relation,
                    global: false,
                    join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
                },
            );
        }
        for from in &mut select.from {
            while let Some(first) = from.joins.first() {
                let TableFactor::UNNEST {
                    alias,
                    array_exprs,
                    with_offset: false,
                    with_ordinality: false,
                    ..
                } = &first.relation
                else {
                    break;
                };
                let outer = match &first.join_operator {
                    JoinOperator::CrossJoin(JoinConstraint::None)
                    | JoinOperator::Join(JoinConstraint::None)
                    | JoinOperator::Inner(JoinConstraint::None) => false,
                    JoinOperator::Join(JoinConstraint::On(on))
                    | JoinOperator::Inner(JoinConstraint::On(on))
                        if is_true(on) =>
                    {
                        false
                    }
                    JoinOperator::Left(JoinConstraint::On(on))
                    | JoinOperator::LeftOuter(JoinConstraint::On(on))
                        if is_true(on) =>
                    {
                        true
                    }
                    JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => {
                        return Err(DataFusionError::Plan(format!(
                            "{first}: only ON true is supported by ctlake when joining \
                             UNNEST; filter the unnested rows in WHERE"
                        )));
                    }
                    _ => break,
                };
                let base_name = match &from.relation {
                    TableFactor::Table { alias: Some(a), .. }
                    | TableFactor::Derived { alias: Some(a), .. } => a.name.to_string(),
                    TableFactor::Table { name, .. } => {
                        name.0.last().map(ToString::to_string).unwrap_or_default()
                    }
                    _ => {
                        return Err(DataFusionError::Plan(
                            "UNNEST: give the table before CROSS JOIN UNNEST an alias".to_owned(),
                        ));
                    }
                };
                let derived = unnest_table(
                    &base_name,
                    &from.relation,
                    array_exprs,
                    alias.as_ref(),
                    outer,
                )?;
                if let Some(alias) = alias {
                    self.unnested.insert(alias.name.value.to_lowercase());
                }
                from.relation = Parser::new(&GenericDialect {})
                    .try_with_sql(&derived)?
                    .parse_table_factor()?;
                from.joins.remove(0);
            }
        }
        Ok(())
    }
}

/// An array literal or a call of a function that returns one, as the
/// dialect leaves them: what Trino's `contains` takes first.
fn is_array(expr: &Expr) -> bool {
    const ARRAYS: &[&str] = &[
        "array_agg",
        "array_distinct",
        "array_sort",
        "json_map_values",
        "json_object_keys",
        "make_array",
        "regexp_extract_all",
        "string_to_array",
    ];
    match expr {
        Expr::Array(_) => true,
        Expr::Function(f) => ARRAYS.contains(&f.name.to_string().to_lowercase().as_str()),
        Expr::Nested(inner) => is_array(inner),
        _ => false,
    }
}

/// An address as a cast to IPADDRESS leaves it.
fn is_ip_address(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f)
        if matches!(f.name.to_string().as_str(), ip::CAST | ip::TRY_CAST))
}

/// Whether `expr` is the literal `true` (`ON true`).
fn is_true(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if v.value == Value::Boolean(true))
}

/// The lake's columns by their CloudTrail path in lower case
/// (`useridentity.sessioncontext.sessionissuer.arn`).
static PATHS: LazyLock<BTreeMap<String, &'static str>> = LazyLock::new(|| {
    COLUMNS
        .iter()
        .filter(|c| c.path.len() > 1)
        .map(|c| (c.source_path().to_lowercase(), c.name))
        .collect()
});

/// Columns holding JSON text: what Lake has as `map<string,string>`, and the record.
fn is_json_column(name: &str) -> bool {
    name == "eventjson"
        || COLUMNS
            .iter()
            .any(|c| c.kind == Kind::Json && c.path.len() == 1 && c.name == name)
}

/// The text of a `'...'` literal.
fn text_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(text) => Some(text),
            _ => None,
        },
        _ => None,
    }
}

/// Trino's arrays start at 1: index 0 is an error there, not NULL, and a
/// query written for 0-based arrays would quietly match nothing.
fn refuse_index_zero(index: &Expr) -> Result<()> {
    if matches!(index, Expr::Value(v) if v.value == Value::Number("0".into(), false)) {
        return Err(DataFusionError::Plan(
            "array index 0: arrays start at 1 in Lake SQL (resources[1] is the first)".to_owned(),
        ));
    }
    Ok(())
}

/// A LIKE pattern with Trino's escapes (none, or `escape`) in DataFusion's
/// (backslash): a backslash that escapes nothing is matched as itself.
fn backslash_escapes(pattern: &str, escape: Option<char>) -> Result<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            match chars.next() {
                Some(next @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(next);
                }
                Some(next) if Some(next) == escape => out.push_str(&escaped_literal(next)),
                _ => {
                    return Err(DataFusionError::Plan(format!(
                        "LIKE pattern {pattern}: the escape character must come before %, _ \
                         or itself"
                    )));
                }
            }
        } else {
            out.push_str(&escaped_literal(c));
        }
    }
    Ok(out)
}

/// A character matched as itself in a DataFusion LIKE pattern.
fn escaped_literal(c: char) -> String {
    if c == '\\' {
        "\\\\".to_owned()
    } else {
        c.to_string()
    }
}

/// Trino's (Java's) `regexp_replace` replacement in the regex crate's form:
/// `$1_id` is group 1 then `_id` (the crate would read a group `1_id`),
/// and `\$` is a dollar sign.
fn rust_replacement(java: &str) -> String {
    let mut out = String::with_capacity(java.len());
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(next) => out.push(next),
                None => out.push('\\'),
            },
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push_str("${");
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    out.push(d);
                }
                out.push('}');
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether `name` (lower case) is a timestamp column of `cloudtrail`.
fn is_time_column(name: &str) -> bool {
    COLUMNS
        .iter()
        .any(|c| c.kind == Kind::Timestamp && c.name == name)
}

/// Whether `name` (lower case) is a boolean column of `cloudtrail`.
fn is_boolean_column(name: &str) -> bool {
    COLUMNS
        .iter()
        .any(|c| c.kind == Kind::Boolean && c.name == name)
}

/// Whether `name` (lower case) is a column of `cloudtrail` or a key on the
/// path of one (`tlsversion` of `tlsDetails.tlsVersion`).
fn is_lake_name(name: &str) -> bool {
    is_lake_column(name)
        || COLUMNS
            .iter()
            .any(|c| c.path.iter().any(|key| key.eq_ignore_ascii_case(name)))
}

/// Whether `name` (lower case) is a column of `cloudtrail`.
fn is_lake_column(name: &str) -> bool {
    COLUMNS.iter().any(|c| c.name == name) || matches!(name, "account" | "region" | "date")
}

/// The column an expression names, if it is a plain (or qualified) column.
fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(i) => Some(i.value.to_lowercase()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.to_lowercase()),
        _ => None,
    }
}

fn parse_expr(sql: &str) -> Result<Expr> {
    Ok(Parser::new(&GenericDialect {})
        .try_with_sql(sql)?
        .parse_expr()?)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `named_struct(...)` of every column under `prefix` (a lower-case path),
/// nested as in the record, with `qualifier.` before each column.
fn struct_of(prefix: &str, qualifier: &str) -> Option<String> {
    let mut members: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let start = format!("{prefix}.");
    for (path, column) in PATHS.iter() {
        let Some(rest) = path.strip_prefix(&start) else {
            continue;
        };
        let head = rest.split('.').next().unwrap_or(rest).to_owned();
        if members.contains_key(&head) {
            continue;
        }
        let value = if rest.contains('.') {
            struct_of(&format!("{prefix}.{head}"), qualifier)?
        } else {
            format!("{qualifier}{column}")
        };
        order.push(head.clone());
        members.insert(head, value);
    }
    if order.is_empty() {
        return None;
    }
    // Catalogue order, so `type` comes first as in CloudTrail.
    order.sort_by_key(|head| {
        COLUMNS.iter().position(|c| {
            c.source_path()
                .to_lowercase()
                .starts_with(&format!("{start}{head}"))
        })
    });
    let fields: Vec<String> = order
        .iter()
        .map(|head| format!("{}, {}", quote(head), members[head]))
        .collect();
    // An object the record does not have is NULL, not a struct of NULLs.
    let absent: Vec<String> = PATHS
        .iter()
        .filter(|(path, _)| path.starts_with(&start))
        .map(|(_, column)| format!("{qualifier}{column} IS NULL"))
        .collect();
    Some(format!(
        "CASE WHEN {} THEN NULL ELSE named_struct({}) END",
        absent.join(" AND "),
        fields.join(", ")
    ))
}

/// A Lake path through `userIdentity` as the lake's expression.
fn identity_path(parts: &[Ident]) -> Result<Option<Expr>> {
    let lower: Vec<String> = parts.iter().map(|p| p.value.to_lowercase()).collect();
    let (qualifier, path) = match lower.iter().position(|p| p == "useridentity") {
        Some(0) => (String::new(), lower.join(".")),
        Some(1) => (format!("{}.", parts[0]), lower[1..].join(".")),
        _ => return Ok(None),
    };
    // Lake has mfaAuthenticated as text, 'true' or 'false', which string
    // functions take (coalesce(..., 'n/a'), lower); the lake stores the flag.
    if path == "useridentity.sessioncontext.attributes.mfaauthenticated" {
        let column = PATHS[&path];
        return parse_expr(&format!("CAST({qualifier}{column} AS VARCHAR)")).map(Some);
    }
    if let Some(column) = PATHS.get(&path) {
        return parse_expr(&format!("{qualifier}{column}")).map(Some);
    }
    // In Lake's schema but without a column here: `extra` holds it when a
    // record has it.
    if path == "useridentity.sessioncontext.ec2issuedinvpc" {
        return parse_expr(&format!(
            "json_as_text({qualifier}extra, 'userIdentity', 'sessionContext', 'ec2IssuedInVPC')"
        ))
        .map(Some);
    }
    match struct_of(&path, &qualifier) {
        Some(sql) => parse_expr(&sql).map(Some),
        None => Ok(None),
    }
}

/// The expressions of a function call's plain arguments.
fn arguments(args: &FunctionArguments) -> Vec<&Expr> {
    let FunctionArguments::List(list) = args else {
        return Vec::new();
    };
    list.args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}

/// A JSONPath (`$.a.b`, `$.a[0].b`, `$["key with space"]`) as the key and
/// index arguments of datafusion-functions-json's functions.
fn json_path(function: &str, path: &Expr) -> Result<String> {
    let Expr::Value(v) = path else {
        return Err(DataFusionError::Plan(format!(
            "{function}: the JSONPath must be a string literal, e.g. '$.userName'"
        )));
    };
    let (Value::SingleQuotedString(text) | Value::DoubleQuotedString(text)) = &v.value else {
        return Err(DataFusionError::Plan(format!(
            "{function}: the JSONPath must be a string literal, e.g. '$.userName'"
        )));
    };
    let bad = || {
        DataFusionError::Plan(format!(
            "{function}: unsupported JSONPath {text:?}: use $.key, $.key[0], $[\"key with space\"]"
        ))
    };
    let mut rest = text.trim().strip_prefix('$').ok_or_else(bad)?;
    let mut keys = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err(bad());
            }
            keys.push(quote(&after[..end]));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or_else(bad)?;
            let inside = after[..end].trim();
            let key = inside
                .strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .or_else(|| inside.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')));
            if let Some(key) = key {
                keys.push(quote(key));
            } else {
                let index: i64 = inside.parse().map_err(|_| bad())?;
                keys.push(index.to_string());
            }
            rest = &after[end + 1..];
        } else {
            return Err(bad());
        }
    }
    Ok(keys.iter().fold(String::new(), |mut out, k| {
        out.push_str(", ");
        out.push_str(k);
        out
    }))
}

/// `a IS [NOT] DISTINCT FROM (b AND c)` as `(a IS [NOT] DISTINCT FROM b) AND c`.
fn reassociate(expr: Expr) -> Expr {
    let (left, right, not) = match expr {
        Expr::IsDistinctFrom(l, r) => (l, r, false),
        Expr::IsNotDistinctFrom(l, r) => (l, r, true),
        other => return other,
    };
    match *right {
        Expr::BinaryOp {
            left: inner,
            op: op @ (BinaryOperator::And | BinaryOperator::Or),
            right: rest,
        } => Expr::BinaryOp {
            left: Box::new(reassociate(if not {
                Expr::IsNotDistinctFrom(left, inner)
            } else {
                Expr::IsDistinctFrom(left, inner)
            })),
            op,
            right: rest,
        },
        right if not => Expr::IsNotDistinctFrom(left, Box::new(right)),
        right => Expr::IsDistinctFrom(left, Box::new(right)),
    }
}

/// Trino functions that take lambdas, which DataFusion cannot run, with
/// what to write instead.
const LAMBDA_FUNCTIONS: &[(&str, &str)] = &[
    (
        "transform",
        "CROSS JOIN UNNEST(array) AS t(x) and array_agg(...)",
    ),
    (
        "filter",
        "CROSS JOIN UNNEST(array) AS t(x) with WHERE, or array functions such as array_has",
    ),
    (
        "reduce",
        "CROSS JOIN UNNEST(array) AS t(x) with an aggregate",
    ),
    (
        "any_match",
        "array_has(array, value), or UNNEST with a WHERE",
    ),
    ("all_match", "UNNEST with bool_and(...)"),
    (
        "none_match",
        "NOT array_has(array, value), or UNNEST with a WHERE",
    ),
    ("zip_with", "UNNEST of both arrays"),
];

/// Trino aggregates that build a map, which the lake's SQL has no type
/// for, with what to write instead.
const AGGREGATES_TO_MAPS: &[(&str, &str)] = &[
    ("histogram", "SELECT x, count(*) ... GROUP BY x"),
    ("map_agg", "SELECT k, arbitrary(v) ... GROUP BY k"),
    ("multimap_agg", "SELECT k, array_agg(v) ... GROUP BY k"),
];

#[expect(
    clippy::too_many_lines,
    reason = "one table of Trino forms, read top to bottom"
)]
fn rewrite(expr: &Expr, unnested: &HashSet<String>) -> Result<Option<Expr>> {
    match expr {
        // sqlparser 0.62 reads `a IS DISTINCT FROM b AND c` as
        // `a IS DISTINCT FROM (b AND c)`; written parentheses would show as
        // Nested, so an unparenthesised AND/OR here is that misreading.
        Expr::IsDistinctFrom(_, right) | Expr::IsNotDistinctFrom(_, right)
            if matches!(
                right.as_ref(),
                Expr::BinaryOp {
                    op: BinaryOperator::And | BinaryOperator::Or,
                    ..
                }
            ) =>
        {
            Ok(Some(reassociate(expr.clone())))
        }
        // `t.x` of `CROSS JOIN UNNEST(...) AS t(x)`: `x` is a column now.
        Expr::CompoundIdentifier(parts)
            if parts.len() > 1 && unnested.contains(&parts[0].value.to_lowercase()) =>
        {
            Ok(Some(match &parts[1..] {
                [one] => Expr::Identifier(one.clone()),
                rest => Expr::CompoundIdentifier(rest.to_vec()),
            }))
        }
        // Trino folds quoted names too: "eventName" is eventname.
        Expr::Identifier(i)
            if i.quote_style == Some('"')
                && i.value != i.value.to_lowercase()
                && is_lake_column(&i.value.to_lowercase()) =>
        {
            Ok(Some(Expr::Identifier(Ident::new(i.value.to_lowercase()))))
        }
        Expr::Identifier(i) => match i.value.to_lowercase().as_str() {
            "useridentity" if i.quote_style.is_none() => identity_path(std::slice::from_ref(i)),
            "eventjsonchecksum" => parse_expr("encode(sha256(eventjson), 'hex')").map(Some),
            _ => Ok(None),
        },
        // requestParameters.bucketName: a map has members, not fields, in
        // Lake too; say what to write rather than fail on the text type.
        Expr::CompoundIdentifier(parts)
            if parts
                .iter()
                .rev()
                .skip(1)
                .any(|p| is_json_column(&p.value.to_lowercase())) =>
        {
            let at = parts
                .iter()
                .position(|p| is_json_column(&p.value.to_lowercase()))
                .expect("the guard found one");
            let (column, member) = (&parts[at].value, &parts[at + 1].value);
            Err(DataFusionError::Plan(format!(
                "{expr}: {column} is a map of JSON values, not a struct, in Lake as here; write element_at({column}, {}) or {column}[{}] (json_extract_scalar(eventjson, '$.{column}.{member}...') for a nested path)",
                quote(member),
                quote(member)
            )))
        }
        // Trino folds quoted names in paths too: t."eventName",
        // "tlsDetails".tlsVersion, tlsDetails."tlsVersion".
        Expr::CompoundIdentifier(parts) if parts.iter().any(|p| p.quote_style == Some('"')) => {
            // A lake name, or a field of a lake column's struct.
            let folds = |i: usize| {
                let part = &parts[i];
                part.quote_style == Some('"')
                    && part.value != part.value.to_lowercase()
                    && (is_lake_name(&part.value.to_lowercase())
                        || i > 0 && is_lake_column(&parts[i - 1].value.to_lowercase()))
            };
            if !(0..parts.len()).any(folds) {
                return identity_path(parts);
            }
            let folded: Vec<Ident> = (0..parts.len())
                .map(|i| {
                    if folds(i) {
                        Ident::new(parts[i].value.to_lowercase())
                    } else {
                        parts[i].clone()
                    }
                })
                .collect();
            Ok(Some(
                identity_path(&folded)?.unwrap_or(Expr::CompoundIdentifier(folded)),
            ))
        }
        Expr::CompoundIdentifier(parts) => identity_path(parts),
        Expr::CompoundFieldAccess { root, access_chain } => {
            // t.requestParameters['key'], t.resources[1].arn: the parser
            // leaves the alias alone in the root and the column in the chain.
            let leading = access_chain
                .iter()
                .take_while(|a| matches!(a, AccessExpr::Dot(Expr::Identifier(_))))
                .count();
            let mut parts = match root.as_ref() {
                Expr::Identifier(i) if leading > 0 => vec![i.clone()],
                Expr::CompoundIdentifier(p) if leading > 0 => p.clone(),
                _ => Vec::new(),
            };
            let (root, access_chain) = if parts.is_empty() {
                (root.as_ref().clone(), access_chain.as_slice())
            } else {
                parts.extend(access_chain[..leading].iter().filter_map(|a| match a {
                    AccessExpr::Dot(Expr::Identifier(i)) => Some(i.clone()),
                    _ => None,
                }));
                let root = Expr::CompoundIdentifier(parts);
                let root = rewrite(&root, unnested)?.unwrap_or(root);
                (root, &access_chain[leading..])
            };
            // requestParameters['key']: a member of a free-form field.
            if let [AccessExpr::Subscript(Subscript::Index { index })] = access_chain
                && column_name(&root).is_some_and(|c| is_json_column(&c))
            {
                return parse_expr(&format!("json_as_text({root}, {index})")).map(Some);
            }
            // element_at(resources, 1).arn: a field of a struct value.
            let mut sql = root.to_string();
            for access in access_chain {
                match access {
                    AccessExpr::Dot(Expr::Identifier(field)) => {
                        sql = format!("get_field({sql}, {})", quote(&field.value.to_lowercase()));
                    }
                    AccessExpr::Subscript(Subscript::Index { index }) => {
                        refuse_index_zero(index)?;
                        sql = format!("{sql}[{index}]");
                    }
                    _ => return Ok(None),
                }
            }
            parse_expr(&sql).map(Some)
        }
        // `mfaAuthenticated = 'false'`: Lake keeps such flags as text. The
        // literal is read as the boolean it spells where it meets a boolean
        // column, so the comparison types wherever it stands: a projection or
        // a GROUP BY key is typed while planning, before any analyzer rule.
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::Eq | BinaryOperator::NotEq),
            right,
        } => {
            // A flag column, or one given to Lake's text form (mfaAuthenticated).
            let flag = |e: &Expr| match e {
                Expr::Cast { expr: inner, .. }
                    if column_name(inner).is_some_and(|c| is_boolean_column(&c)) =>
                {
                    Some(inner.to_string())
                }
                _ if column_name(e).is_some_and(|c| is_boolean_column(&c)) => Some(e.to_string()),
                _ => None,
            };
            let spelled = |e: &Expr| match e {
                Expr::Value(v) if matches!(v.value, Value::Boolean(_)) => Some(v.to_string()),
                _ => text_literal(e)
                    .filter(|t| matches!(*t, "true" | "false"))
                    .map(str::to_owned),
            };
            let sql = match (spelled(left), spelled(right), flag(left), flag(right)) {
                (None, Some(value), Some(column), _) => format!("{column} {op} {value}"),
                (Some(value), None, _, Some(column)) => format!("{value} {op} {column}"),
                _ => return Ok(None),
            };
            parse_expr(&sql).map(Some)
        }
        // Trino writes a timestamp as text as `2024-03-10 23:58:30.000`, which
        // Lake queries match with LIKE '2024-03-10 %'; DataFusion writes
        // RFC 3339 with a T.
        Expr::Cast {
            expr: time,
            data_type:
                SqlType::Varchar(_) | SqlType::CharacterVarying(_) | SqlType::String(_) | SqlType::Text,
            format: None,
            ..
        } if column_name(time).is_some_and(|c| is_time_column(&c)) => {
            parse_expr(&format!("to_char({time}, '%Y-%m-%d %H:%M:%S%.3f')")).map(Some)
        }
        // A JSON value cast to text is its string's text, not its JSON
        // (`"abc"` gives abc, as in Trino), and JSON null is NULL.
        Expr::Cast {
            expr: value,
            data_type:
                SqlType::Varchar(_) | SqlType::CharacterVarying(_) | SqlType::String(_) | SqlType::Text,
            format: None,
            ..
        } if matches!(value.as_ref(), Expr::Function(f)
                if matches!(f.name.to_string().as_str(), "json_get_json" | "json_parse")) =>
        {
            parse_expr(&format!("json_as_text({value})")).map(Some)
        }
        // Trino's IP address type, which the lake holds as canonical text.
        Expr::Cast {
            kind,
            expr: value,
            data_type: SqlType::Custom(name, _),
            ..
        } if name.to_string().eq_ignore_ascii_case("ipaddress") => {
            let function = match kind {
                CastKind::TryCast | CastKind::SafeCast => ip::TRY_CAST,
                CastKind::Cast | CastKind::DoubleColon => ip::CAST,
            };
            parse_expr(&format!("{function}({value})")).map(Some)
        }
        // The free-form fields are JSON text already; JSON of other values
        // would need a JSON type, which the lake's SQL does not have.
        Expr::Cast {
            expr: value,
            data_type: SqlType::JSON,
            ..
        } => {
            if column_name(value).is_some_and(|c| is_json_column(&c)) {
                Ok(Some(value.as_ref().clone()))
            } else {
                Err(DataFusionError::Plan(format!(
                    "{expr}: ctlake has no JSON type; the free-form columns \
                     (requestParameters, responseElements, additionalEventData, ...) and \
                     eventjson hold JSON text, which the JSON functions read as it is"
                )))
            }
        }
        // Trino's LIKE has no escape character unless ESCAPE names one;
        // DataFusion's takes a backslash, which `eventjson` is full of.
        Expr::Like {
            negated,
            any: false,
            expr: text,
            pattern,
            escape_char,
        }
        | Expr::ILike {
            negated,
            any: false,
            expr: text,
            pattern,
            escape_char,
        } => {
            let escape = match escape_char.as_ref().map(|v| &v.value) {
                None => None,
                Some(Value::SingleQuotedString(e)) if e.chars().count() == 1 => e.chars().next(),
                Some(other) => {
                    return Err(DataFusionError::Plan(format!(
                        "{expr}: ESCAPE takes one character, not {other}"
                    )));
                }
            };
            // The result names its escape, so translating it again changes nothing.
            let pattern = match (text_literal(pattern), escape) {
                (Some(literal), None) if !literal.contains('\\') => return Ok(None),
                (Some(literal), _) => quote(&backslash_escapes(literal, escape)?),
                (None, None) => format!("replace({pattern}, '\\', '\\\\')"),
                (None, Some('\\')) => return Ok(None),
                (None, Some(_)) => {
                    return Err(DataFusionError::Plan(format!(
                        "{expr}: ESCAPE is supported by ctlake with a literal pattern only"
                    )));
                }
            };
            let like = if matches!(expr, Expr::ILike { .. }) {
                "ILIKE"
            } else {
                "LIKE"
            };
            let not = if *negated { "NOT " } else { "" };
            parse_expr(&format!("{text} {not}{like} {pattern} ESCAPE '\\'")).map(Some)
        }
        // Trino's DOW is ISO, Monday 1 to Sunday 7; DataFusion's starts at
        // Sunday 0, and it knows no DAY_OF_WEEK or DAY_OF_YEAR.
        Expr::Extract { field, expr, .. } => {
            let custom = match field {
                DateTimeField::Custom(name) => name.value.to_lowercase(),
                _ => String::new(),
            };
            let part = match (field, custom.as_str()) {
                (DateTimeField::Dow | DateTimeField::DayOfWeek, _) | (_, "day_of_week") => "isodow",
                (DateTimeField::Doy | DateTimeField::DayOfYear, _) | (_, "day_of_year") => "doy",
                _ => return Ok(None),
            };
            parse_expr(&format!("CAST(date_part('{part}', {expr}) AS BIGINT)")).map(Some)
        }
        // Trino counts a negative start from the end of the string, and a
        // start of 0 gives ''; DataFusion counts both from before the first.
        Expr::Substring {
            expr: text,
            substring_from: Some(from),
            substring_for,
            ..
        } => {
            let Ok(start) = from.to_string().replace(' ', "").parse::<i64>() else {
                return Ok(None);
            };
            let take = substring_for
                .as_ref()
                .map(|n| format!(", {n}"))
                .unwrap_or_default();
            let sql = match start {
                1.. => return Ok(None),
                0 => format!("CASE WHEN {text} IS NULL THEN NULL ELSE '' END"),
                _ => format!(
                    "CASE WHEN char_length({text}) < {back} THEN '' ELSE substr({text}, char_length({text}) - {skip}{take}) END",
                    back = -start,
                    skip = -start - 1,
                ),
            };
            parse_expr(&sql).map(Some)
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_lowercase();
            let args = arguments(&f.args);
            let arg = |i: usize| args.get(i).map(ToString::to_string).unwrap_or_default();
            let json_arg = args
                .first()
                .and_then(|a| column_name(a))
                .is_some_and(|c| is_json_column(&c));
            if let Some((_, instead)) = LAMBDA_FUNCTIONS.iter().find(|(n, _)| *n == name)
                && args.len() > 1
            {
                return Err(DataFusionError::Plan(format!(
                    "{name}() with a lambda is not supported by ctlake; use {instead}"
                )));
            }
            if let Some((_, instead)) = AGGREGATES_TO_MAPS.iter().find(|(n, _)| *n == name) {
                return Err(DataFusionError::Plan(format!(
                    "{name}() is not supported by ctlake; use {instead}"
                )));
            }
            let part = |field: &str| format!("CAST(date_part('{field}', {}) AS BIGINT)", arg(0));
            // An aggregate's own FILTER and OVER go on what it becomes.
            let filter = f.filter.as_ref().map(ToString::to_string);
            let filtered = filter
                .as_ref()
                .map(|w| format!(" FILTER (WHERE {w})"))
                .unwrap_or_default();
            let over = f
                .over
                .as_ref()
                .map(|o| format!(" OVER {o}"))
                .unwrap_or_default();
            // Trino skips rows whose ordering value is NULL.
            let by = |direction: &str| {
                if f.over.is_some() {
                    return Err(DataFusionError::Plan(format!(
                        "{name}() OVER (...) is not supported by ctlake; use first_value(x) OVER (... ORDER BY y {direction})"
                    )));
                }
                let only = filter
                    .as_ref()
                    .map(|w| format!(" AND ({w})"))
                    .unwrap_or_default();
                Ok(format!(
                    "first_value({0} ORDER BY {1} {direction}) FILTER (WHERE {1} IS NOT NULL{only})",
                    arg(0),
                    arg(1)
                ))
            };
            let sql = match (name.as_str(), args.len()) {
                ("count_if", 1) => {
                    format!("count(CASE WHEN {} THEN 1 END){filtered}{over}", arg(0))
                }
                ("arbitrary", 1) => format!("max({}){filtered}{over}", arg(0)),
                ("max_by", 2) => by("DESC")?,
                ("min_by", 2) => by("ASC")?,
                ("if", 2) => format!("CASE WHEN {} THEN {} END", arg(0), arg(1)),
                ("if", 3) => format!("CASE WHEN {} THEN {} ELSE {} END", arg(0), arg(1), arg(2)),
                ("split", 2) => format!("string_to_array({}, {})", arg(0), arg(1)),
                // Trino's contains(array, element), where the argument is
                // written as an array (of addresses too).
                ("contains", 2) if is_array(args[0]) => {
                    format!("array_has({}, {})", arg(0), arg(1))
                }
                // Trino's contains(network, address); DataFusion's contains
                // of two strings is a substring test, which no address
                // passes for a network.
                ("contains", 2)
                    if is_ip_address(args[1])
                        || text_literal(args[0]).is_some_and(ip::is_network) =>
                {
                    format!("{}({}, {})", ip::CONTAINS, arg(0), arg(1))
                }
                ("from_base64", 1) => format!("decode({}, 'base64')", arg(0)),
                ("from_hex", 1) => format!("decode({}, 'hex')", arg(0)),
                // DataFusion's base64 leaves out the padding Trino writes.
                ("to_base64", 1) => format!(
                    "encode({0}, 'base64') || repeat('=', CAST((4 - length(encode({0}, 'base64')) % 4) % 4 AS INT))",
                    arg(0)
                ),
                ("to_utf8", 1) => format!("CAST({} AS BYTEA)", arg(0)),
                ("typeof", 1) => format!("arrow_typeof({})", arg(0)),
                ("every", 1) => format!("bool_and({}){filtered}{over}", arg(0)),
                ("approx_percentile", 2) => {
                    format!("approx_percentile_cont({}, {}){filtered}", arg(0), arg(1))
                }
                // Trino's slice takes a length, DataFusion's array_slice an end.
                ("slice", 3) => format!(
                    "array_slice({0}, {1}, ({1}) + ({2}) - 1)",
                    arg(0),
                    arg(1),
                    arg(2)
                ),
                // Trino replaces every match, DataFusion only the first unless told.
                ("regexp_replace", 2) => format!("regexp_replace({}, {}, '', 'g')", arg(0), arg(1)),
                ("regexp_replace", 3) => {
                    let replacement = text_literal(args[2])
                        .map_or_else(|| arg(2), |r| quote(&rust_replacement(r)));
                    format!("regexp_replace({}, {}, {replacement}, 'g')", arg(0), arg(1))
                }
                // Trino's concat is NULL when any part is, as || is;
                // DataFusion's passes over NULL parts.
                ("concat", 2..) => args
                    .iter()
                    .map(|a| format!("({a})"))
                    .collect::<Vec<_>>()
                    .join(" || "),
                ("date" | "from_iso8601_date", 1) => format!("CAST({} AS DATE)", arg(0)),
                ("year", 1) => part("year"),
                ("quarter", 1) => part("quarter"),
                ("month", 1) => part("month"),
                ("week" | "week_of_year", 1) => part("week"),
                ("day" | "day_of_month", 1) => part("day"),
                ("day_of_week" | "dow", 1) => part("isodow"),
                ("day_of_year" | "doy", 1) => part("doy"),
                ("hour", 1) => part("hour"),
                ("minute", 1) => part("minute"),
                ("second", 1) => part("second"),
                ("date_format", 2) => match text_literal(args[1]) {
                    Some(format) => {
                        format!(
                            "to_char({}, {})",
                            arg(0),
                            quote(&chrono_format(&name, format)?)
                        )
                    }
                    None => return Ok(None),
                },
                ("date_parse", 2) => match text_literal(args[1]) {
                    Some(format) => format!(
                        "{}({}, {})",
                        crate::functions::DATE_PARSE,
                        arg(0),
                        quote(&chrono_format(&name, format)?)
                    ),
                    None => return Ok(None),
                },
                ("format_datetime", 2) => match text_literal(args[1]) {
                    Some(format) => {
                        format!(
                            "to_char(zoned_timestamp({}), {})",
                            arg(0),
                            quote(&joda_format(format)?)
                        )
                    }
                    None => return Ok(None),
                },
                // Trino's try gives NULL where its argument fails; a failed
                // cast is what Lake queries guard with it.
                ("try", 1) => {
                    let mut guarded = args[0].clone();
                    let _ = visit_expressions_mut(&mut guarded, |e: &mut Expr| {
                        match e {
                            Expr::Cast { kind, .. } => *kind = CastKind::TryCast,
                            // A cast to IPADDRESS, translated already.
                            Expr::Function(f) if f.name.to_string() == ip::CAST => {
                                f.name = ObjectName::from(vec![Ident::new(ip::TRY_CAST)]);
                            }
                            _ => {}
                        }
                        ControlFlow::<()>::Continue(())
                    });
                    return Ok(Some(Expr::Nested(Box::new(guarded))));
                }
                ("to_iso8601", 1) => format!("to_char({}, '%Y-%m-%dT%H:%M:%S%.3fZ')", arg(0)),
                ("from_iso8601_timestamp", 1) => format!("to_timestamp_nanos({})", arg(0)),
                ("regexp_extract", 2) => {
                    format!("regexp_match({}, concat('(', {}, ')'))[1]", arg(0), arg(1))
                }
                ("regexp_extract", 3) => format!(
                    "regexp_match({}, concat('(', {}, ')'))[{} + 1]",
                    arg(0),
                    arg(1),
                    arg(2)
                ),
                ("json_extract", 2) => {
                    format!("json_get_json({}{})", arg(0), json_path(&name, args[1])?)
                }
                ("json_extract_scalar", 2) => {
                    let keys = json_path(&name, args[1])?;
                    format!(
                        "CASE WHEN substr(ltrim(json_get_json({0}{keys})), 1, 1) IN ('{{', '[') THEN NULL ELSE json_as_text({0}{keys}) END",
                        arg(0)
                    )
                }
                ("json_size", 2) => {
                    let keys = json_path(&name, args[1])?;
                    format!(
                        "CASE WHEN substr(ltrim(json_get_json({0}{keys})), 1, 1) IN ('{{', '[') THEN CAST(json_length({0}{keys}) AS BIGINT) WHEN json_get_json({0}{keys}) IS NOT NULL THEN 0 END",
                        arg(0)
                    )
                }
                ("json_array_get", 2) => format!("json_get_json({}, {})", arg(0), arg(1)),
                ("json_array_length", 1) => format!(
                    "CASE WHEN substr(ltrim({0}), 1, 1) = '[' THEN CAST(json_length({0}) AS BIGINT) END",
                    arg(0)
                ),
                ("json_format", 1) => arg(0),
                ("element_at", 2) if json_arg => format!("json_as_text({}, {})", arg(0), arg(1)),
                ("element_at", 2) => {
                    refuse_index_zero(args[1])?;
                    format!("array_element({}, {})", arg(0), arg(1))
                }
                ("map_keys", 1) if json_arg => format!("json_object_keys({})", arg(0)),
                ("map_values", 1) if json_arg => format!("json_map_values({})", arg(0)),
                ("cardinality", 1) if json_arg => {
                    format!("CAST(json_length({}) AS BIGINT)", arg(0))
                }
                _ => return Ok(None),
            };
            parse_expr(&sql).map(Some)
        }
        _ => Ok(None),
    }
}

/// Trino's `date_format` codes (MySQL's) as chrono's, which `to_char`
/// reads: `%i` is minutes and `%M` the month's name in Trino, where chrono
/// has `%M` for minutes.
fn chrono_format(function: &str, trino: &str) -> Result<String> {
    let mut out = String::new();
    let mut chars = trino.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let code = chars.next().unwrap_or('%');
        out.push_str(match code {
            'a' => "%a",
            'b' => "%b",
            'c' => "%-m",
            'd' => "%d",
            'e' => "%-d",
            'f' => "%6f",
            'H' => "%H",
            'h' | 'I' => "%I",
            'i' => "%M",
            'j' => "%j",
            'k' => "%-H",
            'l' => "%-I",
            'M' => "%B",
            'm' => "%m",
            'p' => "%p",
            'r' => "%r",
            'S' | 's' => "%S",
            'T' => "%T",
            'v' => "%V",
            'W' => "%A",
            'Y' => "%Y",
            'y' => "%y",
            '%' => "%%",
            other => {
                return Err(DataFusionError::Plan(format!(
                    "{function} code %{other} is not supported by ctlake"
                )));
            }
        });
    }
    Ok(out)
}

/// Trino's `format_datetime` pattern (Joda's: `yyyy-MM-dd HH:mm:ss`) as
/// chrono's, which `to_char` reads: a letter's count says the width, and
/// text in `'...'` is literal.
fn joda_format(joda: &str) -> Result<String> {
    let chars: Vec<char> = joda.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&d| d == c).count();
        i += run;
        if c == '\'' {
            // '' is a quote; 'text' is text, with '' inside for a quote.
            if run % 2 == 0 {
                out.push_str(&"'".repeat(run / 2));
                continue;
            }
            out.push_str(&"'".repeat(run / 2));
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some('\''), Some('\'')) => {
                        out.push('\'');
                        i += 2;
                    }
                    (Some('\''), _) => {
                        i += 1;
                        break;
                    }
                    (Some('%'), _) => {
                        out.push_str("%%");
                        i += 1;
                    }
                    (Some(&d), _) => {
                        out.push(d);
                        i += 1;
                    }
                    (None, _) => {
                        return Err(DataFusionError::Plan(format!(
                            "format_datetime pattern {joda}: a quote is not closed"
                        )));
                    }
                }
            }
            continue;
        }
        let code = match (c, run) {
            ('y' | 'Y', 2) => "%y",
            ('y' | 'Y', _) => "%Y",
            ('x', 2) => "%g",
            ('x', _) => "%G",
            ('w', 1) => "%-V",
            ('w', _) => "%V",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', 1) => "%-j",
            ('D', 3..) => "%j",
            ('e', _) => "%u",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('a', _) => "%p",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', 1) => "%-I",
            ('h', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', 9) => "%9f",
            ('Z', 1) => "%z",
            ('Z', _) => "%:z",
            ('z', _) => "%Z",
            ('%', _) => {
                out.push_str(&"%%".repeat(run));
                continue;
            }
            (c, _) if c.is_ascii_alphabetic() => {
                return Err(DataFusionError::Plan(format!(
                    "format_datetime pattern {joda}: {} is not supported by ctlake",
                    c.to_string().repeat(run)
                )));
            }
            (c, _) => {
                out.extend(std::iter::repeat_n(c, run));
                continue;
            }
        };
        out.push_str(code);
    }
    Ok(out)
}

/// What kind of change `statement` makes to a table, if it makes one.
pub(crate) fn writes(statement: &Statement) -> Option<&'static str> {
    match statement {
        Statement::Insert(_) => Some("INSERT"),
        Statement::Update(_) => Some("UPDATE"),
        Statement::Delete(_) => Some("DELETE"),
        Statement::Merge(_) => Some("MERGE"),
        Statement::Truncate(_) => Some("TRUNCATE"),
        Statement::Drop { .. } => Some("DROP"),
        Statement::AlterTable(_) => Some("ALTER TABLE"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_a_semicolon_outside_strings_and_comments() {
        assert_eq!(typed("SELECT *\nFROM cloudtrail"), Typed::Open);
        assert_eq!(typed("SELECT *\nFROM cloudtrail;  "), Typed::Complete);
        assert_eq!(typed("SELECT 1; -- note"), Typed::Complete);
        assert_eq!(typed("SELECT 1; /* note */"), Typed::Complete);
        assert_eq!(typed("SELECT '; -- not a comment"), Typed::Open);
        assert_eq!(typed("SELECT 'a;\n"), Typed::Open);
        assert_eq!(typed("SELECT 'a;\nb' AS a;"), Typed::Complete);
        assert_eq!(typed("SELECT 1 -- a; comment"), Typed::Open);
        assert_eq!(typed("/* exported;\n"), Typed::Open);
        assert_eq!(typed("/* exported;\n v2 */\n"), Typed::Blank);
        assert_eq!(typed("-- a note;\n"), Typed::Blank);
        assert_eq!(typed(""), Typed::Blank);
    }

    fn sql(text: &str) -> String {
        parse(text).unwrap()[0].to_string()
    }

    #[test]
    fn event_data_stores_name_the_lake() {
        for from in [
            "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
            "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE",
            "$EDS_ID",
            "<EDS ID>",
            "<event_data_store_id>",
            "event_data_store_ID",
        ] {
            assert_eq!(
                sql(&format!("SELECT eventName FROM {from} WHERE x = 1")),
                "SELECT eventName FROM cloudtrail WHERE x = 1",
                "{from}"
            );
        }
    }

    #[test]
    fn event_data_stores_in_literals_and_comments_stay_as_written() {
        assert_eq!(
            sql("SELECT 'FROM $EDS_ID' AS s, 'it''s JOIN <x>' AS t -- FROM $EDS_ID\nFROM $EDS_ID"),
            "SELECT 'FROM $EDS_ID' AS s, 'it''s JOIN <x>' AS t FROM cloudtrail"
        );
        assert_eq!(
            sql(
                "SELECT 1 FROM /* FROM a1b2c3d4-5678-90ab-cdef-EXAMPLE11111 */ t WHERE q LIKE '%FROM a1b2c3d4-5678-90ab-cdef-EXAMPLE11111%'"
            ),
            "SELECT 1 FROM t WHERE q LIKE '%FROM a1b2c3d4-5678-90ab-cdef-EXAMPLE11111%'"
        );
    }

    #[test]
    fn identity_paths_name_flattened_columns() {
        assert_eq!(
            sql(
                "SELECT userIdentity.arn FROM t WHERE USERIDENTITY.SessionContext.SessionIssuer.UserName = 'x'"
            ),
            "SELECT useridentity_arn AS \"arn\" FROM t WHERE useridentity_sessioncontext_sessionissuer_username = 'x'"
        );
        assert_eq!(
            sql("SELECT e.userIdentity.type FROM t AS e"),
            "SELECT e.useridentity_type AS \"type\" FROM t AS e"
        );
        let whole = sql("SELECT userIdentity.sessionContext.attributes FROM t");
        assert!(
            whole.contains("named_struct('mfaauthenticated', useridentity_sessioncontext_attributes_mfaauthenticated"),
            "{whole}"
        );
    }

    #[test]
    fn columns_are_named_as_trino_names_them_and_never_twice() {
        assert_eq!(
            sql(
                "SELECT tlsDetails.tlsVersion, e.eventName, eventTime, CAST(eventTime AS date), \
                 userIdentity.arn, userIdentity.sessionContext.sessionIssuer.arn FROM t AS e"
            ),
            "SELECT tlsDetails.tlsVersion AS \"tlsversion\", e.eventName AS \"eventname\", eventTime, \
             CAST(eventTime AS DATE) AS \"CAST(eventTime AS DATE)\", useridentity_arn AS \"arn\", \
             useridentity_sessioncontext_sessionissuer_arn AS \"userIdentity.sessionContext.sessionIssuer.arn\" \
             FROM t AS e"
        );
        // Names given with AS, and bare columns, are kept wherever they stand.
        assert_eq!(
            sql("SELECT eventName AS arn, userIdentity.arn, count(*) AS n FROM t"),
            "SELECT eventName AS arn, useridentity_arn AS \"userIdentity.arn\", count(*) AS n FROM t"
        );
        assert_eq!(
            sql("SELECT userIdentity.arn, t.eventTime, eventName AS arn, eventtime FROM t"),
            "SELECT useridentity_arn AS \"userIdentity.arn\", t.eventTime AS \"t.eventTime\", \
             eventName AS arn, eventtime FROM t"
        );
    }

    #[test]
    fn is_distinct_from_binds_tighter_than_and() {
        assert_eq!(
            sql("SELECT 1 WHERE a IS DISTINCT FROM 'x' AND b AND c IS NOT DISTINCT FROM d OR e"),
            "SELECT 1 WHERE a IS DISTINCT FROM 'x' AND b AND c IS NOT DISTINCT FROM d OR e"
        );
        let parsed = parse("SELECT 1 WHERE a IS DISTINCT FROM 'x' AND b").unwrap();
        let DFStatement::Statement(statement) = &parsed[0] else {
            panic!("a query")
        };
        let Statement::Query(query) = statement.as_ref() else {
            panic!("a query")
        };
        let datafusion::sql::sqlparser::ast::SetExpr::Select(select) = query.body.as_ref() else {
            panic!("a select")
        };
        assert!(matches!(
            select.selection,
            Some(Expr::BinaryOp {
                op: BinaryOperator::And,
                ..
            })
        ));
    }

    #[test]
    fn json_paths_become_keys() {
        assert_eq!(
            sql(r#"SELECT 1 WHERE json_extract(eventjson, '$.a[0]["b c"]') = 'x'"#),
            "SELECT 1 WHERE json_get_json(eventjson, 'a', 0, 'b c') = 'x'"
        );
        assert!(parse("SELECT json_extract(x, 'a.b')").is_err());
        assert!(parse("SELECT transform(a, x -> x + 1)").is_err());
    }
}
