"""``ChargePoint``: an OCPP 1.6J or 2.0.1 charge point driving one or more ``EvseManager`` in-process.

::

    cp = ChargePoint([mgr], "ws://csms.example:9000/ocpp/CP001", version="1.6", store="cp001.sqlite")
    async with Runner(mgr):          # drives the manager in the same event loop
        task = asyncio.ensure_future(cp.run())
        ...
        await cp.present_token(1, "04A2B3C4")     # an RFID card at connector 1
        ...
        await cp.stop(); await task

Connector ``i`` is ``managers[i-1]``.  Build the charge point *before* the managers start: it must see
their start-up events (a transaction cut by a power loss is closed there).  The managers are driven
by whoever owns them (:class:`evsefast.runner.Runner` in the same event loop is simplest); their
events reach the charge point from any thread.  Settings are OCPP's configuration: pass initial
values as ``settings={"meter_sample_interval_s": 10, ...}`` (names: :data:`evsefast.ocpp.settings.SETTINGS`);
what the CSMS changes persists in ``store`` (a file path; None keeps everything in memory).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional, Sequence

from .link import Link, Security, build_url
from .protocol import cancel_and_wait
from .settings import Settings
from .stats import Stats
from .store import OcppStore

__all__ = ["ChargePoint", "VERSIONS"]

log = logging.getLogger("evsefast.ocpp")

VERSIONS = ("1.6", "2.0.1")


def _protocol_class(version: str):
    if version == "1.6":
        from .v16.protocol import Protocol16
        return Protocol16
    if version == "2.0.1":
        from .v201.protocol import Protocol201
        return Protocol201
    raise ValueError(f"version must be one of {', '.join(VERSIONS)}, got {version!r}")


class ChargePoint:
    """See the module docstring.  Keyword arguments:

    ``cp_id`` identity (default: the URL's last path segment); ``version`` "1.6" or "2.0.1"; ``store``
    path of the SQLite state (or an :class:`OcppStore`, or None for memory); ``settings`` initial
    setting values; ``security_profile`` 0/1/2 with ``password`` (AuthorizationKey / BasicAuthPassword)
    and ``ca_file`` (CSMS certificate authority for wss); ``clock`` (default: the first manager's);
    ``vendor``/``model``/``serial``/``firmware`` for BootNotification; ``reconnect_min_s``/``_max_s``
    back-off; ``boot_retry_s`` BootNotification retry when the CSMS gives no interval.
    """

    def __init__(self, managers: Sequence, csms_url: str, *, cp_id: Optional[str] = None, version: str = "1.6",
                 store: Any = None, settings: Optional[Dict[str, Any]] = None,
                 security_profile: Optional[int] = None, password: Optional[str] = None,
                 ca_file: Optional[str] = None, clock=None, vendor: str = "evsefast", model: str = "evsefast",
                 serial: Optional[str] = None, firmware: Optional[str] = None, reconnect_min_s: float = 1.0,
                 reconnect_max_s: float = 60.0, boot_retry_s: float = 10.0, durable: bool = True) -> None:
        if not managers:
            raise ValueError("a charge point needs at least one EvseManager")
        proto_cls = _protocol_class(version)
        url, identity = build_url(csms_url, cp_id)
        self.version = version
        self.identity = identity
        self.managers = list(managers)
        self.store = store if isinstance(store, OcppStore) else OcppStore(store, durable=durable)
        self.settings = Settings(self.store, settings)
        if security_profile is not None:
            self.settings.set("security_profile", max(security_profile, self.settings.security_profile),
                              persist=False)
        if password is not None and not self.settings.authorization_key:
            self.settings.set("authorization_key", password, persist=False)
        sec = Security(self.settings.security_profile, self.settings.authorization_key or None, ca_file)
        sec.check(url)
        self.clock = clock if clock is not None else self.managers[0].clock
        self.stats = Stats()
        info = {"vendor": vendor, "model": model, "serial": serial or identity, "firmware": firmware or ""}
        self.proto = proto_cls(self.managers, identity=identity, store=self.store, settings=self.settings,
                               clock=self.clock, stats=self.stats, info=info,
                               time_factor=getattr(self.clock, "factor", 1.0), boot_retry_s=boot_retry_s)
        self.link = Link(url, identity, proto_cls.subprotocol, sec, self.proto.session, self.stats,
                         min_s=reconnect_min_s, max_s=reconnect_max_s,
                         ping_interval_s=lambda: self.settings.websocket_ping_interval_s)
        self.proto.link = self.link
        self._task: Optional[asyncio.Future] = None
        self._stopping = False

    # -- state -------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """A websocket to the CSMS is open."""
        return self.proto.wire is not None

    @property
    def registration(self) -> Optional[str]:
        """The last BootNotification answer: Accepted, Pending, Rejected (None before the first)."""
        return self.proto.registration

    @property
    def connectors(self):
        """The connector objects (index 0 = connector 1)."""
        return self.proto.connectors

    # -- running -----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect (and reconnect) until :meth:`stop`."""
        self._stopping = False
        self.proto.start_background()
        self._task = asyncio.ensure_future(self.link.run())
        try:
            await self._task
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        finally:
            await self.proto.stop_background()

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Close the connection and end :meth:`run` (queued transaction messages stay in the store)."""
        self._stopping = True
        self.link.stop()
        task = self._task
        if task is not None and not task.done():
            # not "await task": a cancellation of the caller must not be swallowed
            if await cancel_and_wait({task}, timeout_s):
                log.warning("%s: the connection task did not end within %g s", self.identity, timeout_s)

    def close(self) -> None:
        """Close the store (after :meth:`stop`)."""
        self.store.close()

    # -- the RFID reader ---------------------------------------------------------------------------
    async def present_token(self, connector_id: int, id_tag: str) -> str:
        """An id tag presented at a connector: authorizes a new transaction or stops the running one.
        Returns ``"Started"``, ``"Stopped"`` or ``"Rejected: ..."``."""
        return await self.proto.present_token(connector_id, id_tag)
