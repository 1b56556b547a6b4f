"""``evsefast simulate --board yeti``: the same session over the Yeti serial driver.

The manager drives ``evsefast.board.yeti.driver.YetiBoard`` on a serial port.  Without a port a
virtual Yeti MCU (``evsefast.board.yeti.virtual.VirtualYetiMcu``, the simulator's hardware and car
behind the Yeti protocol) runs in-process on a pty.  A serial link runs in real time: the manager's
clock is a ``ScaledClock(speed)`` and the virtual MCU runs at the same speed (default 1x; use
``--speed`` to accelerate, e.g. 30).

With the in-process virtual MCU the safety checker watches its hardware: the commands as they
arrive over the link (``set_pwm_pct`` / ``set_allow_power_on`` / ``set_enabled``) and the hardware's
events.  The power-off deadline allows for the link: 100 ms or 25 ms of real time, whichever is
longer in simulated time.  With a real port nothing can be observed and the checks are skipped.
"""
from __future__ import annotations

import time
from array import array
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..clock import ScaledClock
from .car import SimCar
from .profiles import AUTH_DELAY_S, resolve
from .safety import SafetyChecker
from .runner import (
    LIMIT_REFRESH_MS,
    SAMPLE_MS,
    SessionResult,
    SimOptions,
    _check_options,
    _limits,
    _session_energy,
    _token,
    event_label,
    sample_rate,
)

TICK_S = 0.02


