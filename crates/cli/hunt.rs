//! `ctlake hunt`: run saved hunts over a lake, for people and for scripts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use arrow::array::RecordBatch;
use ctlake_hunt::{Findings, Hunt, Window};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::print_format::{Format, json_rows, print_batches};

/// The folders user hunts are read from: `--hunts` folders, then the
/// default user folder (`$CTLAKE_HUNTS`, else `<config dir>/ctlake/hunts`).
pub fn hunt_dirs(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = extra.to_vec();
    match std::env::var_os("CTLAKE_HUNTS").filter(|d| !d.is_empty()) {
        Some(dir) => dirs.push(PathBuf::from(dir)),
        // Only the default folder may be missing: a folder named by the
        // user that is not there is a mistake to report, not to pass over.
        None => dirs.extend(
            dirs::config_dir()
                .map(|d| d.join("ctlake").join("hunts"))
                .filter(|d| d.is_dir()),
        ),
    }
    dirs
}

/// `key=value` arguments of `--param`; a name given twice is refused
/// rather than the last one silently winning.
pub fn params(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--param {pair}: expected name=value"))?;
        let name = name.trim().to_owned();
        anyhow::ensure!(
            !params.contains_key(&name),
            "--param {name} is given twice; a list is one value, its items separated by commas"
        );
        params.insert(name, value.to_owned());
    }
    Ok(params)
}

/// `hunts` as rows: id, severity, tactics, techniques, title, origin.
pub fn list(hunts: &[Hunt], format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    if matches!(format, Format::Json | Format::Ndjson) {
        let entries = hunts.iter().map(|hunt| {
            json!({
                "id": hunt.header.id,
                "title": hunt.header.title,
                "severity": hunt.header.severity,
                "tactics": hunt.header.tactics,
                "techniques": hunt.header.techniques,
                "tags": hunt.header.tags,
                "params": hunt.header.params,
                "origin": hunt.origin,
            })
        });
        // One document for json, as every other json output; a line each for ndjson.
        if format == Format::Json {
            writeln!(out, "{:#}", Value::Array(entries.collect()))?;
        } else {
            for entry in entries {
                writeln!(out, "{entry}")?;
            }
        }
        return Ok(());
    }
    let column = |f: &dyn Fn(&Hunt) -> String| -> arrow::array::ArrayRef {
        std::sync::Arc::new(arrow::array::StringArray::from_iter_values(
            hunts.iter().map(f),
        ))
    };
    let batch = RecordBatch::try_from_iter([
        ("id", column(&|h| h.header.id.clone())),
        (
            "severity",
            column(&|h| format!("{:?}", h.header.severity).to_lowercase()),
        ),
        ("tactics", column(&|h| h.header.tactics.join(" "))),
        ("techniques", column(&|h| h.header.techniques.join(" "))),
        ("title", column(&|h| h.header.title.clone())),
    ])?;
    print_batches(out, &batch.schema(), &[batch], format)?;
    Ok(())
}

/// What a hunt run gave: findings per hunt, and the hunts that failed, by
/// id (none for a hunt file that could not be read).
pub struct Outcome {
    pub findings: Vec<Findings>,
    pub errors: Vec<(Option<String>, String)>,
}

