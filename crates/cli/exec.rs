//! One path from SQL text to printed results, shared by the REPL, `-e` and `-f`.

use std::io::Write;
use std::time::{Duration, Instant};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;

use futures::StreamExt;

use crate::print_format::{Format, Printer};

/// `text` without the byte-order mark editors on Windows save UTF-8 with.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// What to do when the memory limit stopped a query; DataFusion's own advice
/// names settings that ctlake sets from `--memory-limit`.
pub const MEMORY_HINT: &str = "the query needs more memory than its limit allows (raise --memory-limit or CTLAKE_MEMORY_LIMIT, or narrow the query)";

/// Whether `e`, or what caused it, is DataFusion's memory pool refusing memory.
pub fn over_memory_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(e), |e| e.source()).any(|e| {
        e.downcast_ref::<DataFusionError>()
            .is_some_and(|e| matches!(e.find_root(), DataFusionError::ResourcesExhausted(_)))
    })
}

/// `e` as shown to the user, led by [`MEMORY_HINT`] when it applies.
pub fn error_message(e: &(dyn std::error::Error + 'static)) -> String {
    if over_memory_limit(e) {
        format!("{MEMORY_HINT}: {e}")
    } else {
        e.to_string()
    }
}

/// Whether `e`, or what caused it, is the reader of our output going away
/// (`| head`): the end of what they wanted, not a failure. Arrow's CSV
/// writer keeps only the text of its I/O error, so stdout's own record of
/// a broken pipe is asked too; an error's text is not, as a value quoted
/// in a cast error could say "Broken pipe".
pub fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    crate::print_format::stdout_closed()
        || std::iter::successors(Some(e), |e| e.source()).any(|e| {
            e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        })
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
/// prints each result that has columns to `out` as its rows come. Stops at
/// the first error, which may come after some rows were printed.
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
        let mut stream = df.execute_stream().await?;
        // Statements that answer with no columns (CREATE VIEW, SET) print
        // nothing: a script's json output is then one array per query.
        if schema.fields().is_empty() {
            while let Some(batch) = stream.next().await {
                done.rows += batch?.num_rows();
            }
        } else {
            let mut printer = Printer::new(&mut *out, &schema, format);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                done.rows += batch.num_rows();
                printer.write(&batch)?;
            }
            printer.finish()?;
        }
        out.flush()?;
        done.statements += 1;
    }
    done.elapsed = started.elapsed();
    Ok(done)
}
