"""Car profiles: the default session and the cars users report (spec peers_and_standards.md §4).

A ``Profile`` is a car script (EVerest's command language, built for the session's duration,
limit and phases), ``SimCar`` options, hardware options and timed runner actions, plus the
session events a run is expected to show (in order, as a subsequence of what is published).

==================  ====================================================================================
name                what happens
==================  ====================================================================================
``default``         plug in, RFID authorised, charge (the EVSE limits to ``--limit`` A), the car pauses
                    and resumes, unplug
``sleepy``          the car falls asleep in B and ignores the PWM; the manager's wake-up (F for 4 s
                    after 30 s) wakes it and it charges (OpenEVSE#83/#512, EVerest#478)
``late-follower``   the limit is lowered to 10 A; the car keeps drawing the old current for 20 s
                    (soft over-current, lincomatic/open_evse#95, EVerest#762): Error{OverCurrent}
                    7 s after the over-current starts
``diode-fault``     the car's CP diode shorts while charging: Error{CarDiodeFault}
``ventilation``     the car asks for ventilation (CP D); the board has it, so it charges (run it with a
                    board without ventilation for Error{VentilationNotAvailable})
``one-phase``       three phases offered, the car draws on L1 only (SmartEVSE#153)
==================  ====================================================================================
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ..errors import InvalidInput

#: how long after AuthRequired the runner presents the RFID card
AUTH_DELAY_S = 2.0

Action = Tuple[float, str, Tuple[Any, ...]]  # (t_s, action, args): "set_limit" (A,)


@dataclass(frozen=True)
class Profile:
    """One simulated scenario; ``script(duration_s, limit_A, phases)`` builds the car script."""

    name: str
    description: str
    script: Callable[[float, float, int], str]
    car_options: Mapping[str, Any] = field(default_factory=dict)
    hardware_options: Mapping[str, Any] = field(default_factory=dict)
    actions: Callable[[float], Tuple[Action, ...]] = lambda duration_s: ()
    expect: Tuple[str, ...] = ()
    min_duration_s: float = 60.0


def _charge_pause_resume(duration_s: float, limit_A: float, phases: int) -> str:
    """Plug in at 1 s, charge, pause for a while at 60 %, resume, unplug about 10 s before the end."""
    d = float(duration_s)
    pause = max(5, min(60, int(round(0.05 * d))))
    first = max(5, int(round(0.6 * d)) - 10)
    second = max(5, int(d - first - pause - 20))
    return (f"sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 32,{phases};sleep {first};pause;"
            f"sleep {pause};draw_power_regulated 32,{phases};sleep {second};unplug")


def _charge_then(extra: str, at_frac: float = 0.5) -> Callable[[float, float, int], str]:
    def build(duration_s: float, limit_A: float, phases: int) -> str:
        first = max(5, int(round(at_frac * duration_s)) - 5)
        rest = max(5, int(duration_s - first - 20))
        return (f"sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 32,{phases};sleep {first};"
                f"{extra};sleep {rest};unplug")
    return build


def _plain(duration_s: float, limit_A: float, phases: int) -> str:
    charge = max(5, int(duration_s - 20))
    return f"sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 32,{phases};sleep {charge};unplug"


PROFILES: Dict[str, Profile] = {
    "default": Profile(
        "default", "plug in, RFID authorised, charge, the car pauses and resumes, unplug",
        _charge_pause_resume,
        expect=("SessionStarted", "AuthRequired", "ChargingStarted", "ChargingPausedEV", "ChargingResumed",
                "SessionFinished"),
    ),
    "sleepy": Profile(
        "sleepy", "falls asleep in B and charges only after the EVSE's wake-up (CP interruption)",
        _plain, car_options={"sleepy": True},
        expect=("SessionStarted", "AuthRequired", "ChargingStarted", "SessionFinished"),
        min_duration_s=90.0,
    ),
    "late-follower": Profile(
        "late-follower", "follows a lowered limit only after 20 s: soft over-current -> Error{OverCurrent}",
        _plain, car_options={"follow_delay_s": 20.0},
        actions=lambda d: ((min(30.0, 0.3 * d), "set_limit", (10.0,)),),
        expect=("SessionStarted", "AuthRequired", "ChargingStarted", "Error"),
        min_duration_s=90.0,
    ),
    "diode-fault": Profile(
        "diode-fault", "the CP diode shorts while charging -> Error{CarDiodeFault}",
        _charge_then("diode_fail", 0.4),
        expect=("SessionStarted", "AuthRequired", "ChargingStarted", "Error"),
    ),
    "ventilation": Profile(
        "ventilation", "asks for ventilation (CP D); the board has it, so it charges",
        _plain, car_options={"ventilation": True}, hardware_options={"has_ventilation": True},
        expect=("SessionStarted", "AuthRequired", "ChargingStarted", "SessionFinished"),
    ),
    "one-phase": Profile(
        "one-phase", "three phases offered, the car draws on L1 only",
        _plain, car_options={"max_phases": 1},
        expect=("SessionStarted", "AuthRequired", "ChargingStarted", "SessionFinished"),
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ``InvalidInput`` naming the known profiles otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise InvalidInput(f"unknown car profile {name!r}; profiles: {', '.join(PROFILES)}", "car") from None


def looks_like_script(text: str) -> bool:
    """True if ``text`` is a car script rather than a profile name."""
    return any(c in text for c in ";, \n") or text.lower() != text or text.lower().startswith(
        ("sleep", "iec_", "iso_", "draw_", "pause", "unplug", "error_e", "diode_fail", "rcd_", "wait_",
         "plugin", "set_soc"))


def script_profile(script: str) -> Profile:
    """A profile running a user's car script as it is."""
    return Profile("script", "a user car script", lambda d, a, p: script, min_duration_s=1.0)


def resolve(car: Optional[str]) -> Profile:
    """``--car`` value -> profile: None = default, a profile name, or a car script."""
    if car is None or car == "":
        return PROFILES["default"]
    if car in PROFILES:
        return PROFILES[car]
    if looks_like_script(car):
        return script_profile(car)
    return get_profile(car)


__all__ = ["AUTH_DELAY_S", "PROFILES", "Profile", "get_profile", "looks_like_script", "resolve",
           "script_profile"]
