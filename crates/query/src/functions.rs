//! Trino functions Lake queries use that DataFusion has no equivalent for:
//! `date_diff`, `date_add`, `json_parse`, `json_array_contains`, and the
//! values of a free-form field read as a map (`map_values`), `from_utf8`;
//! and `zoned_timestamp`, which reads a time without a zone as UTC for
//! `format_datetime`; `ctlake_date_parse`, Trino's `date_parse` once its
//! format is written as chrono's.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, BooleanBuilder, Int64Builder, ListArray, ListBuilder,
    StringArray, StringBuilder, StructArray, TimestampNanosecondBuilder,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Int64Type, TimeUnit, TimestampNanosecondType};
use chrono::{DateTime, Datelike, Months, TimeDelta, Utc};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::Value;

/// Every function of this module, for registering in a session.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(Trino::new("date_diff")),
        ScalarUDF::from(Trino::new("date_add")),
        ScalarUDF::from(Trino::new("json_parse")),
        ScalarUDF::from(Trino::new("json_array_contains")),
        ScalarUDF::from(Trino::new("json_map_values")),
        ScalarUDF::from(Trino::new("json_map_entries")),
        ScalarUDF::from(Trino::new("regexp_extract_all")),
        ScalarUDF::from(Trino::new("zoned_timestamp")),
        ScalarUDF::from(Trino::new("from_utf8")),
        ScalarUDF::from(Trino::new(DATE_PARSE)),
    ]
}

/// `date_parse(text, format)` with the format already in chrono's terms.
pub(crate) const DATE_PARSE: &str = "ctlake_date_parse";

fn utc_nanos() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Trino {
    name: &'static str,
    signature: Signature,
}

