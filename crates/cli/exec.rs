//! One path from SQL text to printed results, shared by the REPL, `-e` and `-f`.

use std::io::Write;
use std::time::{Duration, Instant};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;

use crate::print_format::{Format, print_batches};

/// `text` without the byte-order mark editors on Windows save UTF-8 with.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

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

/// Runs every statement in `sql` (Lake or DataFusion SQL) in order and
/// prints each result that has columns to `out`. Stops at the first error.
/// Statements that would change the lake are refused unless `allow_write`.
pub async fn exec_and_print<W: Write>(
    ctx: &SessionContext,
    sql: &str,
    format: Format,
    allow_write: bool,
    out: &mut W,
) -> Result<Executed> {
    let started = Instant::now();
    let statements = ctlake_query::parse(sql)?;
    if statements.is_empty() {
        return Err(DataFusionError::Plan("no SQL statement to run".to_owned()));
    }
    let mut done = Executed::default();
    for statement in statements {
        let plan = ctlake_query::plan(ctx, statement, allow_write).await?;
        let df = ctx.execute_logical_plan(plan).await?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await?;
        done.rows += batches
            .iter()
            .map(arrow::array::RecordBatch::num_rows)
            .sum::<usize>();
        done.statements += 1;
        // Statements that answer with no columns (CREATE VIEW, SET) print
        // nothing: a script's json output is then one array per query.
        if !schema.fields().is_empty() {
            print_batches(out, &schema, &batches, format)?;
            out.flush()?;
        }
    }
    done.elapsed = started.elapsed();
    Ok(done)
}
