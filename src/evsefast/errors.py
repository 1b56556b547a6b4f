"""evsefast's exception tree (python-can style): catch ``EvseError`` for anything of ours."""
from __future__ import annotations


class EvseError(Exception):
    """Base of every evsefast error."""


class InvalidInput(EvseError, ValueError):
    """Bad input rejected at the edge. The message names the field and what is allowed.

    ``field`` is the path of the offending field (e.g. ``"$.cmd_source.enable_priority"``).
    """

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class CommandRejected(InvalidInput):
    """A cmd's arguments failed validation; the charger's state is unchanged."""


class BoardError(EvseError):
    """A board failed (could not open, lost link, protocol violation)."""


class TransportInitError(BoardError):
    """A board's transport could not be opened (port missing, busy, or refused)."""


class TransportClosed(BoardError):
    """The board's transport was closed or disappeared."""


class ProtocolError(BoardError):
    """A frame could not be decoded."""


class FramingError(ProtocolError):
    """A frame was oversized, truncated or not valid COBS."""


class CrcError(ProtocolError):
    """A frame's CRC did not match."""


class NotReady(EvseError, RuntimeError):
    """A cmd was called before the manager is ready (``start()`` not called, or start-up still running:
    waiting for the first meter value or ``external_ready_to_start_charging``). Nothing changed.

    Only ``enable_disable`` (applied when the manager becomes ready) and
    ``external_ready_to_start_charging`` are accepted before ready. ``await mgr.wait_ready()`` or the
    ``ready`` var tell when cmds are served.
    """


class ManagerClosed(EvseError, RuntimeError):
    """A cmd was called after ``EvseManager.close()``. Nothing changed."""


class StoreError(EvseError):
    """The power-loss store cannot be used: the message names the path and what is wrong (missing
    directory, a directory given as the file, read-only filesystem, ...). ``path`` is that path."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class SafetyViolation(EvseError):
    """A safety invariant was broken (raised by checkers in tests and the simulator)."""


__all__ = [
    "BoardError", "CommandRejected", "CrcError", "EvseError", "FramingError", "InvalidInput", "ManagerClosed",
    "NotReady", "ProtocolError", "SafetyViolation", "StoreError", "TransportClosed", "TransportInitError",
]
