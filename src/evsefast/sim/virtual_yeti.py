"""A virtual Yeti MCU on a pseudo-terminal, with the simulator's hardware physics behind it.

``VirtualYetiMcu`` opens a pty pair (``os.openpty()``), puts it in raw mode and speaks
the MCU side of the Yeti protocol on the master end; the host (``YetiBoard``, or
EVerest's YetiDriver) opens ``port_path``. Host commands drive a
``evsefast.sim.hardware.SimHardware`` (PWM, allow_power_on, lock, phases); its events
become MCU reports (cp_state, relais_state, pp_state, lock_state, error_flags,
power_meter), and a KeepAliveLo with the capabilities goes out every simulated second::

    with VirtualYetiMcu(car="default", speed=10) as mcu:
        board = YetiBoard(mcu.port_path)

The hardware's clock starts at the host's first ``reset`` (``start_on_reset``), so a
car script begins when the charger connects. Fault injection: ``inject_garbage``,
``corrupt_next`` (bad CRC), ``truncate_next``, ``silence``/``resume``,
``spurious_reset``. Frames are dropped, not queued, when the host does not read.
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import random
import select
import threading
import time
import tty
from typing import Any, Callable, Deque, Optional, Tuple

from ..board.yeti.codec import Codec
from ..board.yeti.events import CP_NUMBERS, PP_NUMBERS, powermeter_fields
from ..board.yeti.profiles import ERROR_FLAG_TYPES

log = logging.getLogger("evsefast.sim.virtual_yeti")

MAX_STEP_MS = 100.0  #: longest stretch of simulated time one pass of the MCU loop advances
_LINK_FAULTS = ("garbage", "crc", "truncate", "silence", "resume", "reset")

#: EVerest error type -> ErrorFlags member (errors without a flag are not reported over Yeti)
FLAG_OF_ERROR = {v: k for k, v in ERROR_FLAG_TYPES.items()}
FLAG_OF_ERROR.update({"ac_rcd/DC": "rcd_triggered", "ac_rcd/AC": "rcd_triggered"})

DEFAULT_CAPS = dict(hwcap_max_current=32.0, hwcap_min_current=6.0, hwcap_max_phase_count=3,
                    hwcap_min_phase_count=1, supports_changing_phases_during_charging=True)


def make_hardware(car: Any = None, seed: Optional[int] = None, *, duration_s: float = 1800.0, phases: int = 3,
                  **hardware_options: Any):
    """A ``SimHardware`` with a car attached.

    ``car`` is a car object, or a car profile name or car script (``evsefast.sim.car.make_car``;
    None = the default profile). A profile's hardware options (e.g. ventilation) apply, then
    ``hardware_options``; the CP is sampled at 100 kS/s, or 10 kS/s when the kernels run as plain
    Python (as in ``evsefast simulate``), unless ``sample_rate_Hz`` is given.
    """
    from .. import _impl
    from .hardware import SimHardware

    if "sample_rate_Hz" not in hardware_options:  # as the simulator: 10 kS/s when the kernels run as Python
        kernels = hardware_options.get("kernels") or _impl.ACTIVE
        hardware_options["sample_rate_Hz"] = 100_000 if getattr(kernels, "compiled", True) else 10_000
    if car is None or isinstance(car, str):
        from .car import make_car
        from .profiles import resolve

        options = dict(resolve(car).hardware_options)
        options.update(hardware_options)
        hardware_options = options
        car = make_car(car, seed=seed, duration_s=duration_s, phases=phases)
    return SimHardware(car, seed=0 if seed is None else int(seed), **hardware_options)


class VirtualYetiMcu:
    """The MCU end of a Yeti link on a pty; see the module docstring."""

    def __init__(self, hardware: Any = None, *, car: Any = None, seed: Optional[int] = None,
                 profile="yeti", speed: float = 1.0, step_ms: float = 5.0,
                 keepalive_interval_s: float = 1.0, caps: Optional[dict] = None,
                 start_on_reset: bool = True, link_path: Optional[str] = None,
                 host_timeout_ms: Optional[float] = None, record_limit: int = 10000) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.hardware = hardware if hardware is not None else make_hardware(car, seed)
        self.codec = Codec(profile, "mcu")
        self.profile = self.codec.profile
        # PP is reported for socket connectors only (a fixed cable has no PP to read)
        self._has_pp = self.profile.has_mcu("pp_state") and getattr(self.hardware, "connector", "") == "socket"
        self._stream = self.codec.stream()
        self.stats = self._stream.stats
        self.speed = float(speed)
        self.step_s = float(step_ms) / 1000.0
        self.keepalive_interval_s = float(keepalive_interval_s)
        self.caps = dict(DEFAULT_CAPS if caps is None else caps)
        self.start_on_reset = start_on_reset
        self.link_path = link_path
        self._rng = random.Random(seed)
        #: host commands received: (monotonic s, member, value)
        self.received: Deque[Tuple[float, str, Any]] = collections.deque(maxlen=record_limit)
        self._cond = threading.Condition()
        self._wlock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._master = self._slave = -1
        self.port_path = ""
        self.running = not start_on_reset
        self.silent = False
        self._silent_until: Optional[float] = None
        self._hw_silent = False
        self._corrupt = 0
        self._truncate = 0
        self._flags = set()
        self._cp: Optional[str] = None
        self._relay = False
        self._pp = "None"
        self._locked = False
        self._calls: Deque[Callable[[], None]] = collections.deque()  # run on the MCU thread
        self.host_timeout_ms = host_timeout_ms
        self._last_host_ms = 0.0
        self._host_lost = False
        self.host_timeouts = 0
        self._schedule: list = []
        self.injected = collections.Counter()
        self.tx_frames = 0
        self.tx_bytes = 0  #: bytes written to the host (a lockstep host waits until it has read them all)
        self.tx_dropped = 0
        self.host_resets = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "VirtualYetiMcu":
        """Open the pty and start the MCU thread; ``port_path`` is then set."""
        if self._thread is not None:
            return self
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF mangling before the host opens it
        os.set_blocking(self._master, False)
        self.port_path = os.ttyname(self._slave)
        if self.link_path:
            tmp = f"{self.link_path}.{os.getpid()}.tmp"
            os.symlink(self.port_path, tmp)
            os.replace(tmp, self.link_path)
            self.port_path = self.link_path
        self._stop.clear()
        self._thread = threading.Thread(target=self._main, name=f"evsefast-virtual-yeti[{self.port_path}]",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and close the pty (a host reading it sees the port vanish)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._thread = None
        for fd in (self._master, self._slave):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = -1
        if self.link_path:
            try:
                if os.path.islink(self.link_path):
                    os.unlink(self.link_path)
            except OSError:
                pass

    def __enter__(self) -> "VirtualYetiMcu":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ test helpers
    def send(self, member: str, value: Any = None, **fields: Any) -> bool:
        """Send one MCU message now (honours silence and pending corruption)."""
        return self._write_frame(self.codec.encode(member, value, **fields))

    def wait_for(self, predicate: Callable[[str, Any], bool], timeout_s: float = 5.0,
                 since: float = 0.0) -> Optional[Tuple[float, str, Any]]:
        """Block until a host command received after ``since`` satisfies ``predicate(member, value)``."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for rec in self.received:
                    if rec[0] >= since and predicate(rec[1], rec[2]):
                        return rec
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def commands(self, member: Optional[str] = None) -> list:
        """Received host commands as ``(member, value)``, optionally only ``member``."""
        with self._cond:
            return [(m, v) for _, m, v in self.received if member is None or m == member]

    # ------------------------------------------------------------------ fault injection
    def inject_garbage(self, data: Optional[bytes] = None, n: int = 32, terminate: bool = True) -> bytes:
        """Write line noise (``data`` or ``n`` random bytes); ``terminate`` ends it with ``0x00``
        as an idle line does, so the next frame starts clean."""
        if data is None:
            data = bytes(self._rng.randrange(1, 256) for _ in range(n))
        data = bytes(data) + (b"\x00" if terminate else b"")
        self.injected["garbage"] += 1
        self._write_raw(data)
        return data

    def corrupt_next(self, n: int = 1) -> None:
        """Flip one CRC bit in each of the next ``n`` frames."""
        self._corrupt += n

    def truncate_next(self, n: int = 1) -> None:
        """Cut each of the next ``n`` frames in half (then a ``0x00``)."""
        self._truncate += n

    def silence(self, seconds: Optional[float] = None) -> None:
        """Send nothing (no keep-alives, no reports) for ``seconds`` of real time, or until ``resume``."""
        self.injected["silence"] += 1
        self._silent_until = None if seconds is None else time.monotonic() + seconds
        self.silent = True

    def resume(self) -> None:
        """End a silence and re-send the present state."""
        self.silent = False
        self._silent_until = None
        self._send_state()

    def spurious_reset(self, reason: int = 1) -> None:
        """Behave as an MCU that rebooted on its own (reason 1 = WATCHDOG): outputs safe, report reset."""
        self.injected["spurious_reset"] += 1
        self._on_thread(lambda: self._mcu_reset(reason))

    def inject_fault(self, kind: str, active: bool = True) -> None:
        """``SimHardware.inject_fault`` on the MCU thread (the hardware model is not thread-safe)."""
        self._on_thread(lambda: self.hardware.inject_fault(kind, active))

    def _on_thread(self, fn: Callable[[], None]) -> None:
        if self._thread is None or self._thread is threading.current_thread():
            fn()
        else:
            self._calls.append(fn)

    def schedule(self, t_s: float, kind: str, arg: Any = None) -> None:
        """Inject a fault ``t_s`` simulated seconds after the host's first reset.

        ``kind``: ``garbage``, ``crc`` (corrupt the next frame's CRC), ``truncate``,
        ``silence`` (``arg`` simulated seconds, or until ``resume``), ``resume``, ``reset``
        (spurious MCU reset), or a ``SimHardware.inject_fault`` kind (``arg`` False/"off" removes it).
        """
        if kind not in _LINK_FAULTS:
            from .hardware import FAULT_ERRORS

            if kind not in FAULT_ERRORS and "/" not in kind:
                known = ", ".join(sorted([*_LINK_FAULTS, *FAULT_ERRORS]))
                raise ValueError(f"unknown fault {kind!r}; known: {known} or an error type 'iface/Name'")
        self._schedule.append((float(t_s) * 1000.0, kind, arg))
        self._schedule.sort(key=lambda item: item[0])

    def _inject(self, kind: str, arg: Any) -> None:
        if kind == "garbage":
            self.inject_garbage()
        elif kind == "crc":
            self.corrupt_next()
            self._keep_alive()
        elif kind == "truncate":
            self.truncate_next()
            self._keep_alive()
        elif kind == "silence":
            self.silence(None if arg in (None, "") else float(arg) / self.speed)
        elif kind == "resume":
            self.resume()
        elif kind == "reset":
            self.spurious_reset()
        else:
            self.hardware.inject_fault(kind, arg not in (False, "off", "0", "false"))

    # ------------------------------------------------------------------ wire
    def _write_frame(self, frame: bytes) -> bool:
        if self._corrupt > 0:
            self._corrupt -= 1
            self.injected["corrupt_crc"] += 1
            from cobs import cobs
            raw = bytearray(cobs.decode(frame[:-1]))
            raw[-1] ^= 0x01
            frame = cobs.encode(bytes(raw)) + b"\x00"
        elif self._truncate > 0:
            self._truncate -= 1
            self.injected["truncated"] += 1
            frame = frame[: max(1, (len(frame) - 1) // 2)] + b"\x00"
        return self._write_raw(frame)

    def _write_raw(self, data: bytes) -> bool:
        if self.silent or self._master < 0:
            self.tx_dropped += 1
            return False
        view = memoryview(data)
        deadline = time.monotonic() + 0.1
        with self._wlock:
            while view:
                try:
                    n = os.write(self._master, view)
                    view = view[n:]
                    self.tx_bytes += n
                except BlockingIOError:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self.tx_dropped += 1  # nobody reads: drop, as a UART would
                        return False
                    select.select([], [self._master], [], left)
                except OSError as exc:
                    if exc.errno in (errno.EIO, errno.EBADF):
                        self.tx_dropped += 1
                        return False
                    raise
        self.tx_frames += 1
        return True

    # ------------------------------------------------------------------ MCU behaviour
    def _keep_alive(self) -> None:
        self.send("keep_alive", time_stamp=int(self.hardware.t_ms) & 0xFFFFFFFF, hw_type=1, hw_revision=1,
                  protocol_version_major=1, protocol_version_minor=0,
                  sw_version_string="evsefast-virtual-yeti", **self.caps)

    def _send_state(self) -> None:
        self._keep_alive()
        if self._cp is not None:
            self.send("cp_state", CP_NUMBERS[self._cp])
        self.send("relais_state", self._relay)
        if self._has_pp:
            self.send("pp_state", PP_NUMBERS.get(self._pp, 0))
        if self.profile.has_mcu("lock_state"):
            self.send("lock_state", 2 if self._locked else 1)
        self._send_flags()

    def _send_flags(self) -> None:
        self.send("error_flags", **{flag: True for flag in self._flags})

    def _mcu_reset(self, reason: int) -> None:
        hw = self.hardware
        hw.set_allow_power_on(False)
        hw.set_pwm_pct(100.0)  # X1 after boot
        hw.set_enabled(True)   # the Yeti MCU is always enabled
        # a rebooted MCU drives no relay coil: the contactors are open, whatever was cached before the reset
        # and before the hardware model's next step reports it
        self._relay = False
        self.send("reset", reason)
        self._send_state()

    def _on_host(self, member: str, value: Any) -> None:
        hw = self.hardware
        if member == "reset":
            self.host_resets += 1
            self.running = True
            self._mcu_reset(0)
        elif member == "pwm_duty_cycle":
            d = int(value)
            hw.set_pwm_pct(0.0 if d == 0 else (100.0 if d >= 10000 else d / 100.0))
        elif member == "allow_power_on":
            hw.set_allow_power_on(bool(value))
        elif member == "connector_lock":
            hw.set_lock(bool(value))
        elif member == "set_number_of_phases":
            hw.set_three_phases(bool(value))

    def _on_hw(self, ev: Tuple[Any, ...]) -> None:
        kind = ev[0]
        if kind == "cp":
            if ev[1] in CP_NUMBERS:
                self._cp = ev[1]
                self.send("cp_state", CP_NUMBERS[ev[1]])
        elif kind == "relay":
            self._relay = bool(ev[1])
            self.send("relais_state", self._relay)
        elif kind == "pp":
            self._pp = ev[1]
            if self._has_pp:
                self.send("pp_state", PP_NUMBERS.get(ev[1], 0))
        elif kind == "lock":
            self._locked = bool(ev[1])
            if self.profile.has_mcu("lock_state"):
                self.send("lock_state", 2 if self._locked else 1)
        elif kind == "error":
            flag = FLAG_OF_ERROR.get(ev[1])
            if flag is None:
                log.info("virtual yeti: error %s has no Yeti error flag; not reported", ev[1])
                return
            before = set(self._flags)
            (self._flags.add if ev[2] else self._flags.discard)(flag)
            if self._flags != before:
                self._send_flags()
        elif kind == "meter" and self.profile.has_mcu("power_meter"):
            self.send("power_meter", time_stamp=int(self.hardware.t_ms) & 0xFFFFFFFF, **powermeter_fields(ev[1]))

    def _read_host(self) -> None:
        """Read what the host sent and act on it (MCU thread)."""
        try:
            data = os.read(self._master, 4096)
        except OSError:  # BlockingIOError included: nothing there after all
            data = b""
        if not data:
            return
        now = time.monotonic()
        msgs = self._stream.feed(data)
        if msgs:
            with self._cond:
                for member, value in msgs:
                    self.received.append((now, member, value))
                self._cond.notify_all()
            self._last_host_ms = self.hardware.t_ms
            self._host_lost = False
            for member, value in msgs:
                self._on_host(member, value)

    def _run_calls(self) -> None:
        while self._calls:
            self._calls.popleft()()

    def _after_advance(self) -> None:
        """After the hardware moved: scheduled faults, the host-timeout fail-safe, a ``lost`` board."""
        t_ms = self.hardware.t_ms
        while self._schedule and self._schedule[0][0] <= t_ms:
            _, kind, arg = self._schedule.pop(0)
            self._inject(kind, arg)
        if (self.host_timeout_ms is not None and not self._host_lost
                and t_ms - self._last_host_ms > self.host_timeout_ms):
            self._host_lost = True  # fail safe: the host went quiet
            self.host_timeouts += 1
            self.hardware.set_allow_power_on(False)
            self.hardware.set_pwm_pct(100.0)
        hw_lost = bool(getattr(self.hardware, "lost", False))
        if hw_lost != self._hw_silent:  # inject_fault("lost") on the hardware
            self._hw_silent = hw_lost
            self.silence() if hw_lost else self.resume()

    def _main(self) -> None:
        last = time.monotonic()
        sim_ka_ms = 1000.0 * self.keepalive_interval_s
        next_ka_sim = 0.0
        next_ka_real = last
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([self._master], [], [], self.step_s)
            except (OSError, ValueError):
                return
            if readable:
                self._read_host()
            self._run_calls()
            now = time.monotonic()
            dt_s, last = now - last, now
            if self.silent and self._silent_until is not None and now >= self._silent_until:
                self.resume()
            if self.running:
                # at most MAX_STEP_MS per pass: a slow model lags behind instead of blocking the link
                for ev in self.hardware.advance(min(dt_s * 1000.0 * self.speed, MAX_STEP_MS)):
                    self._on_hw(ev)
                self._after_advance()
            # keep-alive every simulated second, and every 1/speed real seconds even if the model
            # lags (the host supervises the link on a clock running at the same speed)
            if self.hardware.t_ms >= next_ka_sim or now >= next_ka_real:
                self._keep_alive()
                next_ka_sim = self.hardware.t_ms + sim_ka_ms
                next_ka_real = now + self.keepalive_interval_s / max(self.speed, 1.0)

__all__ = ["DEFAULT_CAPS", "FLAG_OF_ERROR", "VirtualYetiMcu", "make_hardware"]
