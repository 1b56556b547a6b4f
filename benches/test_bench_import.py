"""``import evsefast`` on a small controller: time and resident memory, each in a fresh interpreter.

Budgets: benches/budgets/kernels.toml ([[extra]] ``import_ms`` <= 150 ms, ``rss_mb`` <= 30 MB).
The benchmark times the whole subprocess (interpreter start included); the gated numbers are
measured inside it: ``import_ms`` = wall time of the ``import evsefast`` statement (median of the
rounds), ``rss_mb`` = peak resident set of the interpreter after the import (max over rounds), from
``VmHWM`` in /proc/self/status: ``ru_maxrss`` would report the parent's (pytest's) high-water mark,
which Linux carries over fork + exec.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

import pytest

ROUNDS = 7
PROBE = (
    "import resource, time, json\n"
    "t0 = time.perf_counter()\n"
    "import evsefast\n"
    "t1 = time.perf_counter()\n"
    "try:\n"
    "    status = open('/proc/self/status').read().split('\\n')\n"
    "    rss_kb = [int(l.split()[1]) for l in status if l.startswith('VmHWM:')][0]\n"
    "except (OSError, IndexError):\n"
    "    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "print(json.dumps({'import_ms': (t1 - t0) * 1e3, 'rss_mb': rss_kb / 1024.0,"
    " 'compiled': evsefast.USING_EXTENSIONS}))\n"
)


def _probe():
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


@pytest.mark.benchmark(group="import")
def test_import_evsefast(benchmark):
    results = []

    def run():
        results.append(_probe())

    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    runs = results[1:] or results  # the first one warms the file cache
    benchmark.extra_info["import_ms"] = statistics.median(r["import_ms"] for r in runs)
    benchmark.extra_info["import_ms_min"] = min(r["import_ms"] for r in runs)
    benchmark.extra_info["rss_mb"] = max(r["rss_mb"] for r in runs)
    benchmark.extra_info["compiled"] = all(r["compiled"] for r in runs)
    assert benchmark.extra_info["rss_mb"] > 0
