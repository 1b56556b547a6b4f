"""A recording CSMS built with the ``ocpp`` package (server side), for tests, benchmarks and demos.

::

    csms = Csms(version="1.6")
    await csms.start()                        # a websockets server on a free localhost port
    cp = ChargePoint([mgr], csms.url("CP1"))
    ...
    await csms.wait_for("StartTransaction")   # every CALL the charge points sent is recorded
    result = await csms.call("CP1", "RemoteStopTransaction", transaction_id=1)
    await csms.stop()

``csms.messages`` lists ``Message(cp_id, action, payload)`` in arrival order, ``payload`` with the
snake_case keys the ``ocpp`` package hands to handlers.  Answers can be steered: ``boot_status``
(a status, or a list used one per BootNotification), ``heartbeat_interval``, ``id_tag_status``
(id tag -> status for Authorize/StartTransaction), ``basic_auth`` (identity -> password; others get
HTTP 401), ``ssl_context`` for wss, ``fail`` (action -> how many of the next requests get a
CALLERROR InternalError; they are recorded all the same).
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Union

import ocpp.v16
import ocpp.v201
from ocpp.exceptions import InternalError
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as res16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as res201
from websockets.asyncio.server import serve

from .timefmt import iso

__all__ = ["Csms", "Message", "Rig"]


class Message(NamedTuple):
    """One CALL a charge point sent."""

    cp_id: str
    action: str
    payload: Dict[str, Any]
    t: float


class _Mixin:
    csms: "Csms"

    def _rec(self, action: str, payload: Dict[str, Any]) -> None:
        self.csms._record(self.id, action, payload)
        left = self.csms.fail.get(action, 0)
        if left:
            self.csms.fail[action] = left - 1
            raise InternalError(description="injected by the test CSMS")


class _Csms16(_Mixin, ocpp.v16.ChargePoint):
    @on("BootNotification")
    def boot(self, **kw):
        """Record and answer the boot request."""
        self._rec("BootNotification", kw)
        return res16.BootNotification(current_time=iso(time.time()), interval=self.csms.heartbeat_interval,
                                      status=self.csms._next_boot_status())

    @on("Heartbeat")
    def heartbeat(self, **kw):
        """Record and answer the heartbeat request."""
        self._rec("Heartbeat", kw)
        return res16.Heartbeat(current_time=iso(time.time()))

    @on("StatusNotification")
    def status(self, **kw):
        """Record and answer the status request."""
        self._rec("StatusNotification", kw)
        return res16.StatusNotification()

    @on("Authorize")
    def authorize(self, id_tag, **kw):
        """Record and answer the authorize request."""
        self._rec("Authorize", dict(kw, id_tag=id_tag))
        return res16.Authorize(id_tag_info=self.csms._id_tag_info(id_tag))

    @on("StartTransaction")
    def start_tx(self, id_tag, **kw):
        """Record and answer the start tx request."""
        self._rec("StartTransaction", dict(kw, id_tag=id_tag))
        return res16.StartTransaction(transaction_id=next(self.csms._tx_ids),
                                      id_tag_info=self.csms._id_tag_info(id_tag))

    @on("StopTransaction")
    def stop_tx(self, **kw):
        """Record and answer the stop tx request."""
        self._rec("StopTransaction", kw)
        return res16.StopTransaction()

    @on("MeterValues")
    def meter_values(self, **kw):
        """Record and answer the meter values request."""
        self._rec("MeterValues", kw)
        return res16.MeterValues()

    @on("DataTransfer")
    def data_transfer(self, **kw):
        """Record and answer the data transfer request."""
        self._rec("DataTransfer", kw)
        return res16.DataTransfer(status="UnknownVendorId")


class _Csms201(_Mixin, ocpp.v201.ChargePoint):
    @on("BootNotification")
    def boot(self, **kw):
        """Record and answer the boot request."""
        self._rec("BootNotification", kw)
        return res201.BootNotification(current_time=iso(time.time()), interval=self.csms.heartbeat_interval,
                                       status=self.csms._next_boot_status())

    @on("Heartbeat")
    def heartbeat(self, **kw):
        """Record and answer the heartbeat request."""
        self._rec("Heartbeat", kw)
        return res201.Heartbeat(current_time=iso(time.time()))

    @on("StatusNotification")
    def status(self, **kw):
        """Record and answer the status request."""
        self._rec("StatusNotification", kw)
        return res201.StatusNotification()

    @on("Authorize")
    def authorize(self, id_token, **kw):
        """Record and answer the authorize request."""
        self._rec("Authorize", dict(kw, id_token=id_token))
        return res201.Authorize(id_token_info={"status": self.csms._status_of(id_token["id_token"])})

    @on("TransactionEvent")
    def transaction_event(self, **kw):
        """Record and answer the transaction event request."""
        self._rec("TransactionEvent", kw)
        tok = kw.get("id_token")
        if tok is None:
            return res201.TransactionEvent()
        return res201.TransactionEvent(id_token_info={"status": self.csms._status_of(tok["id_token"])})

    @on("MeterValues")
    def meter_values(self, **kw):
        """Record and answer the meter values request."""
        self._rec("MeterValues", kw)
        return res201.MeterValues()

    @on("NotifyEvent")
    def notify_event(self, **kw):
        """Record and answer the notify event request."""
        self._rec("NotifyEvent", kw)
        return res201.NotifyEvent()


class Csms:
    """See the module docstring."""

    def __init__(self, version: str = "1.6", *, host: str = "127.0.0.1", port: int = 0,
                 boot_status: Union[str, List[str]] = "Accepted", heartbeat_interval: int = 300,
                 id_tag_status: Optional[Dict[str, str]] = None, basic_auth: Optional[Dict[str, str]] = None,
                 ssl_context=None, response_timeout: float = 10.0) -> None:
        if version not in ("1.6", "2.0.1"):
            raise ValueError(f"version must be 1.6 or 2.0.1, got {version!r}")
        self.version = version
        self.host = host
        self.port = port
        self.boot_status = boot_status
        self.heartbeat_interval = heartbeat_interval
        self.id_tag_status = dict(id_tag_status or {})
        self.basic_auth = basic_auth
        self.ssl_context = ssl_context
        self.response_timeout = response_timeout
        self.messages: List[Message] = []
        self.fail: Dict[str, int] = {}
        self.connections: Dict[str, Any] = {}
        self.auth_headers: List[Optional[str]] = []
        self._tx_ids = itertools.count(1)
        self._boots = 0
        self._server = None
        self._changed = asyncio.Event()

    # -- server ------------------------------------------------------------------------------------
    @property
    def subprotocol(self) -> str:
        """``ocpp1.6`` or ``ocpp2.0.1``."""
        return "ocpp1.6" if self.version == "1.6" else "ocpp2.0.1"

    def url(self, cp_id: str = "") -> str:
        """``ws://host:port/<cp_id>`` (``wss`` with an SSL context)."""
        scheme = "wss" if self.ssl_context is not None else "ws"
        host = "localhost" if self.ssl_context is not None else self.host
        return f"{scheme}://{host}:{self.port}/{cp_id}"

    async def start(self) -> "Csms":
        """Listen (a free port if ``port`` is 0); returns self."""
        self._server = await serve(self._handler, self.host, self.port, subprotocols=[self.subprotocol],
                                   process_request=self._check_auth, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.connections.clear()

    async def __aenter__(self) -> "Csms":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def _check_auth(self, connection, request):
        header = request.headers.get("Authorization")
        self.auth_headers.append(header)
        if self.basic_auth is None:
            return None
        ident = request.path.rstrip("/").rsplit("/", 1)[-1]
        want = self.basic_auth.get(ident)
        expected = None if want is None else "Basic " + base64.b64encode(f"{ident}:{want}".encode()).decode()
        if header is None or header != expected:
            return connection.respond(401, "Unauthorized\n")
        return None

    async def _handler(self, ws) -> None:
        cp_id = ws.request.path.strip("/").rsplit("/", 1)[-1]
        cls = _Csms16 if self.version == "1.6" else _Csms201
        cp = cls(cp_id, ws, response_timeout=self.response_timeout)
        cp.csms = self
        self.connections[cp_id] = cp
        try:
            await cp.start()
        except Exception:  # noqa: BLE001 - the connection closed
            pass
        finally:
            if self.connections.get(cp_id) is cp:
                del self.connections[cp_id]

    async def drop(self, cp_id: str) -> None:
        """Close one charge point's connection (it will reconnect)."""
        cp = self.connections.get(cp_id)
        if cp is not None:
            await cp._connection.close()

    # -- answers -----------------------------------------------------------------------------------
    def _next_boot_status(self) -> str:
        b = self.boot_status
        self._boots += 1
        if isinstance(b, str):
            return b
        return b[min(self._boots - 1, len(b) - 1)]

    def _status_of(self, id_tag: str) -> str:
        return self.id_tag_status.get(id_tag, "Accepted")

    def _id_tag_info(self, id_tag: str) -> Dict[str, Any]:
        return {"status": self._status_of(id_tag)}

    def _record(self, cp_id: str, action: str, payload: Dict[str, Any]) -> None:
        self.messages.append(Message(cp_id, action, payload, time.monotonic()))
        self._changed.set()

    # -- inspection --------------------------------------------------------------------------------
    def of(self, action: Optional[str] = None, cp_id: Optional[str] = None) -> List[Message]:
        """The recorded messages of one action (all if None), optionally of one charge point."""
        return [m for m in self.messages if (action is None or m.action == action)
                and (cp_id is None or m.cp_id == cp_id)]

    def actions(self, cp_id: Optional[str] = None, skip=("Heartbeat",)) -> List[str]:
        """The actions received, in order (Heartbeats left out by default)."""
        return [m.action for m in self.messages if (cp_id is None or m.cp_id == cp_id) and m.action not in skip]

    def statuses(self, connector_id: int = 1, cp_id: Optional[str] = None) -> List[str]:
        """The statuses reported for one connector, in order (1.6 ``status``, 2.0.1 ``connector_status``)."""
        out = []
        for m in self.of("StatusNotification", cp_id):
            p = m.payload
            cid = p.get("connector_id") if self.version == "1.6" else (p.get("evse_id") if p.get("evse_id") else 0)
            if cid == connector_id:
                out.append(p.get("status") or p.get("connector_status"))
        return out

    async def wait_for(self, what: Union[str, Callable[[], bool]], count: int = 1, timeout: float = 10.0,
                       cp_id: Optional[str] = None) -> List[Message]:
        """Wait until ``count`` messages of action ``what`` arrived (or the predicate holds)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if callable(what):
                if what():
                    return []
            else:
                got = self.of(what, cp_id)
                if len(got) >= count:
                    return got
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise asyncio.TimeoutError(f"waited {timeout} s for {what!r} x{count}; got {self.actions()}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.05))
            except asyncio.TimeoutError:
                pass

    async def wait_connected(self, cp_id: str, timeout: float = 10.0) -> None:
        """Wait until ``cp_id`` has a connection."""
        await self.wait_for(lambda: cp_id in self.connections, timeout=timeout)

    async def call(self, cp_id: str, action: str, **payload) -> Any:
        """Send a request to a connected charge point; returns the result (raises on CALLERROR)."""
        module = call16 if self.version == "1.6" else call201
        cp = self.connections[cp_id]
        return await cp.call(getattr(module, action)(**payload), suppress=False)

    async def call_unknown(self, cp_id: str, action: str, **payload) -> Any:
        """Send a request the ``ocpp`` package has no message class for (no validation on our side)."""
        import dataclasses

        cls = dataclasses.make_dataclass(action, [(k, Any) for k in payload])
        return await self.connections[cp_id].call(cls(**payload), suppress=False, skip_schema_validation=True)

    async def send_raw(self, cp_id: str, text: str) -> None:
        """Send a raw frame to a charge point (for malformed-message tests)."""
        await self.connections[cp_id]._connection.send(text)


class Rig:
    """A :class:`Csms`, ``connectors`` manager harnesses and a :class:`ChargePoint`, in one event loop::

        async with Rig("1.6", settings={"meter_sample_interval_s": 1}) as rig:
            rig.h().plug_in()
            await rig.cp.present_token(1, "TAG")
            await rig.settle()

    ``boards`` replaces the harnesses' default ``CheckingBoard``s.  The managers run on a
    :class:`~evsefast.ocpp.station.SimClock` whose ``factor`` (default 20) speeds
    up the charge point's timers (1 s of sampling interval = 50 ms); the managers' own time only
    moves when a test advances it.  ``settle()`` waits until everything queued was delivered.
    """

    def __init__(self, version: str = "1.6", *, connectors: int = 1, settings: Optional[Dict[str, Any]] = None,
                 store: Any = None, manager_stores: Optional[List[Any]] = None, factor: float = 20.0,
                 csms: Optional[Csms] = None, start_csms: bool = True, cp_id: str = "CP1",
                 energy_Wh: float = 1000.0, boards: Optional[List[Any]] = None, **cp_kwargs) -> None:
        from ..testing import ManagerHarness
        from .station import SimClock

        self.version = version
        self.csms = csms if csms is not None else Csms(version)
        self.start_csms = start_csms
        self.cp_id = cp_id
        self.clock = SimClock(factor, wall_start_s=1_767_225_600.0)
        stores = manager_stores or [None] * connectors
        boards = boards or [None] * connectors
        self.harnesses = [ManagerHarness({"connector_id": i + 1}, start=False, limit_A=None, clock=self.clock,
                                         store=stores[i], energy_Wh=energy_Wh, board=boards[i])
                          for i in range(connectors)]
        for h in self.harnesses:
            if hasattr(h.board, "manager"):
                h.board.manager = h.mgr
        self._settings = settings
        self._store = store
        self._cp_kwargs = cp_kwargs
        self.cp = None
        self._task: Optional[asyncio.Future] = None

    def h(self, connector_id: int = 1):
        """The manager harness of a connector."""
        return self.harnesses[connector_id - 1]

    async def __aenter__(self) -> "Rig":
        from .chargepoint import ChargePoint

        if self.start_csms:
            await self.csms.start()
        elif not self.csms.port:
            self.csms.port = _free_port()
        kwargs = dict(version=self.version, settings=self._settings, store=self._store, clock=self.clock,
                      reconnect_min_s=0.05, reconnect_max_s=0.2, boot_retry_s=0.1)
        kwargs.update(self._cp_kwargs)
        self.cp = ChargePoint([h.mgr for h in self.harnesses], self.csms.url(self.cp_id), **kwargs)
        for h in self.harnesses:
            h.mgr.start()
            h.sample()
        self._task = asyncio.ensure_future(self.cp.run())
        if self.start_csms:
            await self.registered()
        return self

    async def registered(self, timeout: float = 10.0) -> None:
        """Wait until the charge point is registered and its start-up statuses were delivered."""
        await self.csms.wait_for(lambda: self.cp.registration == "Accepted", timeout=timeout)
        await self.settle()

    async def charge(self, connector_id: int = 1, id_tag: str = "TAG1") -> str:
        """Plug in, present ``id_tag``, the EV draws (C), everything delivered; returns what
        ``present_token`` said."""
        h = self.h(connector_id)
        h.plug_in()
        said = await self.cp.present_token(connector_id, id_tag)
        h.cp("C")
        await self.settle()
        return said

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the outbox is empty and no request is being handled."""
        proto = self.cp.proto
        deadline = asyncio.get_running_loop().time() + timeout
        quiet = 0
        while quiet < 3:
            wire = proto.wire
            busy = bool(proto.outbox.items) or (wire is not None and not wire.idle.is_set())
            quiet = 0 if busy else quiet + 1
            if asyncio.get_running_loop().time() > deadline:
                raise asyncio.TimeoutError(f"not settled: {len(proto.outbox.items)} queued")
            await asyncio.sleep(0.01)

    async def __aexit__(self, *exc) -> None:
        if self.cp is not None:
            await self.cp.stop()
            self.cp.close()
        for h in self.harnesses:
            h.mgr.close()
        await self.csms.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
