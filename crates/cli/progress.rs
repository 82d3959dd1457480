//! The ingest progress bar: on stderr when it is a terminal, silent otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shows files, events, bytes and an ETA while ingest runs.
pub struct Bar {
    progress: ProgressBar,
    events: AtomicU64,
    bytes: AtomicU64,
}

impl Bar {
    /// A bar drawn on stderr if it is a terminal and `quiet` is false.
    pub fn new(quiet: bool) -> Self {
        let target = if !quiet && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        // Length grows as the listing streams in.
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} files  {msg}  {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template"),
        );
        Self {
            progress: bar,
            events: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Removes the bar from the screen.
    pub fn finish(&self) {
        self.progress.finish_and_clear();
    }
}

impl ctlake_ingest::Progress for Bar {
    fn listed(&self, objects: u64, _bytes: u64) {
        self.progress.inc_length(objects);
    }

    fn object_done(&self, bytes: u64, events: u64) {
        let events = self.events.fetch_add(events, Ordering::Relaxed) + events;
        let bytes = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.progress
            .set_message(format!("{events} events, {}", ctlake_ingest::human(bytes)));
        self.progress.inc(1);
    }
}
