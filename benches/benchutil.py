"""Helpers shared by the benchmark scripts: no third-party imports."""

import os
import platform
import subprocess
import sys
import time


def timed(argv, count_output=False):
    """Runs argv and returns (seconds, peak RSS bytes, stdout) with the child's own rusage.

    With count_output, the third is the length of stdout, read a piece at a time: a forked
    child's peak RSS starts at this process's size, so a child measured later would show the
    output kept here.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if count_output:
        out = 0
        while piece := proc.stdout.read(1 << 20):
            out += len(piece)
    else:
        out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(argv)} failed ({code}):\n{err.decode()}")
    return elapsed, usage.ru_maxrss * 1024, out


def count_files(root):
    return sum(1 for _, _, names in os.walk(root) for n in names if n.endswith(".parquet"))


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem / 2**30, 1),
            "os": platform.platform(), "python": platform.python_version()}
