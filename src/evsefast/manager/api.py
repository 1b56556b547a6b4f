"""``EvseManager``: the evse_manager interface (13 cmds, 15 vars) over the charger core.

Every cmd has the interface's name and argument names, validates its arguments at the edge
(Struct, plain dict or JSON bytes; bad input -> :class:`evsefast.errors.CommandRejected` naming the
field, state unchanged) and returns the interface's result type.  Board and power-meter reports
arrive through the ``BoardListener`` methods (thread-safe, queued); ``tick()`` processes them and
fires timers at ``clock.monotonic_ms()``; ``next_deadline_ms()`` says when the next timer is due.
One re-entrant lock serialises cmds, ticks and subscriber delivery.
"""
from __future__ import annotations

import logging
import math
import threading
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, List, Mapping, Optional, Union, cast

from .. import _impl
from ..clock import Clock
from ..config import ManagerConfig
from ..errors import ManagerClosed, NotReady
from ..store import open_store
from ..types.evse_manager import EnableDisableSource, Enable_source, Enable_state
from . import cmds as _cmds
from . import iec as _iec_mod
from . import inbox as _in
from .aio import AsyncApi
from .boot import Boot
from .charger import Charger
from .enable import EnableTable
from .error_events import ERRORS_CHANNEL, OwnErrorEvents
from .errors import INTERNAL, ErrorState
from .events import SessionEventPublisher
from .iec import IecAdapter
from .inbox import Inbox
from .limits import LimitState
from .metering import Metering
from .reservation import Reservation
from .states import CHARGING, IDLE, PAUSED_EV
from .vars import VARS, VarHub

if TYPE_CHECKING:
    import os

    from ..board.port import BoardSupport, PowerMeter
    from .var_access import VarName

log = logging.getLogger("evsefast.manager")

_INF = math.inf
_BSP = _in.BSP
_PASSES = range(64)  # at most this many processing passes (re-entrant input) per tick; built once
_CP_LETTERS = _iec_mod.CP_LETTERS


def _source(entry) -> EnableDisableSource:
    src, state, prio = entry
    return EnableDisableSource(enable_source=Enable_source(src), enable_state=Enable_state(state),
                               enable_priority=prio)


