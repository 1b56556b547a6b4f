"""The session runner: car + simulated board + ``EvseManager`` + authorisation + energy manager.

``run_session(SimOptions(...))`` builds a ``SimCar`` (a profile or a script), a ``SimHardware``
wrapped by a ``SimBoard`` (board and billing meter), a ``SafetyChecker`` watching the board, and an
``EvseManager`` on a ``ManualClock``, then drives them in steps of at most ``step_ms`` (100 ms,
EVerest's main-loop period) or to the manager's next deadline, whichever is sooner.  The board
delivers each hardware event at its own simulated time and the manager is ticked right then.

The runner also plays the parts around the manager:

* an RFID reader: ``AUTH_DELAY_S`` after each ``AuthRequired`` it calls ``authorize_response`` with
  an accepted ISO14443 token;
* an energy manager: ``enforce_limits`` with ``limit_A`` (valid 60 s, refreshed every 30 s); a
  profile's ``set_limit`` action changes it;
* fault injection: ``faults`` are ``(t_s, kind)`` or ``(t_s, kind, arg)`` for
  ``SimHardware.inject_fault`` (``arg`` False or ``"off"`` removes the fault; the CLI's
  ``evsefast.cli_args.Fault`` is such a tuple).

Nothing reads a real clock unless ``speed`` is given (then the loop sleeps to keep
``simulated time = speed x wall time``).  Session uuids are replaced by uuids derived from the seed
(``uuid_map``) in everything the runner reports, so the same seed gives the same output.
"""
from __future__ import annotations

import hashlib
import time
import uuid as _uuid
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import _impl
from ..clock import ManualClock
from ..errors import InvalidInput
from .board import SimBoard
from .car import SimCar
from .hardware import SimHardware
from .profiles import AUTH_DELAY_S, Profile, resolve
from .safety import SafetyChecker, Violation

LIMIT_VALID_S = 60
LIMIT_REFRESH_MS = 30_000.0
SAMPLE_MS = 1000.0  # timeline resolution for the summary and the plot


@dataclass
class SimOptions:
    """What to simulate; the defaults are ``evsefast simulate`` without arguments."""

    car: Optional[str] = None  # profile name or car script; None = "default"
    limit_A: float = 16.0
    phases: int = 3
    duration_s: float = 1800.0
    speed: Optional[float] = None  # real-time factor; None = as fast as possible
    seed: int = 0
    kernels: Any = None
    step_ms: float = 100.0
    sample_rate_Hz: Optional[int] = None  # None: 100 kS/s compiled, 10 kS/s on the plain-Python fallback
    cp_noise_V: float = 0.12  # uniform +- V on every CP sample (YetiSimulator: +-1 %)
    faults: Sequence[Tuple] = ()
    hardware_options: Dict[str, Any] = field(default_factory=dict)
    car_options: Dict[str, Any] = field(default_factory=dict)
    manager_config: Dict[str, Any] = field(default_factory=dict)
    stop_on_violation: bool = True
    record_vars: bool = False  # keep every var publication (for --json)


@dataclass
class SessionResult:
    """What a run produced; ``summary.format_summary`` prints it."""

    options: SimOptions
    profile: Profile
    events: List[Tuple[float, Any]]  # (t_ms, SessionEvents) with seeded uuids
    vars: List[Tuple[float, str, Any]]  # (t_ms, var, value) if record_vars
    t_s: array
    current_A: array  # L1
    duty_pct: array
    cp_state: List[str]
    energy_Wh: array
    time_in_cp_state_s: Dict[str, float]
    time_in_charger_state_s: Dict[str, float]
    energy_Wh_total: float
    max_current_A: float
    mean_current_A: float  # while current flows
    sim_time_s: float
    wall_time_s: float
    violation: Optional[Violation]
    kernels_name: str
    pwm_periods: int
    samples: int
    sample_rate_Hz: int
    car_log: List[Tuple[float, str, Tuple[str, ...]]]
    safety_checked: bool = True  # False over a serial link (commands not observable)
    current_L2_A: array = field(default_factory=lambda: array("d"))  # sampled with current_A
    current_L3_A: array = field(default_factory=lambda: array("d"))
    #: why the run cannot be trusted (the board fell behind, never answered), None if it can
    untrusted: Optional[str] = None

    def event_names(self) -> List[str]:
        """The session events in order, e.g. ``["SessionStarted", "AuthRequired", ...]``."""
        return [ev.event.value for _, ev in self.events]

    def event_labels(self) -> List[str]:
        """Like ``event_names`` with the payload's reason, e.g. ``"Error{OverCurrent}"``."""
        return [event_label(ev) for _, ev in self.events]

    @property
    def ok(self) -> bool:
        """True if no safety invariant was broken."""
        return self.violation is None


