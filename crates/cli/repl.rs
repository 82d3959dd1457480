//! The interactive SQL shell.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use datafusion::execution::context::SessionContext;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};

use crate::command::{self, Command};
use crate::exec::{exec_and_print, without_bom};
use crate::helper::{ReplHelper, is_complete, is_exit_word};
use crate::print_format::{Format, print_batches};

const PROMPT: &str = "ctlake> ";

/// Session settings changed by backslash commands.
struct Settings {
    format: Format,
    timing: bool,
    allow_write: bool,
    /// Text to put in the next input line (a hunt's SQL to edit).
    draft: Option<String>,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `\q` or the end of input, with every piped statement run.
    Finished,
    /// A piped statement or command failed, and the session stopped there
    /// as `query -f` does: a script's later statements may depend on the
    /// one that failed.
    Failed,
}

/// What one input did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Done,
    /// It failed or was cancelled; the error is shown.
    Failed,
    /// Standard output was closed (`| head`): nothing more can be shown.
    Closed,
}

/// Runs the REPL until `\q` or end of input. On a terminal an error is shown
/// and the session goes on; from a pipe the first one, named by its line,
/// ends the session.
pub async fn run(ctx: &SessionContext, format: Format, allow_write: bool) -> anyhow::Result<Ended> {
    let mut input = if std::io::stdin().is_terminal() {
        Input::editor(completion_names(ctx).await)?
    } else {
        Input::Piped {
            lines: std::io::stdin().lines(),
            read: 0,
            first: 0,
        }
    };
    eprintln!(
        "ctlake {}: SQL over table cloudtrail. \\? for help, \\q to quit.",
        env!("CARGO_PKG_VERSION")
    );
    let mut settings = Settings {
        format,
        timing: false,
        allow_write,
        draft: None,
    };
    while let Some(text) = input.next(settings.draft.take().as_deref())? {
        let typed = text.trim();
        if is_exit_word(typed) {
            break;
        }
        let step = if typed.starts_with('\\') {
            match typed.parse::<Command>() {
                Ok(Command::Quit) => break,
                Ok(Command::HuntSql(id, params)) => draft_hunt(&id, &params, &input, &mut settings),
                Ok(cmd) => input.run(run_command(ctx, cmd, &mut settings)).await,
                Err(e) => {
                    diag!("{e}");
                    Step::Failed
                }
            }
        } else if ctlake_query::typed(typed) == ctlake_query::Typed::Blank {
            continue;
        } else {
            input
                .run(run_sql(ctx, &input.placed(&text), &settings))
                .await
        };
        match (step, &input) {
            (Step::Closed, _) => break,
            (Step::Failed, Input::Piped { first, .. }) => {
                diag!("stopped at the input on line {first}: the rest was not run");
                return Ok(Ended::Failed);
            }
            _ => {}
        }
    }
    Ok(Ended::Finished)
}

/// `\hunt-sql`: the hunt's SQL goes in the editor's next line; a pipe has no
/// line to edit, so it is printed instead.
fn draft_hunt(id: &str, params: &[String], input: &Input, settings: &mut Settings) -> Step {
    shown(hunt_sql(id, params).and_then(|sql| {
        if matches!(input, Input::Editor { .. }) {
            settings.draft = Some(format!("{sql};"));
        } else {
            writeln!(crate::print_format::stdout(), "{sql};")?;
        }
        Ok(())
    }))
}

/// Tables and their columns, for tab completion.
async fn completion_names(ctx: &SessionContext) -> Vec<String> {
    let mut names = command::table_names(ctx);
    for table in names.clone() {
        if let Ok(provider) = ctx.table_provider(table.as_str()).await {
            names.extend(provider.schema().fields().iter().map(|f| f.name().clone()));
        }
    }
    names
}

/// Where the session's input comes from: a line editor on a terminal, or
/// the lines of a pipe or file.
enum Input {
    Editor {
        editor: Box<Editor<ReplHelper, FileHistory>>,
        history: Option<PathBuf>,
    },
    Piped {
        lines: std::io::Lines<std::io::StdinLock<'static>>,
        /// Lines read so far.
        read: usize,
        /// The line the input last returned began on, counted from 1.
        first: usize,
    },
}

