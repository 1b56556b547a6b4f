"""The layers run one way: drivers (``evsefast.board``) never import the simulator (``evsefast.sim``).

ARCHITECTURE.md: "Drivers in ``board/`` never import ``sim/``". The virtual Yeti MCU is simulation
and lives in ``evsefast.sim.virtual_yeti``. Checked twice: statically (every ``import`` in every
module under ``board/``, also inside functions) and at run time (importing every driver module in a
fresh interpreter loads no ``evsefast.sim`` module).
"""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import evsefast

PKG = pathlib.Path(evsefast.__file__).parent
BOARD = PKG / "board"


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path):
    """Absolute names of every module imported anywhere in ``path`` (relative imports resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    return _imports_of(path.read_text(encoding="utf-8"), package)


def _imports_of(source: str, package: str):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # "from .. import sim" imports the package sim
                yield node.lineno, f"{target}.{alias.name}"


def _board_files():
    files = sorted(BOARD.rglob("*.py"))
    assert len(files) >= 8, files  # the port, the registry and the Yeti driver's modules
    return files


def test_no_driver_module_imports_the_simulator():
    offenders = []
    for path in _board_files():
        for lineno, name in _imports(path):
            if name == "evsefast.sim" or name.startswith("evsefast.sim."):
                offenders.append(f"{path.relative_to(PKG)}:{lineno} imports {name}")
    assert offenders == []


def test_the_virtual_mcu_lives_beside_the_simulator():
    assert not (BOARD / "yeti" / "virtual.py").exists()
    assert not (BOARD / "yeti" / "virtual_cli.py").exists()
    from evsefast.sim.virtual_yeti import VirtualYetiMcu  # noqa: F401
    from evsefast.sim.virtual_yeti_cli import main  # noqa: F401


def test_importing_every_driver_module_loads_no_simulator_module():
    modules = [_module_name(p) for p in _board_files()]
    code = ("import sys\n"
            f"for m in {modules!r}:\n"
            "    __import__(m)\n"
            "print(sorted(n for n in sys.modules if n == 'evsefast.sim' or n.startswith('evsefast.sim.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_static_check_sees_relative_and_nested_imports():
    """The checker itself: relative imports resolve, imports inside functions are seen."""
    names = {name for _, name in _imports(BOARD / "yeti" / "driver.py")}
    assert "evsefast.board.port" in names  # "from ..port import BoardSupport"
    nested = "def f():\n    from ...sim import hardware\n    import evsefast.sim.car\n"
    names = {name for _, name in _imports_of(nested, "evsefast.board.yeti")}
    assert {"evsefast.sim", "evsefast.sim.hardware", "evsefast.sim.car"} <= names
