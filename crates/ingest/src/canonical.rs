//! A record's content hash, over a canonical form of its JSON: object keys
//! sorted (by their decoded text, stable for repeated keys), no white
//! space, strings re-escaped one way, numbers written from their 64-bit
//! value (a whole one as an integer). Two deliveries of one event hash the
//! same however they were serialised (a pretty-printed export, another key
//! order, `70` for `70.0`); any other difference gives another hash.
//!
//! A record nested deeper than serde_json's recursion limit is hashed over
//! its text with white space removed instead, marked so it never equals a
//! canonical hash: the record is still stored, and an identical copy is
//! still a duplicate. So is a record holding a number that its 64-bit value
//! does not write back (`0.10000000000000001`, `18446744073709551616`):
//! another number of the same value would otherwise hash the same, and a
//! record differing only there would be taken for a copy and not stored.
//!
//! The decoder already splits a record into members, and the known objects
//! in it (`userIdentity` and its parts) too, to fill the columns. It writes
//! the canonical form of those levels as it walks them ([`ContentHasher::open_object`]
//! and the methods after it), so only the values it does not walk into are
//! parsed again here. [`ContentHasher::hash`] parses a whole record and is
//! what defines the form: a walked record gives the same bytes.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::json;

/// Bytes of the digest kept: 128 bits, written as 32 hex digits.
pub(crate) const HASH_BYTES: usize = 16;

/// Nesting from which a walked record is hashed by [`ContentHasher::hash`]
/// instead: near serde_json's recursion limit (128) it decides between the
/// canonical and the minified form, and a value parsed on its own would
/// meet the limit at another depth than inside its record.
const WALK_DEPTH_LIMIT: usize = 64;

/// Hashes records; holds buffers reused from one record to the next.
#[derive(Default)]
pub(crate) struct ContentHasher {
    buffers: Buffers,
    /// False once a walked value could not be written canonically.
    walk_ok: bool,
}

/// The position of a member being written by a walk.
pub(crate) struct MemberStart {
    start: usize,
    key: Range<usize>,
}

impl ContentHasher {
    /// The content hash of the JSON text `raw` as lower-case hex.
    pub(crate) fn hash(&mut self, raw: &str) -> [u8; HASH_BYTES * 2] {
        self.buffers.out.clear();
        self.buffers.fractions = false;
        let mut de = serde_json::Deserializer::from_str(raw);
        let canonical = Canon {
            buffers: &mut self.buffers,
            depth: 0,
        }
        .deserialize(&mut de);
        let digest = if canonical.is_ok() && !self.buffers.inexact(raw) {
            blake3::hash(&self.buffers.out)
        } else {
            let mut hasher = blake3::Hasher::new();
            hasher.update(b"\0minified\0");
            hasher.update(json::minify(raw).as_bytes());
            hasher.finalize()
        };
        hex(&digest)
    }

    /// Starts a record the decoder walks: `open_object(0)` comes next.
    pub(crate) fn begin(&mut self) {
        self.buffers.out.clear();
        self.buffers.deepest = 0;
        self.buffers.fractions = false;
        self.walk_ok = true;
    }

    /// Opens an object `depth` levels into the record (0: the record).
    pub(crate) fn open_object(&mut self, depth: usize) -> usize {
        self.buffers.open_object(depth)
    }

    /// Starts a member of the object open at `depth`. `plain`: the key had
    /// no escapes in the input (the parser borrowed it).
    pub(crate) fn key(&mut self, depth: usize, key: &str, plain: bool) -> MemberStart {
        self.buffers.key(depth, key, plain)
    }

