"""The charger's states: entry blocks and per-tick bodies (spec §2.3, AC basic charging).

A mixin of :class:`evsefast.manager.charger.Charger`; the flags and helpers it uses live there.
Entry blocks run only on real state changes; session events are published only there (P2).
"""
from __future__ import annotations

from ..types.authorization import (
    AuthorizationStatus, AuthorizationType, IdToken, IdTokenType, ProvidedIdToken, ValidationResult,
)
from .errors import NONE as SHUTDOWN_NONE

DISABLED = "Disabled"
IDLE = "Idle"
WAIT_AUTH = "WaitingForAuthentication"
PREPARE = "PrepareCharging"
CHARGING = "Charging"
PAUSED_EV = "ChargingPausedEV"
PAUSED_EVSE = "ChargingPausedEVSE"
STOPPING = "StoppingCharging"
FINISHED = "Finished"
T_STEP_EF = "T_step_EF"
T_STEP_X1 = "T_step_X1"
SWITCH_PHASES = "SwitchPhases"
REPLUG = "Replug"  # PRE only (P13): entered on the board's legacy EvseReplugStarted

#: index of ``LimitState.eff`` for every state but Idle (the cable limit applies in a session)
IN_SESSION = 1

STATES = (DISABLED, IDLE, WAIT_AUTH, PREPARE, CHARGING, PAUSED_EV, PAUSED_EVSE, STOPPING, FINISHED,
          T_STEP_EF, T_STEP_X1, SWITCH_PHASES, REPLUG)

#: free service (``disable_authentication``): the manager authorizes itself with HEAD's token (spec §4)
FREE_SERVICE_TOKEN = ProvidedIdToken(id_token=IdToken(value="FREESERVICE", type=IdTokenType.Local),
                                     authorization_type=AuthorizationType.RFID)
FREE_SERVICE_VALIDATION = ValidationResult(authorization_status=AuthorizationStatus.Accepted, tariff_messages=[])

# timers (EM/Charger.hpp)
LEGACY_WAKEUP_MS = 30_000  # EV stays in B with PWM on -> one F/X1 wake-up (IEC 61851-1 A.5.3)
PAUSED_EV_AFTER_WAKEUP_MS = 10_000
STOPPING_TIMEOUT_MS = 20_000
T_STEP_EF_F_MS = 4_000
T_STEP_EF_TOTAL_MS = 4_750  # F for 4 s, then X1 until 4.75 s (EV-READY quirk)
T_STEP_X1_MS = 3_000


