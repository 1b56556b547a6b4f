"""The charger state machine (spec §2, HEAD ``Charger``, with the profile's P-rules).

Deterministic: every method takes ``now`` (monotonic ms, a float) from the caller; nothing here
reads a clock, sleeps or blocks.  Board commands go through the IEC adapter; session events
through :class:`~evsefast.manager.events.SessionEventPublisher`.

CP events are processed as HEAD does (EM/Charger.cpp:1020-1049): run the state machine, apply
the state-independent reactions, run, apply the state-dependent reactions, run.
"""
from __future__ import annotations

import logging
import math
import base64
import uuid as _uuid

from ..types.board import PowerOnOff, PowerOnOffReason
from .iec import (
    BCD_TO_E, CAR_PLUGGED_IN, CAR_REQUESTED_POWER, CAR_REQUESTED_STOP_POWER, CAR_UNPLUGGED, POWER_OFF, POWER_ON,
)
from .errors import EMERGENCY_SHUTDOWN, ERROR_SHUTDOWN, MREC4, MREC9, NONE as SHUTDOWN_NONE, PM_START_FAILED
from .states import (
    CHARGING, DISABLED, IDLE, PAUSED_EV, PAUSED_EVSE, PREPARE, REPLUG, STATES, SWITCH_PHASES, StatesMixin, WAIT_AUTH,
)

log = logging.getLogger("evsefast.manager")

_MAX_ITERATIONS = 32  # HEAD warns after 10 and continues; a stable machine needs far fewer
_ITERATIONS = range(_MAX_ITERATIONS)  # built once: run() is on the path of every CP event


def new_session_id(kind: str) -> str:
    """A session id of the configured ``session_id_type`` (EM/utils.hpp:15-38)."""
    u = _uuid.uuid4()
    if kind == "UUID":
        return str(u)
    b64 = base64.urlsafe_b64encode(u.bytes).decode("ascii").rstrip("=")
    return b64 if kind == "UUID_BASE64" else b64[:16]


