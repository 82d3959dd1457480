//! Filters on the partition columns read only the matching folders; point
//! lookups read only the row groups that can hold the value.

use crate::common;

/// The Parquet files the physical plan of `sql` will open, relative to the table.
fn planned_files(lake: &std::path::Path, sql: &str) -> Vec<String> {
    // Verbose: the plain EXPLAIN abbreviates long file lists.
    let plan = common::rows_as_json(&common::query(lake, &format!("EXPLAIN VERBOSE {sql}")));
    let physical = plan
        .iter()
        .find(|r| r["plan_type"] == "physical_plan")
        .and_then(|r| r["plan"].as_str())
        .expect("a physical plan")
        .to_owned();
    let mut files: Vec<String> = physical
        .split(|c: char| c == '[' || c == ']' || c == ',' || c.is_whitespace())
        .filter(|t| t.ends_with(".parquet"))
        .map(|t| {
            let from = t.find("account=").expect("files sit in partitions");
            let dir = &t[from..t.rfind('/').unwrap()];
            dir.to_owned()
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

#[test]
fn partition_filters_prune_folders() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, _) = common::ingest(&[common::repo().join("sample-logs")], dir.path());
    let all = planned_files(&lake, "SELECT eventname FROM cloudtrail");
    assert_eq!(all.len(), 11, "{all:?}");

    assert_eq!(
        planned_files(
            &lake,
            "SELECT eventname FROM cloudtrail WHERE account = '444455556666'"
        ),
        ["account=444455556666/region=us-east-1/date=2024-03-10"]
    );
    assert_eq!(
        planned_files(
            &lake,
            "SELECT eventname FROM cloudtrail WHERE Region = 'eu-west-1'"
        ),
        ["account=111122223333/region=eu-west-1/date=2024-03-11"]
    );
    assert_eq!(
        planned_files(
            &lake,
            "SELECT eventname FROM cloudtrail WHERE date = DATE '2024-03-11' AND region = 'us-east-1'"
        ),
        ["account=111122223333/region=us-east-1/date=2024-03-11"]
    );
    assert_eq!(
        planned_files(
            &lake,
            "SELECT eventname FROM cloudtrail WHERE DATE >= '2024-03-11'"
        ),
        [
            "account=111122223333/region=eu-west-1/date=2024-03-11",
            "account=111122223333/region=us-east-1/date=2024-03-11"
        ]
    );
    let rows = common::rows_as_json(&common::query(
        &lake,
        "SELECT count(*) AS n FROM cloudtrail WHERE date = '2024-03-10' AND account <> '123456789012'",
    ));
    assert_eq!(rows[0]["n"], 14);
}

/// The `name=value` metric of the first `operator` in `EXPLAIN ANALYZE sql`.
fn plan_metric(lake: &std::path::Path, sql: &str, operator: &str, name: &str) -> String {
    let plan = common::rows_as_json(&common::query(lake, &format!("EXPLAIN ANALYZE {sql}")));
    let text = plan
        .iter()
        .filter_map(|r| r["plan"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let line = text
        .lines()
        .find(|l| {
            l.trim_start()
                .strip_prefix(operator)
                .is_some_and(|rest| rest.starts_with([':', ',']))
        })
        .unwrap_or_else(|| panic!("no {operator} in {text}"));
    let from = line
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name} in {line}"));
    let value = &line[from + name.len() + 1..];
    value[..value.find([',', ']']).unwrap()].to_owned()
}

/// The Parquet scan's `name=value` metric from `EXPLAIN ANALYZE sql`.
fn scan_metric(lake: &std::path::Path, sql: &str, name: &str) -> String {
    plan_metric(lake, sql, "DataSourceExec", name)
}

/// Bytes from DataFusion's display of a size, such as `1.5 MB`.
fn bytes(shown: &str) -> f64 {
    let (number, unit) = shown.split_once(' ').expect("a number and a unit");
    let scale = match unit {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unit {other} in {shown}"),
    };
    number.parse::<f64>().unwrap() * scale
}

/// Row groups of the lake's event files, and how many hold `value` in `column`,
/// read from the files themselves.
fn row_groups_holding(lake: &std::path::Path, column: &str, value: &str) -> (usize, usize) {
    use arrow::array::AsArray;
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let (mut total, mut holding) = (0, 0);
    for entry in walkdir::WalkDir::new(lake.join("cloudtrail")) {
        let path = entry.unwrap().into_path();
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let file = std::fs::File::open(&path).unwrap();
        let groups = ParquetRecordBatchReaderBuilder::try_new(file.try_clone().unwrap())
            .unwrap()
            .metadata()
            .num_row_groups();
        for group in 0..groups {
            total += 1;
            let builder =
                ParquetRecordBatchReaderBuilder::try_new(file.try_clone().unwrap()).unwrap();
            let index = builder.schema().index_of(column).unwrap();
            let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
            let found = builder
                .with_row_groups(vec![group])
                .with_projection(mask)
                .build()
                .unwrap()
                .map(Result::unwrap)
                .any(|batch| {
                    batch
                        .column(0)
                        .as_string::<i32>()
                        .iter()
                        .any(|v| v == Some(value))
                });
            holding += usize::from(found);
        }
    }
    (total, holding)
}

/// A lake ingested from a generated archive: 12 partitions of about 500
/// events, shared by the tests below.
fn generated_lake() -> &'static std::path::Path {
    static LAKE: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    &LAKE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let archive = dir.path().join("archive");
            let spec = ctlake_bench::Spec {
                json_bytes: 6 << 20,
                accounts: 2,
                regions: vec!["us-east-1".to_owned(), "eu-west-1".to_owned()],
                days: 3,
                interval_minutes: 30,
                ..ctlake_bench::Spec::default()
            };
            ctlake_bench::generate(&spec, &archive, 2).unwrap();
            let (lake, report) = common::ingest(&[archive], dir.path());
            assert!(report.is_clean(), "{report}");
            (dir, lake)
        })
        .1
}

