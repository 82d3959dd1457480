//! One path from SQL text to printed results, shared by the REPL, `-e` and `-f`.

use std::io::Write;
use std::time::{Duration, Instant};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::print_format::{Format, print_batches};

/// What running some SQL produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct Executed {
    /// Rows printed over all statements.
    pub rows: usize,
    /// Statements run.
    pub statements: usize,
    /// Wall time from parsing to the last row printed.
    pub elapsed: Duration,
}

/// Runs every statement in `sql` in order and prints each result to `out`.
/// Stops at the first error.
pub async fn exec_and_print<W: Write>(
    ctx: &SessionContext,
    sql: &str,
    format: Format,
    out: &mut W,
) -> Result<Executed> {
    let started = Instant::now();
    let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})?;
    if statements.is_empty() {
        return Err(DataFusionError::Plan("no SQL statement to run".to_owned()));
    }
    let mut done = Executed::default();
    for statement in statements {
        let plan = ctx.state().statement_to_plan(statement).await?;
        let df = ctx.execute_logical_plan(plan).await?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await?;
        done.rows += batches
            .iter()
            .map(arrow::array::RecordBatch::num_rows)
            .sum::<usize>();
        done.statements += 1;
        print_batches(out, &schema, &batches, format)?;
        out.flush()?;
    }
    done.elapsed = started.elapsed();
    Ok(done)
}