class Charger(StatesMixin):
    """Flags, session helpers, cmd effects and the run loop of the charger core."""

    INF = math.inf

    def __init__(self, *, cfg, iec, limits, metering, errors, reservation, events, store, kernels) -> None:
        self.cfg = cfg
        self.iec = iec
        self.limits = limits
        self.metering = metering
        self.errors = errors
        self.reservation = reservation
        self.ev = events
        self.store = store
        self._duty = kernels.pwm.duty_from_current
        self._allowed = kernels.limits.charging_allowed
        self.soc = metering.soc  # the soft over-current detector (its state is read on every tick)
        self.rate = kernels.limits.PwmRateLimiter()
        self._full_power = PowerOnOff(allow_power_on=True, reason=PowerOnOffReason.FullPowerCharging)
        self.on_fatal_onset = None  # set by the facade: cancels reservations after an Error event
        self._enter = {s: getattr(self, "_enter_" + s) for s in STATES}
        self._tick = {s: getattr(self, "_tick_" + s) for s in STATES}
        # state
        self.state = IDLE
        self.seen_state = None
        # the machine ran at ``settled_ms`` and no input changed since (``dirty`` False): running it again
        # at the same time would change nothing (the facade skips that run)
        self.settled_ms = -math.inf
        self.dirty = True
        self.next_due_ms = -math.inf
        self.entered_ms = 0
        self.seen_shutdown = SHUTDOWN_NONE
        # flags (EM/Charger.cpp:43-67)
        self.authorized = False
        self.authorized_pnc = False
        self.transaction_active = False
        self.ev_plugged_in = False
        self.paused_by_evse = False
        self.externally_cancelled = False
        self.session_active = False
        self.session_uuid = ""
        self.iec_allow = False
        self.contactor_open = True
        self.stop_reason = None
        self.stop_id_tag = None
        self.connector_enabled = True
        self.disabled_published = False
        self.legacy_wakeup_done = False
        self.charged_in_session = False
        self.paused_reasons = ()
        self.auth_token = None
        self.validation = None
        self.pending_signed = None
        # PWM bookkeeping (EM/Charger.cpp:1154-1199)
        self.last_duty = 1.0
        self.duty_target = 1.0  # the duty the last Charging/ChargingPausedEV tick asked for
        self.signalled_A = 0.0
        self.f_active = False
        self.f_since_ms = 0
        self._fault_f_seen = False
        self.hard_stop_done = False
        self.t_step_x1_done = False
        self.t_step_return_state = PREPARE
        self.t_step_return_duty = 1.0
        self.t_step_return_amps = 0.0
        self.switch_target_3ph = True
        self.replug_finished = False

    # -- run loop ----------------------------------------------------------------------------------
    def run(self, now: int) -> None:
        """Re-evaluate until the state is stable (EM/Charger.cpp:149-1018)."""
        errors = self.errors
        for _ in _ITERATIONS:
            if errors.shutdown != self.seen_shutdown:
                self._shutdown_action(now)
            st = self.state
            if st != self.seen_state:
                if self.seen_state == CHARGING:
                    # leaving Charging: no later PWM restart may close the contactors before Charging again
                    self.iec.revoke_power_on()
                self.seen_state = st
                self.entered_ms = now
                self._enter[st](now)
                if self.state != st:
                    continue
            self._tick[st](now)
            if self.state == st and errors.shutdown == self.seen_shutdown:
                break
        else:
            log.warning("state machine did not settle after %d iterations (state %s)", _MAX_ITERATIONS, self.state)
        self.settled_ms = now
        self.dirty = False

    def step(self, now: int) -> None:
        """Run the machine, then process the abstract events the adapter queued meanwhile.

        The run is skipped when it would be a no-op: no input changed since the machine last settled
        (``dirty`` is False) and no time-based action is due yet (``now < next_due_ms``, the core's
        deadline when the manager last scheduled it)."""
        if self.dirty or now >= self.next_due_ms:
            self.run(now)
        events = self.iec.events
        while events:
            self.cp_event(events.pop(0), now, True)  # settled: the machine has just run
        self.settled_ms = now

    def cp_event(self, event: str, now: int, settled: bool = False) -> None:
        """One abstract IEC event: run / independent / run / dependent / run (EM/Charger.cpp:1020-1049).

        A run changes nothing on a machine that is already stable and whose inputs did not change, so the
        runs are skipped where HEAD's would be no-ops: the first when the caller has just run the machine
        (``settled``), the others when the reaction before them changed no flag and no state.
        """
        if not settled:
            self.run(now)
        changed = False  # state-independent reactions
        if event == CAR_REQUESTED_STOP_POWER:
            changed = self.iec_allow
            self.iec_allow = False
        elif event == CAR_UNPLUGGED:
            changed = self.ev_plugged_in
            self.ev_plugged_in = False
        elif event == POWER_OFF:
            changed = not self.contactor_open
            self.contactor_open = True
        elif event == POWER_ON:
            changed = self.contactor_open
            self.contactor_open = False
        if changed:
            self.run(now)
        st = self.state
        changed = False  # state-dependent reactions
        if event == CAR_PLUGGED_IN:
            if st == IDLE:
                self.ev_plugged_in = True
                self.state = WAIT_AUTH
                changed = True
        elif event == CAR_REQUESTED_POWER:
            if st == WAIT_AUTH or st == PREPARE:
                changed = not self.iec_allow
                self.iec_allow = True
            elif st == PAUSED_EV:
                self.iec_allow = True
                self.state = PREPARE
                changed = True
        elif event == CAR_REQUESTED_STOP_POWER:
            if st == PREPARE:
                self.state = PAUSED_EVSE
                changed = True
        elif event == BCD_TO_E:
            if st == CHARGING:
                changed = self.iec_allow
                self.iec_allow = False
        if changed:
            self.run(now)

    def _shutdown_action(self, now: int) -> None:
        """First observation of a new shutdown type (EM/Charger.cpp:2138-2168)."""
        st = self.errors.shutdown
        self.seen_shutdown = st
        if st == EMERGENCY_SHUTDOWN:
            if self.iec.pwm_running:
                self._pwm_off(now)
            self.iec.allow_power_on(False, None, now)
        elif st == ERROR_SHUTDOWN:
            self.iec.allow_power_on(False, None, now)

    # -- PWM helpers -------------------------------------------------------------------------------

    def _pwm_now(self, duty: float, amps: float, now: int) -> None:
        self.last_duty = duty
        self.signalled_A = amps if 0.0 < duty < 1.0 else 0.0
        self.f_active = False
        self.rate.mark_updated(now)
        self.iec.set_pwm(duty, now)



    def _pwm_off(self, now: int) -> None:
        self.last_duty = 1.0
        self.signalled_A = 0.0
        self.f_active = False
        self.iec.x1(now)

    def _pwm_f(self, now: int) -> None:
        self.last_duty = 0.0
        self.signalled_A = 0.0
        self.f_active = True
        self.iec.f(now)

    # -- sessions and transactions -------------------------------------------------------------------
    def _start_session(self) -> None:
        self.session_active = True
        self.authorized = False
        self.charged_in_session = False
        self.pending_signed = None
        self.session_uuid = new_session_id(self.cfg.session_id_type)
        self.metering.new_session()
        self.ev.session_started(self.session_uuid, self.reservation.session_reservation_id())

    def _stop_session(self) -> None:
        self.session_active = False
        self.authorized = False
        self.authorized_pnc = False
        self.externally_cancelled = False
        self.paused_by_evse = False
        self.stop_reason = None
        self.stop_id_tag = None
        signed, self.pending_signed = self.pending_signed, None
        self.ev.session_finished(self.session_uuid, signed)
        self.session_uuid = ""

    def _start_transaction(self, now: int) -> bool:
        if not self.metering.start_transaction(self.cfg.evse_id, self.session_uuid, self.auth_token, self.validation):
            self.raise_own(PM_START_FAILED, "Medium", "power meter transaction start failed")
            return False
        if self.store is not None:
            self.store.begin(self.session_uuid, self.metering.energy_import(), self.metering.energy_export())
        self.transaction_active = True
        return True

    def _stop_transaction(self) -> None:
        signed = self.metering.stop_transaction(self.session_uuid)
        if self.store is not None:
            self.store.clear()
        self.transaction_active = False
        if self.stop_reason is not None:  # P5: set externally
            self.ev.session_cancelled(self.session_uuid, self.stop_reason, signed)
        else:
            self.pending_signed = signed

    def _authorize_internal(self, token, validation) -> bool:
        """Core ``authorize(true, ...)`` (EM/Charger.cpp:1544-1565); False if ignored."""
        if self.externally_cancelled:
            return False  # charging can only restart after a replug
        self.auth_token = token
        self.validation = validation
        if not self.session_active:
            self._start_session()
        self.authorized = True
        at = getattr(token, "authorization_type", None)
        self.authorized_pnc = getattr(at, "value", at) == "PlugAndCharge"
        return True

    def _deauthorize_internal(self) -> bool:
        """EM/Charger.cpp:1579-1602; only the SessionFinished is visible (profile)."""
        if not self.session_active:
            return False
        if self.state in (DISABLED, IDLE, WAIT_AUTH):
            if not self.authorized:
                if self.cfg.raise_mrec9:
                    self.raise_own(MREC9, "Medium", "authorization timeout")
                return False
            self.authorized = False
            self._stop_session()
            return True
        return False

    def _over_current(self) -> None:
        self.raise_own(MREC4, "High", "soft over-current")

    def raise_own(self, error_type: str, severity: str, message: str) -> None:
        """Raise one of the module's own errors (and publish Error on the inoperative onset)."""
        onset = self.errors.raise_error(error_type, "", severity, message)
        if onset is not None:
            self.fatal_onset(onset)

    def fatal_onset(self, onset) -> None:
        """Publish ``Error``/``PermanentFault`` (P6) and cancel a reservation (after the event)."""
        event, seed = onset
        self.ev.error(event, self.session_uuid, seed)
        if self.on_fatal_onset is not None:
            self.on_fatal_onset()

    # -- cmd effects (flags only; the caller runs the machine afterwards) ---------------------------
    def cancel_transaction(self, reason: str, id_tag) -> bool:
        """``stop_transaction`` / BSP ``request_stop_transaction`` (EM/Charger.cpp:1275-1297)."""
        if not self.transaction_active:
            return False
        self.externally_cancelled = True
        self.authorized = False
        self.authorized_pnc = False
        self.stop_reason = reason
        self.stop_id_tag = id_tag
        return True

    def pause(self) -> bool:
        """``pause_charging``: true iff a transaction is active."""
        if not self.transaction_active:
            return False
        self.paused_by_evse = True
        return True

    def resume(self) -> bool:
        """``resume_charging``: true iff a transaction is active (HEAD, quirk B.8)."""
        if not self.transaction_active:
            return False
        self.paused_by_evse = False
        return True

    def switch_phases(self, three_phases: bool, now: int) -> bool:
        """Core ``switch_three_phases_while_charging`` (EM/Charger.cpp:1443-1464), AC basic."""
        self.switch_target_3ph = three_phases
        if self.state == CHARGING:
            self.state = SWITCH_PHASES
        elif self.state != SWITCH_PHASES:
            self.iec.board.ac_switch_three_phases_while_charging(three_phases)
        return True

    def replug(self, finished: bool) -> None:
        """The board's legacy ``EvseReplugStarted`` / ``EvseReplugFinished`` (PRE, P13); only in a session."""
        if not self.session_active or self.state == DISABLED:
            return
        self.dirty = True
        if not finished:
            self.state = REPLUG
        elif self.state == REPLUG:
            self.replug_finished = True
            self.state = WAIT_AUTH

    def set_disabled(self, disabled: bool) -> None:
        """Apply an enable/disable result to the state (the facade evaluates the table)."""
        self.dirty = True
        if disabled:
            self.state = DISABLED
        elif self.state == DISABLED:
            self.state = IDLE
