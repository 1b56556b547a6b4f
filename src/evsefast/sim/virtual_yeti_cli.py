"""``evsefast virtual-board``: a virtual Yeti MCU on a pseudo-terminal.

Prints the pty path on the first line of stdout and runs until interrupted::

    $ evsefast virtual-board --car default --speed 10
    /dev/pts/7
    $ evsefast simulate --board yeti --port /dev/pts/7 --speed 10     # in another terminal

Give both sides the same ``--speed``: the host's link supervision and the car both run on
simulated time. ``--fault`` takes the same ``KIND[:ARG][@TIME]`` as ``evsefast simulate``.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import List, Optional

from ..board.yeti.profiles import PROFILES
from ..cli_args import ArgParser, UsageError, check_output_file, duration, fault_help, number, parse_fault

PROG = "evsefast virtual-board"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The argument parser (also used by ``evsefast`` to register the subcommand)."""
    from ..cli import EXIT_CODES

    p = ArgParser(prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_CODES,
                  description="Run a virtual Yeti MCU (the simulator's hardware and car behind the Yeti "
                              "serial protocol) on a pseudo-terminal; prints the pty path on the first line.")
    p.add_argument("--car", metavar="SCRIPT|PROFILE", default=None,
                   help="car command script (EVerest car command language) or car profile name")
    p.add_argument("--speed", metavar="FACTOR", type=number(1e-3, 1e6), default=1.0,
                   help="simulated seconds per real second, 0.001 to 1e6 (default 1); the physics advance at most "
                        "100 ms per 5 ms pass, so above about 20 the board falls behind (the host can tell from its "
                        "keep-alive time stamps)")
    p.add_argument("--seed", type=int, default=None, help="random seed of the simulation")
    p.add_argument("--profile", choices=sorted(PROFILES), default="yeti", help="board field numbering")
    p.add_argument("--link", metavar="PATH", default=None,
                   help="also make PATH a symlink to the pty (a stable name for the host's config)")
    p.add_argument("--socket", action="store_true", help="socket connector with PP (default: fixed cable)")
    p.add_argument("--duration", metavar="TIME", type=duration, default=1800.0,
                   help="simulated session length the car profile is built for, 1 s to 7 d: seconds or "
                        "90s / 30m / 1.5h / 7d (default 30m)")
    p.add_argument("--phases", type=int, choices=(1, 3), default=3, help="phases the car draws on (default 3)")
    p.add_argument("--run-for", metavar="SECONDS", type=number(0.0, 1e9, " s"), default=None,
                   help="stop after this many real seconds (default: run until interrupted)")
    p.add_argument("--fault", metavar="KIND[:ARG][@TIME]", action="append", default=[],
                   help=fault_help(link=True).replace("from the start", "after the host's reset"))
    p.add_argument("--host-timeout", metavar="SECONDS", type=number(1e-3, 1e9, " s"), default=None,
                   help="fail safe (power off, X1) when the host sends nothing for this long "
                        "(default: never; EVerest's YetiDriver sends no periodic keep-alives)")
    p.add_argument("-v", "--verbose", action="store_true", help="log the link to stderr")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: parse ``argv``, start the virtual MCU, print its port, wait for SIGINT/SIGTERM.
    Errors end in one line on stderr (exit 2), as for every ``evsefast`` command."""
    from ..cli import guard, log_to

    verbose = bool(argv and ("-v" in argv or "--verbose" in argv))
    with log_to(sys.stderr, verbose):
        return guard(PROG, lambda: _main(argv))


def _main(argv: Optional[List[str]]) -> int:
    args = build_parser().parse_args(argv)
    faults = [parse_fault(text, duration_s=args.duration, link=True) for text in args.fault]
    if args.link is not None:
        check_output_file("--link", args.link)
    from ..errors import InvalidInput
    from .virtual_yeti import VirtualYetiMcu, make_hardware

    try:
        hardware = make_hardware(args.car, args.seed, duration_s=args.duration, phases=args.phases,
                                 connector="socket" if args.socket else "cable")
    except InvalidInput as exc:  # also CarScriptError
        raise UsageError(f"argument --car: {exc}") from None
    mcu = VirtualYetiMcu(hardware, seed=args.seed, profile=args.profile, speed=args.speed, link_path=args.link,
                         host_timeout_ms=None if args.host_timeout is None else 1000.0 * args.host_timeout)
    for fault in faults:
        mcu.schedule(fault.t_s, fault.kind, fault.arg)
    done = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: done.set())
    try:
        try:
            mcu.start()
        except OSError as exc:
            where = "--link" if args.link and exc.filename and str(args.link) in str(exc.filename) else "the pty"
            raise UsageError(f"{'argument ' if where == '--link' else ''}{where}: {exc.strerror or exc}"
                             f"{': ' + str(exc.filename) if exc.filename else ''}") from None
        print(mcu.port_path, flush=True)
        done.wait(args.run_for)
    finally:
        mcu.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if args.verbose:
            print(f"virtual-board: host frames {mcu.stats}, sent {mcu.tx_frames}, dropped {mcu.tx_dropped}",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
