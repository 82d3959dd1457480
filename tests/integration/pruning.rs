//! Filters on the partition columns read only the matching folders.

use crate::common;

/// The Parquet files the physical plan of `sql` will open, relative to the table.
fn planned_files(lake: &std::path::Path, sql: &str) -> Vec<String> {
    let plan = common::rows_as_json(&common::query(lake, &format!("EXPLAIN {sql}")));
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
    assert_eq!(all.len(), 10, "{all:?}");

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
