#!/usr/bin/env python3
"""ctlake and DuckDB side by side on one generated archive, on this machine.

Runs each contender in alternation and prints medians and ratios:

  (a) ingest: `ctlake ingest` vs DuckDB converting the archive to
      Hive-partitioned Parquet with the same columns (peak RSS of each);
  (b) the decompression floor: inflating every object, no parsing, on all
      cores (`ctlake-bench inflate`, the same zlib-rs ctlake uses), and
      the same with BLAKE3 and zstd over the text (`--keep-verbatim`): about
      the least an ingest writing ctlake's lake (every record verbatim,
      zstd, a BLAKE3 content hash) can cost;
  (c) eight hunt-style queries: `ctlake query` on ctlake's lake, DuckDB on
      ctlake's lake, DuckDB on the raw json.gz.

Every query runs as a whole process, as a script would run it: `ctlake
query` and the DuckDB CLI (`duckdb-cli` from PyPI), each starting cold,
finding the files, querying and printing CSV.

Usage (see README.md, Performance): benches/run-side-by-side, or
    python benches/side_by_side.py --archive DIR --work DIR --bin TARGET/release
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

import duckdb

from benchutil import count_files, machine, timed

# The lake's columns, from the raw records: what a DuckDB user converting the
# archive would write to match ctlake's lake.
FLAT = {
    "eventversion": "r->>'eventVersion'",
    "eventtime": "CAST(r->>'eventTime' AS TIMESTAMP)",
    "eventsource": "r->>'eventSource'",
    "eventname": "r->>'eventName'",
    "awsregion": "r->>'awsRegion'",
    "sourceipaddress": "r->>'sourceIPAddress'",
    "useragent": "r->>'userAgent'",
    "errorcode": "r->>'errorCode'",
    "errormessage": "r->>'errorMessage'",
    "requestparameters": "r->>'requestParameters'",
    "responseelements": "r->>'responseElements'",
    "additionaleventdata": "r->>'additionalEventData'",
    "serviceeventdetails": "r->>'serviceEventDetails'",
    "requestid": "r->>'requestID'",
    "eventid": "r->>'eventID'",
    "eventtype": "r->>'eventType'",
    "apiversion": "r->>'apiVersion'",
    "readonly": "CAST(r->>'readOnly' AS BOOLEAN)",
    "managementevent": "CAST(r->>'managementEvent' AS BOOLEAN)",
    "resources": "r->>'resources'",
    "recipientaccountid": "r->>'recipientAccountId'",
    "sharedeventid": "r->>'sharedEventID'",
    "vpcendpointid": "r->>'vpcEndpointId'",
    "eventcategory": "r->>'eventCategory'",
    "tlsdetails": "r->>'tlsDetails'",
    "useridentity_type": "r->>'$.userIdentity.type'",
    "useridentity_principalid": "r->>'$.userIdentity.principalId'",
    "useridentity_arn": "r->>'$.userIdentity.arn'",
    "useridentity_accountid": "r->>'$.userIdentity.accountId'",
    "useridentity_accesskeyid": "r->>'$.userIdentity.accessKeyId'",
    "useridentity_username": "r->>'$.userIdentity.userName'",
    "useridentity_invokedby": "r->>'$.userIdentity.invokedBy'",
    "useridentity_sessioncontext_sessionissuer_type": "r->>'$.userIdentity.sessionContext.sessionIssuer.type'",
    "useridentity_sessioncontext_sessionissuer_principalid": "r->>'$.userIdentity.sessionContext.sessionIssuer.principalId'",
    "useridentity_sessioncontext_sessionissuer_arn": "r->>'$.userIdentity.sessionContext.sessionIssuer.arn'",
    "useridentity_sessioncontext_sessionissuer_accountid": "r->>'$.userIdentity.sessionContext.sessionIssuer.accountId'",
    "useridentity_sessioncontext_sessionissuer_username": "r->>'$.userIdentity.sessionContext.sessionIssuer.userName'",
    "useridentity_sessioncontext_attributes_mfaauthenticated": "CAST(r->>'$.userIdentity.sessionContext.attributes.mfaAuthenticated' AS BOOLEAN)",
    "useridentity_sessioncontext_attributes_creationdate": "CAST(r->>'$.userIdentity.sessionContext.attributes.creationDate' AS TIMESTAMP)",
    "source_object": "filename",
    "eventjson": "CAST(r AS VARCHAR)",
    "content_hash": "md5(CAST(r AS VARCHAR))",
    "account": "r->>'recipientAccountId'",
    "region": "r->>'awsRegion'",
    "date": "CAST(CAST(r->>'eventTime' AS TIMESTAMP) AS DATE)",
}


def raw_view(archive):
    columns = ",\n  ".join(f"{expr} AS {name}" for name, expr in FLAT.items())
    return f"""