    /// Writes a member's value that the walk does not go into.
    pub(crate) fn value(&mut self, depth: usize, raw: &RawValue) {
        let text = raw.get();
        if json::plain_string(raw).is_some() || matches!(text, "true" | "false" | "null") {
            // Already canonical: see `write_borrowed_str`.
            self.buffers.out.extend_from_slice(text.as_bytes());
            return;
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let written = Canon {
            buffers: &mut self.buffers,
            depth: depth + 1,
        }
        .deserialize(&mut de);
        self.walk_ok &= written.is_ok();
    }

    /// Ends a member started with [`ContentHasher::key`].
    pub(crate) fn end_member(&mut self, depth: usize, member: MemberStart) {
        self.buffers.end_member(depth, member);
    }

    /// Closes the object opened at `start`.
    pub(crate) fn close_object(&mut self, depth: usize, start: usize) {
        self.buffers.close_object(depth, start);
    }

    /// The hash of the walked record `raw`.
    pub(crate) fn finish(&mut self, raw: &str) -> [u8; HASH_BYTES * 2] {
        if self.walk_ok && self.buffers.deepest < WALK_DEPTH_LIMIT && !self.buffers.inexact(raw) {
            hex(&blake3::hash(&self.buffers.out))
        } else {
            self.hash(raw)
        }
    }
}

/// Whether the JSON number `text` is the number the canonical form writes
/// for it: an integer read exactly, or a float whose shortest form has the
/// same digits and scale (`1.50` writes back as `1.5`; `0.10000000000000001`
/// and `18446744073709551616` do not).
fn writes_back(text: &str) -> bool {
    if text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() {
        return true;
    }
    let Ok(value) = text.parse::<f64>() else {
        return false;
    };
    let written = match whole(value) {
        Some(n) => n.to_string(),
        None => match serde_json::to_string(&value) {
            Ok(written) => written,
            Err(_) => return false,
        },
    };
    decimal(text) == decimal(&written)
}

/// 2⁶³: 64-bit integers run from −2⁶³ to 2⁶⁴ − 1.
const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;

/// A whole float in the range of 64-bit integers, as the integer the
/// canonical form writes for it, so `70.0`, `7e1` and `70` (a re-export's
/// spelling) are one value, as they are in JSON.
fn whole(v: f64) -> Option<i128> {
    (v.fract() == 0.0 && (-TWO_TO_63..2.0 * TWO_TO_63).contains(&v)).then_some(v as i128)
}

/// A decimal number's sign, significant digits and exponent of its last
/// digit: the same for every spelling of one value.
fn decimal(text: &str) -> (bool, String, i64) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    let scale = exponent - fraction.len() as i64 + (digits.len() - significant.len()) as i64;
    if significant.is_empty() {
        // Zero has no sign: `-0.0` is written `0`.
        return (false, String::new(), 0);
    }
    (negative, significant.to_owned(), scale)
}

fn hex(digest: &blake3::Hash) -> [u8; HASH_BYTES * 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; HASH_BYTES * 2];
    for (i, b) in digest.as_bytes()[..HASH_BYTES].iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    out
}

/// One member of an object as written to the canonical buffer: the first
/// bytes of its key, its key's escaped text (without quotes), and
/// `"key":value` as a whole.
type Member = (u64, Range<usize>, Range<usize>);

