"""``ModuleRig``: an ``EvseManager`` on a recording ``FakeBoard`` as an EVerest module on a real broker,
with an ``EverestPeer`` playing EVerest's side -- for evsefast's tests and integrators' own.

Each rig gets its own prefixes (``everest_<hex>/``, ``ext_<hex>/``, as EVerest's test harness does), so
rigs can share one broker.  Time is the manager's ``ManualClock``: ``advance(ms)`` moves it on the
connector's driver thread; nothing waits for real timers except the broker round trips::

    with Mosquitto() as broker, ModuleRig(broker) as rig:
        rig.plug_in()
        assert rig.peer.call_value("connector_1", "evse", "pause_charging") is False
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Dict, Optional

from ..clock import ManualClock
from ..manager import EvseManager
from ..testing import FakeBoard, FakePowerMeter, token, validation
from .link import MqttLink
from .peer import EverestPeer
from .run import EverestConnector
from .settings import ModuleIds, MqttSettings

__all__ = ["ModuleRig"]


class ModuleRig:
    """See the module docstring. ``start=False`` lets a test subscribe before the module boots."""

    def __init__(self, broker, fmt: str = "current", *, config: Optional[Dict[str, Any]] = None,
                 module_id: str = "connector_1", api_module_id: str = "", wait_global_ready: bool = False,
                 heartbeat_ms: float = 1000.0, comm_check_s: float = 5.0, board=None, meters=None,
                 start: bool = True, use_socket: bool = False, reconnect_min_s: float = 0.5,
                 on_external_limits: Optional[Callable[[str], None]] = None, inline_cmds: bool = False) -> None:
        tag = uuid.uuid4().hex[:8]
        self.module_id = module_id
        if use_socket:
            conn = dict(host="", socket_path=broker.socket_path)
        else:
            conn = dict(host=broker.host, port=broker.port)
        self.settings = MqttSettings(everest_prefix=f"everest_{tag}/", external_prefix=f"ext_{tag}/", format=fmt,
                                     reconnect_min_s=reconnect_min_s, reconnect_max_s=max(2.0, reconnect_min_s),
                                     **conn)
        self.clock = ManualClock()
        self.board = board if board is not None else FakeBoard()
        self.meter = FakePowerMeter()
        cfg = {"module_id": module_id, **(config or {})}
        self.manager = EvseManager(cfg, board=self.board, powermeters=[self.meter] if meters is None else meters,
                                   clock=self.clock)
        self.link = MqttLink(self.settings, name=f"rig-{module_id}")
        self.ids = ModuleIds(module_id=module_id, api_module_id=api_module_id)
        self.conn = EverestConnector(self.manager, self.link, self.ids, wait_global_ready=wait_global_ready,
                                     heartbeat_ms=heartbeat_ms, comm_check_s=comm_check_s,
                                     on_external_limits=on_external_limits, inline_cmds=inline_cmds)
        self.driver = self.conn.driver
        self.module = self.conn.module
        self.api = self.conn.api
        self.peer = EverestPeer(self.settings, "ocpp").start()
        self.evse_base = self.peer.base(module_id, "evse")
        self.energy_base = self.peer.base(module_id, "energy_grid")
        self.api_base = f"{self.settings.external_prefix}everest_api/1/evse_manager_consumer/{api_module_id}"
        self.started = False
        if start:
            self.start()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> "ModuleRig":
        """Start the connector, connect, and feed the first meter value (the manager then boots)."""
        self.conn.start()
        self.link.start()
        if not self.link.wait_connected(timeout_s):
            raise TimeoutError("rig: no broker connection")
        self.started = True
        self.run(lambda: self.meter.publish(0.0))
        if not self.conn.wait_global_ready:
            self.wait_for(lambda: self.manager.get("ready") is True, what="the manager to become ready")
        return self

    def close(self) -> None:
        """Stop everything the rig started."""
        self.conn.stop()
        self.link.stop()
        self.peer.stop()
        self.manager.close()

    def __enter__(self) -> "ModuleRig":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- acting ----------------------------------------------------------------------------------
    def run(self, fn: Callable, timeout_s: float = 10.0) -> Any:
        """Run ``fn()`` on the connector's driver thread (then the manager processes it)."""
        return self.driver.run_sync(fn, timeout_s)

    def advance(self, ms: float) -> None:
        """Move the manual clock forward on the driver thread and let the manager process it."""
        self.run(lambda: (self.clock.advance_ms(ms), self.manager.tick()))
        self.run(lambda: None)  # one more pass: the hooks (errors, energy requests) ran

    def cp(self, state: str) -> None:
        """The board reports a CP state (or PowerOn/PowerOff)."""
        self.run(lambda: (self.board.emit(state), self.manager.tick()))

    def plug_in(self) -> None:
        """CP B."""
        self.cp("B")

    def authorize(self, value: str = "RFID1") -> Any:
        """``authorize_response`` over MQTT, as EVerest's Auth module sends it."""
        return self.peer.call(self.module_id, "evse", "authorize_response",
                              {"provided_token": token(value), "validation_result": validation()})

    def limit(self, amps: float, valid_for: int = 3600) -> Any:
        """``enforce_limits`` over MQTT on ``energy_grid``, as EVerest's EnergyManager sends it."""
        from ..testing import enforced_limits
        return self.peer.call(self.module_id, "energy_grid", "enforce_limits",
                              {"value": enforced_limits(amps, valid_for=valid_for, uuid=self.module_id)})

    @staticmethod
    def wait_for(pred: Callable[[], bool], timeout_s: float = 10.0, what: str = "a condition") -> None:
        """Poll ``pred`` (every 5 ms) until it holds; ``TimeoutError`` naming ``what``."""
        deadline = time.monotonic() + timeout_s
        while not pred():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            time.sleep(0.005)
