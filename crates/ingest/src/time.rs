//! CloudTrail time strings to nanoseconds since the epoch, UTC.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Forms without an offset, taken as UTC.
const NAIVE: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y%m%dT%H%M%SZ",
    "%Y%m%dT%H%M%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%d %H:%M:%S%.fZ",
];

/// Parses the time forms found in CloudTrail and its exports:
/// `2024-03-10T23:58:01Z` (what trails write), with an optional fraction of
/// up to nine digits, `T` or a space between date and time, `Z`, an offset
/// or nothing (taken as UTC); and ISO-8601 basic `20131102T010628Z`, which the
/// docs give for `creationDate`.
pub(crate) fn parse_nanos(text: &str) -> Option<i64> {
    parse(text)?.timestamp_nanos_opt()
}

/// Whether `text` is a time [`parse_nanos`] reads but nanoseconds since
/// 1970 in 64 bits cannot hold (before 1677-09-21 or after 2262-04-11).
pub(crate) fn out_of_range(text: &str) -> bool {
    parse(text).is_some_and(|t| t.timestamp_nanos_opt().is_none())
}

fn parse(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    if let Some(t) = parse_with_offset(text) {
        return Some(t);
    }
    NAIVE
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
}

/// Offsets written as `+0000` or with a space separator, which RFC 3339 rejects.
fn parse_with_offset(text: &str) -> Option<DateTime<Utc>> {
    const WITH_OFFSET: &[&str] = &[
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ];
    WITH_OFFSET
        .iter()
        .find_map(|f| DateTime::parse_from_str(text, f).ok())
        .map(|t| t.to_utc())
}

/// The UTC calendar day of a nanosecond timestamp, as `YYYY-MM-DD`.
pub(crate) fn utc_date(nanos: i64) -> String {
    DateTime::from_timestamp_nanos(nanos)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_710_115_081_000_000_000; // 2024-03-10T23:58:01Z

    #[test]
    fn trail_form() {
        assert_eq!(parse_nanos("2024-03-10T23:58:01Z"), Some(T));
    }

    #[test]
    fn export_forms() {
        assert_eq!(parse_nanos("2024-03-10 23:58:01"), Some(T));
        assert_eq!(parse_nanos("2024-03-10 23:58:01Z"), Some(T));
        assert_eq!(
            parse_nanos("2024-03-10 23:58:01.123"),
            Some(T + 123_000_000)
        );
        assert_eq!(
            parse_nanos("2024-03-10 23:58:01.123456789"),
            Some(T + 123_456_789)
        );
        assert_eq!(parse_nanos("2024-03-10T23:58:01.5Z"), Some(T + 500_000_000));
        assert_eq!(parse_nanos("2024-03-11T00:58:01+01:00"), Some(T));
        assert_eq!(parse_nanos("2024-03-11 00:58:01+0100"), Some(T));
    }

    #[test]
    fn basic_form() {
        assert_eq!(parse_nanos("20240310T235801Z"), Some(T));
    }

    #[test]
    fn rejects_placeholders() {
        for bad in [
            "",
            "...",
            "foo",
            "redacted",
            "eventTime",
            "2024-13-01T00:00:00Z",
        ] {
            assert_eq!(parse_nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(utc_date(T), "2024-03-10");
        assert_eq!(utc_date(T + 120_000_000_000), "2024-03-11");
    }
}
