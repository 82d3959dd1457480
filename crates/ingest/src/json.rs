//! JSON without a DOM: records and free-form fields stay borrowed slices of the
//! decompressed object, parsed only as deep as a column needs.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// A string that borrows from the input unless it held escapes.
#[derive(Debug)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The members of a JSON object in document order, values unparsed.
pub(crate) type Members<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// A member's value as the record's first read left it: unparsed, or split
/// into members when a [`Guide`] named it as an object the decoder walks.
#[derive(Debug)]
pub(crate) enum Value<'a> {
    Raw(&'a RawValue),
    Object(Split<'a>),
    /// A walked member's null, which has no text of its own here.
    Null,
}

/// The members of a record in document order, the walked objects among them split.
pub(crate) type Split<'a> = Vec<(Cow<'a, str>, Value<'a>)>;

/// Names the members whose values the decoder walks into as objects, so
/// the first read splits them too rather than leave them for a second one.
pub(crate) trait Guide {
    /// The guide inside `key`'s value, when that value is walked into.
    fn object(&self, key: &str) -> Option<&Self>;
}

/// `members` with every value unparsed.
pub(crate) fn unsplit(members: Members<'_>) -> Split<'_> {
    members
        .into_iter()
        .map(|(key, value)| (key, Value::Raw(value)))
        .collect()
}

/// `null`, for a walked member whose value is null.
pub(crate) fn null() -> &'static RawValue {
    static NULL: std::sync::LazyLock<Box<RawValue>> = std::sync::LazyLock::new(|| {
        RawValue::from_string("null".to_owned()).expect("null is JSON")
    });
    &NULL
}

struct SplitVisitor<'g, G> {
    guide: &'g G,
}

impl<'de, G: Guide> Visitor<'de> for SplitVisitor<'_, G> {
    type Value = Split<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(Str(key)) = map.next_key()? {
            let value = match self.guide.object(&key) {
                Some(guide) => map.next_value_seed(ObjectSeed { guide })?,
                None => Value::Raw(map.next_value::<&RawValue>()?),
            };
            members.push((key, value));
        }
        Ok(members)
    }
}

/// Reads a walked member's value: an object, split, or null. Any other
/// value fails the first read, and the record is read again the plain way,
/// where the decoder keeps it in the residual.
struct ObjectSeed<'g, G> {
    guide: &'g G,
}

impl<'de, G: Guide> DeserializeSeed<'de> for ObjectSeed<'_, G> {
    type Value = Value<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, G: Guide> Visitor<'de> for ObjectSeed<'_, G> {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or null")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        SplitVisitor { guide: self.guide }
            .visit_map(map)
            .map(Value::Object)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(Str(key)) = map.next_key()? {
            members.push((key, map.next_value::<&RawValue>()?));
        }
        Ok(members)
    }
}

/// What a raw JSON value is, judged by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Object,
    Array,
    String,
    Null,
    Other,
}

pub(crate) fn shape(raw: &RawValue) -> Shape {
    // RawValue never starts with white space.
    match raw.get().as_bytes().first() {
        Some(b'{') => Shape::Object,
        Some(b'[') => Shape::Array,
        Some(b'"') => Shape::String,
        Some(b'n') => Shape::Null,
        _ => Shape::Other,
    }
}

/// The members of `raw` when it is an object.
pub(crate) fn members(raw: &RawValue) -> Option<Members<'_>> {
    members_of(raw.get())
}

/// The members of the JSON value `text` when it is an object.
fn members_of(text: &str) -> Option<Members<'_>> {
    if !text.starts_with('{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(MembersVisitor).ok()
}

/// The elements of `raw` when it is an array.
pub(crate) fn elements(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if shape(raw) != Shape::Array {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// The decoded text of `raw` when it is a string.
pub(crate) fn string(raw: &RawValue) -> Option<Cow<'_, str>> {
    if shape(raw) != Shape::String {
        return None;
    }
    if let Some(inner) = plain_string(raw) {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<Str>(raw.get()).ok().map(|s| s.0)
}

/// The text between the quotes when `raw` is a string without escapes. A
/// raw value is valid JSON, so such a string is its own decoded text, and
/// already in canonical form: most are, and need no parser.
pub(crate) fn plain_string(raw: &RawValue) -> Option<&str> {
    raw.get()
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|inner| !inner.as_bytes().contains(&b'\\'))
}

/// The number tokens of the JSON text `raw`, outside its strings.
pub(crate) fn numbers(raw: &str) -> impl Iterator<Item = &str> {
    let bytes = raw.as_bytes();
    let mut at = 0;
    let mut in_string = false;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let b = bytes[at];
            if in_string {
                match b {
                    b'\\' => at += 2,
                    b'"' => {
                        in_string = false;
                        at += 1;
                    }
                    _ => at += 1,
                }
                continue;
            }
            if b == b'"' {
                in_string = true;
                at += 1;
                continue;
            }
            if b == b'-' || b.is_ascii_digit() {
                let start = at;
                while at < bytes.len()
                    && matches!(bytes[at], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    at += 1;
                }
                return Some(&raw[start..at]);
            }
            at += 1;
        }
        None
    })
}

