"""``EverestBoard``: an EVerest ``evse_board_support`` module as evsefast's ``BoardSupport`` port.

So evsefast runs on the BSP modules EVerest already has (YetiDriver, ChargeBridge through the
``evse_board_support_API``, the YetiSimulator): the manager's board commands become cmd calls on the
BSP's implementation (fire and forget, as EvseManager's are; a failed result is logged), and the BSP's
vars ``event``, ``capabilities``, ``ac_nr_of_phases_available``, ``ac_pp_ampacity``, ``telemetry``,
``request_stop_transaction`` and its errors (raised/cleared, ``evse_board_support/*`` and, with
``rcd_impl``, ``ac_rcd/*``) reach the manager through its listener.  Optional ``lock_impl``: a
``connector_lock`` implementation for ``lock``/``unlock``.

After a broker reconnect the last commanded state (enable, PWM / X1 / F, allow_power_on, phases,
over-current limit) is sent again, so a BSP that missed commands while the broker was away ends up
where the manager is (e.g. power off after the limit expired).  Bad BSP payloads are logged
(rate-limited) and dropped.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

import msgspec

from ..board.port import BoardSupport
from ..types.board import (
    BoardError, BspEvent, HardwareCapabilities, PhaseCount, PowerOnOff, ProximityPilot, Severity, Telemetry,
)
from ..types.evse_manager import StopTransactionRequest
from .calls import Caller
from .link import MqttLink
from .ratelog import RateLimitedLog
from .wire import decode_framework_error

__all__ = ["BSP_VARS", "EverestBoard"]

log = logging.getLogger("evsefast.everest.board")

#: BSP var -> (type, listener method)
BSP_VARS: Dict[str, Any] = {
    "event": (BspEvent, "on_bsp_event"),
    "capabilities": (HardwareCapabilities, "on_capabilities"),
    "ac_nr_of_phases_available": (PhaseCount, "on_ac_nr_of_phases_available"),
    "ac_pp_ampacity": (ProximityPilot, "on_ac_pp_ampacity"),
    "telemetry": (Telemetry, "on_telemetry"),
    "request_stop_transaction": (StopTransactionRequest, "on_request_stop_transaction"),
}
_DECODERS = {name: msgspec.json.Decoder(tp) for name, (tp, _) in BSP_VARS.items()}
_SEVERITIES = {s.value: s for s in Severity}


class EverestBoard(BoardSupport):
    """The BSP module ``module_id`` (implementation ``impl_id``) as a board; see the module docstring."""

    def __init__(self, link: MqttLink, caller: Caller, wire, prefix: str, module_id: str,
                 impl_id: str = "board_support", *, lock_impl: str = "", rcd_impl: str = "",
                 executor: Optional[Callable[[Callable[[], None]], None]] = None) -> None:
        super().__init__()
        self.link = link
        self.caller = caller
        self.wire = wire
        self.module_id = module_id
        self.impl_id = impl_id
        self.lock_impl = lock_impl
        self.supports_connector_lock = bool(lock_impl)
        self.executor = executor
        self.base = f"{prefix}modules/{module_id}/impl/{impl_id}"
        self._state: Dict[str, Any] = {}
        self._bad = RateLimitedLog(log, f"bsp {module_id}")
        self._error_bases = [self.base]
        if rcd_impl:
            self._error_bases.append(f"{prefix}modules/{module_id}/impl/{rcd_impl}")
        self.connect()

    def connect(self) -> None:
        """Subscribe the BSP's vars and errors (done at construction)."""
        self.link.subscribe(self.wire.var_filter(self.base), self._on_var)
        for base in self._error_bases:
            self.link.subscribe(self.wire.error_filter(base), self._on_error)
        self.link.on_connect(self._on_reconnect)

    def start(self) -> None:
        """Subscribe to the BSP's results before the first command."""
        self.caller.prepare(self.module_id, self.impl_id)
        if self.lock_impl:
            self.caller.prepare(self.module_id, self.lock_impl)

    # -- commands (the manager's thread) ---------------------------------------------------------
    def _send(self, cmd: str, args: Optional[dict] = None, impl: Optional[str] = None) -> None:
        if not self.caller.send(self.module_id, impl or self.impl_id, cmd, args):
            log.warning("bsp %s: %s not sent (broker unreachable); sent again after the reconnect",
                        self.module_id, cmd)

    def enable(self, value: bool) -> None:
        """``enable{value}``."""
        self._state["enable"] = bool(value)
        self._send("enable", {"value": bool(value)})

    def pwm_on(self, value: float) -> None:
        """``pwm_on{value}`` (percent)."""
        self._state["cp"] = ("pwm_on", float(value))
        self._send("pwm_on", {"value": float(value)})

    def cp_state_X1(self) -> None:
        """``cp_state_X1``."""
        self._state["cp"] = ("cp_state_X1", None)
        self._send("cp_state_X1")

    def cp_state_F(self) -> None:
        """``cp_state_F``."""
        self._state["cp"] = ("cp_state_F", None)
        self._send("cp_state_F")

    def cp_state_E(self) -> None:
        """``cp_state_E``."""
        self._state["cp"] = ("cp_state_E", None)
        self._send("cp_state_E")

    def allow_power_on(self, value: PowerOnOff) -> None:
        """``allow_power_on{value: PowerOnOff}``."""
        self._state["allow_power_on"] = value
        self._send("allow_power_on", {"value": value})

    def ac_switch_three_phases_while_charging(self, value: bool) -> None:
        """``ac_switch_three_phases_while_charging{value}``."""
        self._state["phases"] = bool(value)
        self._send("ac_switch_three_phases_while_charging", {"value": bool(value)})

    def ac_set_overcurrent_limit_A(self, value: float) -> None:
        """``ac_set_overcurrent_limit_A{value}``."""
        self._state["overcurrent"] = float(value)
        self._send("ac_set_overcurrent_limit_A", {"value": float(value)})

    def lock(self) -> None:
        """``lock`` on the connector_lock implementation (if configured)."""
        if self.lock_impl:
            self._send("lock", None, self.lock_impl)

    def unlock(self) -> None:
        """``unlock`` on the connector_lock implementation (if configured)."""
        if self.lock_impl:
            self._send("unlock", None, self.lock_impl)

    def resync(self) -> None:
        """Send the last commanded state again (safety-relevant first: power, then the CP)."""
        st = dict(self._state)
        if "allow_power_on" in st:
            self._send("allow_power_on", {"value": st["allow_power_on"]})
        if "enable" in st:
            self._send("enable", {"value": st["enable"]})
        if "cp" in st:
            cmd, value = st["cp"]
            self._send(cmd, None if value is None else {"value": value})
        if "phases" in st:
            self._send("ac_switch_three_phases_while_charging", {"value": st["phases"]})
        if "overcurrent" in st:
            self._send("ac_set_overcurrent_limit_A", {"value": st["overcurrent"]})

    def _on_reconnect(self) -> None:
        if self.link.connects > 1 and self._state:
            if self.executor is not None:
                self.executor(self.resync)
            else:
                self.resync()

    # -- reports (network thread) ----------------------------------------------------------------
    def _on_var(self, topic: str, payload: bytes) -> None:
        got = self.wire.parse_var(topic, payload, self.base)
        if got is None:
            self._bad.warning("not a var message on %s", topic)
            return
        name, raw = got
        entry = BSP_VARS.get(name)
        listener = self.listener
        if entry is None or listener is None:
            return
        try:
            value = _DECODERS[name].decode(raw)
        except msgspec.DecodeError as exc:
            self._bad.warning("var %s dropped: %s", name, exc)
            return
        getattr(listener, entry[1])(value)

    def _on_error(self, topic: str, payload: bytes) -> None:
        data = self.wire.parse_error(payload)
        err = None if data is None else decode_framework_error(data)
        listener = self.listener
        if err is None:
            self._bad.warning("not an Error object on %s", topic)
            return
        if listener is None:
            return
        if err.state == "Active":
            listener.on_error_raised(BoardError(
                type=err.type, sub_type=err.sub_type, message=err.message, description=err.description,
                severity=_SEVERITIES.get(err.severity, Severity.High), vendor_id=err.vendor_id))
        else:
            listener.on_error_cleared(err.type, err.sub_type)
