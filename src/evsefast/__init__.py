"""evsefast: the EVerest evse_manager charging kernel of one connector.

``evsefast.USING_EXTENSIONS`` tells whether the compiled kernels are live.
Heavier parts (the manager, the simulator, board drivers) are imported lazily so
that ``import evsefast`` stays fast on a small controller.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, List

from ._impl import USING_EXTENSIONS

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers ("X as X": re-exported)
    from . import errors as errors, testing as testing, types as types
    from .board.port import BoardListener as BoardListener, BoardSupport as BoardSupport
    from .config import ManagerConfig as ManagerConfig
    from .manager import EvseManager as EvseManager

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "EvseManager": "evsefast.manager",
    "ManagerConfig": "evsefast.config",
    "BoardSupport": "evsefast.board.port",
    "BoardListener": "evsefast.board.port",
    "errors": "evsefast.errors",
    "types": "evsefast.types",
    "testing": "evsefast.testing",
}

__all__ = ["USING_EXTENSIONS", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'evsefast' has no attribute {name!r}")
    module = import_module(target)
    value = module if target.rsplit(".", 1)[-1] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(__all__)