def event_label(ev) -> str:
    """``Error{OverCurrent}``, ``SessionCancelled{EVDisconnected}`` or just the event name."""
    name = ev.event.value
    if ev.error is not None:
        return f"{name}{{{ev.error.value}}}"
    if ev.session_cancelled is not None and ev.session_cancelled.reason is not None:
        return f"{name}{{{ev.session_cancelled.reason.value}}}"
    return name


def _token():
    from ..types.authorization import (
        AuthorizationStatus,
        AuthorizationType,
        IdToken,
        IdTokenType,
        ProvidedIdToken,
        ValidationResult,
    )
    tok = ProvidedIdToken(id_token=IdToken(value="04A2B3C4D5E6F7", type=IdTokenType.ISO14443),
                          authorization_type=AuthorizationType.RFID)
    return tok, ValidationResult(authorization_status=AuthorizationStatus.Accepted, tariff_messages=[])


def _limits(module_id: str, amps: float):
    from ..types.energy import EnforcedLimits, LimitsRes, NumberWithSource
    return EnforcedLimits(uuid=module_id, valid_for=LIMIT_VALID_S,
                          limits_root_side=LimitsRes(ac_max_current_A=NumberWithSource(value=float(amps),
                                                                                       source="evsefast simulate")),
                          schedule=[])


