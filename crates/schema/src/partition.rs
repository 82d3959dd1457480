//! Hive-style partitions: `account=<id>/region=<name>/date=<YYYY-MM-DD>`.

use arrow_schema::DataType;

/// Partition value used when an event carries no usable account or region.
pub const UNKNOWN_PARTITION: &str = "unknown";

/// The partition columns in folder order, with the types queries see.
pub fn partition_fields() -> Vec<(String, DataType)> {
    vec![
        ("account".to_owned(), DataType::Utf8),
        ("region".to_owned(), DataType::Utf8),
        ("date".to_owned(), DataType::Date32),
    ]
}

/// The partition an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionKey {
    /// Path-safe recipient account id, or [`UNKNOWN_PARTITION`].
    pub account: String,
    /// Path-safe region, or [`UNKNOWN_PARTITION`].
    pub region: String,
    /// The event's UTC day as `YYYY-MM-DD`.
    pub date: String,
}

impl PartitionKey {
    /// The folder of this partition relative to the table folder.
    pub fn dir(&self) -> String {
        format!(
            "account={}/region={}/date={}",
            self.account, self.region, self.date
        )
    }
}

/// Returns `value` when it can stand in a folder name unchanged, and
/// [`UNKNOWN_PARTITION`] otherwise (absent, empty, `...`, `<placeholder>`).
/// The event's own columns still hold the original value.
pub fn sanitize_partition_value(value: Option<&str>) -> &str {
    match value {
        Some(v)
            if !v.is_empty()
                && v.len() <= 64
                && !v.starts_with('.')
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') =>
        {
            v
        }
        _ => UNKNOWN_PARTITION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_values_become_unknown() {
        assert_eq!(
            sanitize_partition_value(Some("111122223333")),
            "111122223333"
        );
        assert_eq!(sanitize_partition_value(Some("us-east-1")), "us-east-1");
        for bad in [
            "",
            "...",
            "<organization master account ID>",
            "a/b",
            "x=y",
            ".hidden",
        ] {
            assert_eq!(
                sanitize_partition_value(Some(bad)),
                UNKNOWN_PARTITION,
                "{bad}"
            );
        }
        assert_eq!(sanitize_partition_value(None), UNKNOWN_PARTITION);
    }

    #[test]
    fn dir_is_hive_style() {
        let key = PartitionKey {
            account: "1".into(),
            region: "r".into(),
            date: "2024-03-10".into(),
        };
        assert_eq!(key.dir(), "account=1/region=r/date=2024-03-10");
    }
}
