"""The site balancer: a site of 8 connectors under one limit, property-tested over random plug/unplug/
limit sequences -- the limit is never exceeded on any phase, and every charging connector gets at
least 6 A or is paused (issue 11; SmartEVSE-style load balancing)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from evsefast.serve_balancer import Demand, allocate, phase_load, phases_of
from evsefast.serve_config import SiteSection
from evsefast.serve_limits import SiteLimiter, parse_limit

WIRINGS = ("L1L2L3", "L2L3L1", "L3L1L2", "L1", "L2", "L3")
TOL = 1e-9


def test_phases_of_follows_the_wiring_rotation():
    assert phases_of("L1L2L3", 3) == (0, 1, 2)
    assert phases_of("L2L3L1", 1) == (1,)
    assert phases_of("L3L1L2", 2) == (2, 0)
    assert phases_of("L2", 3) == (1,)


def test_worked_examples():
    a, b = Demand("a", (0, 1, 2), 32.0, 0.0), Demand("b", (0, 1, 2), 32.0, 1.0)
    assert allocate(32.0, [a, b]) == {"a": 16.0, "b": 16.0}
    assert allocate(11.9, [a, b]) == {"a": 11.9, "b": 0.0}  # b would get < 6 A: paused, a takes it all
    assert allocate(12.0, [a, b]) == {"a": 6.0, "b": 6.0}
    one = Demand("c", (1,), 16.0, 2.0)  # a 1-phase car on L2: L2 carries three connectors, L1/L3 two
    assert allocate(20.0, [a, b, one]) == {"a": 6.7, "b": 6.7, "c": 6.6}
    assert allocate(32.0, [a, Demand("d", (1,), 32.0, 1.0)]) == {"a": 16.0, "d": 16.0}
    assert allocate(None, [a, one]) == {"a": 32.0, "c": 16.0}
    assert allocate(100.0, [a]) == {"a": 32.0}  # never above a connector's own maximum


demand = st.builds(
    lambda w, n, mx, since: (w, n, mx, since),
    st.sampled_from(WIRINGS), st.integers(1, 3), st.sampled_from([4.0, 6.0, 10.0, 13.0, 16.0, 20.0, 32.0]),
    st.integers(0, 20))


@settings(max_examples=300)
@given(st.lists(demand, min_size=0, max_size=8), st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
       st.sampled_from([6.0, 8.0]))
def test_allocation_properties(raw, limit, min_A):
    demands = [Demand(f"c{i}", phases_of(w, n), mx, since) for i, (w, n, mx, since) in enumerate(raw)]
    alloc = allocate(limit, demands, min_A)
    assert set(alloc) == {d.key for d in demands}
    for d in demands:
        a = alloc[d.key]
        assert a == 0.0 or min_A - TOL <= a <= d.max_A + TOL
        assert round(a * 10) == a * 10 or abs(round(a * 10) - a * 10) < 1e-6  # whole tenths of an ampere
    if limit is None:
        assert all(alloc[d.key] == (d.max_A if d.max_A >= min_A else 0.0) for d in demands)
        return
    load = phase_load(alloc, demands)
    assert all(x <= limit + TOL for x in load), (load, limit)
    # paused only if it did not fit at min_A after the connectors that arrived earlier
    order = sorted(demands, key=lambda d: (d.since, d.key))
    earlier = [0.0, 0.0, 0.0]
    for d in order:
        if alloc[d.key] == 0.0:
            assert d.max_A < min_A or any(earlier[p] + min_A > limit + TOL for p in d.phases)
        else:
            for p in d.phases:
                earlier[p] += min_A
    # nothing left on the table: an admitted connector below its maximum has a full phase
    for d in demands:
        if 0 < alloc[d.key] < d.max_A - TOL:
            assert any(limit - load[p] < 0.1 + TOL for p in d.phases), (d, load, limit)


class FakeManager:
    def __init__(self):
        self.sent = []

    def get(self, name):
        return True if name == "ready" else None

    def enforce_limits(self, limits):
        self.sent.append(limits.limits_root_side.ac_max_current_A.value)


class FakeDriver:
    @staticmethod
    def submit(job):
        job()


class FakeConnector:
    def __init__(self, i, wiring):
        self.module_id = f"connector_{i}"
        self.wiring = wiring
        self.active = 3
        self.demanding = False
        self.since = 0.0
        self.manager = FakeManager()
        self.driver = FakeDriver()

    def grid_phases(self):
        return phases_of(self.wiring, self.active)

    def max_current_A(self):
        return 32.0


class NullLink:
    def subscribe(self, *a, **k):
        pass

    def on_connect(self, hook):
        pass

    def publish(self, *a, **k):
        return True


op = st.one_of(
    st.tuples(st.just("plug"), st.integers(0, 7)),
    st.tuples(st.just("unplug"), st.integers(0, 7)),
    st.tuples(st.just("phases"), st.integers(0, 7), st.integers(1, 3)),
    st.tuples(st.just("limit"), st.one_of(st.none(), st.floats(0, 120, allow_nan=False))),
)


@settings(max_examples=200)
@given(st.lists(st.sampled_from(WIRINGS), min_size=8, max_size=8), st.floats(0, 120, allow_nan=False),
       st.lists(op, min_size=1, max_size=40))
def test_a_site_of_8_connectors_never_exceeds_its_limit(wirings, limit, ops):
    """The runtime (SiteLimiter) over random sequences: after every rebalance, the limits the managers
    hold never exceed the site limit on any phase; every demanding connector holds >= 6 A or 0 A."""
    conns = [FakeConnector(i, w) for i, w in enumerate(wirings)]
    lim = SiteLimiter(SiteSection(limit_A=limit), conns, NullLink())
    clock = 0.0
    for o in ops:
        clock += 1.0
        if o[0] == "plug":
            c = conns[o[1]]
            if not c.demanding:
                c.demanding, c.since = True, clock
        elif o[0] == "unplug":
            conns[o[1]].demanding = False
        elif o[0] == "phases":
            conns[o[1]].active = o[2]
        else:
            lim.set_limit(o[1])
        lim.rebalance()
        held = {c.module_id: c.manager.sent[-1] for c in conns}
        if lim.limit_A is not None:
            load = [0.0, 0.0, 0.0]
            for c in conns:
                for p in c.grid_phases():
                    load[p] += held[c.module_id]
            assert all(x <= lim.limit_A + TOL for x in load), (load, lim.limit_A)
        for c in conns:
            a = held[c.module_id]
            if c.demanding:
                assert a == 0.0 or a >= 6.0 - TOL
            elif lim.limit_A is not None:
                assert a == 0.0  # an idle connector holds nothing back from the others


@settings(max_examples=200)
@given(st.lists(st.sampled_from(WIRINGS), min_size=8, max_size=8), st.floats(6, 120, allow_nan=False),
       st.lists(st.tuples(op, st.floats(0.05, 15.0)), min_size=1, max_size=40))
def test_lowered_cars_follow_before_others_draw_more(wirings, limit, ops):
    """In time: a car draws up to the largest limit it held during the last settle_s (the manager's 5 s PWM
    rate plus the car's 5 s reaction); the site stays within its limit at every moment unless, within that
    window, the site limit itself was lowered or a car started drawing on more phases (no balancer can undo
    either faster than the cars follow)."""
    import evsefast.serve_limits as serve_limits

    conns = [FakeConnector(i, w) for i, w in enumerate(wirings)]
    clock = [0.0]
    real = serve_limits.time.monotonic
    serve_limits.time.monotonic = lambda: clock[0]
    try:
        lim = SiteLimiter(SiteSection(limit_A=limit), conns, NullLink())
        settle = 10.0  # physics, not the config: 5 s PWM rate (spec §3.4) + 5 s for the car to follow
        history = {c.module_id: [] for c in conns}  # (t, amps held from t on)
        limit_lowered_at = -1e9
        for o, dt in ops:
            if o[0] == "plug":
                c = conns[o[1]]
                if not c.demanding:
                    c.demanding, c.since = True, clock[0]
            elif o[0] == "unplug":
                conns[o[1]].demanding = False
            elif o[0] == "phases":
                c = conns[o[1]]
                if c.demanding and o[2] > c.active:
                    limit_lowered_at = clock[0]  # the car itself loads more phases: the same for the site
                c.active = o[2]
            else:
                if o[1] is None or lim.limit_A is None or o[1] < lim.limit_A:
                    limit_lowered_at = clock[0]
                lim.set_limit(o[1])
            end = clock[0] + dt
            while True:  # the balancer loop runs every rebalance_ms
                lim.rebalance()
                for c in conns:
                    if c.manager.sent and (not history[c.module_id] or history[c.module_id][-1][1] != c.manager.sent[-1]):
                        history[c.module_id].append((clock[0], c.manager.sent[-1]))
                if lim.limit_A is not None and clock[0] - limit_lowered_at >= settle:
                    load = [0.0, 0.0, 0.0]
                    for c in conns:
                        if not c.demanding:
                            continue  # no car drawing
                        held = [a for t, a in history[c.module_id] if t >= c.since]
                        before = [a for t, a in history[c.module_id] if t < c.since]
                        window = [a for t, a in history[c.module_id] if clock[0] - settle < t and t >= c.since]
                        latest = (held or before or [0.0])[-1]
                        drawn = max([latest, *window])
                        for p in c.grid_phases():
                            load[p] += drawn
                    assert all(x <= lim.limit_A + TOL for x in load), (load, lim.limit_A, clock[0])
                if clock[0] >= end:
                    break
                clock[0] = min(end, clock[0] + lim.site.rebalance_ms / 1000.0)
    finally:
        serve_limits.time.monotonic = real


def test_set_limit_payloads():
    assert parse_limit(b"20.5") == (20.5, "")
    assert parse_limit(b"null") == (None, "")
    assert parse_limit(b'{"limit_A": 16}') == (16.0, "")
    assert parse_limit(b'{"headers":{"replyTo":"r/1"},"payload":{"limit_A":null}}') == (None, "r/1")
    for bad in (b"-1", b'"20"', b"true", b'{"limit":1}', b"{", b"1e9"):
        try:
            parse_limit(bad)
        except ValueError as exc:
            assert "set_limit" in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")