/// The first eight bytes of an escaped key as a big-endian number, zeros
/// after a shorter key. An escaped key has no zero byte (it would be
/// written `\u0000`), so comparing these numbers orders keys as comparing
/// their bytes does, up to a tie that the whole keys then settle; members
/// are sorted for every object of every record, and most keys differ early.
fn key_prefix(key: &[u8]) -> u64 {
    let mut first = [0u8; 8];
    let n = key.len().min(8);
    first[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(first)
}

/// The canonical form being written, and what writing it reuses.
#[derive(Default)]
struct Buffers {
    out: Vec<u8>,
    /// Member lists of the objects being written, one per nesting level,
    /// kept so their allocations are reused.
    members: Vec<Vec<Member>>,
    tail: Vec<u8>,
    /// The deepest nesting level written since the last [`ContentHasher::begin`].
    deepest: usize,
    /// Whether a number was written from a 64-bit float since the last
    /// [`ContentHasher::begin`]: only then can a number's text and value differ.
    fractions: bool,
}

impl Buffers {
    /// Whether the record `raw` holds a number its value does not write
    /// back, when it holds any that was read as a float.
    fn inexact(&mut self, raw: &str) -> bool {
        std::mem::take(&mut self.fractions) && json::numbers(raw).any(|n| !writes_back(n))
    }

    fn open_object(&mut self, depth: usize) -> usize {
        if self.members.len() <= depth {
            self.members.resize_with(depth + 1, Vec::new);
        }
        self.members[depth].clear();
        self.deepest = self.deepest.max(depth);
        let start = self.out.len();
        self.out.push(b'{');
        start
    }

    fn key(&mut self, depth: usize, key: &str, plain: bool) -> MemberStart {
        if !self.members[depth].is_empty() {
            self.out.push(b',');
        }
        let start = self.out.len();
        if plain {
            write_borrowed_str(&mut self.out, key);
        } else {
            write_str(&mut self.out, key);
        }
        let key = start + 1..self.out.len() - 1;
        self.out.push(b':');
        MemberStart { start, key }
    }

    fn end_member(&mut self, depth: usize, member: MemberStart) {
        let prefix = key_prefix(&self.out[member.key.clone()]);
        self.members[depth].push((prefix, member.key, member.start..self.out.len()));
    }

    fn close_object(&mut self, depth: usize, start: usize) {
        // Any fixed order of the escaped keys will do, as escaping is itself
        // canonical. Stable: repeated keys keep their order, which is content.
        // Objects already in order (all those of one member) stay as written.
        let members = &mut self.members[depth];
        let out = &self.out;
        let order = |a: &Member, b: &Member| {
            a.0.cmp(&b.0)
                .then_with(|| out[a.1.clone()].cmp(&out[b.1.clone()]))
        };
        if !members
            .windows(2)
            .all(|pair| order(&pair[0], &pair[1]).is_le())
        {
            members.sort_by(order);
            self.tail.clear();
            self.tail.extend_from_slice(&self.out[start..]);
            self.out.truncate(start + 1);
            for (i, (_, _, member)) in members.iter().enumerate() {
                if i > 0 {
                    self.out.push(b',');
                }
                self.out
                    .extend_from_slice(&self.tail[member.start - start..member.end - start]);
            }
        }
        self.out.push(b'}');
    }
}

/// Writes the canonical form of one value.
struct Canon<'b> {
    buffers: &'b mut Buffers,
    depth: usize,
}