CREATE OR REPLACE VIEW cloudtrail AS
SELECT
  {columns}
FROM (
  SELECT unnest(Records) AS r, filename
  FROM read_json('{archive}/AWSLogs/**/*.json.gz', columns = {{'Records': 'JSON[]'}},
                 compression = 'gzip', filename = true, maximum_object_size = 268435456)
)"""


def lake_view(lake):
    return f"""
CREATE OR REPLACE VIEW cloudtrail AS
SELECT * FROM read_parquet('{lake}/cloudtrail/**/*.parquet', hive_partitioning = true)"""


def queries(key, ip, bucket, hour):
    """The eight queries as (name, ctlake SQL, DuckDB SQL)."""
    end = hour.replace(":00:00", ":59:59")
    same = lambda sql: (sql, sql)  # noqa: E731
    return [
        ("top eventNames", *same(
            "SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY eventname ORDER BY n DESC, eventname LIMIT 20")),
        ("one access key, time-ordered", *same(
            f"SELECT eventtime, eventname, eventsource, sourceipaddress FROM cloudtrail "
            f"WHERE useridentity_accesskeyid = '{key}' ORDER BY eventtime")),
        ("console logins without MFA",
         "SELECT eventtime, useridentity_arn, sourceipaddress FROM cloudtrail WHERE eventname = 'ConsoleLogin' "
         "AND json_get_str(additionaleventdata, 'MFAUsed') = 'No' ORDER BY eventtime",
         "SELECT eventtime, useridentity_arn, sourceipaddress FROM cloudtrail WHERE eventname = 'ConsoleLogin' "
         "AND (additionaleventdata->>'$.MFAUsed') = 'No' ORDER BY eventtime"),
        ("CloudTrail tampering", *same(
            "SELECT eventtime, eventname, useridentity_arn, sourceipaddress FROM cloudtrail "
            "WHERE eventsource = 'cloudtrail.amazonaws.com' "
            "AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors') ORDER BY eventtime")),
        ("AccessDenied by principal", *same(
            "SELECT useridentity_arn, count(*) AS n FROM cloudtrail "
            "WHERE errorcode IN ('AccessDenied', 'Client.UnauthorizedOperation') "
            "GROUP BY useridentity_arn ORDER BY n DESC, useridentity_arn LIMIT 20")),
        ("GetObject per source IP, one bucket",
         f"SELECT sourceipaddress, count(*) AS n FROM cloudtrail WHERE eventname = 'GetObject' "
         f"AND json_get_str(requestparameters, 'bucketName') = '{bucket}' GROUP BY sourceipaddress ORDER BY n DESC, sourceipaddress",
         f"SELECT sourceipaddress, count(*) AS n FROM cloudtrail WHERE eventname = 'GetObject' "
         f"AND (requestparameters->>'$.bucketName') = '{bucket}' GROUP BY sourceipaddress ORDER BY n DESC, sourceipaddress"),
        ("one IP, one hour", *same(
            f"SELECT eventtime, eventname, useridentity_arn FROM cloudtrail WHERE sourceipaddress = '{ip}' "
            f"AND eventtime >= TIMESTAMP '{hour}' AND eventtime <= TIMESTAMP '{end}' ORDER BY eventtime")),
        ("distinct user agents per principal", *same(
            "SELECT useridentity_arn, count(DISTINCT useragent) AS agents FROM cloudtrail "
            "GROUP BY useridentity_arn ORDER BY agents DESC, useridentity_arn LIMIT 20")),
    ]


DUCK_CONVERT = """
import sys, duckdb
sys.path.insert(0, {here!r})
from side_by_side import raw_view
con = duckdb.connect()
con.execute(raw_view({archive!r}))
con.execute("COPY cloudtrail TO {out!r} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account, region, date))")
"""


def median(xs):
    return statistics.median(xs)


def fmt_s(x):
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", required=True, help="archive folder (holds AWSLogs/)")
    ap.add_argument("--work", required=True, help="scratch folder for the lakes")
    ap.add_argument("--bin", required=True, help="folder with release ctlake and ctlake-bench")
    ap.add_argument("--runs", type=int, default=5, help="alternating runs per query")
    ap.add_argument("--ingest-runs", type=int, default=3, help="alternating ingest runs")
    ap.add_argument("--raw-runs", type=int, default=1, help="runs of DuckDB over the raw json.gz per query")
    ap.add_argument("--json", help="write the results here as JSON")
    ap.add_argument("--queries-only", action="store_true",
                    help="skip (a) and (b); query the lake an earlier run left in --work")
    args = ap.parse_args()
    if min(args.runs, args.ingest_runs, args.raw_runs) < 1:
        ap.error("every run count must be at least 1")

    archive = os.path.abspath(args.archive)
    work = os.path.abspath(args.work)
    ctlake = os.path.join(args.bin, "ctlake")
    bench = os.path.join(args.bin, "ctlake-bench")
    os.makedirs(work, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    results = {"machine": machine(), "duckdb": duckdb.__version__}

    files = gz_bytes = 0
    for root, _, names in os.walk(os.path.join(archive, "AWSLogs")):
        for n in names:
            if n.endswith(".json.gz"):
                files += 1
                gz_bytes += os.path.getsize(os.path.join(root, n))
    results["archive"] = {"path": archive, "objects": files, "gzip_bytes": gz_bytes}
    print(f"archive: {archive}: {files} objects, {gz_bytes / 1e6:.0f} MB gzip")

    ct_lake = os.path.join(work, "ctlake-lake")
    if not args.queries_only:
        ingest_and_floor(args, archive, work, ctlake, bench, here, results)
    queries_side_by_side(args, archive, ct_lake, ctlake, results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


def ingest_and_floor(args, archive, work, ctlake, bench, here, results):
    # (b) The decompression floor.
    # With it, about the least that writing ctlake's lake costs, whatever
    # the parser: BLAKE3 and zstd over the text, no parsing.
    floor, keep = [], []
    for _ in range(args.ingest_runs):
        t, _, out = timed([bench, "inflate", archive])
        floor.append(t)
        t, _, _ = timed([bench, "inflate", "--keep-verbatim", archive])
        keep.append(t)
    inflated = json.loads(out)
    json_bytes = inflated["json_bytes"]
    results["archive"]["json_bytes"] = json_bytes
    print(f"  {json_bytes / 1e9:.2f} GB of JSON; inflating it all: {fmt_s(median(floor))} "
          f"({json_bytes / median(floor) / 1e6:.0f} MB/s)")
    print(f"  inflating, hashing and compressing it, no parsing: {fmt_s(median(keep))} "
          f"({median(floor) / median(keep):.2f} of the inflate-only rate)")

    # (a) Ingest, alternating.
    ct_lake = os.path.join(work, "ctlake-lake")
    duck_lake = os.path.join(work, "duckdb-parquet")
    ct_runs, duck_runs = [], []
    # Earlier runs' lakes are set aside and deleted after the last run: on
    # ext4 without a journal, as on the machine of the README's figures,
    # creating a file checks the inodes deleted in the last seconds, and a
    # run just after deleting a lake of thousands of files paid for it.
    old = os.path.join(work, "old-lakes")
    shutil.rmtree(old, ignore_errors=True)
    os.makedirs(old)

    def set_aside(lake, i):
        if os.path.exists(lake):
            os.rename(lake, os.path.join(old, f"{os.path.basename(lake)}-{i}"))

    for i in range(args.ingest_runs):
        set_aside(ct_lake, i)
        t, rss, _ = timed([ctlake, "ingest", archive, "--lake", ct_lake, "--quiet"])
        ct_runs.append((t, rss))
        set_aside(duck_lake, i)
        script = DUCK_CONVERT.format(here=here, archive=archive, out=duck_lake)
        t, rss, _ = timed([sys.executable, "-c", script])
        duck_runs.append((t, rss))
        print(f"  ingest run {i + 1}: ctlake {fmt_s(ct_runs[-1][0])} ({ct_runs[-1][1] >> 20} MiB), "
              f"DuckDB {fmt_s(t)} ({rss >> 20} MiB)")
    shutil.rmtree(old)
    report = json.load(open(newest_report(ct_lake)))
    events = report["events_written"]
    ct_t = median([t for t, _ in ct_runs])
    duck_t = median([t for t, _ in duck_runs])
    ct_files = count_files(os.path.join(ct_lake, "cloudtrail"))
    partitions = count_dirs(os.path.join(ct_lake, "cloudtrail"))
    results["ingest"] = {
        "events": events,
        "ctlake_s": ct_t, "ctlake_peak_rss": max(r for _, r in ct_runs),
        "duckdb_s": duck_t, "duckdb_peak_rss": max(r for _, r in duck_runs),
        "floor_s": median(floor),
        "keep_verbatim_s": median(keep),
        "lake_files": ct_files, "lake_partitions": partitions,
    }
    print(f"ingest: {events} events; ctlake {fmt_s(ct_t)} ({events / ct_t:,.0f} events/s, "
          f"{json_bytes / ct_t / 1e6:.0f} MB/s of JSON), DuckDB {fmt_s(duck_t)} ({events / duck_t:,.0f} events/s)")
    print(f"  ctlake is {duck_t / ct_t:.1f}x DuckDB; runs at {median(floor) / ct_t:.2f} of the inflate-only rate")
    print(f"  peak RSS: ctlake {results['ingest']['ctlake_peak_rss'] >> 20} MiB, "
          f"DuckDB {results['ingest']['duckdb_peak_rss'] >> 20} MiB")
    print(f"  lake: {ct_files} files in {partitions} partitions")


def queries_side_by_side(args, archive, ct_lake, ctlake, results):
    """(c) The eight queries, alternating."""
    con = duckdb.connect()
    con.execute(lake_view(ct_lake))
    key = con.execute("SELECT useridentity_accesskeyid FROM cloudtrail WHERE useridentity_accesskeyid LIKE 'AKIA%' "
                      "GROUP BY 1 ORDER BY count(*), 1 LIMIT 1").fetchone()[0]
    ip, first = con.execute("SELECT sourceipaddress, CAST(min(eventtime) AS VARCHAR) FROM cloudtrail "
                            "WHERE sourceipaddress LIKE '203.%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
    hour = first[:13] + ":00:00"
    bucket = con.execute("SELECT requestparameters->>'$.bucketName' FROM cloudtrail WHERE eventname = 'GetObject' "
                         "LIMIT 1").fetchone()[0]
    con.close()
    duck_cli = os.path.join(os.path.dirname(sys.executable), "duckdb")
    results["duckdb_cli"] = subprocess.run([duck_cli, "--version"], capture_output=True, text=True).stdout.strip()
    rows = []
    print(f"queries, each a whole process (median of {args.runs} alternating runs; DuckDB on json.gz: "
          f"{args.raw_runs} run):")
    for name, ct_sql, duck_sql in queries(key, ip, bucket, hour):
        ct, dl = [], []
        for _ in range(args.runs):
            t, _, out = timed([ctlake, "query", "--lake", ct_lake, "-e", ct_sql, "--format", "csv"])
            ct.append(t)
            ct_rows = max(len(out.splitlines()) - 1, 0)
            t, _, out = timed([duck_cli, "-csv", "-c", lake_view(ct_lake) + ";\n" + duck_sql])
            dl.append(t)
            dl_rows = max(len(out.splitlines()) - 1, 0)
        raw = []
        for _ in range(args.raw_runs):
            t, _, out = timed([duck_cli, "-csv", "-c", raw_view(archive) + ";\n" + duck_sql])
            raw.append(t)
            raw_rows = max(len(out.splitlines()) - 1, 0)
        row = {
            "query": name, "sql": ct_sql, "rows": ct_rows, "duckdb_rows": dl_rows, "duckdb_raw_rows": raw_rows,
            "ctlake_s": median(ct), "duckdb_lake_s": median(dl), "duckdb_raw_s": median(raw),
        }
        rows.append(row)
        agree = "" if ct_rows == dl_rows == raw_rows else f"  ROW COUNTS DIFFER: {ct_rows}/{dl_rows}/{raw_rows}"
        print(f"  {name:38} ctlake {fmt_s(row['ctlake_s']):>9}  DuckDB/lake {fmt_s(row['duckdb_lake_s']):>9} "
              f"({row['duckdb_lake_s'] / row['ctlake_s']:.2f}x)  DuckDB/json.gz {fmt_s(row['duckdb_raw_s']):>8} "
              f"({row['duckdb_raw_s'] / row['ctlake_s']:.0f}x)  {ct_rows} rows{agree}", flush=True)
    results["queries"] = rows


def newest_report(lake):
    runs = os.path.join(lake, "_ctlake", "runs")
    reports = sorted(n for n in os.listdir(runs) if n.endswith(".json"))
    return os.path.join(runs, reports[-1])


def count_dirs(root):
    return sum(1 for _, dirs, names in os.walk(root) if any(n.endswith(".parquet") for n in names))


if __name__ == "__main__":
    main()
