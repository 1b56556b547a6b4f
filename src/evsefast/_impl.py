"""Kernel selector: the compiled build or the same sources run as plain Python.

``EVSEFAST_NO_EXTENSIONS=1`` forces the plain path, ``EVSEFAST_REQUIRE_EXTENSIONS=1``
turns a missing extension into an ImportError.  Both builds can be loaded in one
process (``compiled()`` and ``pure()``), so tests and benchmarks compare them in
the same run; ``ACTIVE`` is the one the library uses by default.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

KERNEL_NAMES = ("pilot", "pilotstream", "cpsignal", "pwm", "limits", "meter", "framing")
_CORE_PACKAGE = "evsefast._core"
_PURE_PREFIX = "evsefast._core._pure_"

_cache: dict = {}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")


def _is_extension(module: ModuleType) -> bool:
    origin = getattr(module, "__file__", "") or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def _load_pure(name: str) -> ModuleType:
    """Load ``src/_core/<name>.py`` as plain Python even when a .so sits beside it."""
    core = importlib.import_module(_CORE_PACKAGE)
    path = Path(core.__file__).parent / f"{name}.py"
    qualified = _PURE_PREFIX + name
    if qualified in sys.modules:
        return sys.modules[qualified]
    loader = importlib.machinery.SourceFileLoader(qualified, str(path))
    spec = importlib.util.spec_from_file_location(qualified, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    loader.exec_module(module)
    return module


def _available_names() -> tuple:
    core = importlib.import_module(_CORE_PACKAGE)
    here = Path(core.__file__).parent
    return tuple(n for n in KERNEL_NAMES if (here / f"{n}.py").exists())


def _join_pilot(ns: SimpleNamespace) -> None:
    """``ns.pilot.PilotClassifier`` / ``removes_power``: the streaming classifier lives in its own
    kernel module (pilotstream, kept apart for size) but belongs to the pilot namespace."""
    stream = getattr(ns, "pilotstream", None)
    if stream is not None and hasattr(ns, "pilot"):
        ns.pilot.PilotClassifier = stream.PilotClassifier
        ns.pilot.removes_power = stream.removes_power


def pure() -> SimpleNamespace:
    """The kernels as plain Python (always available)."""
    if "pure" not in _cache:
        ns = SimpleNamespace(name="pure", compiled=False)
        for n in _available_names():
            setattr(ns, n, _load_pure(n))
        _join_pilot(ns)
        _cache["pure"] = ns
    return _cache["pure"]


def compiled() -> SimpleNamespace:
    """The compiled kernels; raises ImportError naming the missing extension."""
    if "compiled" not in _cache:
        ns = SimpleNamespace(name="compiled", compiled=True)
        for n in _available_names():
            module = importlib.import_module(f"{_CORE_PACKAGE}.{n}")
            if not _is_extension(module):
                raise ImportError(
                    f"evsefast._core.{n} is not compiled (loaded {module.__file__}); "
                    "reinstall with a C compiler, or set EVSEFAST_NO_EXTENSIONS=1"
                )
            setattr(ns, n, module)
        _join_pilot(ns)
        _cache["compiled"] = ns
    return _cache["compiled"]


def _select() -> SimpleNamespace:
    if _env_flag("EVSEFAST_NO_EXTENSIONS"):
        return pure()
    try:
        return compiled()
    except ImportError:
        if _env_flag("EVSEFAST_REQUIRE_EXTENSIONS"):
            raise
        return pure()


ACTIVE: SimpleNamespace = _select()
USING_EXTENSIONS: bool = ACTIVE.compiled


def build(name: str) -> SimpleNamespace:
    """Return the kernel namespace for ``"compiled"``, ``"pure"`` or ``"active"``."""
    if name == "compiled":
        return compiled()
    if name == "pure":
        return pure()
    if name == "active":
        return ACTIVE
    raise ValueError(f"kernel build must be 'compiled', 'pure' or 'active', got {name!r}")
