"""``evsefast simulate --board yeti``: the same session over the Yeti serial driver.

The manager drives ``evsefast.board.yeti.driver.YetiBoard`` on a serial port. Without a port a
virtual Yeti MCU (``evsefast.sim.virtual_yeti``, the simulator's hardware and car behind the Yeti
protocol) runs in-process on a pty, in one of two ways:

* ``speed`` None (the default): **lockstep** (``evsefast.sim.yeti_lockstep``). The manager's clock
  is the MCU hardware's simulated time, which advances only once both ends have handled every
  frame: as fast as the link allows, never behind.
* ``speed`` given: both ends run in real time x ``speed`` (the manager on a ``ScaledClock``, the MCU
  on its own thread). If the MCU's physics cannot keep up, the run stops and ``untrusted`` says so.

With ``port`` the board is whatever answers there (a real board, ``evsefast virtual-board``) and
runs in real time x ``speed`` (default 1). Its keep-alive time stamps tell whether it keeps pace;
a board that never sends a keep-alive ends the run at once (``untrusted``). Energy and currents
then come from the board's power meter, through the manager's ``powermeter`` var.

With the in-process MCU the safety checker watches its hardware: the commands as they arrive over
the link and the hardware's events. The power-off deadline allows for the link: 100 ms, or in
real time 25 ms of real time, whichever is longer in simulated time. With a port nothing can be
observed and the checks are skipped.
"""
from __future__ import annotations

import time
from array import array
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..clock import ManualClock, ScaledClock
from .profiles import AUTH_DELAY_S, resolve
from .runner import (
    LIMIT_REFRESH_MS, SAMPLE_MS, SessionResult, SimOptions, _check_options, _limits, _token, event_label, sample_rate,
)
from .safety import SafetyChecker

TICK_S = 0.02           # real-time mode: the host loop's period
STEP_MS = 100.0         # lockstep: the longest simulated step (EVerest's main-loop period)
RESET_TIMEOUT_S = 0.5   # a board that answers neither the reset ...
CAPS_TIMEOUT_S = 2.5    # ... nor with a keep-alive within this long never answered


def _lag_limit_ms(speed: float) -> float:
    """How far the board's time may drift from the host's before the run is untrustworthy: 2 s
    simulated, or 250 ms real (keep-alive and scheduling latency) at ``speed``."""
    return max(2000.0, 250.0 * speed)


class _CommandTap:
    """Records the PWM duty the manager commands, by wrapping the board's port methods on the instance."""

    def __init__(self, board: Any) -> None:
        self.duty_pct = 100.0
        pwm_on, x1, f = board.pwm_on, board.cp_state_X1, board.cp_state_F

        def tap_pwm(value: float) -> None:
            self.duty_pct = float(value)
            pwm_on(value)

        def tap_x1() -> None:
            self.duty_pct = 100.0
            x1()

        def tap_f() -> None:
            self.duty_pct = 0.0
            f()
        board.pwm_on, board.cp_state_X1, board.cp_state_F = tap_pwm, tap_x1, tap_f


class _View:
    """What the status line reads: ``t_ms``, ``hardware`` (``cp_state``, ``currents_A``, ``meter``), ``manager``."""

    def __init__(self, manager: Any, hardware: Any) -> None:
        self.manager = manager
        self.hardware = hardware
        self.t_ms = 0.0


class _RemoteHardware:
    """The status line's view of a board on a port: CP state from the driver, currents and energy
    from the manager's ``powermeter`` var."""

    class _Meter:
        import_Wh = 0.0

    def __init__(self, board: Any, tap: _CommandTap) -> None:
        self.board = board
        self.tap = tap
        self.meter = self._Meter()
        self.currents_A = (0.0, 0.0, 0.0)

    @property
    def cp_state(self) -> str:
        return self.board.cp_state or "?"

    @property
    def duty_pct(self) -> float:
        return self.tap.duty_pct

    def on_powermeter(self, sample: Any) -> None:
        cur = sample.current_A
        if cur is not None:
            self.currents_A = (cur.L1 or 0.0, cur.L2 or 0.0, cur.L3 or 0.0)
        self.meter.import_Wh = sample.energy_Wh_import.total