/// Runs `hunts` in order; a failing hunt is recorded and the others run.
pub async fn run(
    ctx: &SessionContext,
    hunts: &[Hunt],
    window: &Window,
    params: &BTreeMap<String, String>,
) -> Outcome {
    let mut outcome = Outcome {
        findings: Vec::new(),
        errors: Vec::new(),
    };
    for hunt in hunts {
        // Parameters named on the command line apply to the hunts that declare them.
        let own: BTreeMap<String, String> = params
            .iter()
            .filter(|(k, _)| hunt.header.params.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match ctlake_hunt::run(ctx, hunt, window, &own).await {
            Ok(found) => outcome.findings.push(found),
            Err(e) => outcome
                .errors
                .push((Some(hunt.header.id.clone()), crate::exec::error_message(&e))),
        }
    }
    outcome
}

fn hunt_json(hunt: &Hunt) -> Map<String, Value> {
    let h = &hunt.header;
    let mut m = Map::new();
    m.insert("hunt_id".into(), json!(h.id));
    m.insert("title".into(), json!(h.title));
    m.insert("severity".into(), json!(h.severity));
    m.insert("tactics".into(), json!(h.tactics));
    m.insert("techniques".into(), json!(h.techniques));
    m
}

/// Prints an outcome in `format`.
pub fn print(
    outcome: &Outcome,
    window: &Window,
    format: Format,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let mut hunts = Vec::new();
            for found in &outcome.findings {
                let mut h = hunt_json(&found.hunt);
                h.insert(
                    "findings".into(),
                    Value::from(
                        json_rows(&found.batches)?
                            .into_iter()
                            .map(Value::Object)
                            .collect::<Vec<_>>(),
                    ),
                );
                hunts.push(Value::Object(h));
            }
            let doc = json!({
                "window": {"start": window.start, "end": window.end},
                "hunts": hunts,
                "errors": outcome.errors.iter().map(|(id, e)| json!({"hunt_id": id, "error": e})).collect::<Vec<_>>(),
                "total_findings": outcome.findings.iter().map(Findings::len).sum::<usize>(),
            });
            writeln!(out, "{doc:#}")?;
        }
        Format::Ndjson => {
            for found in &outcome.findings {
                for row in json_rows(&found.batches)? {
                    let mut line = hunt_json(&found.hunt);
                    line.extend(row);
                    writeln!(out, "{}", Value::Object(line))?;
                }
            }
        }
        Format::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            let mut wrote = false;
            for found in outcome.findings.iter().filter(|f| !f.is_empty()) {
                for batch in &found.batches {
                    let batch = with_hunt_columns(&found.hunt, batch)?;
                    writer.write(&batch)?;
                    wrote = true;
                }
            }
            if !wrote {
                drop(writer);
                writeln!(
                    out,
                    "hunt_id,severity,techniques,{}",
                    ctlake_hunt::FINDING_COLUMNS.join(",")
                )?;
            }
        }
        Format::Table => {
            for found in outcome.findings.iter().filter(|f| !f.is_empty()) {
                let h = &found.hunt.header;
                writeln!(
                    out,
                    "{} [{}] {} ({}): {} finding{}",
                    h.id,
                    format!("{:?}", h.severity).to_lowercase(),
                    h.title,
                    h.techniques.join(", "),
                    found.len(),
                    if found.len() == 1 { "" } else { "s" }
                )?;
                let schema = found.batches[0].schema();
                print_batches(out, &schema, &found.batches, Format::Table)?;
            }
        }
    }
    Ok(())
}

/// A batch's finding columns behind the hunt's id, severity and techniques,
/// so findings of different hunts share one CSV header.
fn with_hunt_columns(hunt: &Hunt, batch: &RecordBatch) -> anyhow::Result<RecordBatch> {
    let n = batch.num_rows();
    let text = |value: String| -> arrow::array::ArrayRef {
        std::sync::Arc::new(arrow::array::StringArray::from(vec![value; n]))
    };
    let h = &hunt.header;
    let mut columns = vec![
        ("hunt_id".to_owned(), text(h.id.clone())),
        (
            "severity".to_owned(),
            text(format!("{:?}", h.severity).to_lowercase()),
        ),
        ("techniques".to_owned(), text(h.techniques.join(" "))),
    ];
    for name in ctlake_hunt::FINDING_COLUMNS {
        let column = batch
            .column_by_name(name)
            .expect("checked when the hunt ran");
        let column = arrow::compute::cast(column, &arrow::datatypes::DataType::Utf8)?;
        columns.push(((*name).to_owned(), column));
    }
    Ok(RecordBatch::try_from_iter(columns)?)
}
