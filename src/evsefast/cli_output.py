"""Output of the ``evsefast`` commands: a stream that survives a closed pipe, and JSON lines.

A reader that goes away (``evsefast simulate --json | head``) must end the run quietly, not fill
stderr with ``BrokenPipeError`` tracebacks. Output is written from the manager's subscriber
callbacks, which must never raise, so :class:`PipeSafe` swallows the error, remembers it, and the
run loop asks :meth:`PipeSafe.check` (which raises :class:`evsefast.cli.StdoutClosed`) where
stopping is safe.
"""
from __future__ import annotations

import errno
import json
from typing import IO, Any, Callable


class PipeSafe:
    """Wraps a text stream; after a broken pipe every write is dropped and ``closed_by_reader`` is True."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.closed_by_reader = False

    def _guard(self, fn: Callable[[], Any]) -> None:
        if self.closed_by_reader:
            return
        try:
            fn()
        except BrokenPipeError:
            self.closed_by_reader = True
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            self.closed_by_reader = True
        except ValueError:  # "I/O operation on closed file"
            if not getattr(self.stream, "closed", False):
                raise
            self.closed_by_reader = True

    def write(self, text: str) -> None:
        """Write ``text`` (dropped once the reader has gone)."""
        self._guard(lambda: self.stream.write(text))

    def flush(self) -> None:
        """Flush (dropped once the reader has gone)."""
        self._guard(self.stream.flush)

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal."""
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def check(self) -> None:
        """Raise ``StdoutClosed`` if the reader has gone (call where the run may stop)."""
        if self.closed_by_reader:
            from .cli import StdoutClosed

            raise StdoutClosed()


def json_lines(out: PipeSafe) -> Callable[[float, str, Any], None]:
    """An ``on_var(t_ms, name, value)`` callback printing ``{"t_s": ..., "name": ..., "data": ...}`` lines.

    ``t_s`` is the simulated time in seconds (millisecond resolution); ``data`` is the value in
    EVerest's JSON shape (the same encoder as the manager's ``encoding="json"``).
    """
    from .codec import to_builtins

    def on_var(t_ms: float, name: str, value: Any) -> None:
        line = json.dumps({"t_s": round(t_ms / 1000.0, 3), "name": name, "data": to_builtins(value)},
                          separators=(",", ":"))
        out.write(line + "\n")
    return on_var


__all__ = ["PipeSafe", "json_lines"]
