"""Streaming, debounced control-pilot classification: the blocks of pilot.py (``block_u16`` /
``block_f32``, their rules in pilot.py's docstring) in, debounced CP states out.  ``t_ms`` is the
time of a block's newest sample; nothing here reads a clock.

* Decide by consequence: every state but C and D removes power.  While the reported state is C
  or D, blocks that are not C/D (any mix of A, B, E, F, invalid) start a run; once the run has
  lasted ``debounce_fast_ms`` (first to latest block) the classifier leaves C/D and reports the
  most plausible state of the run (the valid state seen in most blocks, latest on a tie; invalid
  only if no block was valid) with the latest block of that state as evidence.  A C or D block
  ends the run.
* Otherwise a new state becomes the reported one once it has held for ``debounce_fast_ms``
  (changes that remove power: to A, B, E, F or invalid) or ``debounce_slow_ms`` (to C or D),
  measured from the first block that showed it, so a hold is never over-estimated.
* Hysteresis: a block whose level lies outside every band (invalid) but within ``hysteresis_V``
  of the reported state's band, or else of the pending candidate's, counts as that state; and
  when a state follows invalid blocks whose levels all lay within ``hysteresis_V`` of its band,
  its hold starts with them (IEC 61851-1 A.4.11's optional hysteresis; defaults and their source
  beside the band tables in the docstring of evsefast.pilot).
* An empty block is no evidence (ignored).  With ``reject_unstable`` an unstable block is no
  evidence either and cancels a pending candidate (Yeti's variance gate), except that it still
  counts toward leaving C/D when it is not C/D itself (power comes off on any doubt).
* Diode check: a diode fault starts with a block whose ``low_V`` lies outside the negative band
  widened by ``hysteresis_V`` and lasts while blocks show ``diode_fault`` (``diode_fault_active``,
  ``diode_fault_held_ms``: how long without a break); it does not change the state.
"""

# state codes, the same as pilot.py's (tests/test_pilot_api.py checks)
_S_UNKNOWN = 0
_S_A = 1
_S_B = 2
_S_C = 3
_S_D = 4
_S_E = 5
_S_F = 6
_S_INVALID = 7
_NAN = float("nan")

# The block classifier's names (PilotBlock, block_u16, _block_u16, _u16_buffer, ...): the compiled
# build cimports them from pilot.pxd (pilotstream.pxd); the plain build takes them from the plain
# pilot.py (loaded as plain Python even where the compiled one sits beside it).
try:
    _NATIVE = _native_stream()
except NameError:
    _NATIVE = False
    from evsefast import _impl

    _p = _impl._load_pure("pilot")
    globals().update(PilotBlock=_p.PilotBlock, near_band=_p.near_band, block_u16=_p.block_u16,
                     block_f32=_p.block_f32, _block_u16=_p._block_u16, _u16_buffer=_p._u16_buffer,
                     _buffer_len=_p._buffer_len, _u16_sub=_p._u16_sub, _release=_p._release)


def removes_power(state):
    """True for the changes that must be decided fast: to A, B, E, F or invalid."""
    return state != _S_C and state != _S_D