def run_yeti_session(options: SimOptions, port: Optional[str] = None, *, baudrate: int = 115200,
                     on_event: Optional[Callable] = None, on_var: Optional[Callable] = None,
                     on_progress: Optional[Callable] = None) -> SessionResult:
    """Run a session over a Yeti link (a virtual MCU on a pty when ``port`` is None); see the module
    docstring. ``options.faults`` (``(t_s, kind, arg)``, link faults too) go to the virtual MCU."""
    from ..board.yeti.driver import YetiBoard
    from ..manager import EvseManager

    opt = options
    _check_options(opt)
    profile = resolve(opt.car)
    lockstep = port is None and opt.speed is None
    speed = 1.0 if opt.speed is None else float(opt.speed)
    mcu = hw = checker = car = tap_host = None
    if port is None:
        mcu, hw, checker, car = _virtual_mcu(opt, profile, lockstep, speed)
        port = mcu.port_path
    clock: Any = ManualClock(0.0) if lockstep else ScaledClock(speed)
    # link supervision runs on the manager's clock: keep its timeout 5 s of simulated time in
    # lockstep, 5 s of *real* time otherwise
    board = YetiBoard(port, baudrate, clock=clock, link_timeout_ms=5000.0 * (1.0 if lockstep else max(1.0, speed)),
                      reset_timeout_s=RESET_TIMEOUT_S, caps_timeout_s=CAPS_TIMEOUT_S)
    duty = _CommandTap(board)
    if lockstep:
        from .yeti_lockstep import HostTap

        tap_host = HostTap(board)
    cfg = {"has_ventilation": bool(getattr(hw, "has_ventilation", True))}
    cfg.update(opt.manager_config)
    mgr = EvseManager(cfg, board=board, powermeters=(), clock=clock, kernels=opt.kernels)
    view_hw = hw if hw is not None else _RemoteHardware(board, duty)
    view = _View(mgr, view_hw)
    events: List[Tuple[float, Any]] = []
    pending: List[Tuple[float, str]] = []
    state: Dict[str, Any] = {"last_event": 0.0, "limit": float(opt.limit_A), "start_Wh": None, "end_Wh": None,
                             "meter_Wh": 0.0}

    def on_session_event(ev: Any) -> None:
        t = clock.monotonic_ms()
        events.append((t, ev))
        state["last_event"] = t
        if ev.session_started is not None:
            state["start_Wh"] = ev.session_started.energy_Wh_import
        if ev.session_finished is not None:
            state["end_Wh"] = ev.session_finished.energy_Wh_import
        if ev.event.value == "AuthRequired":
            pending.append((t + AUTH_DELAY_S * 1000.0, "authorize"))
        if on_var is not None:
            on_var(t, "session_event", ev)
        if on_event is not None:
            on_event(t, event_label(ev), ev)

    def on_powermeter(sample: Any) -> None:
        state["meter_Wh"] = sample.energy_Wh_import.total
        if hw is None:
            view_hw.on_powermeter(sample)

    mgr.subscribe("session_event", on_session_event)
    mgr.subscribe("powermeter", on_powermeter)
    mgr.subscribe("ready", lambda v: pending.append((0.0, "limits")) if v else None)
    if on_var is not None:
        for name in mgr.VARS:
            if name != "session_event":
                mgr.subscribe(name, lambda v, name=name: on_var(clock.monotonic_ms(), name, v))
    for t_s, name, args in profile.actions(opt.duration_s):
        pending.append((t_s * 1000.0, name + ":" + ",".join(str(a) for a in args)))

    rec = _Recorder()
    untrusted: Optional[str] = None
    wall0 = time.perf_counter()
    end_ms = opt.duration_s * 1000.0
    next_limits = LIMIT_REFRESH_MS
    try:
        mgr.start()
        if board.keep_alive is None:
            untrusted = (f"the board on {port} never answered: no keep-alive within "
                         f"{RESET_TIMEOUT_S + CAPS_TIMEOUT_S:g} s of its reset (is it a Yeti board, at "
                         f"{baudrate} baud, powered and running?)")
        lag = _LagWatch(clock, hw, board, speed)
        while untrusted is None:
            t = clock.monotonic_ms()
            if t >= end_ms:
                break
            pending.sort()
            while pending and pending[0][0] <= t:
                _, what = pending.pop(0)
                if what == "authorize":
                    mgr.authorize_response(*_token())
                elif what == "limits" and mgr.ready:
                    mgr.enforce_limits(_limits(mgr.config.module_id, state["limit"]))
                elif what.startswith("set_limit:"):
                    state["limit"] = float(what.split(":", 1)[1])
                    if mgr.ready:
                        mgr.enforce_limits(_limits(mgr.config.module_id, state["limit"]))
            if t >= next_limits and mgr.ready:  # the energy manager answers once the manager is ready
                next_limits = t + LIMIT_REFRESH_MS
                mgr.enforce_limits(_limits(mgr.config.module_id, state["limit"]))
            mgr.tick()
            if lockstep:
                target = min(t + STEP_MS, end_ms, next_limits)
                if pending:
                    target = min(target, max(pending[0][0], t))
                deadline = mgr.next_deadline_ms()
                if deadline is not None and t < deadline < target:
                    target = deadline
                if target <= t:
                    target = min(t + STEP_MS, end_ms)
                mcu.step_to(target, board.tx_frames)
                tap_host.wait_for(mcu.tx_bytes)
                clock.set_ms(max(t, hw.t_ms))
                mgr.tick()
            else:
                time.sleep(TICK_S)
                untrusted = lag.check(opt)
            now = clock.monotonic_ms()
            rec.add(now, view_hw, mgr.state)
            if rec.sample_due(now):
                view.t_ms = now
                if on_progress is not None:
                    on_progress(view)
            if checker is not None and not checker.ok and opt.stop_on_violation:
                break
            if car is not None and car.finished and now - state["last_event"] >= 2000.0 and \
                    mgr.state in ("Idle", "Finished"):
                break
    finally:
        mgr.close()
        if mcu is not None:
            mcu.stop()
    stalls = (getattr(mcu, "stalls", 0) or 0) + (tap_host.stalls if tap_host is not None else 0)
    if untrusted is None and stalls:
        untrusted = f"the serial link stalled {stalls} times (frames lost between host and virtual MCU)"
    return rec.result(opt, profile, events, clock.monotonic_ms(), time.perf_counter() - wall0, hw, checker, car,
                      _energy(state, hw), untrusted)