#[test]
fn lake_files_are_sorted_by_event_time() {
    use arrow::array::AsArray;
    use arrow::datatypes::TimestampNanosecondType;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut files = 0;
    for entry in walkdir::WalkDir::new(generated_lake().join("cloudtrail")) {
        let path = entry.unwrap().into_path();
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        files += 1;
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut times = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let column = batch.column_by_name("eventtime").unwrap();
            times.extend(
                column
                    .as_primitive::<TimestampNanosecondType>()
                    .values()
                    .iter()
                    .copied(),
            );
        }
        assert!(times.len() > 100, "{}", path.display());
        assert!(
            times.is_sorted(),
            "{} is not sorted by eventtime",
            path.display()
        );
    }
    // One file per partition: the archive's 576 objects became 12 files.
    assert_eq!(files, 12);
}

#[test]
fn point_lookups_read_only_the_row_groups_that_can_hold_the_value() {
    let lake = generated_lake();
    let pick = |sql: &str| {
        common::rows_as_json(&common::query(lake, sql))[0]["v"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let lookups = [
        (
            "eventid",
            pick("SELECT eventid AS v FROM cloudtrail ORDER BY eventid LIMIT 1 OFFSET 100"),
        ),
        // A user's long-term key: used on many days, in several row groups.
        (
            "useridentity_accesskeyid",
            pick(
                "SELECT useridentity_accesskeyid AS v FROM cloudtrail WHERE useridentity_accesskeyid LIKE 'AKIA%' ORDER BY 1 LIMIT 1",
            ),
        ),
    ];
    for (column, value) in lookups {
        let (total, holding) = row_groups_holding(lake, column, &value);
        let sql = format!("SELECT eventname FROM cloudtrail WHERE {column} = '{value}'");
        let read = scan_metric(lake, &sql, "row_groups_pruned_bloom_filter");
        let matched: usize = read
            .split(" total → ")
            .nth(1)
            .and_then(|m| m.strip_suffix(" matched"))
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            holding >= 1 && total > holding,
            "{column}: {holding} of {total}"
        );
        assert_eq!(
            matched, holding,
            "{column} = {value}: {read}; {holding} of {total} row groups hold it"
        );
    }
}

#[test]
fn a_selective_sort_holds_its_rows_not_the_pages_they_were_read_from() {
    let lake = generated_lake();
    let filter = "errorcode = 'AccessDenied'";
    let answer = common::rows_as_json(&common::query(
        lake,
        &format!(
            "SELECT count(*) AS n, sum(octet_length(eventjson)) AS bytes FROM cloudtrail WHERE {filter}"
        ),
    ));
    let rows = answer[0]["n"].as_u64().unwrap() as f64;
    let text = answer[0]["bytes"].as_u64().unwrap() as f64;
    let columns = common::rows_as_json(&common::query(
        lake,
        "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'cloudtrail'",
    ))[0]["n"]
        .as_u64()
        .unwrap() as f64;
    let sql = format!("SELECT * FROM cloudtrail WHERE {filter} ORDER BY eventtime");
    let scanned = bytes(&scan_metric(lake, &sql, "output_bytes"));
    let compacted = bytes(&plan_metric(lake, &sql, "CompactScanExec", "output_bytes"));
    let sorted = bytes(&plan_metric(lake, &sql, "SortExec", "output_bytes"));
    // The rows are a small part of the pages and batches the scan decoded,
    // so a sort that held those would hold many times the answer.
    assert!(
        rows >= 10.0 && scanned > 20.0 * text,
        "{rows} rows of {text} B of records read as {scanned} B"
    );
    // Every other column's text is a part of the record's, beside a view
    // (or a value) per column and row; and slack for buffers' rounding.
    let bound = 2.0 * text + rows * columns * 16.0 + 256.0 * 1024.0;
    assert!(
        compacted < bound,
        "the scan hands up {compacted} B for {rows} rows of {text} B"
    );
    assert!(
        sorted < bound,
        "the sort holds {sorted} B for {rows} rows of {text} B"
    );
}
