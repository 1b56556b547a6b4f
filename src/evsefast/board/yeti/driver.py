"""``YetiBoard``: the Yeti-family serial board driver (BoardSupport over pyserial).

Threads: a reader (bytes -> frames -> listener calls; reconnects with capped backoff
when the port disappears) and, with ``supervise=True``, a timer that sends a
keep-alive every second and calls ``check_link()``. Board reports reach the manager
only through ``BoardListener`` calls with validated values; a bad frame is dropped and
counted in ``stats`` and never reaches the listener.

Link supervision is deterministic: ``check_link(now_ms)`` raises
``evse_board_support/CommunicationFault`` once no keep-alive has arrived for
``link_timeout_ms`` (time from the injected ``clock``), forces ``allow_power_on=false``
and the error clears when keep-alives return.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Optional

from ...clock import Clock
from ...errors import InvalidInput, TransportClosed, TransportInitError
from ..port import BoardSupport
from ...types.board import (
    BoardConnectorType, BoardError, BspEvent, BspEventKind, HardwareCapabilities, PowerOnOff,
)
from .codec import Codec, MessageStream
from .events import COMMUNICATION_FAULT
from .framing import FrameStats
from .reports import McuReports
from .transport import SerialTransport

log = logging.getLogger("evsefast.board.yeti")


class YetiBoard(McuReports, BoardSupport):
    """A Yeti-family MCU on a serial port (``port`` is a device path or a pyserial URL).

    ``profile`` picks the field numbering (``"yeti"``, ``"tida010939"``, ``"adkit"`` or a
    ``BoardProfile``). ``clock`` times link supervision (default: the real clock).
    ``fail_safe`` withdraws ``allow_power_on`` at once when the CP leaves C/D or the link
    is lost, without waiting for the manager (the permission is given back on C/D if the
    manager has not changed it meanwhile, as the MCU itself would).
    ``rt_priority`` (Linux, needs CAP_SYS_NICE) runs the reader thread under SCHED_FIFO at that
    priority, so a loaded CPU cannot delay its reaction; None leaves the scheduling alone.
    """

    def __init__(self, port: str, baudrate: int = 115200, *, profile="yeti", clock: Optional[Clock] = None,
                 supervise: bool = True, keepalive_interval_s: float = 1.0, link_timeout_ms: float = 5000.0,
                 check_interval_s: float = 0.1, reset_timeout_s: float = 1.0, caps_timeout_s: float = 5.0,
                 caps_min_current_A: float = -1.0, caps_max_current_A: float = -1.0,
                 connector_type: str = "IEC62196Type2Cable", reconnect: bool = True,
                 backoff_initial_s: float = 0.1, backoff_max_s: float = 5.0, fail_safe: bool = True,
                 read_timeout_s: float = 0.1, rt_priority: Optional[int] = None) -> None:
        super().__init__()
        for name, value in (("baudrate", baudrate), ("keepalive_interval_s", keepalive_interval_s),
                            ("link_timeout_ms", link_timeout_ms), ("check_interval_s", check_interval_s),
                            ("backoff_initial_s", backoff_initial_s), ("backoff_max_s", backoff_max_s),
                            ("read_timeout_s", read_timeout_s)):
            if not value > 0:
                raise InvalidInput(f"YetiBoard: {name} must be > 0, got {value!r}", field=name)
        self.port = str(port)
        self.baudrate = int(baudrate)
        self.codec = Codec(profile, "host")
        self.profile = self.codec.profile
        self.clock = clock if clock is not None else Clock()
        self.supervise = supervise
        self.keepalive_interval_s = float(keepalive_interval_s)
        self.link_timeout_ms = float(link_timeout_ms)
        self.check_interval_s = float(check_interval_s)
        self.reset_timeout_s = float(reset_timeout_s)
        self.caps_timeout_s = float(caps_timeout_s)
        self.caps_min_current_A = float(caps_min_current_A)
        self.caps_max_current_A = float(caps_max_current_A)
        self.connector_type = BoardConnectorType(connector_type)
        self.reconnect = reconnect
        self.backoff_initial_s = float(backoff_initial_s)
        self.backoff_max_s = float(backoff_max_s)
        self.fail_safe = fail_safe
        self.read_timeout_s = float(read_timeout_s)
        self.rt_priority = rt_priority
        self.realtime = False  #: True once the reader thread runs under SCHED_FIFO
        self.supports_connector_lock = self.profile.has_host("connector_lock")

        self.stats = FrameStats()
        self._stream = MessageStream(self.codec, self.stats)
        self._transport: Optional[SerialTransport] = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._reset_seen = threading.Event()
        self._caps_seen = threading.Event()
        self._reader: Optional[threading.Thread] = None
        self._timer: Optional[threading.Thread] = None
        # what the manager commanded (re-sent after a reset or reconnect)
        self._pwm_duty: Optional[int] = None
        self._power_cmd: Optional[bool] = None
        self._power_sent: Optional[bool] = None
        self._power_suspended = False
        self._lock_cmd: Optional[bool] = None
        self._three_phases: Optional[bool] = None
        self.enabled = False
        self.overcurrent_limit_A: Optional[float] = None
        # what the board reported
        self.cp_state: Optional[str] = None
        self.relay_closed: Optional[bool] = None
        self.pp_ampacity = None
        self.lock_state: Optional[int] = None
        self.capabilities: Optional[HardwareCapabilities] = None
        self.keep_alive = None  #: the last KeepAliveLo message
        self.telemetry = None   #: the last Telemetry message (the host ignores it)
        self._flags = set()
        self._last_error_flags = None
        # link
        self._awaiting_reset = False
        self._reset_deadline = 0.0
        self._last_keepalive_ms: Optional[float] = None
        self._link_lost = False
        self._spurious_active = False
        self.spurious_resets = 0
        self.reconnects = 0
        self.port_losses = 0
        self.tx_frames = 0
        self.tx_failed = 0
        self.invalid_values = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Open the port (``TransportInitError`` if missing or busy), reset the MCU, wait for
        its reset (≤ ``reset_timeout_s``) and first keep-alive (≤ ``caps_timeout_s``), start threads."""
        if self._reader is not None:
            return
        self._stop.clear()
        self._connect()
        self._reader = threading.Thread(target=self._reader_main, name=f"evsefast-yeti-reader[{self.port}]",
                                        daemon=True)
        self._reader.start()
        if not self._reset_seen.wait(self.reset_timeout_s):
            log.warning("yeti %s: no reset reply within %.1f s; continuing", self.port, self.reset_timeout_s)
            self._finish_handshake()
        if self.caps_timeout_s > 0 and not self._caps_seen.wait(self.caps_timeout_s):
            log.warning("yeti %s: no keep-alive (capabilities) within %.1f s", self.port, self.caps_timeout_s)
        if self.supervise:
            self._timer = threading.Thread(target=self._timer_main, name=f"evsefast-yeti-timer[{self.port}]",
                                           daemon=True)
            self._timer.start()

    def close(self) -> None:
        """Withdraw power permission, stop the threads and close the port (idempotent)."""
        with self._lock:
            if self._power_sent:
                self._send_power(False)
        self._stop.set()
        t = self._transport
        if t is not None:
            t.close()
        for th in (self._timer, self._reader):
            if th is not None and th is not threading.current_thread():
                th.join(timeout=5.0)
        self._timer = self._reader = None
        with self._lock:
            t, self._transport = self._transport, None
        if t is not None:
            t.close()

    def __enter__(self) -> "YetiBoard":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def wait_for_capabilities(self, timeout_s: float) -> Optional[HardwareCapabilities]:
        """Block up to ``timeout_s`` for the first keep-alive; return the capabilities or None."""
        self._caps_seen.wait(timeout_s)
        return self.capabilities

    @property
    def connected(self) -> bool:
        """True while the port is open."""
        t = self._transport
        return t is not None and t.is_open

    @property
    def link_ok(self) -> bool:
        """False while ``CommunicationFault`` is raised."""
        return not self._link_lost

    # ------------------------------------------------------------------ evse_board_support commands
    def enable(self, value: bool) -> None:
        """The Yeti protocol has no enable message (its MCU is always enabled). Enabling re-reports
        the present CP state: the manager drops CP events while disabled, and the MCU reports a
        state only when it changes, so a car plugged in before the charger was ready is seen."""
        self.enabled = bool(value)
        cp = self.cp_state
        if self.enabled and cp is not None:
            self._call("on_bsp_event", BspEvent(event=BspEventKind(cp)))

    def pwm_on(self, value: float) -> None:
        """PWM at ``value`` % duty: ``pwm_duty_cycle`` = round(value × 100) in 0.01 %."""
        v = float(value)
        if not 0.0 <= v <= 100.0:
            raise InvalidInput(f"pwm_on: value must be a duty cycle in 0..100 %, got {value!r}", field="value")
        self._set_pwm(int(round(v * 100.0)))

    def cp_state_X1(self) -> None:
        """Constant +12 V: ``pwm_duty_cycle`` = the profile's X1 value (Yeti: 10001)."""
        self._set_pwm(self.profile.x1_duty)

    def cp_state_F(self) -> None:
        """Constant -12 V: ``pwm_duty_cycle`` = 0."""
        self._set_pwm(0)

    def allow_power_on(self, value: PowerOnOff) -> None:
        """Allow or forbid closing the contactors (``allow_power_on``)."""
        allow = bool(value.allow_power_on if isinstance(value, PowerOnOff) else value)
        with self._lock:
            self._power_cmd = allow
            self._power_suspended = False
            self._send_power(allow)
            lost = self._link_lost
        if not allow and lost:
            self._assume_power_off()

    def ac_switch_three_phases_while_charging(self, value: bool) -> None:
        """``set_number_of_phases`` (true = three phases), where the board has it."""
        with self._lock:
            self._three_phases = bool(value)
            if self.profile.has_host("set_number_of_phases"):
                self._send("set_number_of_phases", bool(value))
                return
        log.info("yeti %s: profile %s cannot switch phases", self.port, self.profile.name)

    def ac_set_overcurrent_limit_A(self, value: float) -> None:
        """Recorded only: the Yeti protocol has no over-current limit message."""
        self.overcurrent_limit_A = float(value)

    def lock(self) -> None:
        """``connector_lock=true``, where the board has a lock."""
        self._set_lock(True)

    def unlock(self) -> None:
        """``connector_lock=false``, where the board has a lock."""
        self._set_lock(False)

    def reset_mcu(self) -> None:
        """Send the ``reset`` command and expect the MCU's reset reply (not a spurious reset)."""
        with self._lock:
            self._awaiting_reset = True
            self._reset_deadline = time.monotonic() + self.reset_timeout_s
            self._reset_seen.clear()
        self._send("reset", True)

    def send_keep_alive(self) -> bool:
        """Send one host keep-alive (the timer does this every ``keepalive_interval_s``)."""
        return self._send("keep_alive", time_stamp=int(self.clock.monotonic_ms()) & 0xFFFFFFFF,
                          sw_version_string="evsefast")

    # ------------------------------------------------------------------ link supervision
    def check_link(self, now_ms: Optional[float] = None) -> bool:
        """Raise CommunicationFault if no keep-alive came for ``link_timeout_ms``; True if the link is ok.

        Called by the timer thread; tests call it with an injected time.
        """
        with self._lock:
            if self._link_lost:
                return False
            now = self.clock.monotonic_ms() if now_ms is None else float(now_ms)
            last = self._last_keepalive_ms
            if last is None or now - last < self.link_timeout_ms:
                return True
            self._link_lost = True
        log.warning("yeti %s: no keep-alive for %.0f ms: CommunicationFault", self.port, now - last)
        if self.fail_safe:
            self._force_power_off()
            self._assume_power_off()
        self._raise(COMMUNICATION_FAULT, f"no keep-alive from the board for {now - last:.0f} ms")
        return False

    def _assume_power_off(self) -> None:
        """Power off was sent while the link is down: no relais_state report can confirm it, and the MCU
        reports only changes, so none will come when the link returns either. Report ``PowerOff`` now, or
        the manager waits in StoppingCharging for a confirmation that never arrives."""
        with self._lock:
            if self.relay_closed is False:
                return
            self.relay_closed = False
        log.warning("yeti %s: power off sent while the link is down: reporting PowerOff unconfirmed", self.port)
        self._call("on_bsp_event", BspEvent(event=BspEventKind.PowerOff))

    def _link_restored(self) -> None:
        with self._lock:
            if not self._link_lost:
                return
            self._link_lost = False
            cp, relay = self.cp_state, self.relay_closed
        log.info("yeti %s: keep-alives are back: CommunicationFault cleared", self.port)
        self._clear(COMMUNICATION_FAULT)
        # the MCU reports CP and relay states only on change: re-publish what we know, as enable() does,
        # so the manager can leave its error pause (spec §2.6.3 path (h)) without a replug
        if cp is not None:
            self._call("on_bsp_event", BspEvent(event=BspEventKind(cp)))
        if relay is not None:
            self._call("on_bsp_event", BspEvent(event=BspEventKind.PowerOn if relay else BspEventKind.PowerOff))

    # ------------------------------------------------------------------ sending
    def _send(self, member: str, value=None, **fields) -> bool:
        frame = self.codec.encode(member, value, **fields)
        t = self._transport
        if t is None:
            self.tx_failed += 1
            return False
        try:
            t.write(frame)
        except TransportClosed as exc:
            self.tx_failed += 1
            log.warning("yeti %s: %s", self.port, exc)
            return False
        self.tx_frames += 1
        return True

    # Commanded state is updated and written under ``_lock``, so the wire order always matches
    # the order of the state changes (a re-send or the fail-safe can never overtake a newer command).
    def _send_power(self, allow: bool) -> None:
        with self._lock:
            self._power_sent = allow
            self._send("allow_power_on", allow)

    def _set_pwm(self, duty: int) -> None:
        with self._lock:
            self._pwm_duty = duty
            self._send("pwm_duty_cycle", duty)

    def _set_lock(self, locked: bool) -> None:
        with self._lock:
            self._lock_cmd = locked
            if self.supports_connector_lock:
                self._send("connector_lock", locked)

    def _force_power_off(self) -> None:
        with self._lock:
            if self._power_cmd:
                self._power_suspended = True
            self._send_power(False)

    def _resend_state(self) -> None:
        """After an MCU reset or a reconnect: re-establish what the manager commanded."""
        with self._lock:
            if self._pwm_duty is not None:
                self._send("pwm_duty_cycle", self._pwm_duty)
            if self._lock_cmd is not None and self.supports_connector_lock:
                self._send("connector_lock", self._lock_cmd)
            if self._three_phases is not None and self.profile.has_host("set_number_of_phases"):
                self._send("set_number_of_phases", self._three_phases)
            if self._power_cmd is not None:
                self._send_power(bool(self._power_cmd) and not self._power_suspended)

    # ------------------------------------------------------------------ listener calls (never raise)
    def _call(self, name: str, *args) -> None:
        listener = self._listener
        if listener is None:
            return
        try:
            getattr(listener, name)(*args)
        except Exception:  # a listener bug must not kill the reader thread
            log.exception("yeti %s: listener.%s failed", self.port, name)

    def _raise(self, error_type: str, message: str = "", sub_type: str = "") -> None:
        self._call("on_error_raised", BoardError(type=error_type, sub_type=sub_type, message=message))

    def _clear(self, error_type: str, sub_type: str = "") -> None:
        self._call("on_error_cleared", error_type, sub_type)

    # ------------------------------------------------------------------ threads
    def _connect(self) -> None:
        t = SerialTransport(self.port, self.baudrate, read_timeout_s=self.read_timeout_s)
        t.open()
        with self._lock:
            self._transport = t
            self._last_keepalive_ms = self.clock.monotonic_ms()
        self._stream.reset()
        self.reset_mcu()

    def _finish_handshake(self) -> None:
        with self._lock:
            self._awaiting_reset = False
        for _ in range(3):  # "to resync COBS", as the Yeti host does
            self.send_keep_alive()
        self._resend_state()
        self._reset_seen.set()

    def _port_lost(self, exc: Exception) -> None:
        with self._lock:
            t, self._transport = self._transport, None
            was_lost = self._link_lost
            self._link_lost = True
        if t is not None:
            t.close()
        self.port_losses += 1
        log.warning("yeti %s: port lost (%s); reconnecting", self.port, exc)
        if not was_lost:
            self._raise(COMMUNICATION_FAULT, f"serial port lost: {exc}")

    def _set_realtime(self) -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(int(self.rt_priority)))
            self.realtime = True
        except (AttributeError, OSError, ValueError) as exc:
            log.warning("yeti %s: cannot run the reader at SCHED_FIFO %s: %s", self.port, self.rt_priority, exc)

    def _reader_main(self) -> None:
        if self.rt_priority is not None:
            self._set_realtime()
        backoff = self.backoff_initial_s
        while not self._stop.is_set():
            t = self._transport
            if t is None:
                if not self.reconnect:
                    return
                try:
                    self._connect()
                except TransportInitError as exc:
                    log.debug("yeti %s: reconnect failed (%s); retry in %.1f s", self.port, exc, backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2.0, self.backoff_max_s)
                    continue
                backoff = self.backoff_initial_s
                self.reconnects += 1
                continue
            try:
                data = t.read()
            except TransportClosed as exc:
                if self._stop.is_set():
                    return
                self._port_lost(exc)
                continue
            if data:
                self.feed(data)

    def _timer_main(self) -> None:
        next_keepalive = time.monotonic()
        while not self._stop.wait(self.check_interval_s if next_keepalive > time.monotonic() else 0):
            now = time.monotonic()
            if now >= next_keepalive:
                if self._transport is not None:
                    self.send_keep_alive()
                next_keepalive = now + self.keepalive_interval_s
            if self._awaiting_reset and now >= self._reset_deadline and self._transport is not None:
                log.warning("yeti %s: no reset reply after (re)connect; continuing", self.port)
                self._finish_handshake()
            self.check_link()


__all__ = ["YetiBoard"]
