//! The one place that decompresses. Every gzip member is read (CloudTrail and
//! `cat a.gz b.gz` both make multi-member files) and the decompressed size is
//! capped, so a gzip bomb costs at most the cap in memory.
//!
//! Members are read one at a time, so a failure is judged by where it is: a
//! member cut short keeps what came out before the cut (a prefix of what
//! was compressed), a member that is corrupt or fails its checksum keeps
//! nothing (any of its bytes may be wrong), and bytes after the last member
//! are only zeros (padding, ignored) or reported.

use std::io::Read;

#[expect(
    clippy::disallowed_types,
    reason = "this module is the decompression choke point"
)]
use flate2::bufread::GzDecoder;

use crate::Error;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Bytes inflated per read.
const CHUNK: usize = 256 * 1024;

/// An object's decompressed bytes. When the gzip stream broke part-way,
/// `text` holds what came out before the break and `error` says why, so the
/// complete records before the cut can still be read.
#[derive(Debug)]
pub(crate) struct Decompressed {
    pub text: Vec<u8>,
    pub error: Option<Error>,
}

/// Decompresses `bytes` if they are gzip; passes plain JSON through.
/// `named_gz` says whether the object's name promises gzip.
pub(crate) fn decompress(
    location: &str,
    bytes: &[u8],
    named_gz: bool,
    limit: u64,
) -> Result<Decompressed, Error> {
    if bytes.is_empty() {
        return Err(Error::EmptyObject {
            location: location.to_owned(),
        });
    }
    if !bytes.starts_with(&GZIP_MAGIC) {
        if named_gz {
            let head = bytes
                .iter()
                .take(4)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ");
            return Err(Error::NotGzip {
                location: location.to_owned(),
                head,
            });
        }
        if bytes.len() as u64 > limit {
            return Err(Error::TooLarge {
                location: location.to_owned(),
                limit,
            });
        }
        return Ok(Decompressed {
            text: bytes.to_vec(),
            error: None,
        });
    }
    // Most CloudTrail JSON compresses about 8:1; start near that. Growth is
    // exact past that, so the buffer never holds more than the cap plus a chunk.
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut text = Vec::with_capacity(bytes.len().saturating_mul(8).min(cap));
    CHUNK_BUFFER
        .with_borrow_mut(|chunk| {
            chunk.resize(CHUNK, 0);
            inflate_members(bytes, chunk, &mut text, cap, location, limit)
        })
        .map(|error| Decompressed { text, error })
}

thread_local! {
    /// The buffer inflated into, one per thread: zeroing a fresh one for
    /// every object cost more than inflating the object.
    static CHUNK_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Inflates every member of the gzip `bytes` into `text`, `chunk` at a
/// time. Returns the error that ended the stream early, if one did, with
/// `text` holding what can be trusted.
#[expect(
    clippy::disallowed_types,
    reason = "this module is the decompression choke point"
)]
fn inflate_members(
    bytes: &[u8],
    chunk: &mut [u8],
    text: &mut Vec<u8>,
    cap: usize,
    location: &str,
    limit: u64,
) -> Result<Option<Error>, Error> {
    let mut rest = bytes;
    let mut member = 1;
    loop {
        let start = text.len();
        let mut decoder = GzDecoder::new(rest);
        match inflate_into(&mut decoder, chunk, text, cap, location, limit)? {
            None => {}
            Some(source) if source.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(Some(Error::Gzip {
                    location: location.to_owned(),
                    decompressed: text.len() as u64,
                    source,
                }));
            }
            Some(source) => {
                text.truncate(start);
                return Ok(Some(Error::GzipCorrupt {
                    location: location.to_owned(),
                    member,
                    source,
                }));
            }
        }
        rest = decoder.into_inner();
        member += 1;
        if rest.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        if !rest.starts_with(&GZIP_MAGIC) {
            return Ok(Some(Error::TrailingBytes {
                location: location.to_owned(),
                offset: (bytes.len() - rest.len()) as u64,
                len: rest.len() as u64,
            }));
        }
    }
}

