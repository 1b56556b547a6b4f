#!/usr/bin/env python3
"""Check a pytest-benchmark JSON against every budget file in benches/budgets/*.toml.

    python -m pytest benches --benchmark-json=bench.json
    python benches/check_budgets.py bench.json [--budgets DIR] [--time-factor 3]

Budget entries (format in CONTRIBUTING.md "Benchmarks"):
  [[time]]    bench, median_us and/or min_us     absolute: WARN above 1x, FAIL above --time-factor (3x)
  [[ratio]]   slow, fast, min [, stat="min"]     same-run speed-up slow/fast: FAIL below min (strict)
  [[extra]]   bench, key, max                    a value from benchmark.extra_info: like a time (3x)
  [[instructions]]                               checked by benches/instructions.py (listed here only)
A bench named by an entry but missing from the JSON (renamed, skipped, not run, or run with
--benchmark-disable) is a FAIL, so a budget can never pass silently.  Benches match by ``name``
(``test_x[compiled]``) or ``fullname`` (``benches/test_file.py::test_x[compiled]``).

Exit status: 0 if nothing failed, 1 if any entry failed, 2 on unusable input.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
OK, WARN, FAIL = "ok", "WARN", "FAIL"


def load_budgets(directory: Path):
    files = sorted(directory.glob("*.toml"))
    budgets = []
    for f in files:
        with f.open("rb") as fh:
            data = tomllib.load(fh)
        for kind in ("time", "ratio", "extra", "instructions"):
            for entry in data.get(kind, []):
                budgets.append((f.name, kind, entry))
        unknown = set(data) - {"time", "ratio", "extra", "instructions"}
        if unknown:
            raise ValueError(f"{f.name}: unknown budget tables {sorted(unknown)}")
    return files, budgets


def index_benchmarks(report: dict) -> dict:
    by_name = {}
    for b in report.get("benchmarks", []):
        by_name[b["name"]] = b
        by_name.setdefault(b.get("fullname", b["name"]), b)
    return by_name


def _fmt_us(us: float) -> str:
    if us != us:
        return "-"
    if us >= 1e6:
        return f"{us / 1e6:.4g} s"
    if us >= 1000:
        return f"{us / 1000:.4g} ms"
    if us >= 1:
        return f"{us:.4g} us"
    return f"{us * 1000:.4g} ns"


def _verdict_abs(ratio: float, factor: float) -> str:
    if ratio != ratio:
        return FAIL
    if ratio > factor:
        return FAIL
    return WARN if ratio > 1.0 else OK


def _stat_us(bench: dict, stat: str) -> float:
    stats = bench.get("stats") or {}
    if stat not in stats or stats[stat] is None:
        raise KeyError(stat)
    return float(stats[stat]) * 1e6


def check(report: dict, budgets, factor: float):
    """Returns rows (file, kind, bench, measured, budget, ratio, verdict, note)."""
    benches = index_benchmarks(report)
    rows = []
    for fname, kind, e in budgets:
        try:
            if kind == "time":
                keys = [k for k in ("median_us", "min_us", "mean_us", "max_us") if k in e]
                if not keys:
                    raise ValueError("a [[time]] entry needs median_us or min_us")
                b = benches.get(e["bench"])
                for key in keys:
                    stat = key[:-3]
                    budget = float(e[key])
                    if b is None:
                        rows.append((fname, kind, e["bench"], "missing", _fmt_us(budget), "-", FAIL,
                                     "bench not in the JSON"))
                        continue
                    us = _stat_us(b, stat)
                    r = us / budget
                    rows.append((fname, kind, f"{e['bench']} ({stat})", _fmt_us(us), _fmt_us(budget),
                                 f"{r:.2f}x", _verdict_abs(r, factor), ""))
            elif kind == "ratio":
                stat = e.get("stat", "min")
                slow, fast = benches.get(e["slow"]), benches.get(e["fast"])
                label = f"{e['slow']} / {e['fast']} ({stat})"
                missing = [n for n, b in ((e["slow"], slow), (e["fast"], fast)) if b is None]
                if missing:
                    rows.append((fname, kind, label, "missing", f">= {e['min']}", "-", FAIL,
                                 "not in the JSON: " + ", ".join(missing)))
                    continue
                speedup = _stat_us(slow, stat) / _stat_us(fast, stat)
                need = float(e["min"])
                rows.append((fname, kind, label, f"{speedup:.1f}x", f">= {need:g}x", f"{speedup / need:.2f}",
                             OK if speedup >= need else FAIL, ""))
            elif kind == "extra":
                b = benches.get(e["bench"])
                label = f"{e['bench']}.{e['key']}"
                budget = float(e["max"])
                if b is None:
                    rows.append((fname, kind, label, "missing", f"{budget:g}", "-", FAIL, "bench not in the JSON"))
                    continue
                extra = b.get("extra_info") or {}
                if e["key"] not in extra:
                    rows.append((fname, kind, label, "missing", f"{budget:g}", "-", FAIL,
                                 f"extra_info has no {e['key']!r}"))
                    continue
                value = float(extra[e["key"]])
                r = value / budget
                rows.append((fname, kind, label, f"{value:.4g}", f"{budget:g}", f"{r:.2f}x",
                             _verdict_abs(r, factor), ""))
            elif kind == "instructions":
                rows.append((fname, kind, e.get("name", "?"), "-", f"{e.get('budget', '?')} Ir", "-", "skip",
                             "benches/instructions.py"))
        except (KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
            rows.append((fname, kind, str(e), "-", "-", "-", FAIL, f"bad entry or stats: {exc!r}"))
    return rows


def print_table(rows, out=sys.stdout):
    head = ("file", "kind", "bench", "measured", "budget", "ratio", "verdict")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*head), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(line.format(*(str(x) for x in r[:7])) + (f"  {r[7]}" if r[7] else ""), file=out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json", nargs="?", default="bench.json", help="pytest-benchmark JSON (default bench.json)")
    ap.add_argument("--budgets", type=Path, default=HERE / "budgets", help="directory of *.toml budget files")
    ap.add_argument("--time-factor", type=float, default=3.0,
                    help="absolute times / extras fail above this multiple of their budget (default 3)")
    args = ap.parse_args(argv)
    try:
        report = json.loads(Path(args.json).read_text())
        files, budgets = load_budgets(args.budgets)
    except (OSError, ValueError) as exc:
        print(f"check_budgets: {exc}", file=sys.stderr)
        return 2
    if not budgets:
        print(f"check_budgets: no budget entries in {args.budgets}/*.toml", file=sys.stderr)
        return 2
    rows = check(report, budgets, args.time_factor)
    print(f"budgets: {', '.join(f.name for f in files)}; absolute limits fail above {args.time_factor:g}x, "
          "ratios strictly")
    print_table(rows)
    failed = [r for r in rows if r[6] == FAIL]
    warned = [r for r in rows if r[6] == WARN]
    print(f"\n{len(rows)} entries: {len(failed)} failed, {len(warned)} above budget (warn)")
    for r in warned:
        print(f"WARN {r[0]} [{r[1]}] {r[2]}: measured {r[3]}, budget {r[4]} (above budget, below the fail factor)")
    for r in failed:
        print(f"FAIL {r[0]} [{r[1]}] {r[2]}: measured {r[3]}, budget {r[4]}" + (f" ({r[7]})" if r[7] else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