def _virtual_mcu(opt: SimOptions, profile: Any, lockstep: bool, speed: float):
    """The in-process virtual MCU with its hardware, car and safety checker, started."""
    from .. import _impl
    from .car import SimCar
    from .virtual_yeti import VirtualYetiMcu, make_hardware

    car_opts = dict(profile.car_options)
    car_opts.update(opt.car_options)
    car = SimCar(profile.script(opt.duration_s, opt.limit_A, opt.phases), name=profile.name, **car_opts)
    hw_opts = dict(sample_rate_Hz=sample_rate(opt, opt.kernels or _impl.ACTIVE), cp_noise_V=opt.cp_noise_V)
    hw_opts.update(profile.hardware_options)
    hw_opts.update(opt.hardware_options)
    hw = make_hardware(car, opt.seed, kernels=opt.kernels, **hw_opts)
    checker = SafetyChecker(hw, kernels=opt.kernels, power_off_ms=100.0 if lockstep else max(100.0, 25.0 * speed))
    _watch(hw, checker, events=not lockstep)
    if lockstep:
        from .yeti_lockstep import LockstepYetiMcu

        def on_events(evs: list) -> None:
            for t_ms, ev in evs:
                checker.event(t_ms, ev)
            checker.check(hw.t_ms, raise_=False)
        mcu: Any = LockstepYetiMcu(hw, seed=opt.seed, on_events=on_events)
    else:
        mcu = VirtualYetiMcu(hw, seed=opt.seed, speed=speed)
    for f in opt.faults:  # at simulated time after the host's reset
        arg = f[2] if len(f) > 2 else None
        mcu.schedule(float(f[0]), f[1], "off" if arg is False else arg)
    mcu.start()
    return mcu, hw, checker, car


