//! CloudTrail's public keys and the signatures of digest files.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use serde::Deserialize;

use crate::{Error, Result};

/// The public keys CloudTrail signs digests with, by fingerprint.
#[derive(Debug, Default)]
pub struct PublicKeys(HashMap<String, Vec<u8>>);

/// `aws cloudtrail list-public-keys` output.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyList {
    public_key_list: Vec<ListedKey>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedKey {
    value: String,
    fingerprint: String,
}

impl PublicKeys {
    /// Reads the output of `aws cloudtrail list-public-keys` (JSON) from each
    /// file: keys are per region, so an archive of several regions needs a
    /// list from each.
    pub fn read(paths: &[impl AsRef<Path>]) -> Result<Self> {
        let mut keys = Self::default();
        for path in paths {
            let path = path.as_ref();
            let text = std::fs::read(path).map_err(|source| Error::Keys {
                path: path.into(),
                message: source.to_string(),
            })?;
            let bad = |message: String| Error::Keys {
                path: path.into(),
                message,
            };
            let list: KeyList = serde_json::from_slice(&text).map_err(|e| {
                bad(format!(
                    "not the JSON of `aws cloudtrail list-public-keys`: {e}"
                ))
            })?;
            if list.public_key_list.is_empty() {
                return Err(bad(
                    "holds no key: list the keys of the archive's regions and time span".into(),
                ));
            }
            for key in list.public_key_list {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(key.value.trim())
                    .map_err(|e| {
                        bad(format!("key {}: Value is not base64: {e}", key.fingerprint))
                    })?;
                if !is_rsa_public_key(&der) {
                    return Err(bad(format!(
                        "key {}: Value is not a DER RSAPublicKey, as list-public-keys gives",
                        key.fingerprint
                    )));
                }
                keys.0.insert(key.fingerprint.to_ascii_lowercase(), der);
            }
        }
        Ok(keys)
    }

    /// Whether no key was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn get(&self, fingerprint: &str) -> Option<&[u8]> {
        self.0
            .get(&fingerprint.to_ascii_lowercase())
            .map(Vec::as_slice)
    }
}

/// What became of a digest's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signature {
    Valid,
    Invalid,
    NoKey,
    NotHex,
}

/// The text CloudTrail signs for a digest: its end time, bucket/key, the
/// SHA-256 of its decompressed bytes and the previous digest's signature
/// (`null` for the first of a chain).
pub(crate) fn signed_text(
    end_time: &str,
    bucket: &str,
    key: &str,
    sha256: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{sha256}\n{}",
        previous_signature.unwrap_or("null")
    )
}

/// Checks `signature` (hex) over `text` with the key named `fingerprint`:
/// RSA PKCS#1 v1.5 with SHA-256, as CloudTrail signs.
pub(crate) fn check(
    keys: &PublicKeys,
    fingerprint: &str,
    text: &str,
    signature: &str,
) -> Signature {
    let Some(der) = keys.get(fingerprint) else {
        return Signature::NoKey;
    };
    let Some(signature) = unhex(signature) else {
        return Signature::NotHex;
    };
    let key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, der);
    match key.verify(text.as_bytes(), &signature) {
        Ok(()) => Signature::Valid,
        Err(_) => Signature::Invalid,
    }
}

/// Whether `der` is shaped as PKCS#1's `RSAPublicKey ::= SEQUENCE {
/// modulus INTEGER, publicExponent INTEGER }`: a key list holding something
/// else would fail every signature, and read as tampering.
fn is_rsa_public_key(der: &[u8]) -> bool {
    /// The value of the DER element at the start of `bytes` if its tag is
    /// `tag`, and what follows it.
    fn element(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&first, rest) = bytes.split_first()?;
        let (&len, rest) = rest.split_first()?;
        if first != tag {
            return None;
        }
        let (len, rest) = if len < 0x80 {
            (usize::from(len), rest)
        } else {
            let count = usize::from(len & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (digits, rest) = rest.split_at(count);
            (
                digits.iter().fold(0usize, |n, d| n << 8 | usize::from(*d)),
                rest,
            )
        };
        (rest.len() >= len).then(|| rest.split_at(len))
    }
    let Some((sequence, [])) = element(der, 0x30) else {
        return false;
    };
    let Some((modulus, rest)) = element(sequence, 0x02) else {
        return false;
    };
    matches!(element(rest, 0x02), Some((exponent, [])) if !modulus.is_empty() && !exponent.is_empty())
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_text_is_four_lines_with_null_for_a_first_digest() {
        assert_eq!(
            signed_text("2024-03-10T01:00:00Z", "b", "AWSLogs/k.json.gz", "ab", None),
            "2024-03-10T01:00:00Z\nb/AWSLogs/k.json.gz\nab\nnull"
        );
        assert_eq!(
            signed_text("t", "b", "k", "ab", Some("ff00")),
            "t\nb/k\nab\nff00"
        );
    }

    #[test]
    fn only_an_rsa_public_key_is_taken_for_one() {
        // SEQUENCE { INTEGER 0x00c1, INTEGER 3 }, then a long-form length.
        assert!(is_rsa_public_key(&[
            0x30, 0x07, 0x02, 0x02, 0x00, 0xc1, 0x02, 0x01, 0x03
        ]));
        let mut long = vec![0x30, 0x81, 0x87, 0x02, 0x81, 0x81];
        long.extend([0xab; 0x81]);
        long.extend([0x02, 0x01, 0x03]);
        assert!(is_rsa_public_key(&long));
        assert!(!is_rsa_public_key(b"hello, world"));
        assert!(!is_rsa_public_key(&[0x30, 0x03, 0x02, 0x01, 0x05]));
        assert!(!is_rsa_public_key(&[
            0x30, 0x07, 0x02, 0x02, 0x00, 0xc1, 0x02, 0x01, 0x03, 0x00
        ]));
    }

    #[test]
    fn unhex_reads_pairs_and_refuses_the_rest() {
        assert_eq!(unhex("00ffA0"), Some(vec![0, 255, 160]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None);
    }

    #[test]
    fn an_unknown_fingerprint_or_a_bad_signature_is_not_valid() {
        let keys = PublicKeys(HashMap::from([("ab".to_owned(), vec![0x30, 0x00])]));
        assert_eq!(check(&keys, "cd", "t", "00"), Signature::NoKey);
        assert_eq!(check(&keys, "AB", "t", "xyz"), Signature::NotHex);
        assert_eq!(check(&keys, "ab", "t", "00ff"), Signature::Invalid);
    }
}
