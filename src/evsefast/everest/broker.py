"""``Mosquitto``: a real mosquitto broker on a free localhost port, for tests and benchmarks.

Starts the Debian ``mosquitto`` binary with a generated config (``set_tcp_nodelay true``: without it
every QoS 2 round trip pays Nagle + delayed ACK, wire_protocols.md §1.9), waits until it accepts
connections, and can be killed (SIGKILL, as a crash) and restarted on the same port::

    with Mosquitto() as broker:
        settings = MqttSettings(host="127.0.0.1", port=broker.port)
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

__all__ = ["BrokerUnavailable", "Mosquitto", "find_mosquitto", "free_port"]

_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto")


class BrokerUnavailable(RuntimeError):
    """The mosquitto binary is missing or the broker did not start."""


def find_mosquitto() -> Optional[str]:
    """The mosquitto binary's path, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for path in _CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """A mosquitto process on 127.0.0.1:``port`` (a free one by default); optionally a unix socket too."""

    def __init__(self, port: Optional[int] = None, *, unix_socket: bool = False, binary: Optional[str] = None,
                 max_inflight: int = 20) -> None:
        self.binary = binary or find_mosquitto()
        if self.binary is None:
            raise BrokerUnavailable("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.port = port or free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="evsefast-mosquitto-"))
        self.socket_path = str(self._dir / "mqtt.sock") if unix_socket else ""
        self.max_inflight = int(max_inflight)
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = self._dir / "mosquitto.log"

    @property
    def host(self) -> str:
        """The broker's address."""
        return "127.0.0.1"

    def _write_config(self) -> Path:
        lines = [f"listener {self.port} 127.0.0.1"]
        if self.socket_path:
            lines += ["listener 0 " + self.socket_path]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # as root mosquitto would switch to the "mosquitto" user, which cannot use our private temp dir
            lines.append("user root")
        lines += ["allow_anonymous true", "set_tcp_nodelay true", "persistence false",
                  f"max_inflight_messages {self.max_inflight}", "max_queued_messages 100000",
                  "log_dest stderr", "log_type error", "log_type warning"]
        conf = self._dir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def start(self, timeout_s: float = 10.0) -> "Mosquitto":
        """Start the broker and wait until it accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        conf = self._write_config()
        if self.socket_path and os.path.exists(self.socket_path):
            os.unlink(self.socket_path)  # left behind by a killed broker
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)
        finally:
            log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrokerUnavailable(f"mosquitto exited with {self.proc.returncode}: {self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise BrokerUnavailable(f"mosquitto did not accept connections on port {self.port} within {timeout_s:g} s")

    def kill(self) -> None:
        """SIGKILL the broker (a crash: clients see the connection drop)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def stop(self) -> None:
        """Terminate the broker (SIGTERM, then SIGKILL after 5 s)."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.proc = None

    def restart(self, timeout_s: float = 10.0) -> None:
        """Start again on the same port (after ``kill`` or ``stop``)."""
        self.stop()
        deadline = time.monotonic() + timeout_s
        while True:  # the old listener's port may linger for a moment
            try:
                self.start(timeout_s=max(0.5, deadline - time.monotonic()))
                return
            except BrokerUnavailable:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def log(self) -> str:
        """The broker's log so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        """Stop the broker and remove its files."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "Mosquitto":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
