//! The one place that decompresses. Every gzip member is read (CloudTrail and
//! `cat a.gz b.gz` both make multi-member files) and the decompressed size is
//! capped, so a gzip bomb costs at most the cap in memory.

use std::io::Read;

#[expect(
    clippy::disallowed_types,
    reason = "this module is the decompression choke point"
)]
use flate2::bufread::MultiGzDecoder;

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
#[expect(
    clippy::disallowed_types,
    reason = "this module is the decompression choke point"
)]
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
    let mut decoder = MultiGzDecoder::new(bytes);
    CHUNK_BUFFER
        .with_borrow_mut(|chunk| {
            chunk.resize(CHUNK, 0);
            inflate_into(&mut decoder, chunk, &mut text, cap, location, limit)
        })
        .map(|error| Decompressed { text, error })
}

thread_local! {
    /// The buffer inflated into, one per thread: zeroing a fresh one for
    /// every object cost more than inflating the object.
    static CHUNK_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Inflates all of `decoder` into `text`, `chunk` at a time. Returns the
/// error that broke the stream part-way, if one did.
#[expect(
    clippy::disallowed_types,
    reason = "this module is the decompression choke point"
)]
fn inflate_into(
    decoder: &mut MultiGzDecoder<&[u8]>,
    chunk: &mut [u8],
    text: &mut Vec<u8>,
    cap: usize,
    location: &str,
    limit: u64,
) -> Result<Option<Error>, Error> {
    let error = loop {
        match decoder.read(chunk) {
            Ok(0) => break None,
            Ok(n) => {
                if text.len() + n > cap {
                    return Err(Error::TooLarge {
                        location: location.to_owned(),
                        limit,
                    });
                }
                if text.capacity() - text.len() < n {
                    let grown = text.capacity().saturating_mul(2).clamp(CHUNK, cap);
                    text.reserve_exact(grown.max(text.len() + n) - text.len());
                }
                text.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                break Some(Error::Gzip {
                    location: location.to_owned(),
                    decompressed: text.len() as u64,
                    source,
                });
            }
        }
    };
    Ok(error)
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
    fn cap_stops_a_bomb() {
        let bomb = gz(&vec![0u8; 10 << 20]);
        assert!(matches!(
            decompress("x", &bomb, true, 1 << 20),
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