class PilotClassifier:
    """Streaming, debounced classifier.  ``feed_u16`` / ``feed_f32`` return 1 when the reported
    state changed with this block, else 0; the evidence stays in the attributes (``block`` is the
    last block's :class:`PilotBlock`, ``decided`` the block that made the last decision)."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.block = PilotBlock()
        self.decided = PilotBlock()
        self.leave_evidence = PilotBlock()
        self._leave_counts = [0] * 8
        self.reset()

    def reset(self):
        self.state = _S_UNKNOWN
        self.previous_state = _S_UNKNOWN
        self.since_ms = 0.0
        self.decided_ms = 0.0
        self.held_ms = 0.0
        self.candidate = _S_UNKNOWN
        self.candidate_since_ms = 0.0
        self.candidate_lo_V = 0.0  # level range and PWM of an invalid candidate's blocks
        self.candidate_hi_V = 0.0
        self.candidate_pwm = False
        self.t_ms = 0.0
        self.blocks = 0
        self.changes = 0
        self.diode_fault_active = False
        self.diode_fault_since_ms = 0.0
        self.diode_fault_held_ms = 0.0
        self.leave_blocks = 0
        self.leave_since_ms = 0.0
        self.leave_best = _S_UNKNOWN
        self.block.clear()
        self.decided.clear()
        self.leave_evidence.clear()

    def _diode(self, blk, t_ms):
        fault = blk.diode_fault
        if fault and not self.diode_fault_active:
            h = self.cfg.hysteresis_V
            if self.cfg.neg_min_V - h <= blk.low_V <= self.cfg.neg_max_V + h:
                fault = False  # within the hysteresis: not enough to start a fault
        if fault:
            if not self.diode_fault_active:
                self.diode_fault_active = True
                self.diode_fault_since_ms = t_ms
            self.diode_fault_held_ms = t_ms - self.diode_fault_since_ms
        else:
            self.diode_fault_active = False
            self.diode_fault_held_ms = 0.0

    def _effective(self, blk):
        """The block's state after hysteresis (an invalid level near the reported or the
        candidate state's band counts as that state)."""
        raw = blk.state
        if raw != _S_INVALID or blk.n_valid == 0:
            return raw
        if near_band(self.cfg, self.state, blk.high_V, blk.high_V, blk.pwm):
            return self.state
        if near_band(self.cfg, self.candidate, blk.high_V, blk.high_V, blk.pwm):
            return self.candidate
        return raw

    def _decide(self, state, since_ms, t_ms, evidence):
        self.previous_state = self.state
        self.state = state
        self.held_ms = t_ms - since_ms
        self.since_ms = since_ms
        self.decided_ms = t_ms
        self.candidate = _S_UNKNOWN
        self.leave_blocks = 0
        self.changes += 1
        self.decided.copy_from(evidence)
        return 1

    def _leave(self, eff, blk, t_ms):
        """One more block of a run that removes power while in C/D; 1 once the run decides."""
        counts = self._leave_counts
        if self.leave_blocks == 0:
            self.leave_since_ms = t_ms
            self.leave_best = _S_UNKNOWN
            for k in range(8):
                counts[k] = 0
        self.leave_blocks += 1
        counts[eff] += 1
        best = self.leave_best
        if best == _S_UNKNOWN or eff == best or (
                eff != _S_INVALID and (best == _S_INVALID or counts[eff] >= counts[best])):
            self.leave_best = eff
            self.leave_evidence.copy_from(blk)
        self.candidate = _S_UNKNOWN
        if t_ms - self.leave_since_ms < self.cfg.debounce_fast_ms:
            return 0
        return self._decide(self.leave_best, self.leave_since_ms, t_ms, self.leave_evidence)

    def _step(self, t_ms):
        blk = self.block
        self.t_ms = t_ms
        if blk.n_samples == 0:
            return 0
        self.blocks += 1
        self._diode(blk, t_ms)
        eff = self._effective(blk)
        skip = self.cfg.reject_unstable and blk.unstable
        cur = self.state
        if cur == _S_C or cur == _S_D:
            if eff != _S_C and eff != _S_D:
                return self._leave(eff, blk, t_ms)
            if not skip:
                self.leave_blocks = 0
        if skip:
            self.candidate = _S_UNKNOWN
            return 0
        if eff == cur:
            self.candidate = _S_UNKNOWN
            return 0
        if eff != self.candidate:
            # invalid blocks that all lay near eff's band were eff at a band corner: keep their time
            if not (self.candidate == _S_INVALID and near_band(self.cfg, eff, self.candidate_lo_V,
                                                               self.candidate_hi_V, self.candidate_pwm)):
                self.candidate_since_ms = t_ms
            self.candidate = eff
            self.candidate_lo_V = blk.high_V if blk.n_valid else _NAN
            self.candidate_hi_V = self.candidate_lo_V
            self.candidate_pwm = blk.pwm
        elif eff == _S_INVALID:
            v = blk.high_V if blk.n_valid else _NAN
            if not (v >= self.candidate_lo_V):
                self.candidate_lo_V = v
            if not (v <= self.candidate_hi_V):
                self.candidate_hi_V = v
            self.candidate_pwm = self.candidate_pwm or blk.pwm
        held = t_ms - self.candidate_since_ms
        if removes_power(eff):
            need = self.cfg.debounce_fast_ms
        else:
            need = self.cfg.debounce_slow_ms
        if held < need:
            return 0
        return self._decide(eff, self.candidate_since_ms, t_ms, blk)

    def feed_u16(self, samples, t_ms):
        """Classify a uint16 block whose newest sample is at ``t_ms``; 1 if the state changed."""
        block_u16(self.block, samples, self.cfg)
        return self._step(t_ms)

    def feed_f32(self, samples, t_ms):
        """Classify a float32-volts block whose newest sample is at ``t_ms``; 1 if it changed."""
        block_f32(self.block, samples, self.cfg)
        return self._step(t_ms)

    def _feed_ptr(self, samples, n, t_ms):
        """feed_u16 on ``n`` samples at ``samples`` (the compiled build: a pointer; no checks)."""
        _block_u16(self.block, samples, n, self.cfg)
        return self._step(t_ms)

    def feed_many(self, samples, block_len, t_ms, block_ms):
        """Classify the consecutive ``block_len``-sample blocks of one uint16 buffer (a partial
        block at its end is left out), block k (0-based) at ``t_ms + k * block_ms``, in one call;
        stop after the first block that changed the reported state.  Returns that block's
        1-based number, or 0 when none changed it (every whole block consumed)."""
        if block_len < 1:
            raise ValueError(f"block_len must be >= 1, got {block_len}")
        s = _u16_buffer(self.block, samples)
        try:
            n = _buffer_len(self.block, s)
            k = 0
            while (k + 1) * block_len <= n:
                if self._feed_ptr(_u16_sub(s, k * block_len, block_len), block_len, t_ms + k * block_ms):
                    return k + 1
                k += 1
            return 0
        finally:
            _release(self.block)
