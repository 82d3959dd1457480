//! The REPL's line editor helper: waits for `;`, completes names.

use std::borrow::Cow;

use rustyline::Context;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};

/// SQL words offered by tab completion.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "AS",
    "DISTINCT",
    "COUNT",
    "SUM",
    "MIN",
    "MAX",
    "AVG",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "JOIN",
    "LEFT",
    "RIGHT",
    "INNER",
    "OUTER",
    "CROSS",
    "ON",
    "USING",
    "UNION",
    "ALL",
    "EXCEPT",
    "INTERSECT",
    "WITH",
    "DESC",
    "ASC",
    "EXPLAIN",
    "ANALYZE",
    "INTERVAL",
    "TIMESTAMP",
    "DATE",
    "CAST",
    "TRUE",
    "FALSE",
    "OVER",
    "PARTITION",
    "UNNEST",
    "SHOW",
    "TABLES",
    "COLUMNS",
];

/// Completion candidates and statement validation for the REPL.
pub struct ReplHelper {
    names: Vec<String>,
}

impl ReplHelper {
    /// A helper that completes keywords and the given table and column names.
    pub fn new(mut names: Vec<String>) -> Self {
        names.extend(KEYWORDS.iter().map(|k| (*k).to_owned()));
        names.sort();
        names.dedup();
        Self { names }
    }

    fn candidates(&self, prefix: &str) -> Vec<Pair> {
        let lower = prefix.to_lowercase();
        let upper_typed = prefix.chars().next().is_some_and(char::is_uppercase);
        self.names
            .iter()
            .filter(|n| n.to_lowercase().starts_with(&lower))
            .map(|n| {
                // Keywords follow the case the user typed; names are lower case.
                let is_keyword = KEYWORDS.contains(&n.as_str());
                let text = if is_keyword && !upper_typed {
                    n.to_lowercase()
                } else {
                    n.clone()
                };
                Pair {
                    display: text.clone(),
                    replacement: text,
                }
            })
            .collect()
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let prefix = &line[start..pos];
        if prefix.is_empty() {
            return Ok((pos, Vec::new()));
        }
        Ok((start, self.candidates(prefix)))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl rustyline::Helper for ReplHelper {}

/// Whether the buffer is ready to run: a backslash command, an exit word,
/// only whitespace and comments, or SQL ending in `;` (see
/// [`ctlake_query::typed`]).
pub fn is_complete(input: &str) -> bool {
    let text = input.trim();
    text.starts_with('\\')
        || is_exit_word(text)
        || ctlake_query::typed(text) != ctlake_query::Typed::Open
}

/// `quit` or `exit`, in any case, with or without a `;`.
pub fn is_exit_word(text: &str) -> bool {
    let word = text.trim().trim_end_matches(';').trim_end();
    word.eq_ignore_ascii_case("quit") || word.eq_ignore_ascii_case("exit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_exit_words_are_complete_without_a_semicolon() {
        assert!(!is_complete("SELECT *\nFROM cloudtrail"));
        assert!(is_complete("SELECT *\nFROM cloudtrail;  "));
        assert!(is_complete("\\d"));
        assert!(is_complete("Quit"));
        assert!(is_complete("exit;"));
        assert!(!is_complete("exits"));
        assert!(is_complete("-- a note"));
        assert!(is_complete(""));
    }

    #[test]
    fn completes_in_any_case() {
        let helper = ReplHelper::new(vec![
            "cloudtrail".into(),
            "eventname".into(),
            "eventsource".into(),
        ]);
        let names: Vec<_> = helper
            .candidates("EventN")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(names, ["eventname"]);
        let names: Vec<_> = helper
            .candidates("sel")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(names, ["select"]);
        let names: Vec<_> = helper
            .candidates("SEL")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(names, ["SELECT"]);
    }
}
