//! The REPL, driven through a real pseudo-terminal.

use std::process::Command;

use rexpect::session::{PtySession, spawn_command};

use crate::common;

fn start(dir: &std::path::Path) -> PtySession {
    start_with(dir, &[])
}

/// A session over the sample logs with `env` set as well.
fn start_with(dir: &std::path::Path, env: &[(&str, &std::ffi::OsStr)]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctlake"));
    cmd.arg("sql")
        .arg(common::repo().join("sample-logs"))
        .env("CTLAKE_CACHE_DIR", dir.join("cache"))
        .env("CTLAKE_HISTORY", dir.join("history"))
        .env("TERM", "xterm")
        .envs(env.iter().copied());
    let mut session = spawn_command(cmd, Some(60_000)).expect("ctlake sql starts in a pty");
    session.exp_string("ctlake> ").expect("prompt");
    session
}

#[test]
fn multi_line_query_describe_error_and_quit() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(dir.path());

    s.send_line("SELECT eventname, count(*) AS n").unwrap();
    s.send_line("FROM cloudtrail").unwrap();
    s.send_line("WHERE errorcode IS NOT NULL AND account <> '123456789012' GROUP BY 1 ORDER BY 1;")
        .unwrap();
    let before = s.exp_string("2 rows").expect("multi-line query result");
    assert!(before.contains("| ListBuckets "), "{before}");
    assert!(before.contains("| GetObject "), "{before}");

    s.send_line("\\d").unwrap();
    let listing = s
        .exp_string("CloudTrail events, one row per event")
        .expect("\\d lists tables");
    assert!(listing.contains("cloudtrail"), "{listing}");

    s.send_line("\\d cloudtrail").unwrap();
    s.exp_string("userIdentity.sessionContext.sessionIssuer.arn")
        .expect("\\d TABLE shows sources");

    s.send_line("SELEC broken;").unwrap();
    s.exp_string("Error:").expect("SQL error is printed");
    s.send_line("SELECT count(*) AS total FROM cloudtrail;")
        .unwrap();
    s.exp_string(&format!("| {}", common::SAMPLE_EVENTS))
        .expect("the session survives an SQL error");

    // CSV keeps a value's bytes, but not on the analyst's terminal.
    s.send_line("\\format csv").unwrap();
    s.exp_string("Output format is Csv.").unwrap();
    s.send_line("SELECT 'x' || chr(27) || ']0;pwned' || chr(7) AS t;")
        .unwrap();
    let shown = s.exp_string("1 row").expect("csv result");
    // rexpect reads the terminal a byte per char.
    let shown: Vec<u8> = shown.chars().map(|c| u8::try_from(c).unwrap()).collect();
    let shown = String::from_utf8(shown).unwrap();
    assert!(shown.contains("x\u{241b}]0;pwned\u{2407}"), "{shown:?}");
    assert!(!shown.contains("\u{1b}]0;pwned"), "{shown:?}");

    s.send_line("\\q").unwrap();
    s.exp_eof().expect("\\q ends the session");
    let history = std::fs::read_to_string(dir.path().join("history")).unwrap();
    assert!(
        history.contains("SELECT count(*) AS total FROM cloudtrail;"),
        "history is kept: {history}"
    );
}

#[test]
fn ctrl_c_cancels_a_running_query_and_keeps_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(dir.path());
    s.send_line("SELECT sum(value % 7) FROM range(1, 1000000000000);")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    s.send_control('c').unwrap();
    s.exp_string("query cancelled")
        .expect("Ctrl-C cancels the query");
    s.exp_string("ctlake> ").expect("back at the prompt");
    s.send_line("SELECT count(*) AS n FROM cloudtrail WHERE eventcategory = 'Data' AND account <> '123456789012';")
        .unwrap();
    s.exp_string("| 2 ").expect("the session still answers");
    s.send_control('d').unwrap();
    s.exp_eof().expect("Ctrl-D ends the session");
}

#[test]
fn ctrl_c_cancels_a_running_hunt_and_keeps_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let hunts = dir.path().join("hunts");
    std::fs::create_dir(&hunts).unwrap();
    // A hunt that reads the lake, then works for hours on a subquery.
    std::fs::write(
        hunts.join("slow.sql"),
        r#"/* hunt
id = "X-SLOW-001"
title = "Slow"
description = "Runs for hours"
tactics = ["TA0007"]
techniques = ["T1087"]
severity = "low"
*/
SELECT eventtime, eventid, eventname, useridentity_arn AS principal, sourceipaddress, useragent,
       recipientaccountid AS account, awsregion AS region, source_object, 'slow' AS reason
FROM cloudtrail
WHERE eventtime >= {{start}} AND eventtime < {{end}}
  AND (SELECT sum(value % 7) FROM range(1, 1000000000000)) < 0
"#,
    )
    .unwrap();
    let mut s = start_with(dir.path(), &[("CTLAKE_HUNTS", hunts.as_os_str())]);
    s.send_line("\\hunt X-SLOW-001").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    s.send_control('c').unwrap();
    s.exp_string("query cancelled")
        .expect("Ctrl-C cancels the hunt");
    s.exp_string("ctlake> ").expect("back at the prompt");
    s.send_line("\\format csv").unwrap();
    s.exp_string("ctlake> ").expect("format set");
    s.send_line("\\hunt CT-DE-001").unwrap();
    let found = s
        .exp_string("CT-DE-001: 5 findings")
        .expect("the session still runs hunts");
    assert!(
        found.contains("eventtime,eventid,eventname,principal"),
        "\\hunt prints in the session's format: {found}"
    );
    s.send_control('d').unwrap();
    s.exp_eof().expect("Ctrl-D ends the session");
}

