"""The ``evsefast`` command: ``evsefast <command> [options]`` (also ``python -m evsefast``).

Commands are registered in :data:`COMMANDS`: name -> (function, one-line help). A command function
takes its argument list and returns the exit code; :func:`guard` around it turns every error into
one line on stderr, without a traceback.

Exit codes (every command): 0 success; 1 a safety invariant was broken (the message says which and
when); 2 bad arguments, or a file, port or device that cannot be used (the message names the
argument or path and what is wrong); 3 the run cannot be trusted (the board fell behind the
simulated clock, never answered, or nothing was charged while the charger said Charging);
130 interrupted; 141 stdout was closed (``evsefast simulate --json | head``), the run ends quietly.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import IO, Callable, Dict, Iterator, List, Optional, Tuple

from .cli_args import UsageError
from .errors import EvseError

EXIT_OK = 0
EXIT_SAFETY = 1
EXIT_USAGE = 2
EXIT_UNTRUSTED = 3
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE, as a shell reports a process killed by a closed pipe

EXIT_CODES = """\
exit codes: 0 success; 1 a safety invariant was broken; 2 bad arguments or an unusable file or
port; 3 the run cannot be trusted (the board fell behind the simulated clock, never answered, or
nothing was charged while the charger said Charging); 130 interrupted; 141 stdout was closed"""


class StdoutClosed(Exception):
    """The reader of stdout went away (``| head``): stop the run and end quietly."""


def describe(exc: BaseException) -> str:
    """One line for an ``OSError`` (path and reason) or any other error (its message)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else ""
        return f"{where}: {exc.strerror}" if where else exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests pass StringIO)
        pass


@contextlib.contextmanager
def log_to(stream: IO[str], verbose: bool = False) -> Iterator[None]:
    """Route evsefast's log records to ``stream`` while a command runs: warnings with ``verbose``,
    errors otherwise, one line each (tracebacks of logged exceptions only with ``verbose``)."""
    class OneLine(logging.Formatter):
        def formatException(self, ei) -> str:  # noqa: N802 - logging's name
            return super().formatException(ei) if verbose else ""

        def format(self, record: logging.LogRecord) -> str:
            return super().format(record).rstrip()

    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLine("evsefast: %(name)s: %(message)s"))
    handler.setLevel(logging.INFO if verbose else logging.ERROR)
    root = logging.getLogger("evsefast")
    old_level, old_propagate = root.level, root.propagate
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.ERROR)
    root.propagate = False
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        root.propagate = old_propagate


def guard(prog: str, run: Callable[[], int], stderr: Optional[IO[str]] = None) -> int:
    """Run a command body; every failure becomes one line ``prog: message`` on stderr and an exit code."""
    err = stderr if stderr is not None else sys.stderr
    try:
        return int(run() or 0)
    except UsageError as exc:
        err.write(f"{prog}: {exc}\n")
        return EXIT_USAGE
    except (StdoutClosed, BrokenPipeError):
        return EXIT_PIPE  # main() silences the real stdout; a stream passed in is the caller's
    except KeyboardInterrupt:
        err.write(f"{prog}: interrupted\n")
        return EXIT_INTERRUPTED
    except (OSError, EvseError) as exc:
        err.write(f"{prog}: {describe(exc)}\n")
        return EXIT_USAGE


def simulate(argv: Optional[List[str]] = None, *, stdout: Optional[IO[str]] = None,
             stderr: Optional[IO[str]] = None) -> int:
    """``evsefast simulate``; returns the exit code (see :mod:`evsefast.cli_simulate`)."""
    from .cli_simulate import simulate as run

    return run(argv, stdout=stdout, stderr=stderr)


def virtual_board(argv: Optional[List[str]] = None) -> int:
    """``evsefast virtual-board``: a virtual Yeti MCU on a pseudo-terminal."""
    from .sim.virtual_yeti_cli import main as run

    return run(argv)


def chargepoint(argv: Optional[List[str]] = None) -> int:
    """``evsefast chargepoint``: OCPP charge points against a CSMS (``evsefast.ocpp.cli``)."""
    from .ocpp.cli import chargepoint as run

    return run(argv)


def serve(argv: Optional[List[str]] = None) -> int:
    """``evsefast serve``: connectors as EVerest modules over MQTT (``evsefast.serve``)."""
    from .serve import main as serve_main

    return serve_main(argv)


#: name -> (function(argv) -> exit code, one-line help). A new subcommand is one line here.
COMMANDS: Dict[str, Tuple[Callable[[List[str]], int], str]] = {
    "simulate": (simulate, "a simulated charger and car, end to end"),
    "virtual-board": (virtual_board, "a virtual Yeti MCU on a pseudo-terminal"),
    "chargepoint": (chargepoint, "OCPP 1.6J / 2.0.1 charge points against a CSMS"),
    "serve": (serve, "connectors as EVerest modules over MQTT (a site, one process)"),
}


def usage() -> str:
    """The top-level help text."""
    lines = ["usage: evsefast [-h] [-V] <command> [options]", "",
             "The charging kernel of one EV charger connector (EVerest evse_manager).", "", "commands:"]
    lines += [f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "options:", "  -h, --help     show this help and exit",
              "  -V, --version  print the version and exit", "",
              "evsefast <command> --help shows a command's options.", EXIT_CODES]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    """``evsefast <command> [options]``; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        (sys.stdout if args else sys.stderr).write(usage())
        return EXIT_OK if args else EXIT_USAGE
    if args[0] in ("-V", "--version"):
        from . import __version__

        sys.stdout.write(f"evsefast {__version__}\n")
        return EXIT_OK
    entry = COMMANDS.get(args[0])
    if entry is None:
        sys.stderr.write(f"evsefast: unknown command {args[0]!r}; commands: {', '.join(COMMANDS)} "
                         "(evsefast --help)\n")
        return EXIT_USAGE
    fn = entry[0]

    def run() -> int:
        try:
            return int(fn(args[1:]) or 0)
        except SystemExit as exc:  # argparse's --help inside a subcommand
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    code = guard(f"evsefast {args[0]}", run)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        code = code or EXIT_PIPE
    if code == EXIT_PIPE:
        quiet_stdout()  # else the interpreter's last flush of stdout prints a BrokenPipeError
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
