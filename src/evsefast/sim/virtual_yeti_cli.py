"""``evsefast virtual-board``: a virtual Yeti MCU on a pseudo-terminal.

Prints the pty path on the first line of stdout and runs until interrupted::

    $ evsefast virtual-board --car default --speed 10
    /dev/pts/7
    $ evsefast simulate --board yeti --port /dev/pts/7 --speed 10     # in another terminal

Give both sides the same ``--speed``: the host's link supervision and the car both run on
simulated time.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import List, Optional

from ..board.yeti.profiles import PROFILES


def build_parser(prog: str = "evsefast virtual-board") -> argparse.ArgumentParser:
    """The argument parser (also used by ``evsefast`` to register the subcommand)."""
    p = argparse.ArgumentParser(prog=prog, description="Run a virtual Yeti MCU (the simulator's hardware "
                                "and car behind the Yeti serial protocol) on a pseudo-terminal.")
    p.add_argument("--car", metavar="SCRIPT|PROFILE", default=None,
                   help="car command script (EVerest car command language) or car profile name")
    p.add_argument("--speed", metavar="FACTOR", type=float, default=1.0,
                   help="simulated seconds per real second (default 1)")
    p.add_argument("--seed", type=int, default=None, help="random seed of the simulation")
    p.add_argument("--profile", choices=sorted(PROFILES), default="yeti", help="board field numbering")
    p.add_argument("--link", metavar="PATH", default=None,
                   help="also make PATH a symlink to the pty (a stable name for the host's config)")
    p.add_argument("--socket", action="store_true", help="socket connector with PP (default: fixed cable)")
    p.add_argument("--duration", metavar="SECONDS", type=float, default=1800.0,
                   help="simulated session length the car profile is built for (default 1800)")
    p.add_argument("--phases", type=int, choices=(1, 3), default=3, help="phases the car draws on (default 3)")
    p.add_argument("--run-for", metavar="SECONDS", type=float, default=None,
                   help="stop after this many real seconds (default: run until interrupted)")
    p.add_argument("--fault", metavar="T:KIND[:ARG]", action="append", default=[],
                   help="inject at T simulated seconds after the host's reset: garbage, crc, truncate, "
                        "silence[:SECONDS], resume, reset (spurious MCU reset), or a hardware fault "
                        "(rcd, over_current, diode_fault, lost, ...; ARG off removes it); repeatable")
    p.add_argument("--host-timeout", metavar="SECONDS", type=float, default=None,
                   help="fail safe (power off, X1) when the host sends nothing for this long "
                        "(default: never; EVerest's YetiDriver sends no periodic keep-alives)")
    p.add_argument("-v", "--verbose", action="store_true", help="log the link to stderr")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: parse ``argv``, start the virtual MCU, print its port, wait for SIGINT/SIGTERM."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    if not args.speed > 0:
        print(f"--speed must be > 0, got {args.speed}", file=sys.stderr)
        return 2
    from .virtual_yeti import VirtualYetiMcu, make_hardware

    try:
        hardware = make_hardware(args.car, args.seed, duration_s=args.duration, phases=args.phases,
                                 connector="socket" if args.socket else "cable")
    except (ValueError, OSError) as exc:  # InvalidInput / CarScriptError are ValueErrors
        print(f"evsefast virtual-board: {exc}", file=sys.stderr)
        return 2
    mcu = VirtualYetiMcu(hardware, seed=args.seed, profile=args.profile, speed=args.speed, link_path=args.link,
                         host_timeout_ms=None if args.host_timeout is None else 1000.0 * args.host_timeout)
    try:
        for spec in args.fault:
            t, _, rest = spec.partition(":")
            kind, _, arg = rest.partition(":")
            mcu.schedule(float(t), kind, arg or None)
    except ValueError as exc:
        print(f"evsefast virtual-board: --fault: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: done.set())
    try:
        mcu.start()
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