impl Canon<'_> {
    fn nested(&mut self) -> Canon<'_> {
        Canon {
            buffers: self.buffers,
            depth: self.depth + 1,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Canon<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// Writes a string the parser borrowed from the input. It had no escapes,
/// and valid JSON has no raw quote or control character in a string, so its
/// text is already what [`write_str`] would write between the quotes.
fn write_borrowed_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

impl<'de> Visitor<'de> for Canon<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.buffers
            .out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        serde_json::to_writer(&mut self.buffers.out, &v).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        serde_json::to_writer(&mut self.buffers.out, &v).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.buffers.fractions = true;
        match whole(v) {
            Some(n) => serde_json::to_writer(&mut self.buffers.out, &n),
            None => serde_json::to_writer(&mut self.buffers.out, &v),
        }
        .map_err(E::custom)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        write_str(&mut self.buffers.out, v);
        Ok(())
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        write_borrowed_str(&mut self.buffers.out, v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.buffers.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.buffers.deepest = self.buffers.deepest.max(self.depth);
        self.buffers.out.push(b'[');
        let mut first = true;
        loop {
            let start = self.buffers.out.len();
            if !first {
                self.buffers.out.push(b',');
            }
            if seq.next_element_seed(self.nested())?.is_none() {
                self.buffers.out.truncate(start);
                break;
            }
            first = false;
        }
        self.buffers.out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let depth = self.depth;
        let start = self.buffers.open_object(depth);
        while let Some(json::Str(key)) = map.next_key()? {
            let member = self
                .buffers
                .key(depth, &key, matches!(key, Cow::Borrowed(_)));
            map.next_value_seed(self.nested())?;
            self.buffers.end_member(depth, member);
        }
        self.buffers.close_object(depth, start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str) -> String {
        String::from_utf8(ContentHasher::default().hash(text).to_vec()).unwrap()
    }

    #[test]
    fn serialisation_does_not_matter() {
        let a = hash(r#"{"b":{"y":[1,{"q":2,"p":"x"}],"x":null},"a":"\u0041é"}"#);
        let b = hash(
            "{ \"a\" : \"Aé\",\n  \"b\": {\"x\": null, \"y\": [ 1, {\"p\": \"x\", \"q\": 2} ] } }",
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn content_does() {
        let base = hash(r#"{"a":1,"b":"x"}"#);
        for other in [
            r#"{"a":2,"b":"x"}"#,
            r#"{"a":1,"b":"X"}"#,
            r#"{"a":1,"b":"x","c":null}"#,
            r#"{"a":[1],"b":"x"}"#,
            r#"{"A":1,"b":"x"}"#,
        ] {
            assert_ne!(hash(other), base, "{other}");
        }
        // Order inside arrays is content.
        assert_ne!(hash("[1,2]"), hash("[2,1]"));
    }

    #[test]
    fn numbers_of_one_float_value_are_still_content() {
        // Two spellings a 64-bit float cannot tell apart are two contents...
        for (a, b) in [
            ("0.1", "0.10000000000000001"),
            ("18446744073709551616", "18446744073709551617"),
            ("1e400", "2e400"),
        ] {
            let (a, b) = (format!(r#"{{"n":{a}}}"#), format!(r#"{{"n":{b}}}"#));
            assert_ne!(hash(&a), hash(&b), "{a} {b}");
            assert_eq!(hash(&a), hash(&format!(" {a} ")), "{a}");
        }
        // ...while spellings of a number it holds exactly hash as before.
        assert_eq!(
            hash(r#"{"n":[1.5,0.0,-2e3]}"#),
            hash(r#"{"n":[1.50,0.00,-2000.0]}"#)
        );
        assert_eq!(hash(r#"{"n":1.5}"#), hash(r#"{ "n" : 15e-1 }"#));
        // Whole numbers are one value whether written as integers or not.
        for (a, b) in [
            ("70", "70.0"),
            ("10", "1e1"),
            ("0", "-0.0"),
            ("-3", "-3.000"),
            ("9007199254740992", "9007199254740992.0"),
            ("100000000000000000000", "1e20"),
            ("9223372036854775808", "9223372036854775808.0"),
            ("-9223372036854775808", "-9.223372036854775808e18"),
        ] {
            let (a, b) = (format!(r#"{{"n":{a}}}"#), format!(r#"{{"n":{b}}}"#));
            assert_eq!(hash(&a), hash(&b), "{a} {b}");
        }
        assert_ne!(hash(r#"{"n":70}"#), hash(r#"{"n":70.5}"#));
        assert_ne!(hash(r#"{"n":70}"#), hash(r#"{"n":"70"}"#));
        for written in ["0.1", "1.5", "1.8446744073709552e19", "-0.0", "5e-324"] {
            assert!(writes_back(written), "{written}");
        }
        assert!(!writes_back("0.10000000000000001"));
    }

    #[test]
    fn deep_nesting_hashes_without_overflow() {
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let spaced = format!("{} 1{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(hash(&deep), hash(&spaced));
        let other = format!("{}2{}", "[".repeat(5000), "]".repeat(5000));
        assert_ne!(hash(&deep), hash(&other));
    }
}