class SessionRunner:
    """One simulated session; ``run()`` returns a ``SessionResult``.

    ``on_event(t_ms, label, SessionEvents)`` is called for each session event, ``on_var(t_ms, name,
    value)`` for each var publication (with ``record_vars``), ``on_progress(runner)`` about every
    simulated second (the status line reads ``t_ms``, ``hardware``, ``manager``).
    """

    def __init__(self, options: Optional[SimOptions] = None, *,
                 on_event: Optional[Callable] = None, on_var: Optional[Callable] = None,
                 on_progress: Optional[Callable] = None) -> None:
        from ..manager import EvseManager

        self.options = opt = options or SimOptions()
        _check_options(opt)
        self.kernels = opt.kernels or _impl.ACTIVE
        self.profile = resolve(opt.car)
        car_opts = dict(self.profile.car_options)
        car_opts.update(opt.car_options)
        self.car = SimCar(self.profile.script(opt.duration_s, opt.limit_A, opt.phases), name=self.profile.name,
                          **car_opts)
        hw_opts = dict(sample_rate_Hz=sample_rate(opt, self.kernels), cp_noise_V=opt.cp_noise_V)
        hw_opts.update(self.profile.hardware_options)
        hw_opts.update(opt.hardware_options)
        self.clock = ManualClock(0.0)
        self.hardware = SimHardware(self.car, kernels=self.kernels, seed=opt.seed, **hw_opts)
        self.board = SimBoard(self.hardware, clock=self.clock, max_phases=3)
        self.checker = SafetyChecker(self.hardware, kernels=self.kernels)
        self.board.observers.append(self.checker)
        cfg = {"has_ventilation": bool(self.hardware.has_ventilation)}
        cfg.update(opt.manager_config)
        self.manager = EvseManager(cfg, board=self.board, powermeters=(self.board,), clock=self.clock,
                                   kernels=self.kernels)
        self.on_event = on_event
        self.on_var = on_var
        self.on_progress = on_progress
        self.t_ms = 0.0
        self.events: List[Tuple[float, Any]] = []
        self.vars: List[Tuple[float, str, Any]] = []
        self.limit_A = float(opt.limit_A)
        self._actions: List[Tuple[float, str, Tuple]] = []
        for t_s, name, args in self.profile.actions(opt.duration_s):
            self._actions.append((t_s * 1000.0, name, tuple(args)))
        for f in opt.faults:
            t_s, kind = f[0], f[1]
            active = not (len(f) > 2 and f[2] in (False, "off"))
            self._actions.append((float(t_s) * 1000.0, "fault", (kind, active)))
        self._actions.sort(key=lambda a: a[0])
        self._uuid_map: Dict[str, str] = {}
        self._last_event_ms = 0.0
        self.manager.subscribe("session_event", self._on_session_event)
        self.manager.subscribe("ready", self._on_ready)
        if opt.record_vars or on_var is not None:
            for name in self.manager.VARS:
                if name != "session_event":
                    self.manager.subscribe(name, self._var_cb(name))
        self.board.on_event = self._on_board_event

    # -- callbacks -------------------------------------------------------------------------------
    def _seeded_uuid(self, real: str) -> str:
        if not real:
            return real
        u = self._uuid_map.get(real)
        if u is None:
            n = len(self._uuid_map) + 1
            digest = hashlib.sha256(f"evsefast-simulate:{self.options.seed}:{n}".encode()).digest()
            u = str(_uuid.UUID(bytes=digest[:16], version=4))
            self._uuid_map[real] = u
        return u

    def _on_session_event(self, ev) -> None:
        import msgspec

        ev = msgspec.structs.replace(ev, uuid=self._seeded_uuid(ev.uuid))
        t = self.clock.monotonic_ms()
        self.events.append((t, ev))
        self._last_event_ms = t
        if ev.event.value == "AuthRequired":
            self._actions.append((t + AUTH_DELAY_S * 1000.0, "authorize", ()))
            self._actions.sort(key=lambda a: a[0])
        if self.options.record_vars:
            self.vars.append((t, "session_event", ev))
        if self.on_var is not None:
            self.on_var(t, "session_event", ev)
        if self.on_event is not None:
            self.on_event(t, event_label(ev), ev)

    def _on_ready(self, value) -> None:
        if value:  # the energy manager answers as soon as the manager is ready
            self._actions.insert(0, (self.clock.monotonic_ms(), "limits", ()))

    def _var_cb(self, name: str):
        def cb(value) -> None:
            t = self.clock.monotonic_ms()
            if self.options.record_vars:
                self.vars.append((t, name, value))
            if self.on_var is not None:
                self.on_var(t, name, value)
        return cb

    def _on_board_event(self, t_ms: float, ev: tuple) -> None:
        self.manager.tick()

    # -- actions ---------------------------------------------------------------------------------
    def _do(self, name: str, args: Tuple) -> None:
        mgr = self.manager
        if name == "authorize":
            tok, res = _token()
            mgr.authorize_response(tok, res)
        elif name == "set_limit":
            self.limit_A = float(args[0])
            if mgr.ready:  # an energy manager talks to a ready manager only
                mgr.enforce_limits(_limits(mgr.config.module_id, self.limit_A))
        elif name == "limits":
            mgr.enforce_limits(_limits(mgr.config.module_id, self.limit_A))
        elif name == "fault":
            self.hardware.inject_fault(args[0], bool(args[1]))
        mgr.tick()

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> SessionResult:
        """Run the session to the end of the car script (plus 2 s) or ``duration_s``."""
        opt = self.options
        mgr, board, hw, checker, clock = self.manager, self.board, self.hardware, self.checker, self.clock
        end_ms = float(opt.duration_s) * 1000.0
        step = float(opt.step_ms)
        t_s, cur, duty, cps, energy = array("d"), array("d"), array("d"), [], array("d")
        cur2, cur3 = array("d"), array("d")
        cp_time: Dict[str, float] = {}
        core_time: Dict[str, float] = {}
        i_max = 0.0
        i_sum = 0.0
        i_time = 0.0
        next_sample = 0.0
        next_limits = 0.0
        violation = None
        wall0 = time.perf_counter()
        mono0 = time.monotonic() if opt.speed else 0.0
        mgr.start()
        mgr.tick()
        actions = self._actions
        t = 0.0
        while t < end_ms:
            if t >= next_limits and mgr.ready:  # the energy manager answers once the manager is ready
                next_limits = t + LIMIT_REFRESH_MS
                self._do("limits", ())
            while actions and actions[0][0] <= t:
                _, name, args = actions.pop(0)
                self._do(name, args)
            nxt = min(t + step, end_ms, next_limits)
            if actions and actions[0][0] < nxt:
                nxt = max(actions[0][0], t)
            deadline = mgr.next_deadline_ms()
            if deadline is not None and t < deadline < nxt:
                nxt = deadline
            if nxt <= t:
                nxt = min(t + step, end_ms)
            cp_before = hw.cp_state
            core_before = mgr.state
            i1 = hw.currents_A[0]
            board.advance_to(nxt)
            mgr.tick()
            dt = nxt - t
            cp_time[cp_before] = cp_time.get(cp_before, 0.0) + dt
            core_time[core_before] = core_time.get(core_before, 0.0) + dt
            if i1 > 0.0:
                i_sum += i1 * dt
                i_time += dt
                if i1 > i_max:
                    i_max = i1
            t = nxt
            self.t_ms = t
            if t >= next_sample:
                next_sample = t + SAMPLE_MS
                t_s.append(t / 1000.0)
                i = hw.currents_A
                cur.append(i[0])
                cur2.append(i[1])
                cur3.append(i[2])
                duty.append(hw.duty_pct)
                cps.append(hw.cp_state)
                energy.append(hw.meter.import_Wh)
                if self.on_progress is not None:
                    self.on_progress(self)
            v = checker.check(t, raise_=False)
            if v is not None:
                violation = v
                if opt.stop_on_violation:
                    break
            if self.car.finished and t - self._last_event_ms >= 2000.0 and mgr.state in ("Idle", "Finished"):
                break
            if opt.speed:
                lag = t / 1000.0 / opt.speed - (time.monotonic() - mono0)
                if lag > 0:
                    time.sleep(lag)
        wall = time.perf_counter() - wall0
        return SessionResult(
            options=opt, profile=self.profile, events=self.events, vars=self.vars,
            t_s=t_s, current_A=cur, duty_pct=duty, cp_state=cps, energy_Wh=energy,
            time_in_cp_state_s={k or "?": v / 1000.0 for k, v in cp_time.items()},
            time_in_charger_state_s={k: v / 1000.0 for k, v in core_time.items()},
            energy_Wh_total=_session_energy(self.events, hw),
            max_current_A=i_max, mean_current_A=(i_sum / i_time if i_time else 0.0),
            sim_time_s=t / 1000.0, wall_time_s=wall, violation=violation,
            kernels_name=getattr(self.kernels, "name", "?"),
            pwm_periods=int(hw.cp.samples_processed * 1000 // hw.cp.sample_rate_Hz),
            samples=hw.cp.samples_processed, sample_rate_Hz=hw.cp.sample_rate_Hz, car_log=list(self.car.log),
            current_L2_A=cur2, current_L3_A=cur3,
        )


def sample_rate(opt: SimOptions, kernels) -> int:
    """The CP sample rate: as given, else 100 kS/s (10 kS/s if the kernels run as plain Python,
    which is ~100x slower; 10 samples per PWM period still resolve every period)."""
    if opt.sample_rate_Hz is not None:
        return int(opt.sample_rate_Hz)
    return 100_000 if getattr(kernels, "compiled", True) else 10_000


def _session_energy(events, hw) -> float:
    """Energy of the (last) session: SessionFinished minus SessionStarted, else the meter now."""
    start = None
    for _, ev in events:
        if ev.session_started is not None:
            start = ev.session_started.energy_Wh_import
        if ev.session_finished is not None and start is not None:
            return ev.session_finished.energy_Wh_import - start
    return hw.meter.import_Wh - (start or 0.0)


def _check_options(opt: SimOptions) -> None:
    if not (0.0 < opt.limit_A <= 80.0):
        raise InvalidInput(f"limit_A must be in (0, 80] A, got {opt.limit_A!r}", "limit")
    if opt.phases not in (1, 3):
        raise InvalidInput(f"phases must be 1 or 3, got {opt.phases!r}", "phases")
    if not (1.0 <= opt.duration_s <= 7 * 86400.0):
        raise InvalidInput(f"duration_s must be in [1 s, 7 days], got {opt.duration_s!r}", "duration")
    if opt.speed is not None and not (0.0 < opt.speed <= 1e6):
        raise InvalidInput(f"speed must be in (0, 1e6], got {opt.speed!r}", "speed")
    if not (0.0 < opt.step_ms <= 1000.0):
        raise InvalidInput(f"step_ms must be in (0, 1000], got {opt.step_ms!r}", "step_ms")


def run_session(options: Optional[SimOptions] = None, **callbacks) -> SessionResult:
    """Build a ``SessionRunner`` and run it."""
    return SessionRunner(options, **callbacks).run()


__all__ = ["SessionResult", "SessionRunner", "SimOptions", "event_label", "run_session", "sample_rate"]