class EvseManager(AsyncApi, Inbox):
    """The charging kernel of one connector (EVerest ``evse_manager``).

    ``EvseManager(config=None, board=..., powermeters=(), store=None, clock=None, kernels=None)``:
    ``config`` a :class:`~evsefast.config.ManagerConfig` or a dict; ``board`` a
    :class:`~evsefast.board.port.BoardSupport`; ``powermeters`` billing meters; ``store`` a path for
    the SQLite power-loss store (or a store object, or None); ``clock`` a
    :class:`~evsefast.clock.Clock` (real by default); ``kernels`` a kernel build (default
    ``evsefast._impl.ACTIVE``).
    """

    #: var name -> type, as in the seed interface (keys typed as ``VarName`` for ``subscribe``/``get``)
    VARS: "ClassVar[Mapping[VarName, Any]]" = cast("Mapping[VarName, Any]", MappingProxyType(VARS))

    def __init__(self, config: "Union[ManagerConfig, Mapping[str, Any], None]" = None,
                 board: "Optional[BoardSupport]" = None, powermeters: "Iterable[PowerMeter]" = (),
                 store: "Union[str, os.PathLike[str], Any, None]" = None, clock: Optional[Clock] = None,
                 kernels: Any = None) -> None:
        super().__init__()
        if board is None:
            raise TypeError("EvseManager needs a board (a BoardSupport, e.g. evsefast.testing.FakeBoard())")
        cfg = ManagerConfig.from_any(config)
        self.config = cfg
        self.board = board
        self.clock = clock if clock is not None else Clock()
        self.kernels = kernels if kernels is not None else _impl.ACTIVE
        self._lock = threading.RLock()
        self._vars = VarHub()
        publish = self._vars.publish
        self._iec = IecAdapter(board, has_ventilation=cfg.has_ventilation,
                               lock_connector_in_state_b=cfg.lock_connector_in_state_b,
                               hack_simplified_mode_limit_10A=cfg.hack_simplified_mode_limit_10A)
        self._limits = LimitState(self.kernels, cfg.module_id, self._iec, publish)
        self._metering = Metering(powermeters, self.kernels.limits,
                                  tolerance_pct=cfg.soft_over_current_tolerance_percent,
                                  noise_A=cfg.soft_over_current_measurement_noise_A,
                                  timeout_ms=cfg.soft_over_current_timeout_ms,
                                  fail_on_errors=cfg.fail_on_powermeter_errors)
        self._errors = ErrorState(cfg.inoperative_error_use_vendor_id,
                                  listener=OwnErrorEvents(publish, self.clock.wall_s, cfg.module_id, cfg.connector_id))
        self._reservation = Reservation()
        self._events = SessionEventPublisher(publish, self.clock.wall_s, self._metering)
        self._store = open_store(store)
        self._core = Charger(cfg=cfg, iec=self._iec, limits=self._limits, metering=self._metering,
                             errors=self._errors, reservation=self._reservation, events=self._events,
                             store=self._store, kernels=self.kernels)
        self._core.on_fatal_onset = self._cancel_reservation
        self._enable = EnableTable()
        self._boot = Boot(self)
        self._busy = False
        self._closed = False
        self._dirty = False
        self._deadline = -_INF  # the first tick always runs
        self._last_store_ms = -_INF
        self._pnc = {}
        self._allowed_modes = None
        self._waker: Optional[Callable[[], None]] = None
        board.attach(self)
        for meter in self._metering.meters:
            meter.attach(self)

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the board (it publishes its capabilities) and begin the start-up sequence. Idempotent.

        The manager is ready (serves cmds, publishes ``ready``) once the first power-meter value arrived (at
        most ``initial_meter_value_timeout_ms``; at once without meters) and, if configured, after
        ``external_ready_to_start_charging``.
        """
        with self._lock:
            if self._closed:
                raise ManagerClosed("start: the manager is closed (close() was called)")
            if self._boot.started:
                return
            now = self._now()
            self._boot.start(now)
            self.board.start()
            self._process(now)

    def close(self) -> None:
        """Power off and stop the PWM (safe state), stop the board and close the store. Idempotent.

        A transaction still open stays in the store: the next start-up closes it with
        ``SessionCancelled{PowerLoss}`` (spec §2.7(k)). After ``close()`` every cmd raises
        :class:`~evsefast.errors.ManagerClosed` and ``tick()`` does nothing.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._end_streams()
            try:
                if self._boot.started:
                    self._iec.shutdown()
            except Exception:  # noqa: BLE001 - closing must go on
                log.exception("board failed while powering off at close()")
            try:
                self.board.close()
            finally:
                if self._store is not None:
                    self._store.close()

    def __enter__(self) -> "EvseManager":
        """``with EvseManager(...) as mgr:`` -- closes the manager (safe state) when the block ends."""
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._closed

    @property
    def ready(self) -> bool:
        """True once the manager serves cmds (the ``ready`` var was published) and until ``close()``."""
        return self._boot.ready and not self._closed

    def _serving(self, cmd: str, before_ready: bool = False) -> None:
        """Raise ``ManagerClosed``/``NotReady`` unless ``cmd`` may run now (nothing is changed)."""
        if self._closed:
            raise ManagerClosed(f"{cmd}: the manager is closed (close() was called); nothing changed")
        if before_ready or self._boot.ready:
            return
        boot = self._boot
        if not boot.started:
            why = "start() has not been called"
        elif not boot.booted:
            why = (f"start-up is waiting for the first power-meter value (at most "
                   f"initial_meter_value_timeout_ms = {self.config.initial_meter_value_timeout_ms} ms)")
        else:
            why = "start-up is waiting for external_ready_to_start_charging"
        raise NotReady(f"{cmd}: the manager is not ready: {why}; nothing changed (only enable_disable and "
                       f"external_ready_to_start_charging are accepted before ready)")

    def set_waker(self, waker: Optional[Callable[[], None]]) -> None:
        """Called (from any thread) whenever new input is queued or a cmd changed the deadlines."""
        self._waker = waker
        self.wake = waker

    # -- time ----------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.clock.monotonic_ms()

    def tick(self) -> None:
        """Process queued board/meter input and fire the timers due at ``clock.monotonic_ms()``."""
        now = self.clock.monotonic_ms()
        if (not self.queue and now < self._deadline) or self._closed:
            return
        with self._lock:
            if self._closed:
                return
            if not self._boot.started:
                self._boot.start(now)
                self.board.start()
            self._process(now)

    def next_deadline_ms(self) -> Optional[float]:
        """Monotonic time (ms) of the next timer, or None if nothing is scheduled."""
        d = self._deadline
        return None if d == _INF else d

    # -- vars ----------------------------------------------------------------------------------------
    def subscribe_errors(self, callback: Callable[[Any], None], encoding: Optional[str] = None):
        """Call ``callback(error)`` on every raise and clear of the manager's own ``evse_manager/*`` errors
        (``Inoperative``, ``MREC4OverCurrentFailure``, ``PowermeterTransactionStartFailed``, ``Internal``, ...).

        ``error`` is a :class:`~evsefast.types.ModuleError` (EVerest's Error object: ``state`` ``Active`` on
        raise, ``ClearedByModule`` on clear with the raise's ``uuid``), or its JSON/msgpack with ``encoding``.
        Delivered in order with the vars, also when a raise and its clear happen within one tick.
        Returns a function that unsubscribes.
        """
        return self._vars.subscribe_channel(ERRORS_CHANNEL, callback, encoding)

    @property
    def state(self) -> str:
        """The charger core's state name (HEAD names, e.g. ``"Charging"``), for diagnostics and tests."""
        return self._core.state

    @property
    def session_events(self):
        """The session events published so far (most recent 1024), oldest first."""
        return list(self._vars.history)

    @property
    def enable_source(self) -> EnableDisableSource:
        """The ``enable_disable`` entry that decides enabled/disabled now (spec §2.7(g)); with no entry,
        ``{Unspecified, Unassigned, 10000}``."""
        return _source(self._enable.winner())

    @property
    def enable_sources(self) -> List[EnableDisableSource]:
        """Every ``enable_disable`` table entry, in evaluation order (spec §2.7(g))."""
        return [_source(entry) for entry in self._enable.entries]

    @property
    def active_errors(self):
        """The active errors as ``ActiveError`` tuples, plus the Inoperative error if raised."""
        errs = list(self._errors.active.values())
        if self._errors.inoperative is not None:
            errs.append(self._errors.inoperative)
        return errs

    # -- processing ----------------------------------------------------------------------------------
    def _process(self, now: int) -> None:
        if self._busy:  # re-entered from a board command or subscriber: the outer loop re-runs
            self._dirty = True
            return
        self._busy = True
        try:
            core = self._core
            boot = self._boot
            iec = self._iec
            q = self.queue
            lim = self._limits
            for _ in _PASSES:
                self._dirty = False
                while q:
                    kind, payload = q.popleft()
                    if kind == _BSP and boot.ready:
                        # the hot path (a CP event of a ready manager), inline; _handle has the rest
                        raw = payload.event._value_  # the plain str; Enum.value is a slow descriptor
                        if raw in _CP_LETTERS and iec.enabled:
                            iec.evaluate(raw, now)
                            # core.step(now), inline
                            if core.dirty or now >= core.next_due_ms:
                                core.run(now)
                            events = iec.events
                            while events:
                                core.cp_event(events.pop(0), now, True)
                            core.settled_ms = now
                            continue
                    self._handle(kind, payload, now)
                if not boot.booted:
                    boot.step(now)
                if (iec.c1_deadline is not None or iec.f_unlock_deadline is not None) and iec.check_timers(now):
                    core.dirty = True
                if boot.ready:
                    if not lim.expired and now >= lim.expiry_ms and lim.expire(now, core.state != IDLE):
                        core.dirty = True
                    # the machine already ran at this time and nothing changed since: running it again
                    # would change nothing (a CP event was processed right above, in _handle)
                    if core.dirty or self._iec.events or (core.settled_ms != now and now >= core.next_due_ms):
                        core.step(now)
                    # the cable limit depends on the state: republish when I_eff changed
                    in_session = core.state != IDLE
                    if lim.eff[in_session] != lim.published_A or lim.phases_available != lim.published_phases:
                        lim.publish(in_session)
                if not q and not self._dirty:
                    break
        except Exception as exc:  # noqa: BLE001 - nothing may escape into the caller
            self._internal_error(exc, now)
        finally:
            self._busy = False
        self._deadline = self._compute_deadline(now)
        if self._vars.pending:
            self._vars.deliver()

    def _compute_deadline(self, now: int) -> float:
        iec = self._iec
        d = _INF if iec.c1_deadline is None and iec.f_unlock_deadline is None else iec.next_deadline()
        if self._boot.ready:
            lim = self._limits
            if not lim.expired and lim.expiry_ms < d:  # the current budget expires
                d = lim.expiry_ms
            core = self._core
            x = core.next_due_ms = core.state_deadline(now)  # until then, without new input, a run is a no-op
            if x < d:
                d = x
        else:
            x = self._boot.deadline()
            if x < d:
                d = x
        return d

    def _handle(self, kind: int, payload: Any, now: int) -> None:
        core = self._core
        if kind != _in.BSP:
            core.dirty = True  # any other input may change what the machine decides
        if kind == _in.BSP:
            raw = payload.event._value_  # the plain str; Enum.value is a slow descriptor
            if raw == "EvseReplugStarted" or raw == "EvseReplugFinished":
                if self._boot.ready:  # P13: the legacy replug (PRE)
                    core.replug(raw == "EvseReplugFinished")
                    core.step(now)
                return
            self._iec.feed(raw, now)
            if self._boot.ready:
                core.step(now)
        elif kind == _in.METER:
            self._on_meter(payload, now)
        elif kind == _in.CAPS:
            self._limits.on_capabilities(payload)
            self._boot.caps = payload
            self._vars.publish("hw_capabilities", payload)
            self._boot.publish_modes()
            self._limits.publish(core.state != IDLE)
        elif kind == _in.PP:
            self._limits.on_pp(payload.ampacity)
            self._limits.publish(core.state != IDLE)
        elif kind == _in.PHASES:
            if 1 <= payload <= 3:
                self._limits.phases_available = int(payload)
                self._limits.publish(core.state != IDLE)
        elif kind == _in.TELEMETRY:
            self._vars.publish("telemetry", payload)
        elif kind == _in.STOP:
            reason = getattr(payload, "reason", "Other")
            core.cancel_transaction(getattr(reason, "value", reason), getattr(payload, "id_tag", None))
        elif kind == _in.ERROR_RAISED:
            sev = getattr(payload.severity, "value", payload.severity)
            onset = self._errors.raise_error(payload.type, payload.sub_type, sev, payload.message,
                                             payload.description, payload.vendor_id)
            if onset is not None:
                core.fatal_onset(onset)
        elif kind == _in.ERROR_CLEARED:
            self._errors.clear_error(payload[0], payload[1])
        elif kind == _in.METER_KEY:
            self._vars.publish("powermeter_public_key_ocmf", payload)

    def _on_meter(self, sample, now: int) -> None:
        m = self._metering
        m.on_sample(sample)
        self._boot.meter_seen = True
        self._vars.publish("powermeter", sample)
        core = self._core
        if core.state == CHARGING or core.state == PAUSED_EV:
            if m.feed_over_current(now, core.signalled_A) and not self._errors.is_active("evse_manager/MREC4OverCurrentFailure"):
                core._over_current()
        else:
            m.soc.reset()
        store = self._store
        if store is not None and core.transaction_active:
            if now - self._last_store_ms >= self.config.session_store_interval_ms:
                self._last_store_ms = now
                store.update_energy(m.energy_import(), m.energy_export())

    def _internal_error(self, exc: BaseException, now: int) -> None:
        """Safe state: power off, CP F, log, raise ``evse_manager/Internal`` (never raises)."""
        log.error("internal error, going to a safe state: %r", exc, exc_info=exc)
        try:
            self._iec.safe_state()
        except Exception:  # noqa: BLE001
            log.exception("board failed while going to the safe state")
        try:
            onset = self._errors.raise_error(INTERNAL, "", "High", repr(exc))
            if onset is not None:
                self._core.fatal_onset(onset)
        except Exception:  # noqa: BLE001
            log.exception("could not raise the Internal error")

    def _cmd(self, fn: Callable[[int], Any], default: Any = None) -> Any:
        """Run a cmd's effect under the lock, then process; internal errors -> safe state, ``default``."""
        with self._lock:
            now = self._now()
            self._core.dirty = True
            try:
                result = fn(now)
            except Exception as exc:  # noqa: BLE001
                self._internal_error(exc, now)
                result = default
            self._process(now)
        waker = self._waker
        if waker is not None:
            waker()
        return result

    def _in_session(self) -> bool:
        return self._core.state != IDLE

    def _cancel_reservation(self, reason: str = "Cancelled") -> None:
        rid = self._reservation.cancel()
        if rid is not None:
            self._events.reservation_end(rid, reason)

    def _bsp_enable(self, value: bool) -> None:
        self._iec.enabled = value
        self.board.enable(value)

    # -- the interface's cmds ------------------------------------------------------------------------
    # Defined in cmds.py (one job per file) and bound here by assignment, so that type checkers see
    # each cmd's own signature (argument names and result type as in the interface).
    get_evse = _cmds.get_evse
    enable_disable = _cmds.enable_disable
    authorize_response = _cmds.authorize_response
    withdraw_authorization = _cmds.withdraw_authorization
    reserve = _cmds.reserve
    cancel_reservation = _cmds.cancel_reservation
    pause_charging = _cmds.pause_charging
    resume_charging = _cmds.resume_charging
    stop_transaction = _cmds.stop_transaction
    force_unlock = _cmds.force_unlock
    external_ready_to_start_charging = _cmds.external_ready_to_start_charging
    set_plug_and_charge_configuration = _cmds.set_plug_and_charge_configuration
    update_allowed_energy_transfer_modes = _cmds.update_allowed_energy_transfer_modes
    # extras beside the interface: the energy manager's limits, a local maximum, phase switching
    enforce_limits = _cmds.enforce_limits
    set_local_max_current = _cmds.set_local_max_current
    switch_three_phases_while_charging = _cmds.switch_three_phases_while_charging
