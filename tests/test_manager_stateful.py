"""Stateful property test: random cmds, board events, limits, errors and time steps never break the
safety invariants (checked by ``CheckingBoard`` on every board command) and never raise."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from evsefast import _impl
from evsefast.manager.states import STATES
from evsefast.testing import CheckingBoard, ManagerHarness, enforced_limits, token, validation
from evsefast.types import Ampacity, BoardError, Current, ProximityPilot, Severity

CP = st.sampled_from(["A", "B", "C", "D", "E", "F", "Disconnected", "PowerOn", "PowerOff", "B", "C", "C",
                     "EvseReplugStarted", "EvseReplugFinished"])
SOURCES = st.sampled_from(["Unspecified", "LocalAPI", "CSMS", "MobileApp"])
ERRORS = st.sampled_from(["evse_board_support/MREC4OverCurrentFailure", "evse_board_support/DiodeFault",
                          "evse_board_support/PermanentFault", "evse_board_support/MREC3HighTemperature",
                          "ac_rcd/DC"])
AMPS = st.one_of(st.none(), st.floats(-100, 2000, allow_nan=False), st.sampled_from([0.0, 5.9, 6.0, 16.0, 32.0]))


class ManagerMachine(RuleBasedStateMachine):
    """One manager with a checking board; each rule is one input."""

    kernels = None
    config = None

    def __init__(self):
        super().__init__()
        board = CheckingBoard(kernels=self.kernels, ventilation=(self.config or {}).get("has_ventilation", True))
        self.h = ManagerHarness(self.config, kernels=self.kernels, board=board)
        self.energy = 0.0

    @rule(state=CP)
    def cp(self, state):
        self.h.cp(state)

    @rule(ms=st.sampled_from([1, 100, 999, 1000, 4999, 5000, 6000, 10_000, 30_000, 125_000]))
    def advance(self, ms):
        self.h.advance(ms)

    @rule(status=st.sampled_from(["Accepted", "Accepted", "Blocked"]),
          rid=st.one_of(st.none(), st.integers(-1, 3)))
    def authorize(self, status, rid):
        self.h.mgr.authorize_response(token(), validation(status, rid))

    @rule()
    def withdraw(self):
        self.h.mgr.withdraw_authorization()

    @rule(rid=st.integers(-2, 3))
    def reserve(self, rid):
        self.h.mgr.reserve(rid)

    @rule()
    def cancel_reservation(self):
        self.h.mgr.cancel_reservation()

    @rule(pause=st.booleans())
    def pause_resume(self, pause):
        if pause:
            self.h.mgr.pause_charging()
        else:
            self.h.mgr.resume_charging()

    @rule(reason=st.sampled_from(["Remote", "Local", "EnergyLimitReached"]))
    def stop(self, reason):
        self.h.mgr.stop_transaction({"reason": reason})

    @rule()
    def force_unlock(self):
        self.h.mgr.force_unlock(1)

    @rule(cid=st.integers(0, 1), source=SOURCES, state=st.sampled_from(["Enable", "Disable", "Unassigned"]),
          prio=st.sampled_from([0, 10, 10, 10000]))
    def enable_disable(self, cid, source, state, prio):
        self.h.mgr.enable_disable(cid, {"enable_source": source, "enable_state": state, "enable_priority": prio})

    @rule(amps=AMPS, watts=st.one_of(st.none(), st.floats(0, 50_000)), phases=st.one_of(st.none(), st.integers(1, 3)),
          valid_for=st.sampled_from([0, 1, 10, 3600]))
    def limits(self, amps, watts, phases, valid_for):
        self.h.mgr.enforce_limits(enforced_limits(amps, watts=watts, phases=phases, valid_for=valid_for))

    @rule(amps=st.floats(0, 100))
    def local_max(self, amps):
        self.h.mgr.set_local_max_current(amps)

    @rule(three=st.booleans())
    def switch_phases(self, three):
        self.h.mgr.switch_three_phases_while_charging(three)

    @rule(delta=st.floats(-5, 50), amps=st.one_of(st.none(), st.floats(0, 40)))
    def meter(self, delta, amps):
        self.energy = max(0.0, self.energy + delta)  # may go backwards: a meter glitch
        cur = None if amps is None else Current(L1=amps, L2=amps, L3=amps)
        self.h.sample(self.energy, current_A=cur)

    @rule(name=ERRORS, raise_it=st.booleans())
    def error(self, name, raise_it):
        listener = self.h.board.listener
        if raise_it:
            listener.on_error_raised(BoardError(type=name, severity=Severity.High))
        else:
            listener.on_error_cleared(name, "")
        self.h.mgr.tick()

    @rule(code=st.sampled_from(["None", "A_13", "A_32", "A_63_3ph_70_1ph"]))
    def pp(self, code):
        self.h.board.listener.on_ac_pp_ampacity(ProximityPilot(ampacity=Ampacity(code)))
        self.h.mgr.tick()

    @invariant()
    def safe(self):
        assert self.h.board.violations == []
        assert self.h.mgr.state in STATES

    @invariant()
    def energy_never_decreases_within_a_session(self):
        last = {}
        for ev in self.h.mgr.session_events:
            payload = ev.session_started or ev.session_finished or ev.session_cancelled
            if payload is None or not ev.uuid:
                continue
            assert payload.energy_Wh_import >= last.get(ev.uuid, 0.0)
            last[ev.uuid] = payload.energy_Wh_import

    @invariant()
    def deadlines_are_in_the_future(self):
        # a deadline left in the past would make a real-time runner spin
        d = self.h.mgr.next_deadline_ms()
        assert d is None or d > self.h.clock.monotonic_ms()

    @invariant()
    def charging_implies_power_allowed_in_c(self):
        if self.h.mgr.state == "Charging":
            core = self.h.mgr._core
            assert core.authorized and core.transaction_active


def _case(build, config=None):
    kernels = _impl.build(build) if build != "compiled" or not _impl._env_flag("EVSEFAST_NO_EXTENSIONS") else None
    machine = type(f"Machine_{build}", (ManagerMachine,), {"kernels": kernels, "config": config})
    case = machine.TestCase
    case.settings = settings(stateful_step_count=40, deadline=None,  # max_examples from the profile
                             suppress_health_check=[HealthCheck.too_slow])
    return case


TestStatefulPure = _case("pure")
TestStatefulPureNoVentilation = _case("pure", {"has_ventilation": False, "lock_connector_in_state_b": False})
if not _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
    TestStatefulCompiled = _case("compiled")
    TestStatefulCompiled = pytest.mark.arm(TestStatefulCompiled)