#[test]
fn hunts_from_the_repl() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(dir.path());
    s.send_line("\\hunts").unwrap();
    s.exp_string("CT-DE-001")
        .expect("\\hunts lists the catalogue");

    s.send_line("\\hunt CT-DE-001").unwrap();
    let found = s
        .exp_string("CT-DE-001: 5 findings")
        .expect("\\hunt runs it");
    assert!(
        found.contains("00000000-0000-4000-8000-000000000009"),
        "{found}"
    );

    s.send_line("\\hunt CT-DE-001 colour=red").unwrap();
    s.exp_string("has no parameter colour")
        .expect("unknown parameters are refused");

    // The hunt's SQL lands in the input line; Enter runs it as edited.
    s.send_line(
        "\\hunt-sql CT-DE-001 allow_principals=arn:aws:sts::111122223333:federated-user/contractor,arn:aws:iam::123456789012:user/mallory",
    )
    .unwrap();
    s.exp_string("NOT IN ('arn:aws:sts::111122223333:federated-user/contractor', 'arn:aws:iam::123456789012:user/mallory')")
        .expect("the parameter is bound in the draft");
    s.send_line("").unwrap();
    s.exp_string("0 rows").expect("the drafted SQL runs");
    s.send_line("\\q").unwrap();
    s.exp_eof().expect("\\q ends the session");
}

/// `ctlake sql` with `input` on its stdin rather than a terminal.
fn piped(input: &[u8]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    spawn_piped(input, &[], dir.path())
        .wait_with_output()
        .unwrap()
}

/// `ctlake sql` over the sample logs with `extra` arguments, `input` written
/// to its stdin and the stdin closed; stdout and stderr are pipes.
fn spawn_piped(input: &[u8], extra: &[&str], scratch: &std::path::Path) -> std::process::Child {
    use std::io::Write;
    let sample = common::repo().join("sample-logs");
    let mut args = vec!["sql", sample.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut child = common::command(&args, scratch)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child
}

/// `ctlake sql < file`: the same session without a terminal; a byte-order
/// mark is passed over and SQL at the end without its `;` still runs.
#[test]
fn piped_input_runs_every_statement_and_command() {
    let out = piped(b"\xef\xbb\xbfSELECT 1 AS a;\n\\format csv\nSELECT count(*) AS n\nFROM cloudtrail WHERE eventcategory = 'Insight'");
    common::assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "+---+\n| a |\n+---+\n| 1 |\n+---+\nn\n2\n"
    );
}

/// A script piped into `sql` stops at its first failure, names the line the
/// failing statement began on and exits 2, so `set -e` scripts see it; what
/// follows does not run. `\hunt-sql` has no line to edit and prints the SQL.
#[test]
fn piped_input_stops_at_the_first_failure() {
    let out = piped(
        b"\\format csv\n\\hunt-sql CT-DE-001\nSELECT 1 AS a;\n\n-- the mistake\nSELECT nosuch\n  FROM cloudtrail;\nSELECT 2 AS b;\n",
    );
    common::assert_exit(&out, 2);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let (hunt, rest) = stdout
        .rsplit_once(";\n")
        .expect("the hunt's SQL, ended by ;");
    assert!(hunt.contains("FROM cloudtrail"), "{hunt}");
    assert_eq!(rest, "a\n1\n", "nothing runs after the failure");
    assert!(stderr.contains("nosuch"), "{stderr}");
    assert!(
        stderr.contains("stopped at the input on line 6: the rest was not run"),
        "{stderr}"
    );

    // The parser counts lines from the top of the script, not of the statement.
    let out =
        piped(b"SELECT 1 AS a;\n\nSELECT 2 AS b\n  FROM cloudtrail\n WHERE = 3;\nSELECT 3;\n");
    common::assert_exit(&out, 2);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("Line: 5"), "{stderr}");
    assert!(stderr.contains("on line 3"), "{stderr}");

    let out = piped(b"\\d nosuch\nSELECT 2 AS b;\n");
    common::assert_exit(&out, 2);
    assert!(
        out.stdout.is_empty(),
        "a failed command stops the session too"
    );
}

/// What a script holds besides statements: comments before commands and at
/// the end, `;` inside strings and block comments, `quit;`.
#[test]
fn piped_scripts_read_as_query_f_reads_them() {
    let out = piped(
        b"/* exported by a tool;\n   v2 */\n-- switch to csv\n\\format csv\nSELECT 'a;\nb' AS s;\nSELECT 1 AS n; -- the end\n-- trailing\n",
    );
    common::assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "s\n\"a;\nb\"\nn\n1\n"
    );

    let out = piped(b"\\format csv\nSELECT 1 AS n;\nquit;\nSELECT nosuch;\n");
    common::assert_exit(&out, 0);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n\n1\n");
}

/// A reader that stops early (`| head -1`) ends the session quietly, with
/// status 0 as `query` has; output already gone cannot fail the script.
#[test]
fn piped_output_closed_early_ends_the_session_quietly() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_piped(
        b"SELECT value FROM range(0, 1000000000000);\n\\hunt-sql CT-DE-001\n",
        &["--format", "csv"],
        dir.path(),
    );
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "value\n");
    let out = child.wait_with_output().unwrap();
    common::assert_exit(&out, 0);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("Error"), "{stderr}");
}