impl Trino {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Trino {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let expected = match (self.name, arg_types.len()) {
            ("date_diff", 3) => vec![DataType::Utf8, utc_nanos(), utc_nanos()],
            ("date_add", 3) => vec![DataType::Utf8, DataType::Int64, utc_nanos()],
            ("json_parse" | "json_map_values" | "json_map_entries", 1) => vec![DataType::Utf8],
            // A time with a zone keeps it; one without is read as UTC, as
            // Lake's session zone is, so `format_datetime` can print `Z`.
            ("zoned_timestamp", 1) => match &arg_types[0] {
                zoned @ DataType::Timestamp(_, Some(_)) => vec![zoned.clone()],
                _ => vec![utc_nanos()],
            },
            ("from_utf8", 1) => vec![DataType::Binary],
            (DATE_PARSE | "regexp_extract_all", 2) => vec![DataType::Utf8, DataType::Utf8],
            ("regexp_extract_all", 3) => vec![DataType::Utf8, DataType::Utf8, DataType::Int64],
            ("json_array_contains", 2) => {
                let value = match &arg_types[1] {
                    t if t.is_integer() => DataType::Int64,
                    t if t.is_floating() => DataType::Float64,
                    DataType::Boolean => DataType::Boolean,
                    _ => DataType::Utf8,
                };
                vec![DataType::Utf8, value]
            }
            _ => {
                return Err(DataFusionError::Plan(format!(
                    "{}: wrong number of arguments ({}); see the README's Lake section",
                    self.name,
                    arg_types.len()
                )));
            }
        };
        Ok(expected)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.name {
            "zoned_timestamp" => arg_types[0].clone(),
            "date_diff" => DataType::Int64,
            "date_add" => utc_nanos(),
            DATE_PARSE => DataType::Timestamp(TimeUnit::Nanosecond, None),
            "json_array_contains" => DataType::Boolean,
            "json_map_values" | "regexp_extract_all" => {
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
            }
            "json_map_entries" => DataType::List(Arc::new(Field::new_list_field(
                DataType::Struct(entry_fields()),
                true,
            ))),
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.name == "zoned_timestamp" {
            // Coercion did the work.
            return Ok(args.args[0].clone());
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = match self.name {
            "date_diff" => date_diff(&arrays)?,
            "date_add" => date_add(&arrays)?,
            "json_parse" => json_parse(&arrays[0])?,
            "json_array_contains" => json_array_contains(&arrays[0], &arrays[1]),
            "json_map_entries" => json_map_entries(&arrays[0])?,
            "regexp_extract_all" => regexp_extract_all(&arrays)?,
            "from_utf8" => from_utf8(&arrays[0]),
            DATE_PARSE => date_parse(&arrays[0], &arrays[1])?,
            _ => json_map_values(&arrays[0]),
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// A Trino time unit, by its name in either number.
#[derive(Clone, Copy)]
enum Unit {
    Fixed(i64),
    Months(u32),
}

fn unit(name: &str) -> Result<Unit> {
    const SECOND: i64 = 1_000_000_000;
    Ok(match name.to_lowercase().trim_end_matches('s') {
        "millisecond" => Unit::Fixed(1_000_000),
        "second" => Unit::Fixed(SECOND),
        "minute" => Unit::Fixed(60 * SECOND),
        "hour" => Unit::Fixed(3600 * SECOND),
        "day" => Unit::Fixed(86_400 * SECOND),
        "week" => Unit::Fixed(7 * 86_400 * SECOND),
        "month" => Unit::Months(1),
        "quarter" => Unit::Months(3),
        "year" => Unit::Months(12),
        other => {
            return Err(DataFusionError::Execution(format!(
                "unknown time unit '{other}': use millisecond, second, minute, hour, day, week, month, quarter or year"
            )));
        }
    })
}

fn time(nanos: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(nanos)
}

/// Whole months from `a` to `b`, counted as Trino (Joda) does: a month is
/// complete when the day and time of day have come round again, and the
/// last day of a short month stands for the days it lacks (January 31 to
/// February 29 is a month).
fn months_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    if b < a {
        return -months_between(b, a);
    }
    let months = i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month());
    let mut day = a.day();
    if b.day() == days_in_month(b) {
        day = day.min(b.day());
    }
    if (b.day(), b.time()) < (day, a.time()) {
        months - 1
    } else {
        months
    }
}

fn days_in_month(t: DateTime<Utc>) -> u32 {
    let first = t
        .date_naive()
        .with_day(1)
        .expect("every month has a first day");
    first.checked_add_months(Months::new(1)).map_or(31, |next| {
        u32::try_from((next - first).num_days()).unwrap_or(31)
    })
}

fn date_diff(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let units = arrays[0].as_string::<i32>();
    let from = arrays[1].as_primitive::<TimestampNanosecondType>();
    let to = arrays[2].as_primitive::<TimestampNanosecondType>();
    let mut out = Int64Builder::with_capacity(from.len());
    for row in 0..from.len() {
        if units.is_null(row) || from.is_null(row) || to.is_null(row) {
            out.append_null();
            continue;
        }
        let (a, b) = (from.value(row), to.value(row));
        out.append_value(match unit(units.value(row))? {
            Unit::Fixed(nanos) => (b - a) / nanos,
            Unit::Months(per) => months_between(time(a), time(b)) / i64::from(per),
        });
    }
    Ok(Arc::new(out.finish()))
}

fn date_add(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let units = arrays[0].as_string::<i32>();
    let amounts = arrays[1].as_primitive::<Int64Type>();
    let times = arrays[2].as_primitive::<TimestampNanosecondType>();
    let mut out = TimestampNanosecondBuilder::with_capacity(times.len()).with_timezone("UTC");
    for row in 0..times.len() {
        if units.is_null(row) || amounts.is_null(row) || times.is_null(row) {
            out.append_null();
            continue;
        }
        let (n, t) = (amounts.value(row), time(times.value(row)));
        let moved = match unit(units.value(row))? {
            Unit::Fixed(nanos) => n
                .checked_mul(nanos)
                .and_then(|d| t.checked_add_signed(TimeDelta::nanoseconds(d))),
            Unit::Months(per) => {
                let months = n
                    .checked_mul(i64::from(per))
                    .and_then(|m| i32::try_from(m).ok());
                months.and_then(|m| {
                    if m >= 0 {
                        t.checked_add_months(Months::new(m.unsigned_abs()))
                    } else {
                        t.checked_sub_months(Months::new(m.unsigned_abs()))
                    }
                })
            }
        };
        out.append_option(moved.and_then(|t| t.timestamp_nanos_opt()));
    }
    Ok(Arc::new(out.finish()))
}

/// Bytes as text, each invalid sequence as U+FFFD, as Trino decodes them:
/// a decoded payload with stray bytes is still worth reading.
fn from_utf8(bytes: &ArrayRef) -> ArrayRef {
    let out: StringArray = bytes
        .as_binary::<i32>()
        .iter()
        .map(|b| b.map(String::from_utf8_lossy))
        .collect();
    Arc::new(out)
}

/// Times read by a chrono `format`, as Trino's `date_parse` reads them:
/// what the format does not give is that of 1970-01-01 00:00:00, so
/// `'%Y-%m-%d %H'` gives the hour (chrono alone wants a minute with it, and
/// DataFusion's `to_timestamp` then falls back to the date at midnight).
/// Text the format does not match is an error, as in Trino.
fn date_parse(texts: &ArrayRef, formats: &ArrayRef) -> Result<ArrayRef> {
    use chrono::format::{Parsed, StrftimeItems, parse};
    let (texts, formats) = (texts.as_string::<i32>(), formats.as_string::<i32>());
    let mut out = TimestampNanosecondBuilder::with_capacity(texts.len());
    for (text, format) in texts.iter().zip(formats.iter()) {
        let (Some(text), Some(format)) = (text, format) else {
            out.append_null();
            continue;
        };
        let mut p = Parsed::new();
        let read = parse(&mut p, text, StrftimeItems::new(format)).and_then(|()| {
            let no_week =
                p.week_from_sun().is_none() && p.week_from_mon().is_none() && p.isoweek().is_none();
            if p.year().is_none()
                && p.year_div_100().is_none()
                && p.year_mod_100().is_none()
                && p.isoyear().is_none()
            {
                p.set_year(1970)?;
            }
            if p.month().is_none() && p.ordinal().is_none() && no_week {
                p.set_month(1)?;
            }
            if p.day().is_none() && p.ordinal().is_none() && no_week {
                p.set_day(1)?;
            }
            match (p.hour_div_12(), p.hour_mod_12()) {
                (_, None) => p.set_hour(0)?,
                (None, Some(_)) => p.set_ampm(false)?,
                _ => {}
            }
            if p.minute().is_none() {
                p.set_minute(0)?;
            }
            if p.second().is_none() {
                p.set_second(0)?;
            }
            p.to_naive_datetime_with_offset(0)
        });
        let nanos = read.ok().and_then(|t| t.and_utc().timestamp_nanos_opt());
        match nanos {
            Some(nanos) => out.append_value(nanos),
            None => {
                return Err(DataFusionError::Execution(format!(
                    "date_parse: {text:?} is not a time of the format given, or one out of range"
                )));
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

fn json_parse(texts: &ArrayRef) -> Result<ArrayRef> {
    let texts = texts.as_string::<i32>();
    let mut out = StringBuilder::new();
    for text in texts {
        match text {
            None => out.append_null(),
            Some(text) => {
                let value: Value = serde_json::from_str(text).map_err(|e| {
                    DataFusionError::Execution(format!("json_parse: not JSON ({e}): {text:.80}"))
                })?;
                out.append_value(value.to_string());
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

fn json_array_contains(texts: &ArrayRef, values: &ArrayRef) -> ArrayRef {
    let texts = texts.as_string::<i32>();
    let mut out = BooleanBuilder::new();
    for row in 0..texts.len() {
        let array = texts
            .is_valid(row)
            .then(|| serde_json::from_str::<Value>(texts.value(row)).ok())
            .flatten();
        let (Some(Value::Array(items)), true) = (array, values.is_valid(row)) else {
            out.append_null();
            continue;
        };
        let wanted = match values.data_type() {
            DataType::Int64 => Value::from(values.as_primitive::<Int64Type>().value(row)),
            DataType::Float64 => Value::from(
                values
                    .as_primitive::<arrow::datatypes::Float64Type>()
                    .value(row),
            ),
            DataType::Boolean => Value::from(values.as_boolean().value(row)),
            _ => Value::from(values.as_string::<i32>().value(row)),
        };
        let same = |item: &Value| match (item, &wanted) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
        out.append_value(items.iter().any(same));
    }
    Arc::new(out.finish())
}

/// Every match of a pattern in each text, or of one of its groups (Trino's
/// `regexp_extract_all`): an empty array where nothing matches, NULL for a
/// group that took no part in a match.
fn regexp_extract_all(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = arrays[0].as_string::<i32>();
    let patterns = arrays[1].as_string::<i32>();
    let groups = arrays.get(2).map(AsArray::as_primitive::<Int64Type>);
    let mut out = ListBuilder::new(StringBuilder::new());
    let mut compiled: Option<(String, regex::Regex)> = None;
    for row in 0..texts.len() {
        let group = match groups {
            Some(g) if g.is_null(row) => None,
            Some(g) => Some(g.value(row)),
            None => Some(0),
        };
        let (true, true, Some(group)) = (texts.is_valid(row), patterns.is_valid(row), group) else {
            out.append_null();
            continue;
        };
        let pattern = patterns.value(row);
        // The pattern is nearly always one literal: compiled once, not per row.
        let regex = match compiled.take() {
            Some((p, regex)) if p == pattern => &compiled.insert((p, regex)).1,
            _ => {
                let regex = regex::Regex::new(pattern).map_err(|e| {
                    DataFusionError::Execution(format!(
                        "regexp_extract_all: pattern {pattern}: {e}"
                    ))
                })?;
                &compiled.insert((pattern.to_owned(), regex)).1
            }
        };
        let index = usize::try_from(group)
            .ok()
            .filter(|&g| g < regex.captures_len())
            .ok_or_else(|| {
                DataFusionError::Execution(format!(
                    "regexp_extract_all: pattern {pattern} has no group {group}"
                ))
            })?;
        for captures in regex.captures_iter(texts.value(row)) {
            out.values()
                .append_option(captures.get(index).map(|m| m.as_str()));
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// The members of a JSON object in document order, each value kept as its text.
struct ObjectEntries(Vec<(String, Box<serde_json::value::RawValue>)>);

impl<'de> serde::Deserialize<'de> for ObjectEntries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ObjectEntries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<ObjectEntries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(ObjectEntries(entries))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A member's value as Lake's `map<string,string>` holds it: a string as
/// itself, null as NULL, anything else as its JSON.
fn map_value(raw: &serde_json::value::RawValue) -> Option<String> {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::String(s)) => Some(s),
        Ok(Value::Null) => None,
        _ => Some(raw.get().to_owned()),
    }
}

/// Each row's JSON object, or NULL for text that is not one.
fn objects(texts: &ArrayRef) -> impl Iterator<Item = Option<ObjectEntries>> + '_ {
    texts
        .as_string::<i32>()
        .iter()
        .map(|text| text.and_then(|t| serde_json::from_str::<ObjectEntries>(t).ok()))
}

/// The values of a JSON object as text, in document order (the order
/// `map_keys` gives).
fn json_map_values(texts: &ArrayRef) -> ArrayRef {
    let mut out = ListBuilder::new(StringBuilder::new());
    for object in objects(texts) {
        match object {
            Some(ObjectEntries(entries)) => {
                for (_, raw) in entries {
                    out.values().append_option(map_value(&raw));
                }
                out.append(true);
            }
            None => out.append(false),
        }
    }
    Arc::new(out.finish())
}

/// The key and value fields of [`json_map_entries`]'s rows.
fn entry_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, true),
    ])
}

/// A JSON object's members as rows of a key and a value (its value as
/// [`json_map_values`] gives it), in document order: what `UNNEST` of a
/// Lake map gives.
fn json_map_entries(texts: &ArrayRef) -> Result<ArrayRef> {
    let mut keys = StringBuilder::new();
    let mut values = StringBuilder::new();
    let mut offsets = vec![0_i32];
    let mut valid = Vec::with_capacity(texts.len());
    for object in objects(texts) {
        let entries = object.map(|ObjectEntries(entries)| entries);
        valid.push(entries.is_some());
        for (key, raw) in entries.unwrap_or_default() {
            keys.append_value(key);
            values.append_option(map_value(&raw));
        }
        let end = i32::try_from(keys.len()).map_err(|_| {
            DataFusionError::Execution("json_map_entries: over 2^31 entries in one batch".into())
        })?;
        offsets.push(end);
    }
    let rows = StructArray::try_new(
        entry_fields(),
        vec![Arc::new(keys.finish()), Arc::new(values.finish())],
        None,
    )?;
    Ok(Arc::new(ListArray::try_new(
        Arc::new(Field::new_list_field(
            DataType::Struct(entry_fields()),
            true,
        )),
        OffsetBuffer::new(offsets.into()),
        Arc::new(rows),
        Some(NullBuffer::from(valid)),
    )?))
}
