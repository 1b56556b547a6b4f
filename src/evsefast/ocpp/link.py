"""The websocket to the CSMS: connect, check the subprotocol, authenticate, reconnect with back-off.

* URL = CSMS endpoint + ``/`` + charge point identity (J16 §3.1.1); subprotocol ``ocpp1.6`` or
  ``ocpp2.0.1``, checked after the handshake (a server that picked none or another one is left);
* security profile 1: HTTP Basic auth, user = identity, password = AuthorizationKey (1.6) /
  BasicAuthPassword (2.0.1); profile 2: the same over ``wss://`` with the CSMS certificate
  verified against ``ca_file`` (or the system's roots) including its host name (SW §7, A00.FR);
* back-off after a failed or lost connection: ``min_s`` doubling up to ``max_s``, plus up to 25 %
  random jitter so a fleet does not reconnect in lock-step (JE16 §3.3, P4 §5.3).
"""
from __future__ import annotations

import asyncio
import base64
import logging
import random
import ssl
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional
from urllib.parse import quote, urlsplit

from websockets.asyncio.client import connect

__all__ = ["Link", "Security", "build_url"]

log = logging.getLogger("evsefast.ocpp")


def build_url(csms_url: str, cp_id: Optional[str]) -> tuple:
    """``(url, identity)``: without ``cp_id`` the URL's last path segment is the identity; with it,
    the percent-encoded identity is appended."""
    parts = urlsplit(csms_url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"the CSMS URL must start with ws:// or wss://, got {csms_url!r}")
    if cp_id is None:
        ident = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if not ident:
            raise ValueError(f"the CSMS URL has no charge point identity at its end: {csms_url!r}")
        return csms_url, ident
    return csms_url.rstrip("/") + "/" + quote(cp_id, safe=""), cp_id


@dataclass
class Security:
    """Security profile 0 (none), 1 (basic auth) or 2 (TLS + basic auth)."""

    profile: int = 0
    password: Optional[str] = None
    ca_file: Optional[str] = None

    def check(self, url: str) -> None:
        """``ValueError`` naming what is missing for the profile."""
        scheme = urlsplit(url).scheme
        if self.profile not in (0, 1, 2):
            raise ValueError(f"security profile must be 0, 1 or 2, got {self.profile}")
        if self.profile >= 1 and not self.password:
            raise ValueError(f"security profile {self.profile} needs a password (AuthorizationKey)")
        if self.profile == 2 and scheme != "wss":
            raise ValueError("security profile 2 needs a wss:// CSMS URL")
        if self.profile < 2 and scheme == "wss" and self.profile != 0:
            raise ValueError(f"security profile {self.profile} uses ws://, got a wss:// URL")

    def headers(self, identity: str) -> dict:
        """The HTTP headers of the opening handshake."""
        if self.profile < 1:
            return {}
        token = base64.b64encode(f"{identity}:{self.password}".encode()).decode()
        return {"Authorization": "Basic " + token}

    def ssl_context(self, url: str) -> Optional[ssl.SSLContext]:
        """A verifying TLS >= 1.2 context for ``wss://`` (None for ``ws://``)."""
        if urlsplit(url).scheme != "wss":
            return None
        ctx = ssl.create_default_context(cafile=self.ca_file)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.options |= getattr(ssl, "OP_NO_COMPRESSION", 0)
        return ctx


class Link:
    """Keeps one connection up; ``session(ws)`` runs for each connection until it returns or fails."""

    def __init__(self, url: str, identity: str, subprotocol: str, security: Security,
                 session: Callable[[object], Awaitable[None]], stats, *, min_s: float = 1.0, max_s: float = 60.0,
                 open_timeout_s: float = 10.0, ping_interval_s: Callable[[], float] = lambda: 0) -> None:
        self.url = url
        self.identity = identity
        self.subprotocol = subprotocol
        self.security = security
        self.session = session
        self.stats = stats
        self.min_s = float(min_s)
        self.max_s = float(max_s)
        self.open_timeout_s = float(open_timeout_s)
        self.ping_interval_s = ping_interval_s
        self.ws = None
        self.last_error: Optional[str] = None
        self.last_exception: Optional[BaseException] = None
        self._stop = False

    async def _open(self):
        ping = self.ping_interval_s() or None
        return await connect(self.url, subprotocols=[self.subprotocol],
                             additional_headers=self.security.headers(self.identity),
                             ssl=self.security.ssl_context(self.url), open_timeout=self.open_timeout_s,
                             ping_interval=ping, ping_timeout=ping, max_size=2 ** 22, close_timeout=2)

    async def run(self) -> None:
        """Connect and reconnect until :meth:`stop`."""
        delay = self.min_s
        while not self._stop:
            try:
                ws = await self._open()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - refused, handshake rejected, TLS, timeout
                self.stats.connect_failures += 1
                self.last_exception = exc
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.info("%s: cannot connect to %s: %s", self.identity, self.url, self.last_error)
                await self._pause(delay)
                delay = min(delay * 2.0, self.max_s)
                continue
            if ws.subprotocol != self.subprotocol:
                self.last_error = f"the CSMS chose subprotocol {ws.subprotocol!r}, not {self.subprotocol!r}"
                log.warning("%s: %s", self.identity, self.last_error)
                await ws.close()
                await self._pause(delay)
                delay = min(delay * 2.0, self.max_s)
                continue
            self.stats.connects += 1
            self.last_error = None
            delay = self.min_s
            self.ws = ws
            try:
                await self.session(ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a lost connection ends the session
                log.info("%s: connection ended: %r", self.identity, exc)
            finally:
                self.ws = None
                await ws.close()
            if not self._stop:
                await self._pause(delay)

    async def _pause(self, delay: float) -> None:
        await asyncio.sleep(delay * (1.0 + 0.25 * random.random()))

    async def drop(self) -> None:
        """Close the current connection (a reconnect follows unless stopped)."""
        ws = self.ws
        if ws is not None:
            await ws.close()

    def stop(self) -> None:
        """End :meth:`run` after the current connection."""
        self._stop = True
