//! The decompression floor: inflating every object of an archive, with no
//! parsing, on all cores, with ingest's own inflate. The ratio between an
//! ingest and this is the cost of everything else.
//!
//! [`Work::KeepVerbatim`] adds what keeping every record verbatim and
//! content-hashed costs on top of it, whatever the parser: BLAKE3 over the
//! text and zstd level 1 over it in pages about the size of Parquet's. Both
//! are done more cheaply than ingest can (one hash per object rather than
//! one per record, only the records' text compressed, no other column), so
//! the time is about the least an ingest writing ctlake's lake can take.
//! Only about: zstd's speed depends on the data, and ingest compresses the
//! records sorted by partition and time rather than in delivery order.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What [`inflate_all`] read.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Inflated {
    /// Objects inflated.
    pub objects: u64,
    /// Compressed bytes read.
    pub gzip_bytes: u64,
    /// Bytes after inflating.
    pub json_bytes: u64,
    /// Bytes zstd made of them, with [`Work::KeepVerbatim`].
    pub zstd_bytes: u64,
}

/// What is done to each object's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Inflate only: the decompression floor.
    Inflate,
    /// Inflate, then hash and compress the text as a lake keeping it must.
    KeepVerbatim,
}

/// Bytes compressed at once in [`Work::KeepVerbatim`]: Parquet's default
/// data page size limit. The records column's pages are about this size
/// (parquet-rs checks the limit every 1,024 values).
const PAGE_BYTES: usize = 1 << 20;

/// A thread's hashing and compressing for [`Work::KeepVerbatim`]. Texts are
/// gathered into pages as the Parquet writer gathers records, so zstd sees
/// pages of about the size of ingest's.
struct Keep {
    compressor: zstd::bulk::Compressor<'static>,
    page: Vec<u8>,
    zstd_bytes: u64,
}

impl Keep {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            compressor: zstd::bulk::Compressor::new(1)?,
            page: Vec::with_capacity(PAGE_BYTES),
            zstd_bytes: 0,
        })
    }

    fn add(&mut self, text: &[u8]) -> std::io::Result<()> {
        std::hint::black_box(blake3::hash(text));
        let mut rest = text;
        while !rest.is_empty() {
            let (now, later) = rest.split_at(rest.len().min(PAGE_BYTES - self.page.len()));
            self.page.extend_from_slice(now);
            if self.page.len() == PAGE_BYTES {
                self.compress_page()?;
            }
            rest = later;
        }
        Ok(())
    }

    fn compress_page(&mut self) -> std::io::Result<()> {
        self.zstd_bytes += self.compressor.compress(&self.page)?.len() as u64;
        self.page.clear();
        Ok(())
    }

    /// Compresses the last, partial page; returns the bytes zstd made.
    fn finish(mut self) -> std::io::Result<u64> {
        if !self.page.is_empty() {
            self.compress_page()?;
        }
        Ok(self.zstd_bytes)
    }
}

/// Every `.json.gz` under `root`, in name order.
pub fn objects(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry?;
        if entry.file_type().is_file() && entry.file_name().to_string_lossy().ends_with(".json.gz")
        {
            found.push(entry.into_path());
        }
    }
    Ok(found)
}

/// Reads and inflates every object under `root` on `threads` threads, and
/// does `work` with each text.
pub fn inflate_all(root: &Path, threads: usize, work: Work) -> std::io::Result<Inflated> {
    let objects = objects(root)?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let total = Mutex::new(Ok(Inflated::default()));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut mine = Inflated::default();
                let outcome = (|| {
                    let mut keep = match work {
                        Work::Inflate => None,
                        Work::KeepVerbatim => Some(Keep::new()?),
                    };
                    while let Some(path) =
                        objects.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        let location = path.display().to_string();
                        let bytes = std::fs::read(path).map_err(|e| {
                            std::io::Error::new(e.kind(), format!("{location}: {e}"))
                        })?;
                        let text = ctlake_ingest::inflate(&location, &bytes, u64::MAX)
                            .map_err(std::io::Error::other)?;
                        if let Some(keep) = keep.as_mut() {
                            keep.add(&text)?;
                        }
                        mine.objects += 1;
                        mine.gzip_bytes += bytes.len() as u64;
                        mine.json_bytes += text.len() as u64;
                    }
                    mine.zstd_bytes = keep.map_or(Ok(0), Keep::finish)?;
                    Ok(())
                })();
                let mut total = total.lock().expect("no panics holding it");
                match (&mut *total, outcome) {
                    (Ok(sum), Ok(())) => {
                        sum.objects += mine.objects;
                        sum.gzip_bytes += mine.gzip_bytes;
                        sum.json_bytes += mine.json_bytes;
                        sum.zstd_bytes += mine.zstd_bytes;
                    }
                    (Ok(_), Err(e)) => *total = Err(e),
                    (Err(_), _) => {}
                }
            });
        }
    });
    total.into_inner().expect("no panics holding it")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_compressed_in_whole_pages_across_objects() {
        let mut keep = Keep::new().unwrap();
        let text = br#"{"eventName":"GetObject","sourceIPAddress":"203.0.113.9"},"#.repeat(10_000);
        let mut added = 0;
        while added < 2 * PAGE_BYTES + PAGE_BYTES / 2 {
            keep.add(&text).unwrap();
            added += text.len();
        }
        assert_eq!(
            keep.page.len(),
            added - 2 * PAGE_BYTES,
            "two whole pages are compressed, and the rest waits"
        );
        assert!(keep.zstd_bytes > 0);
        let two_pages = keep.zstd_bytes;
        let zstd_bytes = keep.finish().unwrap();
        assert!(zstd_bytes > two_pages, "the last page is compressed too");
        assert!(zstd_bytes < (added / 50) as u64, "{zstd_bytes} of {added}");
    }

    #[test]
    fn keeping_reads_what_inflating_reads() {
        let dir = tempfile::tempdir().unwrap();
        let spec = crate::Spec {
            json_bytes: 2 << 20,
            ..crate::Spec::default()
        };
        crate::generate(&spec, dir.path(), 2).unwrap();
        let inflated = inflate_all(dir.path(), 2, Work::Inflate).unwrap();
        let kept = inflate_all(dir.path(), 2, Work::KeepVerbatim).unwrap();
        assert!(inflated.objects > 10);
        assert_eq!(inflated.zstd_bytes, 0);
        assert_eq!(
            (kept.objects, kept.gzip_bytes, kept.json_bytes),
            (inflated.objects, inflated.gzip_bytes, inflated.json_bytes)
        );
        assert!(kept.zstd_bytes > 0 && kept.zstd_bytes < kept.json_bytes / 4);
    }
}