/// `raw` without white space outside strings. Borrows when there is none,
/// which is the case for every object CloudTrail itself delivers.
pub(crate) fn minify(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    // Text without any white space byte is compact. The check runs a block
    // at a time without branches, at memory speed; the exact scan below is
    // only for text with some.
    let white = |chunk: &[u8]| chunk.iter().fold(false, |any, b| any | is_white(*b));
    if !bytes.chunks(64).any(white) {
        return Cow::Borrowed(raw);
    }
    let mut in_string = false;
    let mut escaped = false;
    let mut first_ws = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if is_white(b) {
            first_ws = Some(i);
            break;
        }
    }
    let Some(start) = first_ws else {
        return Cow::Borrowed(raw);
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..start]);
    let mut in_string = false;
    let mut escaped = false;
    for c in raw[start..].chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if u8::try_from(c).is_ok_and(is_white) {
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// A record of `Records`, as [`for_each_record`] hands it over.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    /// The record's JSON text, from its first byte to its last.
    pub text: &'a str,
    /// Its members, when they were read in the same pass as the array.
    pub members: Option<Split<'a>>,
}

impl<'a> Record<'a> {
    /// The members of the record when it is an object.
    pub(crate) fn into_members(self) -> Option<Split<'a>> {
        self.members.or_else(|| members_of(self.text).map(unsplit))
    }
}

/// Walks `{"Records": [...]}` one record at a time, handing each to `on_record`
/// as a borrowed slice. Records before a syntax error have been handed over by
/// the time the error returns, so a truncated object keeps what it had.
///
/// Each record is split into its members as the array is read, and the
/// objects `guide` names into theirs, so a record is scanned once rather
/// than once to find its end and again for each level split. An object
/// this does not fit (a record that is not an object, a walked member that
/// is not an object, a syntax error) is read again from the start the plain
/// way, and the records already handed over are not handed over twice.
pub(crate) fn for_each_record<'a, G: Guide>(
    text: &'a str,
    guide: &G,
    on_record: &mut dyn FnMut(usize, Record<'a>),
) -> Result<usize, RecordsError> {
    let mut handed = 0;
    match walk_records(text, Mode::Split(guide), on_record, &mut handed) {
        Err(RecordsError::Json { .. }) => {
            let mut count = 0;
            walk_records::<G>(text, Mode::Raw { skip: handed }, on_record, &mut count)
        }
        done => done,
    }
}

enum Mode<'g, G> {
    /// Records are read as objects and split into members in one pass.
    Split(&'g G),
    /// Records are read as raw values; the first `skip` are not handed over.
    Raw { skip: usize },
}

impl<G> Clone for Mode<'_, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<G> Copy for Mode<'_, G> {}

fn walk_records<'a, G: Guide>(
    text: &'a str,
    mode: Mode<'_, G>,
    on_record: &mut dyn FnMut(usize, Record<'a>),
    count: &mut usize,
) -> Result<usize, RecordsError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let found = de
        .deserialize_any(TopVisitor {
            text,
            mode,
            on_record,
            count: &mut *count,
        })
        .map_err(|e| RecordsError::Json {
            error: e,
            records: *count,
        })?;
    de.end().map_err(|e| RecordsError::Json {
        error: e,
        records: *count,
    })?;
    match found {
        Top::Records(1) => Ok(*count),
        Top::Records(arrays) => Err(RecordsError::Repeated { arrays }),
        Top::NoRecords => Err(RecordsError::NoRecords),
        Top::NotObject => Err(RecordsError::NotObject),
    }
}

/// Why an object's `Records` could not be walked to the end.
#[derive(Debug)]
pub(crate) enum RecordsError {
    Json {
        error: serde_json::Error,
        records: usize,
    },
    NoRecords,
    NotObject,
    /// The object has `arrays` members named `Records`. JSON tools differ on
    /// which one they keep; the records of every one were handed over, in
    /// order, numbered on from one array to the next.
    Repeated {
        arrays: usize,
    },
}

