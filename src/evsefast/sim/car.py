"""The simulated car: EVerest's EvManager command language, parser and executor.

Parsing follows ``modules/EV/EvManager/main/simulation_command.cpp`` exactly (spec
wire_protocols.md §4.2), so existing EVerest car scripts run unchanged:

* the whole string is lower-cased and newlines count as ``;``;
* commands are split on ``;`` (a trailing ``;`` adds nothing, ``;;`` is an empty command name);
* inside a command commas count as spaces and the words are split on single spaces, so
  ``draw_power_regulated 16,3`` has the arguments ``"16"`` and ``"3"``, while a second space
  makes an empty argument (as upstream: ``sleep  1`` has two arguments and fails);
* the overload is chosen by the number of arguments; an unknown name or count is an error
  (``CarScriptError``, naming the command and the counts it takes).

Execution: every ``tick_ms`` (250 ms) the car runs commands until one blocks (a blocked command
is retried next tick), then its state machine sets the CP state (A unplugged, B plugged in,
C charging; D instead of C for a car that needs ventilation; E) and the current it draws.  When
the queue runs empty the run ends and the car returns to its defaults (unplugged), as upstream.

Commands: ``sleep <s>``, ``iec_wait_pwr_ready``, ``iso_wait_pwm_is_running``,
``draw_power_regulated <A>,<1|3>``, ``draw_power_fixed <A>,<1|3>``, ``pause``, ``unplug``,
``error_e``, ``diode_fail``, ``rcd_current <mA>``, ``wait_for_real_plugin``, ``plugin`` (runs
``plugin_commands``) and ``set_soc <pct>``.  The ``iso_*`` commands need an ISO 15118 stack, which
the simulator does not have: they are rejected at parse time with a message saying so.

Behaviours users report (spec peers_and_standards.md §4), as ``SimCar`` options:

* ``sleepy=True``: the car falls asleep in B and ignores the PWM until it sees a wake-up (the CP
  interrupted: F, E or no PWM for at least ``wakeup_min_ms``, then PWM again);
* ``follow_delay_s``: the car follows a *lowered* current limit only after this delay (it keeps
  drawing the old current: soft over-current); raised limits are followed at once;
* ``ventilation=True``: the car asks for ventilation (CP D instead of C);
* ``max_phases``: the car draws on at most this many phases whatever the script says.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

from ..errors import InvalidInput

TICK_MS = 250
THREE_PHASES = "3"
DEFAULT_PLUGIN_COMMANDS = "iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000"

# EV states (EvManager SimState)
UNPLUGGED = "UNPLUGGED"
PLUGGED_IN = "PLUGGED_IN"
CHARGING_REGULATED = "CHARGING_REGULATED"
CHARGING_FIXED = "CHARGING_FIXED"
ERROR_E = "ERROR_E"
DIODE_FAIL = "DIODE_FAIL"

ISO_COMMANDS = {
    "iso_wait_slac_matched": (0,), "iso_start_v2g_session": (1, 2, 3, 4), "iso_wait_pwr_ready": (0,),
    "iso_draw_power_regulated": (2,), "iso_dc_power_on": (0,), "iso_stop_charging": (0,),
    "iso_wait_for_stop": (1,), "iso_wait_v2g_session_stopped": (0,), "iso_pause_charging": (0,),
    "iso_wait_for_resume": (0,), "iso_start_bcb_toggle": (1,),
}


class CarScriptError(InvalidInput):
    """A car script could not be parsed: the message names the command and what is allowed."""


Command = Tuple[str, Tuple[str, ...]]


def _getline_split(text: str, sep: str) -> List[str]:
    """``std::getline`` splitting: no final empty piece after a trailing separator."""
    if text == "":
        return []
    parts = text.split(sep)
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def split_commands(script: str) -> List[Command]:
    """Split a script into ``(name, args)`` without checking names (upstream's parse rules)."""
    text = script.lower().replace("\n", ";")
    out: List[Command] = []
    for raw in _getline_split(text, ";"):
        words = _getline_split(raw.replace(",", " "), " ")
        name = words[0] if words else ""
        out.append((name, tuple(words[1:])))
    return out


class SimCar:
    """A car driven by an EVerest command script; attach it to a ``SimHardware``.

    ``SimCar(script, *, sleepy=False, wakeup_min_ms=1000, follow_delay_s=0.0, ventilation=False,
    max_phases=3, cable_A=32, battery_Wh=60000, soc_pct=30, plugin_commands=...)``.  ``script``
    is parsed at construction (``CarScriptError`` on a bad script).

    State read by the hardware: ``cp_state`` ("A".."E"), ``diode_fault``, ``phases``,
    ``current_A`` (drawn when energised), ``rcd_mA``, ``cable_A``.  Also ``ev_state`` (the
    EvManager state), ``soc_pct``, ``finished`` (queue ran empty), ``log`` (``(t_ms, name, args)``
    of each command when it completed).
    """

    tick_ms = TICK_MS

    def __init__(self, script: str = "", *, sleepy: bool = False, wakeup_min_ms: float = 1000.0,
                 follow_delay_s: float = 0.0, ventilation: bool = False, max_phases: int = 3,
                 cable_A: float = 32.0, battery_Wh: float = 60000.0, soc_pct: float = 30.0,
                 plugin_commands: str = DEFAULT_PLUGIN_COMMANDS, name: str = "") -> None:
        if max_phases not in (1, 2, 3):
            raise InvalidInput(f"max_phases must be 1, 2 or 3, got {max_phases!r}", "max_phases")
        if follow_delay_s < 0:
            raise InvalidInput(f"follow_delay_s must be >= 0, got {follow_delay_s!r}", "follow_delay_s")
        self.name = name
        self.sleepy = bool(sleepy)
        self.wakeup_min_ms = float(wakeup_min_ms)
        self.follow_delay_s = float(follow_delay_s)
        self.ventilation = bool(ventilation)
        self.max_phases = int(max_phases)
        self.cable_A = float(cable_A)
        self.battery_Wh = float(battery_Wh)
        self.plugin_commands = plugin_commands
        self._registry: Dict[Tuple[str, int], Callable[[Tuple[str, ...]], bool]] = {}
        self._register()
        self.script = script
        self.queue: List[Command] = self.parse(script)
        self._soc0 = float(soc_pct)
        self.log: List[Tuple[float, str, Tuple[str, ...]]] = []
        self.finished = not self.queue
        self._reset()
        self.soc_pct = self._soc0
        self._charge_Wh = self.battery_Wh * self._soc0 / 100.0

    # -- language -------------------------------------------------------------------------------
    def _register(self) -> None:
        reg = self._registry
        reg[("sleep", 1)] = self._sleep
        reg[("iec_wait_pwr_ready", 0)] = self._iec_wait_pwr_ready
        reg[("iso_wait_pwm_is_running", 0)] = self._iso_wait_pwm_is_running
        reg[("draw_power_regulated", 2)] = self._draw_power_regulated
        reg[("draw_power_fixed", 2)] = self._draw_power_fixed
        reg[("pause", 0)] = self._pause
        reg[("unplug", 0)] = self._unplug
        reg[("error_e", 0)] = self._error_e
        reg[("diode_fail", 0)] = self._diode_fail
        reg[("rcd_current", 1)] = self._rcd_current
        reg[("wait_for_real_plugin", 0)] = self._wait_for_real_plugin
        reg[("plugin", 0)] = self._plugin
        reg[("set_soc", 1)] = self._set_soc

    def commands(self) -> Dict[str, Tuple[int, ...]]:
        """The known command names and the argument counts each accepts."""
        out: Dict[str, List[int]] = {}
        for name, n in self._registry:
            out.setdefault(name, []).append(n)
        return {k: tuple(sorted(v)) for k, v in sorted(out.items())}

    def parse(self, script: str) -> List[Command]:
        """Parse and check a script; raise ``CarScriptError`` naming the bad command."""
        known = self.commands()
        out = split_commands(script)
        for i, (name, args) in enumerate(out, 1):
            if name in ISO_COMMANDS:
                raise CarScriptError(
                    f"car command {i} {name!r} needs an ISO 15118 stack, which the simulator does not have "
                    "(use the IEC commands: iec_wait_pwr_ready, draw_power_regulated, ...)", "car")
            if name not in known:
                hint = "an empty command name (a space after ';'?)" if name == "" else repr(name)
                raise CarScriptError(
                    f"car command {i} is {hint}: unknown; allowed: {', '.join(known)}", "car")
            if len(args) not in known[name]:
                counts = " or ".join(str(c) for c in known[name])
                raise CarScriptError(
                    f"car command {i} {name!r} takes {counts} argument(s), got {len(args)} {list(args)!r}", "car")
            if name in ("sleep", "rcd_current", "set_soc") or name.startswith("draw_power"):
                try:
                    float(args[0])
                except ValueError:
                    raise CarScriptError(
                        f"car command {i} {name!r}: argument {args[0]!r} is not a number", "car") from None
        return out

    def execute(self, script: str) -> None:
        """Replace the queue by ``script`` and reset to defaults (EvManager execute_charging_session)."""
        self.queue = self.parse(script)
        self._reset()
        self.finished = not self.queue

    def modify(self, script: str) -> None:
        """Replace the queue by ``script`` keeping the car's state (modify_charging_session)."""
        self.queue = self.parse(script)
        self._sleep_left = None
        self.finished = not self.queue

    # -- state ----------------------------------------------------------------------------------
    def _reset(self) -> None:
        self.ev_state = UNPLUGGED
        self._last_state: Optional[str] = None
        self.cp_state = "A"
        self.diode_fault = False
        self.rcd_mA = 0.0
        self.ev_max_A = 16.0
        self.three_phase = True
        self.charge_mode = "none"
        self.current_A = 0.0
        self._sleep_left: Optional[int] = None
        self._duty = 100.0
        self._bsp_state = ""
        self._asleep = self.sleepy
        self._saw_interrupt_since: Optional[float] = None
        self._woke = False
        self._seen_pwm = False
        self._follow_target = 0.0
        self._follow_lower_since: Optional[float] = None
        self._now = 0.0

    @property
    def phases(self) -> int:
        """The phases the car draws on."""
        n = 3 if self.three_phase else 1
        return min(n, self.max_phases)

    # -- commands (return True when done, False when blocked) ------------------------------------
    def _sleep(self, args) -> bool:
        if self._sleep_left is None:
            self._sleep_left = int(float(args[0]) * 1000.0 / self.tick_ms) + 1
        self._sleep_left -= 1
        if not self._sleep_left > 0:
            self._sleep_left = None
            return True
        return False

    def _iec_wait_pwr_ready(self, args) -> bool:
        self.ev_state = PLUGGED_IN
        return 7.0 < self._duty < 97.0

    def _iso_wait_pwm_is_running(self, args) -> bool:
        self.ev_state = PLUGGED_IN
        return 4.0 < self._duty < 97.0

    def _draw(self, args, state) -> bool:
        self.ev_max_A = float(args[0])
        self.three_phase = args[1] == THREE_PHASES
        self.charge_mode = "ac3" if self.three_phase else "ac1"
        self.ev_state = state
        return True

    def _draw_power_regulated(self, args) -> bool:
        return self._draw(args, CHARGING_REGULATED)

    def _draw_power_fixed(self, args) -> bool:
        return self._draw(args, CHARGING_FIXED)

    def _pause(self, args) -> bool:
        self.ev_state = PLUGGED_IN
        return True

    def _unplug(self, args) -> bool:
        self.ev_state = UNPLUGGED
        self.charge_mode = "none"
        return True

    def _error_e(self, args) -> bool:
        self.ev_state = ERROR_E
        return True

    def _diode_fail(self, args) -> bool:
        self.ev_state = DIODE_FAIL
        return True

    def _rcd_current(self, args) -> bool:
        self.rcd_mA = float(args[0])
        return True

    def _wait_for_real_plugin(self, args) -> bool:
        if self._bsp_state == "A":
            self.ev_state = PLUGGED_IN
            return True
        return False

    def _plugin(self, args) -> bool:
        self.queue[1:1] = self.parse(self.plugin_commands)
        return True

    def _set_soc(self, args) -> bool:
        self.soc_pct = max(0.0, min(100.0, float(args[0])))
        self._charge_Wh = self.battery_Wh * self.soc_pct / 100.0
        return True

    # -- the tick -------------------------------------------------------------------------------
    def tick(self, hw, t_ms: float) -> None:
        """One 250 ms step: read the EVSE, run commands until one blocks, run the state machine."""
        dt_ms = t_ms - self._now if self._last_state is not None else 0.0
        self._now = t_ms
        self._duty = hw.duty_pct
        self._bsp_state = hw.cp_state
        self._watch_wakeup(t_ms)
        self._integrate_soc(hw, dt_ms)
        while self.queue:
            name, args = self.queue[0]
            if self._registry[(name, len(args))](args):
                self.log.append((t_ms, name, args))
                self.queue.pop(0)
            else:
                break
        if not self.queue and not self.finished:
            self.finished = True
            self._reset_keep_soc()
        self._state_machine(t_ms)

    def _reset_keep_soc(self) -> None:
        now = self._now
        self._reset()
        self._now = now

    def _watch_wakeup(self, t_ms: float) -> None:
        """A sleepy car that has seen the PWM wakes up once the PWM was interrupted (F, E or X1)
        for ``wakeup_min_ms`` and then comes back."""
        if not self._asleep or self.ev_state == UNPLUGGED:
            return
        if 4.0 < self._duty < 97.0:
            self._saw_interrupt_since = None
            if self._woke:
                self._asleep = False
            else:
                self._seen_pwm = True
        elif self._seen_pwm:
            if self._saw_interrupt_since is None:
                self._saw_interrupt_since = t_ms
            if t_ms - self._saw_interrupt_since >= self.wakeup_min_ms:
                self._woke = True

    def _state_machine(self, t_ms: float) -> None:
        st = self.ev_state
        changed = st != self._last_state
        if changed and self._last_state == UNPLUGGED and self.sleepy:
            self._asleep = True  # falls asleep again at every plug-in
            self._woke = False
            self._seen_pwm = False
            self._saw_interrupt_since = None
        self._last_state = st
        charge_state = "D" if self.ventilation else "C"
        if st == UNPLUGGED:
            self.cp_state = "A"
            self.diode_fault = False
        elif st == PLUGGED_IN:
            self.cp_state = "B"
        elif st == CHARGING_REGULATED:
            pwm_ok = 7.0 < self._duty < 97.0
            if pwm_ok and self._asleep:
                pwm_ok = False  # asleep: does not react to the PWM
            self.cp_state = charge_state if pwm_ok else "B"
        elif st == CHARGING_FIXED:
            self.cp_state = charge_state
        elif st == ERROR_E:
            self.cp_state = "E"
        elif st == DIODE_FAIL:
            self.diode_fault = True
        self.current_A = self._draw_current(t_ms)

    def _draw_current(self, t_ms: float) -> float:
        """What the car draws when energised: the PWM current limited by its own maximum."""
        st = self.ev_state
        if st == CHARGING_FIXED:
            return self.ev_max_A
        if st not in (CHARGING_REGULATED, DIODE_FAIL) or self.cp_state not in ("C", "D"):
            self._follow_target = 0.0
            self._follow_lower_since = None
            return 0.0
        pwm_A = pwm_current_A(self._duty)
        want = min(pwm_A, self.ev_max_A) if self.ev_max_A > 0 else pwm_A
        if self.follow_delay_s > 0 and want < self._follow_target:
            if self._follow_lower_since is None:
                self._follow_lower_since = t_ms
            if t_ms - self._follow_lower_since < self.follow_delay_s * 1000.0:
                return self._follow_target  # still drawing the old current
        self._follow_lower_since = None
        self._follow_target = want
        return want

    def _integrate_soc(self, hw, dt_ms: float) -> None:
        if dt_ms <= 0 or self.battery_Wh <= 0:
            return
        p = hw.power_W
        if p > 0:
            self._charge_Wh = min(self.battery_Wh, self._charge_Wh + p * dt_ms / 3.6e6)
            self.soc_pct = 100.0 * self._charge_Wh / self.battery_Wh


def pwm_current_A(duty_pct: float) -> float:
    """YetiSimulator's duty-to-current mapping (spec wire_protocols.md §4.1)."""
    if duty_pct < 8.0:
        return 0.0
    if duty_pct < 85.0:
        return duty_pct * 0.6
    if duty_pct < 96.0:
        return (duty_pct - 64.0) * 2.5
    if duty_pct < 97.0:
        return 80.0
    return 0.0


def make_car(spec: Optional[str] = None, *, seed: Optional[int] = None, duration_s: float = 1800.0,
             phases: int = 3, **options) -> SimCar:
    """A ``SimCar`` from a profile name or a car script (None: the default profile's car).

    ``duration_s`` and ``phases`` shape a profile's script; ``options`` override the profile's
    ``SimCar`` options.  ``seed`` is accepted for symmetry (the car model is deterministic).
    """
    from .profiles import resolve

    profile = resolve(spec)
    opts = dict(profile.car_options)
    opts.update(options)
    return SimCar(profile.script(float(duration_s), 16.0, int(phases)), name=profile.name, **opts)


def parse_script(script: str) -> List[Command]:
    """Parse and check a script with the standard command set (``CarScriptError`` on errors)."""
    return SimCar().parse(script)


__all__ = ["CarScriptError", "DEFAULT_PLUGIN_COMMANDS", "SimCar", "make_car", "parse_script", "pwm_current_A",
           "split_commands"]
