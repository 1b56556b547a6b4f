#!/usr/bin/env python3
"""Instructions per call of the compiled kernels, counted by valgrind's callgrind (repeatable cost).

    python benches/instructions.py [--only GLOB] [--budgets DIR] [--json OUT] [--keep]

Every ``[[instructions]]`` entry of benches/budgets/*.toml is one measurement:

    [[instructions]]
    name = "pwm.duty_from_current"          # what the table shows
    budget = 120                            # instructions per call; FAIL above budget x 1.10
    toggle = "*pw_*_core_3pwm_*duty_from_current"   # callgrind --toggle-collect pattern(s): string or list;
                                        # [] counts everything (Python-level paths: the manager's)
    setup = '''
    from evsefast._core import pwm
    f = pwm.duty_from_current
    '''
    call = "f(16.0)"                        # one call (a statement); runs `calls` times
    calls = 1000                            # optional (default 1000)
    samples = 1                             # optional: samples per call, for the per-sample column

How a count is taken: a driver script runs ``setup`` once, then ``call`` in a loop, under
``valgrind --tool=callgrind --toggle-collect=<pattern>``: only instructions executed while inside a
function matching the pattern (and everything it calls) are counted.  The driver runs twice, with
``calls`` and with 2 x ``calls`` iterations; instructions per call = difference / ``calls``, so
one-time costs (first-call caches, lazy imports) drop out.

Patterns match C function names of the compiled module.  Cython names a Python-callable wrapper
``__pyx_pw_<mangled module>_<n><name>`` (for a method ``..._<len><Class>_<n><name>``); counting
the wrapper includes argument conversion and the result object, i.e. the cost of a call from
Python.  Match exactly one function per call: callgrind *toggles* collection on entry, so a
pattern matching both a wrapper and a non-inlined function it calls switches counting off inside.

An entry without ``setup``/``call`` fails (a budget with nothing measuring it); one without
``budget`` is measured and printed only.  Exit status 0 if every budgeted entry is within
budget x 1.10, 1 otherwise, 2 if valgrind is missing.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
TOLERANCE = 1.10

DRIVER = """\
import sys
{setup}

def _evsefast_bench_loop(_n):
    for _ in range(_n):
{call}

_evsefast_bench_loop(int(sys.argv[1]))
"""


def load_entries(directory: Path):
    entries = []
    for f in sorted(directory.glob("*.toml")):
        with f.open("rb") as fh:
            data = tomllib.load(fh)
        for e in data.get("instructions", []):
            entries.append(dict(e, _file=f.name))
    return entries


def driver_source(entry: dict) -> str:
    setup = textwrap.dedent(entry.get("setup", "")).strip("\n")
    call = textwrap.indent(textwrap.dedent(entry["call"]).strip("\n"), " " * 8)
    return DRIVER.format(setup=setup, call=call)


def _total_ir(outfile: Path) -> int:
    text = outfile.read_text()
    m = re.search(r"^totals:\s+(\d+)", text, re.M) or re.search(r"^summary:\s+(\d+)", text, re.M)
    if not m:
        raise RuntimeError(f"no totals in {outfile}")
    return int(m.group(1))


def run_callgrind(script: Path, patterns, n: int, workdir: Path, keep: bool) -> int:
    out = workdir / f"callgrind.{script.stem}.{n}.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    cmd += [f"--toggle-collect={p}" for p in patterns]
    cmd += [sys.executable, str(script), str(n)]
    # fixed hash seed: dict/set layouts (and so instruction counts of Python-level paths) repeat
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.getcwd(), env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or "").splitlines()[-15:])
        raise RuntimeError(f"driver failed (exit {proc.returncode}):\n{tail}")
    total = _total_ir(out)
    if not keep:
        out.unlink(missing_ok=True)
    return total


def measure(entry: dict, workdir: Path, keep: bool) -> dict:
    # no toggle (an empty list) counts the whole interpreter: right for Python-level paths such as
    # the manager's, where the N / 2N difference still leaves only the per-call cost
    patterns = entry["toggle"]
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    calls = int(entry.get("calls", 1000))
    safe = re.sub(r"[^A-Za-z0-9_]+", "_", entry["name"])
    script = workdir / f"drv_{safe}.py"
    script.write_text(driver_source(entry))
    one = run_callgrind(script, patterns, calls, workdir, keep)
    two = run_callgrind(script, patterns, 2 * calls, workdir, keep)
    if one == 0 and two == 0:
        raise RuntimeError(f"toggle pattern(s) {patterns} matched no executed function")
    per_call = (two - one) / calls
    return {"per_call": per_call, "first_run_per_call": one / calls, "calls": calls}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budgets", type=Path, default=HERE / "budgets")
    ap.add_argument("--only", help="measure only entries whose name matches this glob")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--keep", action="store_true", help="keep driver scripts and callgrind outputs (prints the dir)")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("instructions: valgrind not found (apt-get install valgrind)", file=sys.stderr)
        return 2
    entries = load_entries(args.budgets)
    if args.only:
        entries = [e for e in entries if fnmatch.fnmatch(e.get("name", ""), args.only)]
    if not entries:
        print("instructions: no [[instructions]] entries", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="evsefast-callgrind-"))
    rows, results, failed = [], {}, []
    for e in entries:
        name = e.get("name", "?")
        budget = e.get("budget")
        samples = e.get("samples")
        try:
            if "call" not in e or "toggle" not in e:
                raise RuntimeError("entry has no call/toggle (nothing measures this budget)")
            r = measure(e, workdir, args.keep)
        except (RuntimeError, OSError, KeyError) as exc:
            rows.append((name, "-", f"{budget}" if budget else "-", "-", "-", "FAIL"))
            failed.append(f"{e['_file']} {name}: {exc}")
            continue
        per_call = r["per_call"]
        results[name] = dict(r, budget=budget, samples=samples)
        per_sample = f"{per_call / samples:.2f}" if samples else "-"
        if budget is None:
            verdict = "no budget"
        elif per_call > budget * TOLERANCE:
            verdict = "FAIL"
            failed.append(f"{e['_file']} {name}: {per_call:.0f} Ir per call > {budget} x {TOLERANCE:.2f}")
        else:
            verdict = "ok"
        ratio = f"{per_call / budget:.2f}" if budget else "-"
        rows.append((name, f"{per_call:,.0f}", f"{budget:,}" if budget else "-", ratio, per_sample, verdict))
    head = ("kernel", "Ir/call", "budget", "ratio", "Ir/sample", "verdict")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" if i in (0, 5) else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(f"callgrind instructions per call ({sys.executable}); fail above budget x {TOLERANCE:.2f}")
    print(fmt.format(*head))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(fmt.format(*r))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.keep:
        print(f"\ndriver scripts and callgrind outputs: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    for f in failed:
        print("FAIL", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