class StatesMixin:
    """Entry and tick handlers, dispatched by name from ``Charger.run``."""

    # -- Disabled ----------------------------------------------------------------------------------
    def _enter_Disabled(self, now):
        # evsefast: open the contactors first (HEAD only drives F and relies on the EV and the board)
        self.iec.allow_power_on(False, None, now)
        self._pwm_f(now)

    def _tick_Disabled(self, now):
        pass

    # -- Idle ------------------------------------------------------------------------------------
    def _enter_Idle(self, now):
        self.iec_allow = False
        self.legacy_wakeup_done = False
        self._pwm_off(now)
        self._deauthorize_internal()
        self.transaction_active = False
        self.metering.soc.reset()
        self.errors.clear_errors_on_unplug()

    def _tick_Idle(self, now):
        fatal = self.errors.shutdown != SHUTDOWN_NONE
        if fatal and not self.f_active:
            self._pwm_f(now)
        elif not fatal and self.f_active:
            self._pwm_off(now)

    # -- WaitingForAuthentication --------------------------------------------------------------
    def _enter_WaitingForAuthentication(self, now):
        self.iec.allow_power_on(False, None, now)
        if self.replug_finished:
            # PRE: after a replug the session continues; ReplugFinished instead of AuthRequired
            self.replug_finished = False
            self.ev.simple("ReplugFinished", self.session_uuid)
            return
        if not self.session_active:
            self._start_session()
        self.ev.simple("AuthRequired", self.session_uuid)
        if self.cfg.disable_authentication and not self.authorized:
            # free service (spec §4): authorize with HEAD's own token, so the meter's TransactionReq carries
            # identification_data FREESERVICE / identification_type LOCAL
            self._authorize_internal(FREE_SERVICE_TOKEN, FREE_SERVICE_VALIDATION)

    def _tick_WaitingForAuthentication(self, now):
        if self.errors.shutdown != SHUTDOWN_NONE or not self.ev_plugged_in:
            self.state = FINISHED
            return
        if self.limits.socket and self.limits.cable_A() <= 0.0:
            return  # PP not known yet: wait (EM/Charger.cpp: socket without ampacity)
        if self.authorized:
            if not self.transaction_active and not self._start_transaction(now):
                return
            self.state = PREPARE

    # -- PrepareCharging -------------------------------------------------------------------------
    def _enter_PrepareCharging(self, now):
        pass

    def _tick_PrepareCharging(self, now):
        if (self.errors.shutdown != SHUTDOWN_NONE or not self.authorized or not self.transaction_active
                or not self.ev_plugged_in):
            self.state = STOPPING
            return
        amps = self.limits.eff[IN_SESSION]
        duty = self._duty(amps)
        if duty != self.last_duty:  # no 5 s rule here
            self._pwm_now(duty, amps, now)
        if not self._allowed(amps):
            return
        if self.iec_allow:
            self.state = CHARGING
            return
        t = now - self.entered_ms
        if not self.legacy_wakeup_done:
            if t >= LEGACY_WAKEUP_MS:
                self.legacy_wakeup_done = True
                self._t_step_ef(PREPARE)
        elif t >= PAUSED_EV_AFTER_WAKEUP_MS:
            self.state = PAUSED_EV

    # -- Charging ----------------------------------------------------------------------------------
    def _enter_Charging(self, now):
        self.ev.simple("ChargingResumed" if self.charged_in_session else "ChargingStarted", self.session_uuid)
        self.charged_in_session = True
        self.legacy_wakeup_done = False
        self.iec.allow_power_on(True, self._full_power, now)
        amps = self.limits.eff[IN_SESSION]
        duty = self._duty(amps)
        if duty != self.last_duty:
            self._pwm_now(duty, amps, now)

    def _tick_Charging(self, now):
        if (self.errors.shutdown != SHUTDOWN_NONE or not self.authorized or not self.transaction_active
                or not self.ev_plugged_in or self.paused_by_evse or not self.iec_allow):
            self.state = STOPPING
            return
        amps = self.limits.eff[IN_SESSION]
        if not self._allowed(amps):
            self.state = STOPPING
            return
        soc = self.soc
        if (soc.active or soc.tripped) and self.metering.over_current_due(now):
            self._over_current()
            return
        duty = self.duty_target = self._duty(amps)  # state_deadline reads it: a held-back change is due
        if duty != self.last_duty and self.rate.may_update(now):  # the 5 s rule
            self._pwm_now(duty, amps, now)

    # -- ChargingPausedEV --------------------------------------------------------------------------
    def _enter_ChargingPausedEV(self, now):
        self.ev.simple("ChargingPausedEV", self.session_uuid)

    def _tick_ChargingPausedEV(self, now):
        if not self.transaction_active or not self.authorized or not self.ev_plugged_in:
            self.state = STOPPING
            return
        amps = self.limits.eff[IN_SESSION]
        if not self._allowed(amps):
            self.state = PAUSED_EVSE
            return
        soc = self.soc
        if (soc.active or soc.tripped) and self.metering.over_current_due(now):
            self._over_current()
            return
        # re-enables the PWM that StoppingCharging switched off, once 5 s have passed
        duty = self.duty_target = self._duty(amps)
        if duty != self.last_duty and self.rate.may_update(now):
            self._pwm_now(duty, amps, now)

    # -- ChargingPausedEVSE --------------------------------------------------------------------------
    def _enter_ChargingPausedEVSE(self, now):
        self._pwm_off(now)
        self.paused_reasons = ()
        # HEAD: errors raised before this state was reached do not get the F pulse
        self._fault_f_seen = self.errors.shutdown != SHUTDOWN_NONE

    def _tick_ChargingPausedEVSE(self, now):
        if not self.transaction_active or not self.authorized or not self.ev_plugged_in:
            self.state = STOPPING
            return
        fatal = self.errors.shutdown != SHUTDOWN_NONE
        f_ms = self.cfg.state_F_after_fault_ms
        if f_ms > 0:
            if fatal and not self._fault_f_seen:
                self._fault_f_seen = True
                self._pwm_f(now)
                self.f_since_ms = now
            elif self.f_active and now - self.f_since_ms >= f_ms:
                self._pwm_off(now)
        if not fatal:
            self._fault_f_seen = False
        reasons = []
        if fatal:
            reasons.append("Error")
        if not self._allowed(self.limits.eff[IN_SESSION]):
            reasons.append("NoEnergy")
        if self.paused_by_evse:
            reasons.append("UserPause")
        if not reasons:
            self.state = PREPARE
            return
        reasons = tuple(reasons)
        if reasons != self.paused_reasons:
            self.paused_reasons = reasons
            self.ev.simple("ChargingPausedEVSE", self.session_uuid)

    # -- StoppingCharging --------------------------------------------------------------------------
    def _enter_StoppingCharging(self, now):
        self.legacy_wakeup_done = False
        self.hard_stop_done = False
        self._pwm_off(now)

    def _tick_StoppingCharging(self, now):
        if not self.hard_stop_done and now - self.entered_ms >= STOPPING_TIMEOUT_MS:
            self.hard_stop_done = True
            self.iec.allow_power_on(False, None, now)
        if not self.contactor_open:
            return  # wait for the board to confirm PowerOff
        if not self.transaction_active or not self.ev_plugged_in or not self.authorized:
            self.state = FINISHED
        elif (self.errors.shutdown != SHUTDOWN_NONE or self.paused_by_evse
              or not self._allowed(self.limits.eff[IN_SESSION])):
            self.state = PAUSED_EVSE
        else:
            self.state = PAUSED_EV

    # -- Finished ------------------------------------------------------------------------------------
    def _enter_Finished(self, now):
        if self.transaction_active:
            self._stop_transaction()
        self.iec.allow_power_on(False, None, now)

    def _tick_Finished(self, now):
        if not self.ev_plugged_in:
            self._stop_session()
            self.state = IDLE

    # -- T_step_EF / T_step_X1 / SwitchPhases ------------------------------------------------------
    def _enter_T_step_EF(self, now):
        self._pwm_f(now)
        self.t_step_x1_done = False

    def _tick_T_step_EF(self, now):
        t = now - self.entered_ms
        if t >= T_STEP_EF_F_MS and not self.t_step_x1_done:
            self.t_step_x1_done = True
            self._pwm_off(now)
        if t >= T_STEP_EF_TOTAL_MS:
            self._t_step_return(now)

    def _enter_T_step_X1(self, now):
        self._pwm_off(now)

    def _tick_T_step_X1(self, now):
        if now - self.entered_ms >= T_STEP_X1_MS:
            self._t_step_return(now)

    def _enter_SwitchPhases(self, now):
        if self.cfg.switch_3ph1ph_cp_state == "F":
            self._pwm_f(now)
        else:
            self._pwm_off(now)

    def _tick_SwitchPhases(self, now):
        if now - self.entered_ms >= self.cfg.switch_3ph1ph_delay_s * 1000:
            self.iec.board.ac_switch_three_phases_while_charging(self.switch_target_3ph)
            self.state = PREPARE

    # -- Replug (PRE, P13) ----------------------------------------------------------------------------
    def _enter_Replug(self, now):
        self.iec.allow_power_on(False, None, now)  # the board replugs: never under load
        self.ev.simple("ReplugStarted", self.session_uuid)

    def _tick_Replug(self, now):
        if not self.ev_plugged_in:
            self.state = FINISHED

    # -- shared --------------------------------------------------------------------------------------
    def _t_step_ef(self, return_state):
        amps = self.limits.eff[IN_SESSION]
        self.t_step_return_state = return_state
        self.t_step_return_duty = self._duty(amps)
        self.t_step_return_amps = amps
        self.state = T_STEP_EF

    def _t_step_return(self, now):
        duty = self.t_step_return_duty
        if duty <= 0.0:
            self._pwm_off(now)
        else:
            self._pwm_now(duty, self.t_step_return_amps, now)
        self.state = self.t_step_return_state

    def state_deadline(self, now):
        """The next time-based transition of the current state, or +inf."""
        st = self.state
        e = self.entered_ms
        d = self.INF
        if st == PREPARE:
            # only while the wake-up logic is reachable: power available and the EV still in B
            if not self.iec_allow and self._allowed(self.limits.eff[IN_SESSION]):
                d = e + (PAUSED_EV_AFTER_WAKEUP_MS if self.legacy_wakeup_done else LEGACY_WAKEUP_MS)
        elif st == CHARGING or st == PAUSED_EV:
            # the duty the last tick of this state wanted (every run ends with a tick of the stable state)
            if self.duty_target != self.last_duty:
                rate = self.rate
                d = rate.last_update_ms + rate.interval_ms if rate.has_update else now
            soc = self.soc
            if soc.active and not soc.tripped:  # when a running over-current condition trips
                oc = soc.since_ms + soc.timeout_ms
                if oc < d:
                    d = oc
        elif st == T_STEP_EF:
            d = e + (T_STEP_EF_TOTAL_MS if self.t_step_x1_done else T_STEP_EF_F_MS)
        elif st == T_STEP_X1:
            d = e + T_STEP_X1_MS
        elif st == SWITCH_PHASES:
            d = e + self.cfg.switch_3ph1ph_delay_s * 1000
        elif st == STOPPING:
            if not self.hard_stop_done:
                d = e + STOPPING_TIMEOUT_MS
        elif st == PAUSED_EVSE:
            if self.f_active and self.cfg.state_F_after_fault_ms > 0:
                d = self.f_since_ms + self.cfg.state_F_after_fault_ms
        return d
