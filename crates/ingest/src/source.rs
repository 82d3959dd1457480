//! Finding objects in an archive and classifying them by key before reading.
//!
//! The trail layout is
//! `[prefix/]AWSLogs/[o-org/]<account>/<CloudTrail|CloudTrail-Insight|CloudTrail-Digest>/<region>/YYYY/MM/DD/<file>`;
//! folders of `.json.gz` / `.json` files outside it are read as log files too.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::Error;
use crate::decode::KeyContext;

/// What an object is, judged by its key alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A CloudTrail log file: events.
    Log,
    /// A CloudTrail-Insight file: Insights events.
    Insight,
    /// A CloudTrail-Digest file: integrity data, not events.
    Digest,
    /// Under `AWSLogs/` but another service's folder (AWS Config, …).
    OtherService,
    /// Not a `.json` or `.json.gz` file.
    NotJson,
}

impl ObjectKind {
    /// Whether the object holds events to read.
    pub fn has_events(self) -> bool {
        matches!(self, Self::Log | Self::Insight)
    }
}

/// One object to ingest.
#[derive(Debug, Clone)]
pub struct SourceObject {
    /// Where the object is, as rows cite it: an absolute path.
    pub location: String,
    /// Local path.
    pub path: PathBuf,
    /// Size in bytes as listed.
    pub size: u64,
    /// Last modification time as listed.
    pub modified: Option<SystemTime>,
    /// What the key says the object is.
    pub kind: ObjectKind,
    /// Account and region folders of the key.
    pub key: KeyContext,
}

/// Classifies an object by its key (a path with `/` separators).
pub fn classify(key: &str) -> (ObjectKind, KeyContext) {
    let name = key.rsplit('/').next().unwrap_or(key);
    let lower = name.to_ascii_lowercase();
    if ![".json.gz", ".json"].iter().any(|ext| lower.ends_with(ext)) {
        return (ObjectKind::NotJson, KeyContext::default());
    }
    let parts: Vec<&str> = key.split('/').collect();
    let Some(at) = parts.iter().rposition(|p| *p == "AWSLogs") else {
        let kind = if name.contains("_CloudTrail-Digest_") {
            ObjectKind::Digest
        } else if name.contains("_CloudTrail-Insight_") {
            ObjectKind::Insight
        } else {
            ObjectKind::Log
        };
        return (kind, KeyContext::default());
    };
    let mut rest = &parts[at + 1..];
    if rest.first().is_some_and(|p| p.starts_with("o-")) && rest.len() > 2 {
        rest = &rest[1..];
    }
    // The file itself is the last part: folders are everything before it.
    let folders = &rest[..rest.len().saturating_sub(1)];
    let key_ctx = KeyContext {
        account: folders.first().map(|s| (*s).to_owned()),
        region: folders.get(2).map(|s| (*s).to_owned()),
    };
    let kind = match folders.get(1).copied() {
        Some("CloudTrail") | None => ObjectKind::Log,
        Some("CloudTrail-Insight") => ObjectKind::Insight,
        Some("CloudTrail-Digest") => ObjectKind::Digest,
        Some(_) => ObjectKind::OtherService,
    };
    (kind, key_ctx)
}

/// Lists every object under `inputs` (files or folders), sorted by location.
/// Folders that cannot be read are returned as errors; the listing goes on.
pub fn list_local(inputs: &[PathBuf]) -> (Vec<SourceObject>, Vec<Error>) {
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        let root = match std::path::absolute(input) {
            Ok(root) => root,
            Err(source) => {
                errors.push(Error::Read {
                    location: input.display().to_string(),
                    source,
                });
                continue;
            }
        };
        for entry in walkdir::WalkDir::new(&root)
            .follow_links(true)
            .sort_by_file_name()
        {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    let explicit = entry.depth() == 0;
                    match entry.metadata() {
                        Ok(meta) => objects.push(object(entry.path(), &meta, explicit)),
                        Err(e) => errors.push(walk_error(entry.path(), e)),
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let path = e.path().unwrap_or(&root).to_owned();
                    errors.push(walk_error(&path, e));
                }
            }
        }
    }
    objects.sort_by(|a, b| a.location.cmp(&b.location));
    objects.dedup_by(|a, b| a.location == b.location);
    (objects, errors)
}

fn walk_error(path: &Path, e: impl Into<std::io::Error>) -> Error {
    Error::Read {
        location: path.display().to_string(),
        source: e.into(),
    }
}

fn object(path: &Path, meta: &std::fs::Metadata, explicit: bool) -> SourceObject {
    let location = path.display().to_string();
    let key = path.to_string_lossy().replace('\\', "/");
    let (mut kind, key_ctx) = classify(&key);
    // A file named on the command line is read whatever its name.
    if explicit && kind == ObjectKind::NotJson {
        kind = ObjectKind::Log;
    }
    SourceObject {
        location,
        path: path.to_owned(),
        size: meta.len(),
        modified: meta.modified().ok(),
        kind,
        key: key_ctx,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_keys() {
        let (kind, ctx) = classify(
            "b/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/10/111122223333_CloudTrail_us-east-1_20240310T0000Z_a.json.gz",
        );
        assert_eq!(kind, ObjectKind::Log);
        assert_eq!(ctx.account.as_deref(), Some("111122223333"));
        assert_eq!(ctx.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn organization_and_control_tower_keys() {
        for key in [
            "AWSLogs/o-abc123/222233334444/CloudTrail/eu-west-1/2024/03/10/f.json.gz",
            "o-abc123/AWSLogs/o-abc123/222233334444/CloudTrail/eu-west-1/2024/03/10/f.json.gz",
        ] {
            let (kind, ctx) = classify(key);
            assert_eq!(kind, ObjectKind::Log, "{key}");
            assert_eq!(ctx.account.as_deref(), Some("222233334444"), "{key}");
            assert_eq!(ctx.region.as_deref(), Some("eu-west-1"), "{key}");
        }
    }

    #[test]
    fn digest_insight_and_others() {
        assert_eq!(
            classify("AWSLogs/1/CloudTrail-Digest/r/2024/03/10/x.json.gz").0,
            ObjectKind::Digest
        );
        assert_eq!(
            classify("AWSLogs/1/CloudTrail-Insight/r/2024/03/10/x.json.gz").0,
            ObjectKind::Insight
        );
        assert_eq!(
            classify("AWSLogs/1/Config/r/2024/03/10/x.json.gz").0,
            ObjectKind::OtherService
        );
        assert_eq!(
            classify("AWSLogs/1/CloudTrail/r/2024/03/10/README.md").0,
            ObjectKind::NotJson
        );
        assert_eq!(
            classify("loose/1_CloudTrail-Digest_r_t_r_20240310T000000Z.json.gz").0,
            ObjectKind::Digest
        );
        assert_eq!(classify("loose/events.json").0, ObjectKind::Log);
    }
}