enum Top {
    /// How many `Records` members the object has.
    Records(usize),
    NoRecords,
    NotObject,
}

struct TopVisitor<'f, 'a, G> {
    text: &'a str,
    mode: Mode<'f, G>,
    on_record: &'f mut dyn FnMut(usize, Record<'a>),
    count: &'f mut usize,
}

impl<'de, G: Guide> Visitor<'de> for TopVisitor<'_, 'de, G> {
    type Value = Top;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"an object {"Records": [...]}"#)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut arrays = 0;
        while let Some(Str(key)) = map.next_key()? {
            if key == "Records" {
                map.next_value_seed(RecordsSeed {
                    text: self.text,
                    mode: self.mode,
                    on_record: &mut *self.on_record,
                    count: &mut *self.count,
                })?;
                arrays += 1;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(if arrays == 0 {
            Top::NoRecords
        } else {
            Top::Records(arrays)
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::NotObject)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
}

struct RecordsSeed<'f, 'a, G> {
    text: &'a str,
    mode: Mode<'f, G>,
    on_record: &'f mut dyn FnMut(usize, Record<'a>),
    count: &'f mut usize,
}

impl<'de, G: Guide> DeserializeSeed<'de> for RecordsSeed<'_, 'de, G> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, G: Guide> Visitor<'de> for RecordsSeed<'_, 'de, G> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.mode {
            Mode::Split(guide) => {
                while let Some(members) = seq.next_element_seed(SplitSeed { guide })? {
                    let text = record_span(self.text, &members)
                        .map(|span| &self.text[span])
                        .ok_or_else(|| de::Error::custom("a record's span is not plain"))?;
                    let record = Record {
                        text,
                        members: Some(members),
                    };
                    (self.on_record)(*self.count, record);
                    *self.count += 1;
                }
            }
            Mode::Raw { skip } => {
                while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                    if *self.count >= skip {
                        let record = Record {
                            text: raw.get(),
                            members: None,
                        };
                        (self.on_record)(*self.count, record);
                    }
                    *self.count += 1;
                }
            }
        }
        Ok(())
    }
}

/// Reads one element of `Records` as an object's members; fails on any
/// other value.
struct SplitSeed<'g, G> {
    guide: &'g G,
}

impl<'de, G: Guide> DeserializeSeed<'de> for SplitSeed<'_, G> {
    type Value = Split<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Split<'de>, D::Error> {
        d.deserialize_map(SplitVisitor { guide: self.guide })
    }
}

/// Where in `text` the object holding `members` starts and ends, found from
/// the borrowed slices of its first key and last value: white space and a
/// brace on either side. `None` when that is not what surrounds them (an
/// empty object, a first key with escapes) or when the last value has no
/// text of its own to start from (a walked member that is null or an empty
/// object): the caller reads the object again the plain way.
fn record_span(text: &str, members: &Split<'_>) -> Option<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let base = text.as_ptr() as usize;
    let (Cow::Borrowed(first_key), _) = members.first()? else {
        return None;
    };
    let key_start = (first_key.as_ptr() as usize).checked_sub(base)?;
    let mut start = key_start.checked_sub(1)?;
    if bytes.get(start) != Some(&b'"') {
        return None;
    }
    while start > 0 && is_white(bytes[start - 1]) {
        start -= 1;
    }
    start = start.checked_sub(1)?;
    if bytes[start] != b'{' {
        return None;
    }
    let end = object_end(bytes, base, members)?;
    Some(start..end)
}

/// The offset in `bytes` (whose first byte is at address `base`) just past
/// the closing brace of the object holding `members`, found from its last
/// value; a split value's own end is found the same way.
fn object_end(bytes: &[u8], base: usize, members: &Split<'_>) -> Option<usize> {
    let mut end = match &members.last()?.1 {
        Value::Raw(last) => {
            let last = last.get();
            (last.as_ptr() as usize).checked_sub(base)? + last.len()
        }
        Value::Object(inner) => object_end(bytes, base, inner)?,
        Value::Null => return None,
    };
    while bytes.get(end).copied().is_some_and(is_white) {
        end += 1;
    }
    (bytes.get(end) == Some(&b'}')).then_some(end + 1)
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// What is left of a record once the columns have taken their values: kept as
/// a JSON object that mirrors the record's nesting.
#[derive(Debug, Default)]
pub(crate) struct Residual<'a> {
    root: Vec<(Cow<'a, str>, Node<'a>)>,
}

