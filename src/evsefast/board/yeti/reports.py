"""What the MCU reports -> BoardListener calls (the receiving half of ``YetiBoard``).

Each ``_on_<member>`` handles one ``McuToEverest`` member. A value that decoded but makes no
sense raises ``ValueError``/``TypeError`` inside its handler; ``feed`` drops it and counts it in
``invalid_values``, so it never reaches the listener. CP and relay states are published on
change only, error flags edge-triggered, as the Yeti host does; an RCD trip and a lock failure stay raised
until the car is unplugged (``LATCHED_UNTIL_UNPLUG``).
"""
from __future__ import annotations

import logging

from ...types.board import BspEvent, BspEventKind
from .events import (
    CP_LETTERS, PP_AMPACITY, PP_FAULT_ERROR, SPURIOUS_RESET_ERROR, capabilities_from_keep_alive,
    powermeter_from_message,
)
from .profiles import ERROR_FLAG_TYPES, LATCHED_UNTIL_UNPLUG

log = logging.getLogger("evsefast.board.yeti")

_EVENTS = {k: BspEvent(event=BspEventKind(k)) for k in ("A", "B", "C", "D", "E", "F", "PowerOn", "PowerOff")}


class McuReports:
    """Mixin of ``YetiBoard``: decoding reports and calling the listener (uses the board's state)."""

    def feed(self, data: bytes) -> None:
        """Handle received bytes (the reader thread calls this; tests may too). Never raises."""
        for member, value in self._stream.feed(data):
            handler = getattr(self, "_on_" + member, None)
            if handler is None:
                continue
            try:
                handler(value)
            except (ValueError, TypeError, OverflowError) as exc:
                self.invalid_values += 1
                log.warning("yeti %s: dropped %s with invalid content: %s", self.port, member, exc)

    def _on_keep_alive(self, ka) -> None:
        with self._lock:
            self._last_keepalive_ms = self.clock.monotonic_ms()
            self.keep_alive = ka
            spurious, self._spurious_active = self._spurious_active, False
        self._link_restored()
        if spurious:
            self._clear(*SPURIOUS_RESET_ERROR)
        caps = capabilities_from_keep_alive(ka, self.connector_type, self.caps_min_current_A,
                                            self.caps_max_current_A)
        if caps != self.capabilities:
            self.capabilities = caps
            self._call("on_capabilities", caps)
        self._caps_seen.set()

    def _on_reset(self, reason: int) -> None:
        with self._lock:
            expected = self._awaiting_reset
        if expected:
            self._finish_handshake()
            return
        self.spurious_resets += 1
        log.warning("yeti %s: spurious MCU reset (reason %s); re-sending state", self.port, reason)
        with self._lock:
            already, self._spurious_active = self._spurious_active, True
        if not already:
            self._raise(SPURIOUS_RESET_ERROR[0], f"spurious MCU reset (reason {'WATCHDOG' if reason else 'USER'})",
                        SPURIOUS_RESET_ERROR[1])
        for _ in range(3):
            self.send_keep_alive()
        self._resend_state()

    def _on_cp_state(self, value: int) -> None:
        if not 0 <= value < len(CP_LETTERS):
            raise ValueError(f"unknown CpState {value}")
        letter = CP_LETTERS[value]
        if letter == self.cp_state:
            return
        self.cp_state = letter
        if letter == "A":
            self._clear_latched()
        if self.fail_safe:
            with self._lock:  # decide and write under the lock: no newer command can be overtaken
                if letter not in "CD" and self._power_sent:
                    if self._power_cmd:
                        self._power_suspended = True
                    self._send_power(False)
                elif letter in "CD" and self._power_suspended and self._power_cmd and not self._link_lost:
                    self._power_suspended = False
                    self._send_power(True)
        self._call("on_bsp_event", _EVENTS[letter])

    def _on_relais_state(self, closed: bool) -> None:
        closed = bool(closed)
        if closed == self.relay_closed:
            return
        self.relay_closed = closed
        self._call("on_bsp_event", _EVENTS["PowerOn" if closed else "PowerOff"])

    def _on_pp_state(self, value: int) -> None:
        if not 0 <= value < len(PP_AMPACITY):
            raise ValueError(f"unknown PpState {value}")
        pp, fault = PP_AMPACITY[value]
        if fault != (PP_FAULT_ERROR in self._flags):
            if fault:
                self._flags.add(PP_FAULT_ERROR)
                self._raise(PP_FAULT_ERROR, "proximity pilot fault")
            else:
                self._flags.discard(PP_FAULT_ERROR)
                self._clear(PP_FAULT_ERROR)
        if pp != self.pp_ampacity:
            self.pp_ampacity = pp
            self._call("on_ac_pp_ampacity", pp)

    def _on_lock_state(self, value: int) -> None:
        self.lock_state = int(value)

    def _on_error_flags(self, flags) -> None:
        self._last_error_flags = flags
        for name, error_type in ERROR_FLAG_TYPES.items():
            active = bool(getattr(flags, name))
            if active and error_type not in self._flags:
                self._flags.add(error_type)
                self._raise(error_type, f"board error flag {name}")
            elif not active and error_type in self._flags and error_type not in LATCHED_UNTIL_UNPLUG:
                self._flags.discard(error_type)
                self._clear(error_type)

    def _clear_latched(self) -> None:
        """The car was unplugged: clear the latched errors whose flag has fallen (YetiDriver
        ``clear_errors_on_unplug``); one whose flag is still set stays."""
        flags = self._last_error_flags
        for name, error_type in ERROR_FLAG_TYPES.items():
            if error_type in LATCHED_UNTIL_UNPLUG and error_type in self._flags and not (
                    flags is not None and getattr(flags, name)):
                self._flags.discard(error_type)
                self._clear(error_type)

    def _on_telemetry(self, telemetry) -> None:
        self.telemetry = telemetry

    def _on_power_meter(self, msg) -> None:
        self._call("on_powermeter", powermeter_from_message(msg, self.clock.wall_s()))


__all__ = ["McuReports"]
