//! The decompression floor: inflating every object of an archive, with no
//! parsing, on all cores, with ingest's own inflate. The ratio between an
//! ingest and this is the cost of everything else.

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

/// Reads and inflates every object under `root` on `threads` threads.
pub fn inflate_all(root: &Path, threads: usize) -> std::io::Result<Inflated> {
    let objects = objects(root)?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let total = Mutex::new(Ok(Inflated::default()));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut mine = Inflated::default();
                let outcome = loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(path) = objects.get(i) else {
                        break Ok(());
                    };
                    let location = path.display().to_string();
                    let read = std::fs::read(path)
                        .map_err(|e| std::io::Error::new(e.kind(), format!("{location}: {e}")))
                        .and_then(|bytes| {
                            let text = ctlake_ingest::inflate(&location, &bytes, u64::MAX)
                                .map_err(std::io::Error::other)?;
                            Ok((bytes.len(), text.len()))
                        });
                    match read {
                        Ok((gzip, json)) => {
                            mine.objects += 1;
                            mine.gzip_bytes += gzip as u64;
                            mine.json_bytes += json as u64;
                        }
                        Err(e) => break Err(e),
                    }
                };
                let mut total = total.lock().expect("no panics holding it");
                match (&mut *total, outcome) {
                    (Ok(sum), Ok(())) => {
                        sum.objects += mine.objects;
                        sum.gzip_bytes += mine.gzip_bytes;
                        sum.json_bytes += mine.json_bytes;
                    }
                    (Ok(_), Err(e)) => *total = Err(e),
                    (Err(_), _) => {}
                }
            });
        }
    });
    total.into_inner().expect("no panics holding it")
}