impl Input {
    fn editor(names: Vec<String>) -> anyhow::Result<Self> {
        let config = Config::builder()
            .auto_add_history(true)
            .max_history_size(10_000)?
            .build();
        let mut editor: Editor<ReplHelper, FileHistory> = Editor::with_config(config)?;
        editor.set_helper(Some(ReplHelper::new(names)));
        let history = history_path();
        if let Some(path) = &history {
            // A missing history file is the normal first run.
            let _ = editor.load_history(path);
        }
        Ok(Self::Editor {
            editor: Box::new(editor),
            history,
        })
    }

    /// The next complete input (a statement ending in `;`, a command), or
    /// `None` at the end. From a pipe, SQL left without its `;` at the end
    /// still runs rather than being dropped unseen. `draft` is put in the
    /// editor's line to edit; a pipe has no line to put it in.
    fn next(&mut self, draft: Option<&str>) -> anyhow::Result<Option<String>> {
        match self {
            Self::Editor { editor, history } => loop {
                let line = match draft {
                    Some(draft) => editor.readline_with_initial(PROMPT, (draft, "")),
                    None => editor.readline(PROMPT),
                };
                match line {
                    Ok(line) => {
                        save_history(editor, history.as_deref(), line.trim());
                        return Ok(Some(line));
                    }
                    Err(ReadlineError::Interrupted) => {}
                    Err(ReadlineError::Eof) => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
            },
            Self::Piped { lines, read, first } => {
                let mut text = String::new();
                for line in lines.by_ref() {
                    *read += 1;
                    let line = line.with_context(|| format!("reading line {read} of the input"))?;
                    // The text starts at its first line that is not blank,
                    // so that line's number places it in the script.
                    if text.trim().is_empty() {
                        text.clear();
                        *first = *read;
                    }
                    text.push_str(without_bom(&line));
                    text.push('\n');
                    if is_complete(&text) {
                        return Ok(Some(text));
                    }
                }
                Ok((!text.trim().is_empty()).then_some(text))
            }
        }
    }

    /// `text` as the parser should see it: from a pipe, after the lines
    /// before it, so a syntax error names its line in the script.
    fn placed(&self, text: &str) -> String {
        match self {
            Self::Piped { first, .. } => "\n".repeat(first.saturating_sub(1)) + text,
            Self::Editor { .. } => text.to_owned(),
        }
    }

    /// Runs `work`. On a terminal, Ctrl-C cancels it and the session goes
    /// on; from a pipe no handler is set, so Ctrl-C ends ctlake as it ends
    /// the rest of the pipeline, before a half-read statement could run.
    async fn run(&self, work: impl Future<Output = Step>) -> Step {
        match self {
            Self::Editor { .. } => interruptible(work).await,
            Self::Piped { .. } => work.await,
        }
    }
}

fn save_history(editor: &mut Editor<ReplHelper, FileHistory>, path: Option<&Path>, text: &str) {
    if text.is_empty() {
        return;
    }
    let _ = editor.add_history_entry(text);
    if let Some(path) = path {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = editor.save_history(path) {
            eprintln!("warning: cannot save history to {}: {e}", path.display());
        }
    }
}

/// What `work` did, or [`Step::Failed`] when Ctrl-C cancelled it.
async fn interruptible(work: impl Future<Output = Step>) -> Step {
    tokio::select! {
        step = work => step,
        _ = tokio::signal::ctrl_c() => {
            let _ = std::io::stdout().flush();
            eprintln!("^C: query cancelled");
            Step::Failed
        }
    }
}

async fn run_sql(ctx: &SessionContext, sql: &str, settings: &Settings) -> Step {
    let mut stdout = crate::print_format::stdout();
    match exec_and_print(ctx, sql, settings.format, settings.allow_write, &mut stdout).await {
        Ok(done) => {
            let rows = if done.rows == 1 {
                "1 row".to_owned()
            } else {
                format!("{} rows", done.rows)
            };
            if settings.timing {
                eprintln!("{rows} in {:.3} s", done.elapsed.as_secs_f64());
            } else {
                eprintln!("{rows}");
            }
            Step::Done
        }
        Err(e) if crate::exec::is_broken_pipe(&e) => Step::Closed,
        Err(e) => {
            diag!("Error: {}", crate::exec::error_message(&e));
            Step::Failed
        }
    }
}

/// The hunt `id` with `params` (`name=value` words) bound over all of time.
fn bound_hunt(
    id: &str,
    params: &[String],
) -> anyhow::Result<(
    ctlake_hunt::Hunt,
    std::collections::BTreeMap<String, String>,
)> {
    let catalogue = ctlake_hunt::Catalogue::load(&crate::hunt::hunt_dirs(&[]))?;
    let hunt = catalogue
        .select(&[id.to_owned()])?
        .into_iter()
        .find(|h| h.header.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| anyhow::anyhow!("no hunt with id {id}; \\hunts lists them"))?;
    let params = crate::hunt::params(params)?;
    for name in params.keys() {
        anyhow::ensure!(
            hunt.header.params.contains_key(name),
            "hunt {id} has no parameter {name}"
        );
    }
    Ok((hunt, params))
}

fn hunt_sql(id: &str, params: &[String]) -> anyhow::Result<String> {
    let (hunt, params) = bound_hunt(id, params)?;
    Ok(hunt.bind(&ctlake_hunt::Window::all(), &params)?)
}

async fn run_hunt(
    ctx: &SessionContext,
    id: &str,
    params: &[String],
    format: Format,
) -> anyhow::Result<()> {
    let (hunt, params) = bound_hunt(id, params)?;
    let window = ctlake_hunt::Window::all();
    let outcome = crate::hunt::run(ctx, std::slice::from_ref(&hunt), &window, &params).await;
    if let Some((_, error)) = outcome.errors.first() {
        anyhow::bail!("{error}");
    }
    let found: usize = outcome
        .findings
        .iter()
        .map(ctlake_hunt::Findings::len)
        .sum();
    crate::hunt::print(
        &outcome,
        &window,
        format,
        &mut crate::print_format::stdout(),
    )?;
    eprintln!("{id}: {found} finding{}", if found == 1 { "" } else { "s" });
    Ok(())
}

async fn run_command(ctx: &SessionContext, command: Command, settings: &mut Settings) -> Step {
    let batch = match command {
        Command::Quit | Command::HuntSql(..) => return Step::Done,
        Command::Help => Ok(command::help()),
        Command::ListTables => command::list_tables(ctx).await,
        Command::Describe(table) => command::describe(ctx, &table).await,
        Command::Timing(on) => {
            settings.timing = on.unwrap_or(!settings.timing);
            eprintln!("Timing is {}.", if settings.timing { "on" } else { "off" });
            return Step::Done;
        }
        Command::Format(format) => {
            settings.format = format;
            eprintln!("Output format is {format:?}.");
            return Step::Done;
        }
        Command::Hunts => {
            let listed = ctlake_hunt::Catalogue::load(&crate::hunt::hunt_dirs(&[]))
                .map_err(anyhow::Error::from)
                .and_then(|c| {
                    let all = c.select(&[])?;
                    crate::hunt::list(&all, Format::Table, &mut crate::print_format::stdout())?;
                    for problem in c.problems() {
                        diag!("warning: {problem}");
                    }
                    Ok(())
                });
            return shown(listed);
        }
        Command::Hunt(id, params) => {
            return shown(run_hunt(ctx, &id, &params, settings.format).await);
        }
    };
    let printed = batch.map_err(anyhow::Error::from).and_then(|b| {
        print_batches(
            &mut crate::print_format::stdout(),
            &b.schema(),
            std::slice::from_ref(&b),
            Format::Table,
        )
        .map_err(Into::into)
    });
    shown(printed)
}

/// What `done` did, its error shown unless it was output closing.
fn shown(done: anyhow::Result<()>) -> Step {
    match done {
        Ok(()) => Step::Done,
        Err(e) if e.chain().any(crate::exec::is_broken_pipe) => Step::Closed,
        Err(e) => {
            diag!("Error: {e}");
            Step::Failed
        }
    }
}

/// `CTLAKE_HISTORY`, or `history` in ctlake's data folder.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("CTLAKE_HISTORY")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("ctlake").join("history")))
}
