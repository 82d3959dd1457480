//! Benchmark tools: a seeded generator of realistic CloudTrail archives, and
//! the decompression floor an ingest is measured against.

pub mod inflate;
pub mod synth;

pub use synth::{Spec, Summary, generate};