class _LagWatch:
    """Real-time mode: is the board's simulated time within ``_lag_limit_ms`` of the host's clock?

    In-process the board's time is its hardware's; on a port, the time stamps of its keep-alives."""

    def __init__(self, clock: Any, hw: Any, board: Any, speed: float) -> None:
        self.clock, self.hw, self.board, self.speed = clock, hw, board, speed
        self.limit_ms = _lag_limit_ms(speed)
        self._ka = board.keep_alive
        self._base: Optional[Tuple[float, float]] = None
        if hw is not None:
            self._base = (clock.monotonic_ms(), hw.t_ms)

    def _board_time(self) -> Optional[Tuple[float, float]]:
        """(host ms, board ms) of the latest observation."""
        if self.hw is not None:
            return self.clock.monotonic_ms(), self.hw.t_ms
        ka = self.board.keep_alive
        if ka is None or ka is self._ka:
            return None
        self._ka = ka
        return self.clock.monotonic_ms(), float(ka.time_stamp)

    def check(self, opt: SimOptions) -> Optional[str]:
        obs = self._board_time()
        if obs is None:
            return None
        if self._base is None:
            self._base = obs
            return None
        host_ms = obs[0] - self._base[0]
        board_ms = (obs[1] - self._base[1]) % 2.0 ** 32  # the MCU's time stamp wraps at 32 bits
        lag = host_ms - board_ms
        if abs(lag) <= self.limit_ms:
            return None
        from .summary import fmt_time

        if lag > 0:
            hint = ("leave out --speed: the in-process virtual MCU then runs in lockstep, as fast as the link allows"
                    if self.hw is not None else "give the board the same --speed (a real board runs at 1)")
            return (f"the board fell behind the simulated clock: it had simulated {fmt_time(board_ms / 1000.0)} "
                    f"while the host's clock ran {fmt_time(host_ms / 1000.0)} ({lag / 1000.0:.0f} s behind; "
                    f"{speed_text(opt)} is more than it keeps up with; {hint})")
        return (f"the board ran ahead of the simulated clock by {-lag / 1000.0:.0f} s (is it running at a higher "
                f"--speed than this run's {speed_text(opt)}?)")


def speed_text(opt: SimOptions) -> str:
    """``--speed`` as given, or the default of a run on a port."""
    return f"--speed {opt.speed:g}" if opt.speed else "--speed 1"