/// Inflates all of `decoder` (one member) into `text`, `chunk` at a time.
/// Returns the error that broke the member part-way, if one did.
fn inflate_into(
    decoder: &mut impl Read,
    chunk: &mut [u8],
    text: &mut Vec<u8>,
    cap: usize,
    location: &str,
    limit: u64,
) -> Result<Option<std::io::Error>, Error> {
    loop {
        match decoder.read(chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                if text.len() + n > cap {
                    return Err(Error::TooLarge {
                        location: location.to_owned(),
                        limit,
                    });
                }
                if text.capacity() - text.len() < n {
                    // Not clamp: a cap below one chunk is a valid setting.
                    let grown = text.capacity().saturating_mul(2).max(CHUNK).min(cap);
                    text.reserve_exact(grown.max(text.len() + n) - text.len());
                }
                text.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Ok(Some(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_every_member() {
        let mut two = gz(b"{\"Records\":[");
        two.extend(gz(b"1]}"));
        let out = decompress("x", &two, true, 1 << 20).unwrap();
        assert_eq!(out.text, b"{\"Records\":[1]}");
        assert!(out.error.is_none());
    }

    #[test]
    fn truncated_stream_keeps_its_prefix() {
        let data = vec![b'a'; 100_000];
        let whole = gz(&data);
        let out = decompress("x", &whole[..whole.len() / 2], true, 1 << 20).unwrap();
        assert!(out.error.is_some());
        assert!(!out.text.is_empty() && out.text.iter().all(|b| *b == b'a'));
    }

    #[test]
    fn a_corrupt_member_keeps_nothing_of_itself() {
        let mut two = gz(b"first ");
        let second = gz(b"second member");
        let at = two.len();
        two.extend(&second);
        // One flipped byte of the last member's text, its checksum unchanged.
        let stored = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::none());
            e.write_all(b"third").unwrap();
            e.finish().unwrap()
        };
        let mut corrupt = two.clone();
        let third = corrupt.len();
        corrupt.extend(&stored);
        let flipped = third + stored.len() - 8 - 2;
        corrupt[flipped] ^= 0x20;
        let out = decompress("x", &corrupt, true, 1 << 20).unwrap();
        assert_eq!(out.text, b"first second member");
        assert!(
            matches!(out.error, Some(Error::GzipCorrupt { member: 3, .. })),
            "{:?}",
            out.error
        );
        // A corrupt second member keeps only the first.
        let mut broken = two.clone();
        broken[at + 12] ^= 0xff;
        let out = decompress("x", &broken, true, 1 << 20).unwrap();
        assert_eq!(out.text, b"first ");
        assert!(out.error.is_some());
    }

    #[test]
    fn zeros_after_the_last_member_are_padding_other_bytes_are_reported() {
        let mut padded = gz(b"{\"Records\":[]}");
        padded.extend([0u8; 512]);
        let out = decompress("x", &padded, true, 1 << 20).unwrap();
        assert_eq!(out.text, b"{\"Records\":[]}");
        assert!(out.error.is_none());
        let mut junk = gz(b"{\"Records\":[]}");
        let at = junk.len();
        junk.extend(b"\ngarbage");
        let out = decompress("x", &junk, true, 1 << 20).unwrap();
        assert_eq!(out.text, b"{\"Records\":[]}");
        assert!(
            matches!(out.error, Some(Error::TrailingBytes { offset, len: 8, .. }) if offset == at as u64),
            "{:?}",
            out.error
        );
    }

    #[test]
    fn cap_stops_a_bomb() {
        let bomb = gz(&vec![0u8; 10 << 20]);
        assert!(matches!(
            decompress("x", &bomb, true, 1 << 20),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn a_cap_below_one_chunk_reads_what_fits() {
        let text = vec![b'x'; 150_000];
        let fits = decompress("x", &gz(&text), true, 200_000).unwrap();
        assert_eq!(fits.text, text);
        assert!(matches!(
            decompress("x", &gz(&text), true, 100_000),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn names_lie_and_empties_are_errors() {
        assert!(matches!(
            decompress("x", b"{}", true, 10),
            Err(Error::NotGzip { .. })
        ));
        assert!(matches!(
            decompress("x", b"", false, 10),
            Err(Error::EmptyObject { .. })
        ));
        assert_eq!(decompress("x", b"{}", false, 10).unwrap().text, b"{}");
    }
}
