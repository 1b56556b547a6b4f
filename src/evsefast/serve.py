"""``evsefast serve [CONFIG]``: connectors as EVerest modules on an MQTT broker, in one process.

Without CONFIG: one simulated connector ``connector_1`` and a broker on localhost:1883 (see
:mod:`evsefast.serve_config` for the file).  Logs one line per session event.  SIGTERM (or Ctrl-C)
puts every connector into its safe state, publishes the final vars and exits 0.

Exit codes: 0 stopped by a signal, 2 bad arguments or configuration.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import List, Optional

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # keep control of the exit code and the stream
        raise ValueError(f"{self.prog}: {message}")


def build_parser(prog: str = "evsefast serve") -> argparse.ArgumentParser:
    """The ``serve`` argument parser."""
    p = _Parser(prog=prog, description="Run connectors as EVerest evse_manager modules (framework MQTT protocol, "
                                        "consumer API) with a shared site limit. Default: one simulated connector, "
                                        "broker localhost:1883.")
    p.add_argument("config", nargs="?", metavar="CONFIG", help="a .toml or .json file (see the README)")
    p.add_argument("--host", help="broker host (overrides [mqtt] host)")
    p.add_argument("--port", type=int, help="broker port (overrides [mqtt] port)")
    p.add_argument("--format", choices=("current", "legacy"), help="framework format (overrides [mqtt] format)")
    p.add_argument("--check", action="store_true", help="validate the configuration, print a summary and exit")
    return p


def _configure(args) -> "object":
    import msgspec

    from .serve_config import load_config

    cfg = load_config(args.config)
    changes = {}
    if args.host is not None:
        changes.update(host=args.host, socket_path="")
    if args.port is not None:
        changes["port"] = args.port
    if args.format is not None:
        changes["format"] = args.format
    if changes:
        from .codec import decode

        mqtt = decode({**msgspec.to_builtins(cfg.mqtt), **changes}, type(cfg.mqtt), field_prefix="--")
        cfg = msgspec.structs.replace(cfg, mqtt=mqtt)
    return cfg


def main(argv: Optional[List[str]] = None) -> int:
    """``evsefast serve``; returns the exit code."""
    from .errors import InvalidInput

    try:
        args = build_parser().parse_args(argv)
        cfg = _configure(args)
    except (ValueError, InvalidInput) as exc:
        sys.stderr.write(f"evsefast serve: {exc}\n")
        return EXIT_USAGE
    logging.basicConfig(level=getattr(logging, cfg.log_level), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.check:
        boards = ", ".join(f"{c.module_id}={c.board}" for c in cfg.connectors)
        sys.stdout.write(f"ok: {len(cfg.connectors)} connector(s) ({boards}); broker "
                         f"{cfg.mqtt.socket_path or f'{cfg.mqtt.host}:{cfg.mqtt.port}'}\n")
        return EXIT_OK
    from .serve_site import Site

    try:
        site = Site(cfg)
    except (ValueError, InvalidInput, OSError) as exc:
        sys.stderr.write(f"evsefast serve: {exc}\n")
        return EXIT_USAGE
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        logging.getLogger("evsefast.serve").info("signal %s received", signal.Signals(signum).name)
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    site.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        site.shutdown()
    return EXIT_OK
