"""``evsefast chargepoint``: OCPP charge points against a CSMS, on simulated stations or a Yeti board.

::

    evsefast chargepoint --csms ws://localhost:9000/CP001                 # one simulated charge point
    evsefast chargepoint --csms ws://localhost:9000/CP --count 200        # CP-001 ... CP-200
    evsefast chargepoint --csms ws://localhost:9000/CP001 --ocpp 2.0.1 --speed 60 --duration 2h
    evsefast chargepoint --csms ws://... --board yeti --port /dev/ttyUSB0 --state /var/lib/evsefast

Exit codes: 0 done (duration reached or interrupted), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import IO, Any, Dict, List, Optional

__all__ = ["build_parser", "main"]

EPILOG = """\
The simulated station runs the real manager and IEC 61851 physics: each connector has a car with
a seeded schedule (plug in, present the RFID card, charge, unplug, again).  --config sets OCPP
configuration before the start, by 1.6 key or setting name, e.g. --config MeterValueSampleInterval=10
--config AllowOfflineTxForUnknownId=true.  --state DIR keeps the offline queue, configuration,
availability and the open transactions across restarts (power loss).

exit codes: 0 done, 2 bad arguments
"""


PROG = "evsefast chargepoint"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The ``chargepoint`` argument parser."""
    from ..cli_args import ArgParser, duration, number

    p = ArgParser(prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
                description="OCPP 1.6J / 2.0.1 charge point(s) driving evsefast managers against a CSMS.")
    p.add_argument("--csms", required=True, metavar="ws[s]://HOST:PORT/PATH/ID",
                   help="the CSMS endpoint with the charge point identity at its end")
    p.add_argument("--ocpp", choices=("1.6", "2.0.1"), default="1.6", help="protocol version (default 1.6)")
    p.add_argument("--count", type=int, default=1, metavar="N",
                   help="run N charge points (identities ID-001 ... ID-N), 1-10000 (default 1)")
    p.add_argument("--board", choices=("sim", "yeti"), default="sim",
                   help="sim: simulated station; yeti: a Yeti board on --port (default sim)")
    p.add_argument("--port", metavar="PATH", help="serial port of the Yeti board (--board yeti)")
    p.add_argument("--connectors", type=int, default=1, metavar="N", help="connectors per station, 1-8 (sim)")
    p.add_argument("--speed", type=number(0.01, 1000.0), default=1.0, metavar="FACTOR",
                   help="simulated seconds per real second (sim, default 1)")
    p.add_argument("--duration", type=duration, default=None, metavar="TIME",
                   help="stop after this much simulated time, e.g. 90s, 30m (default: until Ctrl-C)")
    p.add_argument("--seed", type=int, default=0, help="seed of the cars' schedules (default 0)")
    p.add_argument("--id-tag", default="EVSEFAST0001", metavar="TAG",
                   help="the RFID card the driver presents after plug-in (default EVSEFAST0001)")
    p.add_argument("--no-rfid", action="store_true", help="present no card: wait for remote starts")
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                   help="an OCPP configuration value before the start (repeatable)")
    p.add_argument("--security-profile", type=int, choices=(0, 1, 2), default=None,
                   help="0 none, 1 basic auth, 2 TLS + basic auth")
    p.add_argument("--password", help="basic auth password (AuthorizationKey / BasicAuthPassword)")
    p.add_argument("--ca-file", metavar="PEM", help="certificate authority of the CSMS (wss)")
    p.add_argument("--state", metavar="DIR", help="folder for the persistent state (default: in memory)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log messages (-vv: the wire frames)")
    return p


def _settings(pairs: List[str], version: str) -> Dict[str, Any]:
    from ..cli_args import UsageError
    from .settings import SETTINGS, SettingError, Settings
    from .v16.keys import KEYS

    out: Dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"argument --config: expected KEY=VALUE, got {pair!r}")
        name = KEYS.get(key, key)
        if name not in SETTINGS:
            raise UsageError(f"argument --config: unknown key {key!r}; keys: {', '.join(sorted(KEYS))}")
        try:
            out[name] = Settings.check(name, value)
        except SettingError as exc:
            raise UsageError(f"argument --config: {exc}") from None
    return out


