#!/usr/bin/env python3
"""Print a pip constraints file that pins every declared dependency to its lowest allowed version.

    python tools/lowest_constraints.py [EXTRA ...] > lowest.txt
    pip install -c lowest.txt ".[test]"

Reads ``[project] dependencies`` and the named optional-dependency extras (default: ``test``) of
pyproject.toml; each requirement with a ``>=`` lower bound becomes ``name==bound`` with its environment
marker kept. CI's "lowest" round installs with these constraints, so a lower bound that does not work
fails CI instead of a user's install. Needs Python >= 3.11 (tomllib) to run; the constraints it prints
are used by any Python.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
_REQ = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?P<spec>[^;]*)(?:;(?P<marker>.*))?$")


def lowest(requirement: str) -> str | None:
    """``"msgspec>=0.18"`` → ``"msgspec==0.18"``; markers kept; None when there is no lower bound."""
    m = _REQ.match(requirement)
    if m is None:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    bound = re.search(r">=\s*([^,\s]+)", m.group("spec"))
    if bound is None:
        return None
    pin = f"{m.group('name')}=={bound.group(1)}"
    marker = (m.group("marker") or "").strip()
    return f"{pin}; {marker}" if marker else pin


def main(argv: list[str]) -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = argv or ["test"]
    reqs = list(project.get("dependencies", []))
    for extra in extras:
        reqs += project.get("optional-dependencies", {})[extra]
    pins: dict[str, str] = {}
    for req in reqs:
        pin = lowest(req)
        if pin is not None and not req.lstrip().startswith("evsefast"):
            pins.setdefault(pin, pin)
    print("\n".join(pins))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
