"""Current-limit glue (spec §3): the manager's limit state around ``kernels.limits``.

The numbers (W -> A, PP ampacity, the P9 composition, expiry, acceptance) are the kernel's; this
module keeps the state (set-point, validity, capabilities, cable, local maximum, phases) and
publishes the ``limits`` var and the board's over-current limit.
"""
from __future__ import annotations

import math

from ..types.evse_manager import Limits

NAN = math.nan
INF = math.inf
STARTUP_LIMIT_VALID_MS = 120_000  # EM/EvseManager.cpp:1514: 0 A valid 120 s until the EM answers

_PP_CODES = {"None": 0, "A_13": 1, "A_20": 2, "A_32": 3, "A_63_3ph_70_1ph": 4}


class LimitState:
    """Set-point, validity and every clamp of the effective current ``I_eff`` (§3.2)."""

    def __init__(self, kernels, module_id: str, iec, publish) -> None:
        k = kernels.limits
        self._k = k
        self._effective = k.effective_current_A
        self._accepted = k.setpoint_accepted
        self._expired = k.budget_expired
        self.module_id = module_id
        self.iec = iec
        self._publish = publish
        self.max_current = 0.0  # spec §5.2: the initial limits object says 0 A (HEAD's 6 A is never shown)
        self.valid_until_ms = 0
        self.expiry_ms = INF
        self.expired = True
        self.hw_max_A = NAN  # NaN = capabilities not received (no clamp)
        self.hw_max_phases = 1
        self.socket = False
        self.pp_code = 0
        self._local_max_A = NAN
        #: I_eff outside [0] and inside [1] a session, recomputed on every input change: the state machine
        #: reads it on every tick of every state (``limits.eff[in_session]``, no call)
        self.eff = [0.0, 0.0]
        self.active_phases = 1
        self.phases_available = 1
        self._caps_seen = False
        #: the max_current / phase count of the last ``limits`` publication (NaN: none yet)
        self.published_A = NAN
        self.published_phases = 0

    # -- composition ---------------------------------------------------------------------------
    @property
    def local_max_A(self) -> float:
        """The local maximum (A) from ``set_local_max_current``; NaN = none."""
        return self._local_max_A

    @local_max_A.setter
    def local_max_A(self, value: float) -> None:
        self._local_max_A = value
        self._recompute()

    def cable_A(self) -> float:
        """The PP cable ampacity (0 if unknown / PP "None")."""
        return self._k.pp_ampacity_A(self.pp_code, self.hw_max_phases)

    def effective(self, in_session: bool) -> float:
        """I_eff: min(set-point, hw max, cable ampacity for a socket outside Idle, local max)."""
        return self.eff[in_session]

    def _recompute(self) -> None:
        cable = 0.0
        if self.socket:
            cable = self._k.pp_ampacity_A(self.pp_code, self.hw_max_phases)
        outside = self._effective(self.max_current, self.hw_max_A, 0.0, self._local_max_A)
        if self.socket and cable <= 0.0:
            inside = 0.0  # HEAD: a socket with unknown cable gives 0 A in a session
        elif self.socket:
            inside = self._effective(self.max_current, self.hw_max_A, cable, self._local_max_A)
        else:
            inside = outside
        self.eff = [outside, inside]

    # -- set-points ------------------------------------------------------------------------------
    def set_max_current(self, current_A: float, valid_until_ms: int, now: int, in_session: bool) -> bool:
        """Core ``set_max_current`` (§3.1 step 3); rejected set-points keep the old limit."""
        if not self._accepted(current_A, valid_until_ms, now):
            return False
        self.max_current = abs(current_A)
        self._recompute()
        self.valid_until_ms = valid_until_ms
        self.expiry_ms = valid_until_ms + self._k.BUDGET_EXPIRY_MS  # expire() need not run before this
        self.expired = False
        i_eff = self.effective(in_session)
        self.iec.set_overcurrent_limit(i_eff)
        self.publish(in_session, force=True)
        return True

    def expire(self, now: int, in_session: bool) -> bool:
        """§3.1 step 4: once ``now - valid_until >= 1 s`` the limit falls to 0 A (published once); True
        when it did just now."""
        if self.expired or now < self.expiry_ms:
            return False  # the common case, without a kernel call on every pass
        if self._expired(now, self.valid_until_ms):
            self.expired = True
            self.max_current = 0.0
            self._recompute()
            self.publish(in_session, force=True)
            return True
        return False

    # -- board inputs ------------------------------------------------------------------------------
    def on_capabilities(self, caps) -> None:
        """Store the hardware capabilities (P9 clamp, phases, connector type)."""
        self.hw_max_A = float(caps.max_current_A_import)
        self.hw_max_phases = int(caps.max_phase_count_import)
        self.socket = getattr(caps.connector_type, "value", caps.connector_type) == "IEC62196Type2Socket"
        if not self._caps_seen:
            self._caps_seen = True
            self.active_phases = int(caps.max_phase_count_import)
        elif caps.max_phase_count_import < self.active_phases:
            self.active_phases = int(caps.min_phase_count_import)
        self.phases_available = self.active_phases
        self._recompute()

    def on_pp(self, ampacity) -> None:
        """Store the PP ampacity code."""
        self.pp_code = _PP_CODES.get(getattr(ampacity, "value", ampacity), 0)
        self._recompute()

    # -- publication ---------------------------------------------------------------------------
    def publish(self, in_session: bool, force: bool = False) -> None:
        """Publish ``limits`` (on every set-point/expiry; otherwise only when the values changed)."""
        i_eff = self.eff[in_session]
        phases = self.phases_available
        if not force and i_eff == self.published_A and phases == self.published_phases:
            return
        self.published_A = i_eff
        self.published_phases = phases
        self._publish("limits", Limits(max_current=i_eff, nr_of_phases_available=self.phases_available,
                                       uuid=self.module_id))