def _validate(args) -> None:
    from ..cli_args import UsageError
    from .link import build_url

    if not 1 <= args.count <= 10000:
        raise UsageError(f"argument --count: must be in [1, 10000], got {args.count}")
    if not 1 <= args.connectors <= 8:
        raise UsageError(f"argument --connectors: must be in [1, 8], got {args.connectors}")
    if args.board == "yeti" and (args.port is None or args.count != 1):
        raise UsageError("--board yeti needs --port and a --count of 1")
    if args.port is not None and args.board != "yeti":
        raise UsageError("argument --port: only with --board yeti")
    try:
        build_url(args.csms, None)
    except ValueError as exc:
        raise UsageError(f"argument --csms: {exc}") from None
    if args.id_tag is not None and not 1 <= len(args.id_tag) <= 20:
        raise UsageError("argument --id-tag: must be 1-20 characters")


async def _run_yeti(args, settings) -> Dict[str, Any]:
    from ..board.yeti.driver import YetiBoard
    from ..clock import Clock
    from ..manager import EvseManager
    from ..runner import Runner
    from .chargepoint import ChargePoint

    clock = Clock()
    board = YetiBoard(args.port, clock=clock)
    store = None if args.state is None else f"{args.state}/manager-1.sqlite"
    mgr = EvseManager({"connector_id": 1}, board=board, powermeters=(), clock=clock, store=store)
    cp = ChargePoint([mgr], args.csms, version=args.ocpp, settings=settings,
                     store=None if args.state is None else f"{args.state}/ocpp.sqlite",
                     security_profile=args.security_profile, password=args.password, ca_file=args.ca_file)
    tag = None if args.no_rfid else args.id_tag

    def on_event(ev) -> None:
        if ev.event.value == "AuthRequired" and tag:
            asyncio.get_running_loop().create_task(cp.present_token(1, tag))
    mgr.subscribe("session_event", on_event)
    task = asyncio.ensure_future(cp.run())
    try:
        async with Runner(mgr):
            if args.duration is None:
                await task
            else:
                await asyncio.sleep(args.duration)
    finally:
        await cp.stop()
        cp.close()
        mgr.close()
    return {"identity": cp.identity, **cp.stats.summary()}


def chargepoint(argv: Optional[List[str]] = None, *, stdout: Optional[IO[str]] = None,
                stderr: Optional[IO[str]] = None) -> int:
    """``evsefast chargepoint``; returns the exit code."""
    from ..cli import EXIT_OK, guard

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr

    def run() -> int:
        args = build_parser().parse_args(argv)
        _validate(args)
        settings = _settings(args.config, args.ocpp)
        logging.basicConfig(level=logging.WARNING, stream=err, format="%(asctime)s %(name)s: %(message)s")
        logging.getLogger("ocpp").setLevel(logging.WARNING)
        if args.verbose:
            logging.getLogger("evsefast.ocpp").setLevel(logging.INFO)
            if args.verbose > 1:
                logging.getLogger("evsefast.ocpp.wire").setLevel(logging.INFO)
        import ocpp.messages

        # validation in a worker thread costs more than it saves for small messages, and with many
        # charge points it would crowd the executor; restored afterwards (the command may run in-process)
        old_validation = ocpp.messages.ASYNC_VALIDATION
        ocpp.messages.ASYNC_VALIDATION = False
        try:
            if args.board == "yeti":
                summary = asyncio.run(_run_yeti(args, settings))
                out.write(json.dumps(summary, indent=2) + "\n")
                return EXIT_OK
            result = asyncio.run(_run_sim(args, settings))
        except ValueError as exc:  # e.g. a security profile without its prerequisites
            from ..cli_args import UsageError
            raise UsageError(str(exc)) from None
        finally:
            ocpp.messages.ASYNC_VALIDATION = old_validation
        if args.json:
            s = result.stats.summary()
            s.update(count=result.count, wall_s=round(result.wall_s, 3), cpu_s=round(result.cpu_s, 3),
                     sim_s=round(result.sim_s, 3), registered=result.registered,
                     energy_Wh=round(result.energy_Wh, 1))
            out.write(json.dumps(s, indent=2) + "\n")
        else:
            out.write(result.text() + "\n")
        return EXIT_OK
    return guard(PROG, run, err)


async def _run_sim(args, settings):
    from .fleet import FleetOptions, run_fleet
    from .station import StationOptions

    sopt = StationOptions(connectors=args.connectors, seed=args.seed, speed=args.speed,
                          id_tag=None if args.no_rfid else args.id_tag)
    opt = FleetOptions(args.csms, count=args.count, version=args.ocpp, duration_s=args.duration, station=sopt,
                       settings=settings, security_profile=args.security_profile, password=args.password,
                       ca_file=args.ca_file, state_dir=args.state)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:  # Ctrl-C / SIGTERM end the run with a summary
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
        pass
    return await run_fleet(opt, stop=stop)


main = chargepoint
