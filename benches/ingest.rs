//! Criterion micro-benchmarks of ingest, throughput in bytes of JSON:
//! decoding objects into Arrow rows on one core, and converting a whole
//! archive into a lake (listing, inflating, decoding, dedup and Parquet).
//!
//! `cargo bench -p ctlake-bench`

use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// A generated archive of about `mib` MiB of JSON: one account and region,
/// one day of five-minute deliveries.
fn archive(dir: &Path, mib: u64) -> PathBuf {
    let root = dir.join("archive");
    let spec = ctlake_bench::Spec {
        json_bytes: mib << 20,
        accounts: 1,
        regions: vec!["us-east-1".to_owned()],
        days: 1,
        ..ctlake_bench::Spec::default()
    };
    ctlake_bench::generate(&spec, &root, 2).expect("archive written");
    root
}

fn decode(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = archive(dir.path(), 16);
    let texts: Vec<(String, Vec<u8>)> = ctlake_bench::inflate::objects(&root)
        .expect("archive listed")
        .into_iter()
        .map(|path| {
            let location = path.display().to_string();
            let bytes = std::fs::read(&path).expect("object read");
            let text = ctlake_ingest::inflate(&location, &bytes, u64::MAX).expect("gzip");
            (location, text)
        })
        .collect();
    let json_bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(json_bytes as u64));
    group.bench_function("records to Arrow rows", |b| {
        b.iter(|| {
            let mut decoder = ctlake_ingest::Decoder::default();
            let rows: usize = texts
                .iter()
                .map(|(location, text)| decoder.decode(location, text))
                .sum();
            (rows, decoder.finish())
        });
    });
    group.finish();
}

fn convert(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = archive(dir.path(), 32);
    let json_bytes =
        ctlake_bench::inflate::inflate_all(&root, 1, ctlake_bench::inflate::Work::Inflate)
            .expect("archive inflates")
            .json_bytes;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("convert");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(json_bytes));
    group.bench_function("archive to lake", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("temp dir"),
            |lake| {
                let options = ctlake_ingest::IngestOptions::new(
                    vec![root.clone().into()],
                    lake.path().join("lake").into(),
                );
                runtime
                    .block_on(ctlake_ingest::ingest(
                        &options,
                        std::sync::Arc::new(ctlake_ingest::NoProgress),
                    ))
                    .expect("ingest runs")
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, decode, convert);
criterion_main!(benches);
