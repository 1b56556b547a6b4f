"""Smart charging: charging profiles, composite schedules, and their ``enforce_limits``.

* :mod:`.profile` -- a version-neutral :class:`ChargingProfile`, parsed and validated from 1.6 and
  2.0.1 payloads (S16 §3.13, §7.8-7.14);
* :mod:`.composite` -- the composite schedule of a connector (stack levels, validity, recurrence,
  A and W, phases), a pure function of the profiles and the time;
* :mod:`.applier` -- installed profiles per charge point and the limits they give each manager, sent
  as ``enforce_limits`` whenever a schedule period begins or ends.
"""
from .composite import CompositePeriod, composite_schedule, limit_at
from .profile import ChargingProfile, ProfileError, SchedulePeriod, parse_profile_16, parse_profile_201

__all__ = [
    "ChargingProfile", "CompositePeriod", "ProfileError", "SchedulePeriod", "composite_schedule", "limit_at",
    "parse_profile_16", "parse_profile_201",
]
