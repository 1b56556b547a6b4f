"""Composite schedules (S16 §3.13) against hand-computed ones, and a property test against a
brute-force evaluation of the rules at single instants."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evsefast.ocpp.smart import ChargingProfile, ProfileError, SchedulePeriod, composite_schedule, limit_at
from evsefast.ocpp.smart.composite import convert_limit, floor_tenth, station_schedule
from evsefast.ocpp.smart.profile import parse_profile_16, parse_profile_201

DAY = 86400
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, a Thursday


def P(pid, purpose="TxDefault", *, stack=0, kind="Absolute", unit="A", periods=((0, 16.0),), start=T0,
      duration=None, recurrency=None, valid_from=None, valid_to=None, connector=0):
    return ChargingProfile(id=pid, connector_id=connector, stack_level=stack, purpose=purpose, kind=kind, unit=unit,
                           periods=tuple(SchedulePeriod(a, float(b), *c) for a, b, *c in periods),
                           recurrency=recurrency, start_schedule=None if kind == "Relative" else start,
                           duration_s=duration, valid_from=valid_from, valid_to=valid_to)


def sched(profiles, start, duration, **kw):
    return [(p.start_s, None if p.limit is None else round(p.limit, 3), p.phases)
            for p in composite_schedule(profiles, 1, start, duration, **kw)]


def test_spec_example_recurring_daily_in_watts():
    # S16 §3.13.7: TxDefault, Recurring Daily from 00:00Z: 11000 W, 08:00 6000 W, 20:00 11000 W
    p = P(1, kind="Recurring", recurrency="Daily", unit="W",
          periods=((0, 11000), (8 * 3600, 6000), (20 * 3600, 11000)))
    assert sched([p], T0 + 5 * DAY, DAY) == [(0, 15.942, None), (28800, 8.696, None), (72000, 15.942, None)]
    assert sched([p], T0 + 9 * 3600, 3600, unit="W") == [(0, 6000.0, None)]
    limit, _, nxt = limit_at([p], 1, T0 + 9 * 3600)
    assert floor_tenth(limit) == 8.6 and nxt == T0 + 20 * 3600  # the kernel gets 8.6 A until 20:00
    with_max = sched([p, P(2, "Max", periods=((0, 16.0),))], T0 + DAY, DAY)
    assert with_max == [(0, 15.942, None), (28800, 8.696, None), (72000, 15.942, None)]
    assert sched([p, P(2, "Max", periods=((0, 10.0),))], T0 + DAY, DAY) == [(0, 10.0, None), (28800, 8.696, None),
                                                                             (72000, 10.0, None)]


def test_stack_levels_and_fall_back():
    base = P(1, periods=((0, 16.0),))
    top = P(2, stack=1, start=T0 + 600, duration=1200, periods=((0, 10.0), (600, 8.0)))
    assert sched([base, top], T0, 3600) == [(0, 16.0, None), (600, 10.0, None), (1200, 8.0, None),
                                            (1800, 16.0, None)]
    # a top level without duration hides the lower levels forever
    forever = P(3, stack=2, start=T0 + 60, periods=((0, 6.0),))
    assert sched([base, top, forever], T0, 3600) == [(0, 16.0, None), (60, 6.0, None)]


def test_validity_window_cuts_profiles():
    base = P(1, periods=((0, 16.0),))
    valid = P(2, stack=5, periods=((0, 7.0),), valid_from=T0 + 300, valid_to=T0 + 900)
    assert sched([base, valid], T0, 1800) == [(0, 16.0, None), (300, 7.0, None), (900, 16.0, None)]
    expired = P(3, stack=6, periods=((0, 1.0),), valid_to=T0 - 1)
    assert sched([base, expired], T0, 60) == [(0, 16.0, None)]


def test_recurring_shorter_than_period_falls_back_and_crosses_midnight():
    base = P(1, periods=((0, 32.0),))
    night = P(2, stack=1, kind="Recurring", recurrency="Daily", start=T0 + 22 * 3600, duration=8 * 3600,
              periods=((0, 10.0), (4 * 3600, 20.0)))
    got = sched([base, night], T0 + DAY, DAY)
    # the night that began at 22:00 the day before: 10 A until 02:00, 20 A until 06:00; then 32 A
    assert got == [(0, 10.0, None), (2 * 3600, 20.0, None), (6 * 3600, 32.0, None), (22 * 3600, 10.0, None)]
    # never before its startSchedule: on the first day nothing until 22:00
    assert sched([base, night], T0, DAY) == [(0, 32.0, None), (22 * 3600, 10.0, None)]


def test_recurring_weekly_across_the_week_boundary():
    weekend = P(1, kind="Recurring", recurrency="Weekly", start=T0 + 2 * DAY, duration=2 * DAY,  # Sat+Sun
                periods=((0, 13.0),))
    got = sched([weekend], T0 + 7 * DAY, 7 * DAY)
    assert got == [(0, None, None), (2 * DAY, 13.0, None), (4 * DAY, None, None)]


def test_relative_profile_starts_with_the_transaction():
    rel = P(1, "Tx", kind="Relative", periods=((0, 6.0), (300, 10.0)), connector=1)
    assert sched([rel], T0, 600, tx_start_s=T0 - 100) == [(0, 6.0, None), (200, 10.0, None)]
    assert sched([rel], T0, 600, tx_start_s=None) == [(0, 6.0, None), (300, 10.0, None)]
    assert sched([rel], T0, 600, tx_active=False) == [(0, None, None)]  # TxProfiles need a transaction


def test_tx_profile_overrides_tx_default_and_max_is_the_minimum():
    default = P(1, periods=((0, 16.0),))
    tx = P(2, "Tx", start=T0 + 100, duration=200, periods=((0, 20.0),), connector=1)
    mx = P(3, "Max", periods=((0, 18.0),))
    assert sched([default, tx, mx], T0, 600) == [(0, 16.0, None), (100, 18.0, None), (300, 16.0, None)]


def test_connector_default_beats_connector_zero_default_at_the_same_level():
    zero = P(1, periods=((0, 16.0),), connector=0)
    own = P(2, periods=((0, 12.0),), connector=1)
    assert sched([zero, own], T0, 60) == [(0, 12.0, None)]
    other = P(3, periods=((0, 8.0),), connector=2)  # another connector's profile does not apply
    assert sched([zero, other], T0, 60) == [(0, 16.0, None)]
    higher_zero = P(4, stack=1, periods=((0, 20.0),), connector=0)
    assert sched([zero, own, higher_zero], T0, 60) == [(0, 20.0, None)]


def test_units_and_phases():
    one_phase = P(1, unit="W", periods=((0, 7360.0, 1),))
    assert sched([one_phase], T0, 60) == [(0, 32.0, 1)]  # 7360 W / (230 V x 1)
    assert sched([one_phase], T0, 60, unit="W") == [(0, 7360.0, 1)]
    three = P(2, "Max", unit="A", periods=((0, 16.0),))
    assert sched([one_phase, three], T0, 60) == [(0, 16.0, 1)]
    assert convert_limit(11040.0, "W", "A", None, 230.0) == pytest.approx(16.0)  # numberPhases absent: 3
    assert floor_tenth(8.699999) == 8.6 and floor_tenth(8.7) == 8.7 and floor_tenth(0.0) == 0.0


def test_station_schedule_sums_connectors_under_the_max():
    own1 = P(1, periods=((0, 10.0),), connector=1)
    mx = P(2, "Max", periods=((0, 40.0),), start=T0 + 60)
    got = station_schedule([own1, mx], 2, T0, 120, default_limit=32.0)
    assert [(p.start_s, p.limit) for p in got] == [(0, 42.0), (60, 40.0)]


def test_profile_checks():
    good = P(1, "Tx", connector=1)
    good.check(max_stack_level=10, max_periods=24, connectors=2)
    cases = [
        (P(1, "Max", connector=1), "connectorId 0"),
        (P(1, "Tx", connector=0), "needs a connector"),
        (P(1, stack=11), "stackLevel"),
        (P(1, periods=((10, 16.0),)), "startPeriod 0"),
        (P(1, periods=((0, 16.0), (0, 10.0))), "increase"),
        (P(1, periods=((0, -1.0),)), ">= 0"),
        (P(1, periods=((0, 16.0, 4),)), "numberPhases"),
        (P(1, kind="Recurring"), "recurrencyKind"),
        (P(1, connector=3), "out of range"),
        (P(1, periods=tuple((i, 6.0) for i in range(25))), "at most 24"),
    ]
    for profile, why in cases:
        with pytest.raises(ProfileError, match=why):
            profile.check(max_stack_level=10, max_periods=24, connectors=2)


def test_parse_16_and_201_payloads():
    from decimal import Decimal
    p16 = parse_profile_16(1, {"charging_profile_id": 3, "stack_level": 1, "charging_profile_purpose": "TxProfile",
                               "charging_profile_kind": "Recurring", "recurrency_kind": "Daily",
                               "valid_to": "2026-02-01T00:00:00Z", "charging_schedule": {
                                   "start_schedule": "2026-01-01T06:30:00.5+00:00", "charging_rate_unit": "A",
                                   "charging_schedule_period": [{"start_period": 0, "limit": Decimal("8.1"),
                                                                 "number_phases": 1}]}})
    assert p16.purpose == "Tx" and p16.start_schedule == T0 + 6 * 3600 + 1800
    assert p16.periods == (SchedulePeriod(0, 8.1, 1),) and isinstance(p16.periods[0].limit, float)
    assert p16.valid_to == T0 + 31 * DAY
    p201 = parse_profile_201(0, {"id": 9, "stack_level": 0, "charging_profile_purpose": "ChargingStationMaxProfile",
                                 "charging_profile_kind": "Absolute", "charging_schedule": [{
                                     "id": 1, "start_schedule": "2026-01-01T00:00:00Z", "charging_rate_unit": "W",
                                     "charging_schedule_period": [{"start_period": 0, "limit": 22000.0}]}]})
    assert p201.purpose == "Max" and p201.unit == "W" and p201.schedule_id == 1
    with pytest.raises(ProfileError, match="chargingRateUnit"):
        parse_profile_16(1, {"charging_profile_id": 1, "stack_level": 0, "charging_profile_purpose": "TxProfile",
                             "charging_profile_kind": "Absolute", "charging_schedule": {
                                 "charging_rate_unit": "kW", "charging_schedule_period": []}})
    back = ChargingProfile.from_json(p16.to_json())
    assert back == p16


# -- property test: the composite equals the rules evaluated instant by instant ---------------------

def _ref_entry(p: ChargingProfile, t: int, tx_start):
    if p.valid_from is not None and t < p.valid_from:
        return None
    if p.valid_to is not None and t >= p.valid_to:
        return None
    if p.kind == "Absolute":
        s = p.start_schedule
    elif p.kind == "Relative":
        s = tx_start
    else:
        period = DAY if p.recurrency == "Daily" else 7 * DAY
        if t < p.start_schedule:
            return None
        s = p.start_schedule + (t - p.start_schedule) // period * period
    off = t - s
    if off < 0 or (p.duration_s is not None and off >= p.duration_s):
        return None
    limit = None
    for per in p.periods:
        if per.start_s <= off:
            limit = per.limit
    return limit


def _ref(profiles, t, tx_start):
    best = None
    for p in profiles:
        lim = _ref_entry(p, t, tx_start)
        if lim is not None:
            rank = (p.stack_level, 1 if p.connector_id == 1 else 0)
            if best is None or rank > best[0]:
                best = (rank, lim)
    return None if best is None else best[1]


_periods = st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 64)), max_size=3).map(
    lambda xs: ((0, 16),) + tuple(sorted({a: b for a, b in xs}.items())))


@st.composite
def _profile(draw, pid):
    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    start = T0 + draw(st.integers(-2 * DAY, 2 * DAY))
    vf = draw(st.one_of(st.none(), st.integers(-DAY, DAY)))
    vt = draw(st.one_of(st.none(), st.integers(1, 2 * DAY)))
    valid_from = None if vf is None else T0 + vf
    valid_to = None if vt is None else (valid_from or T0 - DAY) + vt
    return P(pid, stack=draw(st.integers(0, 3)), kind=kind, start=start,
             recurrency=draw(st.sampled_from(["Daily", "Weekly"])) if kind == "Recurring" else None,
             duration=draw(st.one_of(st.none(), st.integers(1, 3 * DAY))), periods=draw(_periods),
             valid_from=valid_from, valid_to=valid_to, connector=draw(st.sampled_from([0, 1])))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=4, unique=True).flatmap(
    lambda ids: st.tuples(*[_profile(i) for i in ids])), st.integers(-DAY, DAY), st.data())
def test_composite_matches_instant_by_instant_evaluation(profiles, tx_offset, data):
    tx_start = T0 + tx_offset
    w0, dur = T0, 3 * DAY
    got = composite_schedule(profiles, 1, w0, dur, tx_start_s=tx_start)
    assert got[0].start_s == 0
    assert all(a.start_s < b.start_s for a, b in zip(got, got[1:]))
    assert all(a.limit != b.limit for a, b in zip(got, got[1:]))
    times = data.draw(st.lists(st.integers(0, dur - 1), min_size=5, max_size=20))
    times += [p.start_s for p in got] + [max(0, p.start_s - 1) for p in got]
    for off in times:
        cur = [p for p in got if p.start_s <= off][-1]
        want = _ref(profiles, w0 + off, tx_start)
        assert (cur.limit is None and want is None) or math.isclose(cur.limit, want), (off, cur, want)
