"""``evsefast simulate``: a simulated charger and car, end to end through the Cython core.

Everything that can be checked before the run is (arguments, the car script, the fault times,
the ``--plot`` file, the ``--port`` device); what goes wrong later ends in one line on stderr and
an exit code (see :mod:`evsefast.cli`). A run whose result cannot be trusted -- the board fell
behind the simulated clock, never answered, or nothing was charged while the charger said
Charging -- exits 3 naming the cause, never 0 with a wrong session.
"""
from __future__ import annotations

import argparse
import sys
from typing import IO, Any, Dict, List, Optional

from .cli import EXIT_OK, EXIT_SAFETY, EXIT_UNTRUSTED, EXIT_CODES, guard, log_to
from .cli_args import (
    ArgParser, UsageError, check_output_file, check_serial_port, duration, fault_help, number, parse_fault,
)
from .cli_output import PipeSafe, json_lines

PROG = "evsefast simulate"

EPILOG = f"""\
car profiles: default, sleepy, late-follower, diode-fault, ventilation, one-phase;
or an EVerest car script, e.g. --car 'sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 600;unplug'

speed: --board sim runs as fast as the machine allows unless --speed is given. --board yeti with
the in-process virtual MCU runs in lockstep with the serial link: the simulated clock advances only
once both ends have handled every frame, as fast as the link allows (give --speed to run both ends
in real time x FACTOR instead). --board yeti --port PATH runs in real time (--speed 1) by default:
a board keeps its own clock; give a virtual board the same --speed.

{EXIT_CODES}
"""


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The ``simulate`` argument parser."""
    p = ArgParser(prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
                  description="A simulated charger and car, end to end through the Cython core: the default is "
                              "plug in, RFID authorised, 16 A on 3 phases for 30 simulated minutes, the car "
                              "pauses and resumes, unplug.")
    p.add_argument("--car", metavar="SCRIPT|PROFILE", default=None,
                   help="car profile name or EVerest car command script (default: 'default')")
    p.add_argument("--limit", metavar="A", type=number(6.0, 80.0, " A"), default=16.0,
                   help="the energy manager's current limit in A (6 to 80, default 16)")
    p.add_argument("--phases", metavar="N", type=int, default=3,
                   help="phases the car draws on: 1 or 3 (default 3)")
    p.add_argument("--duration", metavar="TIME", type=duration, default=1800.0,
                   help="simulated session length, 1 s to 7 d: seconds or 90s / 30m / 1.5h / 7d (default 30m)")
    p.add_argument("--speed", metavar="FACTOR", type=number(1e-3, 1e6), default=None,
                   help="real-time factor, simulated s per wall s (0.001 to 1e6); default: see 'speed' below")
    p.add_argument("--json", action="store_true",
                   help="print every session_event / var publication as one JSON line {t_s, name, data}: "
                        "t_s the simulated time in s, data in EVerest's shape (status and summary go to stderr)")
    p.add_argument("--plot", metavar="FILE.png", default=None,
                   help="write offered (PWM) and drawn current per phase, duty, CP state and energy over time, "
                        "with the session events (needs evsefast[plot])")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output; default 0)")
    p.add_argument("--board", choices=("sim", "yeti"), default="sim",
                   help="sim: in-process simulated board; yeti: the Yeti serial driver over a pty to a virtual "
                        "Yeti MCU, or to --port (default sim)")
    p.add_argument("--port", metavar="PATH", default=None,
                   help="serial port of a Yeti board or of evsefast virtual-board (--board yeti only)")
    p.add_argument("--fault", metavar="KIND[:ARG][@TIME]", action="append", default=[],
                   help=fault_help(link=True).replace("Serial link (virtual Yeti MCU only)",
                                                      "Serial link (--board yeti without --port only)"))
    p.add_argument("--socket", action="store_true",
                   help="a socket connector with a proximity pilot (the car's cable: 32 A); default: fixed cable")
    p.add_argument("--quiet", action="store_true", help="no status line, only the summary")
    p.add_argument("-v", "--verbose", action="store_true", help="log the manager's and the driver's warnings")
    return p


def validate(args: argparse.Namespace) -> Dict[str, Any]:
    """Check what argparse cannot; returns the parsed faults and the car profile."""
    if args.phases not in (1, 3):
        raise UsageError(f"argument --phases: must be 1 or 3, got {args.phases}")
    if args.port is not None and args.board != "yeti":
        raise UsageError("argument --port: only with --board yeti")
    if args.plot is not None:
        if not args.plot.lower().endswith(".png"):
            raise UsageError(f"argument --plot: must be a .png file name, got {args.plot!r}")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            from .sim.plot import INSTALL_HINT

            raise UsageError(f"argument --plot: {INSTALL_HINT}") from None
        check_output_file("--plot", args.plot)
    if args.port is not None:
        check_serial_port("--port", args.port)
    from .errors import InvalidInput
    from .sim.car import SimCar
    from .sim.profiles import PROFILES, resolve

    try:
        profile = resolve(args.car)
        if profile.name == "script":
            SimCar(args.car)  # parse now: a bad script is a usage error
    except InvalidInput as exc:
        hint = "" if ("profiles:" in str(exc) or (args.car and " " in args.car)) else \
            f" (or a profile: {', '.join(PROFILES)})"
        raise UsageError(f"argument --car: {exc}{hint}") from None
    if args.duration < profile.min_duration_s:
        raise UsageError(f"argument --duration: the '{profile.name}' car needs at least "
                         f"{profile.min_duration_s:g} s, got {args.duration:g} s")
    link = args.board == "yeti" and args.port is None
    faults = [parse_fault(text, duration_s=args.duration, link=link) for text in args.fault]
    if faults and args.port is not None:
        raise UsageError("argument --fault: cannot inject faults into a board on --port; give them to "
                         "evsefast virtual-board --fault instead")
    return {"faults": faults, "profile": profile}


def simulate(argv: Optional[List[str]] = None, *, stdout: Optional[IO[str]] = None,
             stderr: Optional[IO[str]] = None) -> int:
    """``evsefast simulate``; returns the exit code."""
    out = PipeSafe(stdout if stdout is not None else sys.stdout)
    err = stderr if stderr is not None else sys.stderr
    verbose = bool(argv and ("-v" in argv or "--verbose" in argv))
    with log_to(err, verbose):
        return guard(PROG, lambda: _simulate(argv, out, err), err)


def _simulate(argv: Optional[List[str]], out: PipeSafe, err: IO[str]) -> int:
    args = build_parser().parse_args(argv)
    checked = validate(args)
    from .sim.runner import SimOptions
    from .sim.summary import StatusLine, format_summary, trust_problem

    faults = checked["faults"]
    opts = SimOptions(car=args.car, limit_A=args.limit, phases=args.phases, duration_s=args.duration,
                      speed=args.speed, seed=args.seed, record_vars=False,
                      faults=tuple(faults),
                      hardware_options={"connector": "socket"} if args.socket else {})
    # with --json the JSON lines own stdout; the status line and the summary go to stderr
    report = PipeSafe(err) if args.json else out
    status = None if args.quiet else StatusLine(report, duration_s=args.duration)

    def progress(runner: Any) -> None:
        out.check()  # the reader of stdout has gone: stop here
        if status is not None:
            status.progress(runner)
    callbacks: Dict[str, Any] = {"on_progress": progress}
    if status is not None:
        callbacks["on_event"] = lambda t, label, ev: status.event(t, label)
    if args.json:
        callbacks["on_var"] = json_lines(out)
    try:
        result = _run(args, opts, callbacks)
    finally:
        if status is not None:
            status.close()
    out.check()
    report.write(format_summary(result) + "\n")
    if args.plot:
        from .sim.plot import plot_result

        try:
            plot_result(result, args.plot)
        except OSError as exc:
            raise UsageError(f"argument --plot: cannot write {args.plot}: {exc.strerror or exc}") from None
        report.write(f"  plot: {args.plot}\n")
    report.flush()
    out.flush()
    out.check()
    if result.violation is not None:
        err.write(f"{PROG}: {result.violation}\n")
        return EXIT_SAFETY
    problem = trust_problem(result)
    if problem is not None:
        err.write(f"{PROG}: {problem}\n")
        return EXIT_UNTRUSTED
    return EXIT_OK


def _run(args: argparse.Namespace, opts: Any, callbacks: Dict[str, Any]) -> Any:
    if args.board != "yeti":
        from .sim.runner import run_session

        return run_session(opts, **callbacks)
    from .errors import TransportInitError
    from .sim.yeti_session import run_yeti_session

    try:
        return run_yeti_session(opts, port=args.port, **callbacks)
    except TransportInitError as exc:
        raise UsageError(f"argument --port: {exc}") from None


__all__ = ["EPILOG", "PROG", "build_parser", "simulate", "validate"]