def run_yeti_session(options: SimOptions, port: Optional[str] = None, *, baudrate: int = 115200,
                     on_event: Optional[Callable] = None, on_var: Optional[Callable] = None,
                     on_progress: Optional[Callable] = None) -> SessionResult:
    """Run a session over a Yeti link (a virtual MCU on a pty when ``port`` is None)."""
    from ..board.yeti.driver import YetiBoard
    from ..manager import EvseManager

    opt = options
    _check_options(opt)
    speed = float(opt.speed or 1.0)
    profile = resolve(opt.car)
    mcu = None
    hw = None
    car = None
    checker = None
    if port is None:
        from ..board.yeti.virtual import VirtualYetiMcu, make_hardware

        car_opts = dict(profile.car_options)
        car_opts.update(opt.car_options)
        car = SimCar(profile.script(opt.duration_s, opt.limit_A, opt.phases), name=profile.name, **car_opts)
        from .. import _impl

        hw_opts = dict(sample_rate_Hz=sample_rate(opt, opt.kernels or _impl.ACTIVE), cp_noise_V=opt.cp_noise_V)
        hw_opts.update(profile.hardware_options)
        hw_opts.update(opt.hardware_options)
        hw = make_hardware(car, opt.seed, kernels=opt.kernels, **hw_opts)
        checker = SafetyChecker(hw, kernels=opt.kernels, power_off_ms=max(100.0, 25.0 * speed))
        _watch(hw, checker)
        mcu = VirtualYetiMcu(hw, seed=opt.seed, speed=speed)
        for f in opt.faults:  # on the MCU thread, at simulated time after the host's reset
            mcu.schedule(float(f[0]), f[1], f[2] if len(f) > 2 else None)
        mcu.start()
        port = mcu.port_path
    clock = ScaledClock(speed)
    # the link supervision runs on the scaled clock: keep its timeout 5 s of *real* time
    board = YetiBoard(port, baudrate, clock=clock, link_timeout_ms=5000.0 * max(1.0, speed))
    cfg = {"has_ventilation": bool(getattr(hw, "has_ventilation", True))}
    cfg.update(opt.manager_config)
    mgr = EvseManager(cfg, board=board, powermeters=(), clock=clock, kernels=opt.kernels)
    events: List[Tuple[float, Any]] = []
    pending: List[Tuple[float, str]] = []
    state = {"last_event": 0.0, "limit": float(opt.limit_A)}

    def on_session_event(ev) -> None:
        t = clock.monotonic_ms()
        events.append((t, ev))
        state["last_event"] = t
        if ev.event.value == "AuthRequired":
            pending.append((t + AUTH_DELAY_S * 1000.0, "authorize"))
        if on_var is not None:
            on_var(t, "session_event", ev)
        if on_event is not None:
            on_event(t, event_label(ev), ev)

    mgr.subscribe("session_event", on_session_event)
    mgr.subscribe("ready", lambda v: pending.append((0.0, "limits")) if v else None)
    if on_var is not None:
        for name in mgr.VARS:
            if name != "session_event":
                mgr.subscribe(name, lambda v, name=name: on_var(clock.monotonic_ms(), name, v))
    for t_s, name, args in profile.actions(opt.duration_s):
        pending.append((t_s * 1000.0, name + ":" + ",".join(str(a) for a in args)))
    t_s_arr, cur, duty, cps, energy = array("d"), array("d"), array("d"), [], array("d")
    cp_time: Dict[str, float] = {}
    core_time: Dict[str, float] = {}
    i_max = i_sum = i_time = 0.0
    wall0 = time.perf_counter()
    end_ms = opt.duration_s * 1000.0
    next_limits = LIMIT_REFRESH_MS
    next_sample = 0.0
    last_t = 0.0

    class _Runner:  # what the status line reads
        pass

    view = _Runner()
    view.manager = mgr
    view.hardware = hw
    try:
        mgr.start()
        while True:
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
            dt = t - last_t
            last_t = t
            i1 = hw.currents_A[0] if hw is not None else 0.0
            cp = hw.cp_state if hw is not None else (board.cp_state or "?") if hasattr(board, "cp_state") else "?"
            cp_time[cp] = cp_time.get(cp, 0.0) + dt
            core_time[mgr.state] = core_time.get(mgr.state, 0.0) + dt
            if i1 > 0:
                i_sum += i1 * dt
                i_time += dt
                i_max = max(i_max, i1)
            if t >= next_sample:
                next_sample = t + SAMPLE_MS
                t_s_arr.append(t / 1000.0)
                cur.append(i1)
                duty.append(hw.duty_pct if hw is not None else 0.0)
                cps.append(cp)
                energy.append(hw.meter.import_Wh if hw is not None else 0.0)
                view.t_ms = t
                if on_progress is not None and hw is not None:
                    on_progress(view)
            if checker is not None and not checker.ok and opt.stop_on_violation:
                break
            if car is not None and car.finished and t - state["last_event"] >= 2000.0 and \
                    mgr.state in ("Idle", "Finished"):
                break
            time.sleep(TICK_S)
    finally:
        mgr.close()
        if mcu is not None:
            mcu.stop()
    t_end = clock.monotonic_ms()
    return SessionResult(
        options=opt, profile=profile, events=events, vars=[], t_s=t_s_arr, current_A=cur, duty_pct=duty,
        cp_state=cps, energy_Wh=energy,
        time_in_cp_state_s={k: v / 1000.0 for k, v in cp_time.items()},
        time_in_charger_state_s={k: v / 1000.0 for k, v in core_time.items()},
        energy_Wh_total=_session_energy(events, hw) if hw is not None else 0.0,
        max_current_A=i_max, mean_current_A=i_sum / i_time if i_time else 0.0,
        sim_time_s=t_end / 1000.0, wall_time_s=time.perf_counter() - wall0,
        violation=checker.violations[0] if checker is not None and checker.violations else None,
        kernels_name=getattr(hw.cp, "kernels_name", "?") if hw is not None else "remote",
        pwm_periods=int(hw.cp.samples_processed * 1000 // hw.cp.sample_rate_Hz) if hw is not None else 0,
        samples=hw.cp.samples_processed if hw is not None else 0,
        sample_rate_Hz=hw.cp.sample_rate_Hz if hw is not None else 0,
        car_log=list(car.log) if car is not None else [], safety_checked=checker is not None,
    )


def _watch(hw, checker: SafetyChecker) -> None:
    """Route the MCU's hardware commands and events through ``checker`` (instance wrappers)."""
    advance_timed = hw.advance_timed
    set_pwm_pct, set_allow, set_enabled = hw.set_pwm_pct, hw.set_allow_power_on, hw.set_enabled

    def advance(dt_ms):
        events = advance_timed(dt_ms)
        for t_ms, ev in events:
            checker.event(t_ms, ev)
        checker.check(hw.t_ms, raise_=False)
        return [ev for _, ev in events]

    def pwm(pct):
        if pct <= 0.0:
            checker.command(hw.t_ms, "cp_state_F")
        elif pct >= 100.0:
            checker.command(hw.t_ms, "cp_state_X1")
        else:
            checker.command(hw.t_ms, "pwm_on", float(pct))
        set_pwm_pct(pct)

    def allow(value):
        checker.command(hw.t_ms, "allow_power_on", bool(value))
        set_allow(value)

    def enabled(value):
        checker.command(hw.t_ms, "enable", bool(value))
        set_enabled(value)

    hw.advance, hw.set_pwm_pct, hw.set_allow_power_on, hw.set_enabled = advance, pwm, allow, enabled


__all__ = ["run_yeti_session"]
