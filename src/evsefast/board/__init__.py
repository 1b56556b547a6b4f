"""Boards: the ``BoardSupport`` port (mirrors EVerest's evse_board_support) and its backends.

Backends are looked up by name and imported lazily, so a missing optional
dependency only breaks the backend that needs it (python-can style).
"""
from __future__ import annotations

from importlib import import_module

from .port import BoardListener, BoardSupport, PowerMeter

# name -> "module:Class"; third-party boards register via the entry-point group "evsefast.boards"
BACKENDS = {
    "sim": "evsefast.sim.board:SimBoard",
    "yeti": "evsefast.board.yeti.driver:YetiBoard",
}


def board_class(name: str):
    """Return the board class registered under ``name`` (imported on first use)."""
    target = BACKENDS.get(name)
    if target is None:
        try:
            from importlib.metadata import entry_points

            for ep in entry_points().select(group="evsefast.boards"):  # type: ignore[attr-defined]
                if ep.name == name:
                    return ep.load()
        except Exception:  # pragma: no cover - metadata API differences on 3.9
            pass
        raise ValueError(f"unknown board {name!r}; known boards: {', '.join(sorted(BACKENDS))}")
    module, _, cls = target.partition(":")
    return getattr(import_module(module), cls)


__all__ = ["BACKENDS", "BoardListener", "BoardSupport", "PowerMeter", "board_class"]
