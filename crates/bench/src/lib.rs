//! Benchmark tools: a seeded generator of realistic CloudTrail archives, the
//! decompression floor an ingest is measured against, and about the least
//! an ingest keeping every record verbatim and hashed can cost.

pub mod inflate;
pub mod synth;

pub use synth::{Spec, Summary, generate};