class _Recorder:
    """The per-iteration bookkeeping: time per state, current statistics, 1 s samples."""

    def __init__(self) -> None:
        self.t_s, self.cur, self.cur2, self.cur3 = array("d"), array("d"), array("d"), array("d")
        self.duty, self.energy, self.cps = array("d"), array("d"), []  # type: ignore[var-annotated]
        self.cp_time: Dict[str, float] = {}
        self.core_time: Dict[str, float] = {}
        self.i_max = self.i_sum = self.i_time = 0.0
        self._last = 0.0
        self._next_sample = 0.0
        self._hw: Any = None

    def add(self, t: float, hw: Any, core_state: str) -> None:
        dt, self._last = t - self._last, t
        self._hw = hw
        i1 = hw.currents_A[0]
        cp = hw.cp_state or "?"
        self.cp_time[cp] = self.cp_time.get(cp, 0.0) + dt
        self.core_time[core_state] = self.core_time.get(core_state, 0.0) + dt
        if i1 > 0:
            self.i_sum += i1 * dt
            self.i_time += dt
            self.i_max = max(self.i_max, i1)

    def sample_due(self, t: float) -> bool:
        if t < self._next_sample:
            return False
        self._next_sample = t + SAMPLE_MS
        hw = self._hw
        i = hw.currents_A
        self.t_s.append(t / 1000.0)
        self.cur.append(i[0])
        self.cur2.append(i[1])
        self.cur3.append(i[2])
        self.duty.append(hw.duty_pct)
        self.cps.append(hw.cp_state or "?")
        self.energy.append(hw.meter.import_Wh)
        return True

    def result(self, opt: SimOptions, profile: Any, events: list, t_end_ms: float, wall_s: float, hw: Any,
               checker: Any, car: Any, energy_Wh: float, untrusted: Optional[str]) -> SessionResult:
        cp = getattr(hw, "cp", None)
        return SessionResult(
            options=opt, profile=profile, events=events, vars=[], t_s=self.t_s, current_A=self.cur,
            duty_pct=self.duty, cp_state=self.cps, energy_Wh=self.energy,
            time_in_cp_state_s={k: v / 1000.0 for k, v in self.cp_time.items()},
            time_in_charger_state_s={k: v / 1000.0 for k, v in self.core_time.items()},
            energy_Wh_total=energy_Wh, max_current_A=self.i_max,
            mean_current_A=self.i_sum / self.i_time if self.i_time else 0.0,
            sim_time_s=t_end_ms / 1000.0, wall_time_s=wall_s,
            violation=checker.violations[0] if checker is not None and checker.violations else None,
            kernels_name=getattr(cp, "kernels_name", "?") if cp is not None else "remote",
            pwm_periods=int(cp.samples_processed * 1000 // cp.sample_rate_Hz) if cp is not None else 0,
            samples=cp.samples_processed if cp is not None else 0,
            sample_rate_Hz=cp.sample_rate_Hz if cp is not None else 0,
            car_log=list(car.log) if car is not None else [], safety_checked=checker is not None,
            current_L2_A=self.cur2, current_L3_A=self.cur3, untrusted=untrusted,
        )


def _energy(state: Dict[str, Any], hw: Any) -> float:
    """The session's energy: SessionFinished minus SessionStarted, else the meter now minus the start."""
    start = state["start_Wh"]
    if start is None:
        return 0.0
    if state["end_Wh"] is not None:
        return state["end_Wh"] - start
    now = hw.meter.import_Wh if hw is not None else state["meter_Wh"]
    return max(0.0, now - start)


def _watch(hw: Any, checker: SafetyChecker, events: bool = True) -> None:
    """Route the MCU's hardware commands (and, with ``events``, its events) through ``checker``."""
    advance_timed = hw.advance_timed
    set_pwm_pct, set_allow, set_enabled = hw.set_pwm_pct, hw.set_allow_power_on, hw.set_enabled

    def advance(dt_ms: float) -> list:
        evs = advance_timed(dt_ms)
        for t_ms, ev in evs:
            checker.event(t_ms, ev)
        checker.check(hw.t_ms, raise_=False)
        return [ev for _, ev in evs]

    def pwm(pct: float) -> None:
        if pct <= 0.0:
            checker.command(hw.t_ms, "cp_state_F")
        elif pct >= 100.0:
            checker.command(hw.t_ms, "cp_state_X1")
        else:
            checker.command(hw.t_ms, "pwm_on", float(pct))
        set_pwm_pct(pct)

    def allow(value: bool) -> None:
        checker.command(hw.t_ms, "allow_power_on", bool(value))
        set_allow(value)

    def enabled(value: bool) -> None:
        checker.command(hw.t_ms, "enable", bool(value))
        set_enabled(value)

    if events:
        hw.advance = advance
    hw.set_pwm_pct, hw.set_allow_power_on, hw.set_enabled = pwm, allow, enabled


__all__ = ["run_yeti_session"]