#[derive(Debug)]
enum Node<'a> {
    Value(&'a RawValue),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Residual<'a> {
    pub(crate) fn clear(&mut self) {
        self.root.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.root.is_empty()
    }

    /// Keeps `value`, found at `path` (keys from the record root).
    pub(crate) fn keep(&mut self, path: &[Cow<'a, str>], value: &'a RawValue) {
        let (last, parents) = path.split_last().expect("a residual path has a key");
        let mut level = &mut self.root;
        for key in parents {
            let existing = level
                .iter()
                .position(|(k, n)| k == key && matches!(n, Node::Object(_)));
            let pos = if let Some(pos) = existing {
                pos
            } else {
                level.push((key.clone(), Node::Object(Vec::new())));
                level.len() - 1
            };
            let Node::Object(children) = &mut level[pos].1 else {
                unreachable!("matched an object above")
            };
            level = children;
        }
        level.push((last.clone(), Node::Value(value)));
    }

    /// The residual as compact JSON text.
    pub(crate) fn write_json(&self, out: &mut String) {
        write_members(&self.root, out);
    }
}

fn write_members(members: &[(Cow<'_, str>, Node<'_>)], out: &mut String) {
    out.push('{');
    for (i, (key, node)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key.as_ref()).expect("a string serialises"));
        out.push(':');
        match node {
            Node::Value(raw) => out.push_str(&minify(raw.get())),
            Node::Object(children) => write_members(children, out),
        }
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> &RawValue {
        serde_json::from_str(s).unwrap()
    }

    /// Walks into the members named, at any depth.
    struct Walks(&'static [&'static str]);

    impl Guide for Walks {
        fn object(&self, key: &str) -> Option<&Self> {
            self.0.contains(&key).then_some(self)
        }
    }

    const PLAIN: Walks = Walks(&[]);

    #[test]
    fn minify_keeps_strings_and_borrows_compact_text() {
        assert!(matches!(minify(r#"{"a":1}"#), Cow::Borrowed(_)));
        assert_eq!(
            minify("{ \"a b\" : [1, \"x \\\" y\"],\n \"c\": null }"),
            r#"{"a b":[1,"x \" y"],"c":null}"#
        );
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        assert!(matches!(
            string(raw(r#""plain""#)),
            Some(Cow::Borrowed("plain"))
        ));
        assert_eq!(string(raw(r#""a\u003db""#)).unwrap(), "a=b");
        assert!(string(raw("12")).is_none());
    }

    #[test]
    fn records_before_a_cut_are_handed_over() {
        let text = r#"{"Records":[{"a":1},{"b":2},{"c":"#;
        let mut seen = Vec::new();
        let err = for_each_record(text, &PLAIN, &mut |i, r| seen.push((i, r.text.to_owned())))
            .unwrap_err();
        assert_eq!(
            seen,
            [(0, r#"{"a":1}"#.to_owned()), (1, r#"{"b":2}"#.to_owned())]
        );
        assert!(matches!(err, RecordsError::Json { records: 2, .. }));
    }

    #[test]
    fn objects_without_records_are_told_apart() {
        let mut none = |_, _: Record<'_>| panic!("no records expected");
        assert!(matches!(
            for_each_record(r#"{"foo":[]}"#, &PLAIN, &mut none),
            Err(RecordsError::NoRecords)
        ));
        assert!(matches!(
            for_each_record("[1,2]", &PLAIN, &mut none),
            Err(RecordsError::NotObject)
        ));
        assert!(matches!(
            for_each_record("", &PLAIN, &mut none),
            Err(RecordsError::Json { .. })
        ));
    }

    #[test]
    fn records_of_every_records_array_are_handed_over_in_order() {
        let text = r#"{"Records":[{"a":1},{"b":2}],"x":0,"Records":[{"c":3}]}"#;
        let mut seen = Vec::new();
        let err = for_each_record(text, &PLAIN, &mut |i, r| seen.push((i, r.text.to_owned())))
            .unwrap_err();
        assert_eq!(
            seen,
            [
                (0, r#"{"a":1}"#.to_owned()),
                (1, r#"{"b":2}"#.to_owned()),
                (2, r#"{"c":3}"#.to_owned())
            ]
        );
        assert!(matches!(err, RecordsError::Repeated { arrays: 2 }));
    }

    #[test]
    fn every_record_is_handed_over_once_whichever_way_it_is_read() {
        // Split in one pass up to the string; the rest read the plain way.
        let text = "{ \"Records\" : [ {\"a\": 1} ,\n{ \"b\" : {\"c\": [2]} }, \"x\", {}, {\"k\\u0065y\": 3}, { \"d\":4 } ], \"more\": 5 }";
        let mut seen = Vec::new();
        let count = for_each_record(text, &PLAIN, &mut |i, r| {
            let split = r.members.is_some();
            let keys: Option<Vec<String>> = r
                .into_members()
                .map(|m| m.into_iter().map(|(k, _)| k.into_owned()).collect());
            seen.push((i, split, keys));
        })
        .unwrap();
        assert_eq!(count, 6);
        let keys = |k: &[&str]| Some(k.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            seen,
            [
                (0, true, keys(&["a"])),
                (1, true, keys(&["b"])),
                (2, false, None),
                (3, false, keys(&[])),
                (4, false, keys(&["key"])),
                (5, false, keys(&["d"])),
            ]
        );
        let mut texts = Vec::new();
        for_each_record(text, &PLAIN, &mut |_, r| texts.push(r.text)).unwrap();
        assert_eq!(
            texts,
            [
                r#"{"a": 1}"#,
                "{ \"b\" : {\"c\": [2]} }",
                r#""x""#,
                "{}",
                r#"{"k\u0065y": 3}"#,
                r#"{ "d":4 }"#
            ]
        );
    }

    /// The shape of split members: keys, with `{..}` around split objects.
    fn outline(members: &Split<'_>) -> String {
        let parts: Vec<String> = members
            .iter()
            .map(|(key, value)| match value {
                Value::Raw(raw) => format!("{key}={}", raw.get()),
                Value::Object(inner) => format!("{key}{{{}}}", outline(inner)),
                Value::Null => format!("{key}~"),
            })
            .collect();
        parts.join(",")
    }

    /// Each record of `records`, read with a guide that walks `u`, `w` and
    /// `s`: whether it was split on the first read, its text, its outline.
    fn read_guided(records: &[&str]) -> Vec<(bool, String, String)> {
        let text = format!("{{\"Records\":[{}]}}", records.join(" ,\n"));
        let mut seen = Vec::new();
        let count = for_each_record(&text, &Walks(&["u", "w", "s"]), &mut |_, r| {
            let split = r.members.is_some();
            let text = r.text.to_owned();
            seen.push((split, text, outline(&r.into_members().unwrap())));
        })
        .unwrap();
        assert_eq!(count, records.len());
        seen
    }

    #[test]
    fn guided_objects_are_split_on_the_first_read() {
        // Split at two levels; the record ends in a split object.
        let nested = r#"{"a":1,"u":{"s":{},"t":[1]}, "w" : { "s" : {"x":"y"} } }"#;
        assert_eq!(
            read_guided(&[nested, r#"{"u":null,"a":2}"#]),
            [
                (
                    true,
                    nested.to_owned(),
                    r#"a=1,u{s{},t=[1]},w{s{x="y"}}"#.to_owned()
                ),
                (true, r#"{"u":null,"a":2}"#.to_owned(), "u~,a=2".to_owned()),
            ]
        );
        // A walked member last that is null or an empty object leaves the
        // record's end unknown, and a walked member that is not an object
        // fails the split read: either way the record, and those after it,
        // are read the plain way.
        for odd in [
            r#"{"u":{"s":null},"w":null}"#,
            r#"{"u":{"s":{}}}"#,
            r#"{"u":"odd","a":2}"#,
        ] {
            let read = read_guided(&[nested, odd, r#"{"w":{"s":[]}}"#]);
            let plain: Vec<(bool, &str)> = read.iter().map(|(s, t, _)| (*s, t.as_str())).collect();
            assert_eq!(
                plain,
                [(true, nested), (false, odd), (false, r#"{"w":{"s":[]}}"#)]
            );
            assert_eq!(read[2].2, r#"w={"s":[]}"#);
        }
        assert_eq!(
            read_guided(&[r#"{"u":"odd","a":2}"#])[0].2,
            r#"u="odd",a=2"#
        );
    }

    #[test]
    fn residual_nests_by_path() {
        let mut r = Residual::default();
        r.keep(&["userIdentity".into(), "x".into()], raw("1"));
        r.keep(&["top".into()], raw("[1, 2]"));
        r.keep(
            &["userIdentity".into(), "sessionContext".into(), "y".into()],
            raw(r#""s""#),
        );
        let mut out = String::new();
        r.write_json(&mut out);
        assert_eq!(
            out,
            r#"{"userIdentity":{"x":1,"sessionContext":{"y":"s"}},"top":[1,2]}"#
        );
    }
}
