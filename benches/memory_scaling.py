#!/usr/bin/env python3
"""Peak RSS of `ctlake ingest` as the archive doubles.

Ingests two generated archives of the same density, one covering twice the
days of the other (so twice the objects, events and partitions), in
alternation, and prints each one's time and peak RSS (the child's own
rusage) with the ratio of the two peaks. Memory bounded by the pipeline's
design, not by the archive, gives a ratio near 1.

Then it runs hunts that return whole records in time order over both lakes
and prints each one's peak RSS beside the size of its answer: a query that
keeps its rows (a sort, here) should hold about its answer, not the lake
pages it read them from.

With --many, it also ingests an archive of many small objects (a delivery a
minute, a few events each) and then ingests it again into the same lake,
where every object is known and unchanged: what a run keeps per object (its
manifest, the index of objects already read) shows there, not in the events.
Beside the first run it times inflating every object of that archive on all
cores (`ctlake-bench inflate`, as side_by_side.py does for its archive): per
object costs (opening a file, starting a gzip stream) weigh on that floor too.

Usage (see README.md, Performance): benches/run-memory-scaling, or
    python benches/memory_scaling.py --small DIR --large DIR --work DIR --bin TARGET/release
"""

import argparse
import json
import os
import shutil
import statistics

from benchutil import count_files, machine, timed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", required=True, help="archive folder (holds AWSLogs/)")
    ap.add_argument("--large", required=True, help="archive of twice the size, same density")
    ap.add_argument("--work", required=True, help="scratch folder for the lakes")
    ap.add_argument("--bin", required=True, help="folder with release ctlake and ctlake-bench")
    ap.add_argument("--many", help="archive of many small objects (optional)")
    ap.add_argument("--runs", type=int, default=3, help="alternating runs per archive")
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    ctlake = os.path.join(args.bin, "ctlake")
    os.makedirs(args.work, exist_ok=True)
    runs = {"small": [], "large": []}
    for i in range(args.runs):
        for name in ("small", "large"):
            lake = os.path.join(args.work, f"lake-{name}")
            shutil.rmtree(lake, ignore_errors=True)
            seconds, rss, _ = timed([ctlake, "ingest", getattr(args, name), "--lake", lake, "--quiet"])
            runs[name].append({"seconds": seconds, "peak_rss": rss, "files": count_files(lake)})
            print(f"run {i + 1} {name}: {seconds:.1f} s, {rss >> 20} MiB peak RSS")
    results = {"machine": machine()}
    for name in ("small", "large"):
        archive = getattr(args, name)
        results[name] = {
            "archive": archive,
            "gzip_bytes": sum(os.path.getsize(os.path.join(d, n))
                              for d, _, names in os.walk(archive) for n in names),
            "seconds": statistics.median(r["seconds"] for r in runs[name]),
            "peak_rss": max(r["peak_rss"] for r in runs[name]),
            "files": runs[name][-1]["files"],
        }
    ratio = results["large"]["peak_rss"] / results["small"]["peak_rss"]
    results["rss_ratio"] = ratio
    size = results["large"]["gzip_bytes"] / results["small"]["gzip_bytes"]
    print(f"archive {size:.2f}x the size: peak RSS {results['small']['peak_rss'] >> 20} MiB -> "
          f"{results['large']['peak_rss'] >> 20} MiB ({(ratio - 1) * 100:+.1f}%), "
          f"time {results['small']['seconds']:.1f} s -> {results['large']['seconds']:.1f} s")
    results["queries"] = record_queries(args, ctlake)
    if args.many:
        results["many"] = many_objects(args, ctlake, os.path.join(args.bin, "ctlake-bench"))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


# Selective hunts returning whole records, ordered: the sort keeps every row.
RECORD_QUERIES = [
    ("AccessDenied records",
     "SELECT eventtime, useridentity_arn, eventjson FROM cloudtrail "
     "WHERE errorcode = 'AccessDenied' ORDER BY eventtime"),
    ("console logins",
     "SELECT * FROM cloudtrail WHERE eventname = 'ConsoleLogin' ORDER BY eventtime"),
]


def record_queries(args, ctlake):
    results = []
    for title, sql in RECORD_QUERIES:
        for name in ("small", "large"):
            lake = os.path.join(args.work, f"lake-{name}")
            peaks = []
            for _ in range(args.runs):
                seconds, rss, answer = timed([ctlake, "query", "--lake", lake, "--format", "csv", "-e", sql],
                                             count_output=True)
                peaks.append((rss, seconds))
            rss, seconds = max(peaks)
            results.append({"query": title, "sql": sql, "lake": name, "peak_rss": rss,
                            "answer_bytes": answer, "seconds": seconds})
            print(f"{title} on the {name} lake: answer {answer / 2**20:.1f} MiB as CSV, "
                  f"peak RSS {rss >> 20} MiB")
    return results


def many_objects(args, ctlake, bench):
    objects = sum(1 for _, _, names in os.walk(args.many) for n in names if n.endswith(".json.gz"))
    lake = os.path.join(args.work, "lake-many")
    first, again, floor = [], [], []
    for i in range(args.runs):
        seconds, _, _ = timed([bench, "inflate", args.many])
        floor.append(seconds)
        print(f"run {i + 1} many, inflating only: {seconds:.1f} s")
        shutil.rmtree(lake, ignore_errors=True)
        for runs, what in ((first, "first run"), (again, "unchanged re-run")):
            seconds, rss, _ = timed([ctlake, "ingest", args.many, "--lake", lake, "--quiet"])
            runs.append({"seconds": seconds, "peak_rss": rss})
            print(f"run {i + 1} many, {what}: {seconds:.1f} s, {rss >> 20} MiB peak RSS")
    result = {"archive": args.many, "objects": objects}
    for name, runs in (("first", first), ("again", again)):
        result[name] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_rss": max(r["peak_rss"] for r in runs),
        }
    result["floor_seconds"] = statistics.median(floor)
    print(f"{objects} objects: peak RSS {result['first']['peak_rss'] >> 20} MiB on the first run, "
          f"{result['again']['peak_rss'] >> 20} MiB on the re-run; the first run at "
          f"{result['floor_seconds'] / result['first']['seconds']:.2f} of the inflate-only rate")
    return result


if __name__ == "__main__":
    main()
