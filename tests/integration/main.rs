//! ctlake's integration tests: one binary, one module per area.

mod common;
mod conformance;
mod crash;
mod forensic;
mod hunt_cli;
mod hunt_library;
mod incremental;
mod ingest_cli;
mod pruning;
mod query_cli;
mod repl;
mod s3;
mod s3_server;
mod verify;
