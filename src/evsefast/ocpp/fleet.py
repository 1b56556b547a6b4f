"""Many simulated charge points in one process (``evsefast chargepoint --count N``), for CSMS load tests.

Each charge point has its own identity (``<ID>-001`` ...), websocket, simulated station and car
schedule (seeded from ``seed`` and its index).  :func:`run_fleet` runs them for ``duration_s`` of
simulated time (or until cancelled) and returns a :class:`FleetResult` whose :meth:`~FleetResult.text`
is the summary: messages per action, call latency percentiles, errors, connections, CPU.
"""
from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .chargepoint import ChargePoint
from .link import build_url
from .station import Station, StationOptions
from .stats import Stats

__all__ = ["FleetOptions", "FleetResult", "identities", "run_fleet"]


@dataclass
class FleetOptions:
    """What ``evsefast chargepoint`` runs."""

    csms_url: str
    count: int = 1
    version: str = "1.6"
    duration_s: Optional[float] = None  # simulated seconds; None = until cancelled
    station: StationOptions = field(default_factory=StationOptions)
    settings: Dict[str, Any] = field(default_factory=dict)
    security_profile: Optional[int] = None
    password: Optional[str] = None
    ca_file: Optional[str] = None
    state_dir: Optional[str] = None
    reconnect_min_s: float = 1.0


@dataclass
class FleetResult:
    """What the fleet did."""

    stats: Stats
    count: int
    wall_s: float
    cpu_s: float
    sim_s: float
    transactions: int
    energy_Wh: float
    registered: int
    per_cp: List[Dict[str, Any]]

    def text(self) -> str:
        """The human-readable summary printed at the end."""
        s = self.stats.summary()
        lat = s["latency_ms"]
        lines = [
            f"evsefast chargepoint: {self.count} charge point(s), {self.sim_s:.0f} s simulated in {self.wall_s:.1f} s",
            f"  registered: {self.registered}/{self.count}, connects {s['connects']}, "
            f"failed connects {s['connect_failures']}",
            f"  messages: {s['messages']} ({s['messages'] / max(self.wall_s, 1e-9):.1f}/s)",
            "  sent:     " + (", ".join(f"{k} {v}" for k, v in s["calls_sent"].items()) or "-"),
            "  received: " + (", ".join(f"{k} {v}" for k, v in s["calls_received"].items()) or "-"),
            f"  call latency: p50 {_fmt(lat['p50'])} ms, p99 {_fmt(lat['p99'])} ms, max {_fmt(lat['max'])} ms "
            f"({lat['n']} calls)",
            "  errors: " + (", ".join(f"{k} {v}" for k, v in s["errors"].items()) or "none"),
            f"  transactions started: {self.transactions}, energy {self.energy_Wh / 1000.0:.3f} kWh",
            f"  CPU: {self.cpu_s:.2f} s ({100.0 * self.cpu_s / max(self.wall_s, 1e-9) / max(self.count, 1):.2f} % "
            "of a core per charge point)",
        ]
        return "\n".join(lines)


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def identities(csms_url: str, count: int) -> List[tuple]:
    """``[(base_url, identity)]``: the URL's identity for one charge point, ``<ID>-001``... for many."""
    url, ident = build_url(csms_url, None)
    base = url.rstrip("/")[: -len(ident)].rstrip("/")
    if count == 1:
        return [(base, ident)]
    return [(base, f"{ident}-{i + 1:03d}") for i in range(count)]


async def run_fleet(opt: FleetOptions, on_started=None, stop: Optional[asyncio.Event] = None) -> FleetResult:
    """Run the fleet for ``opt.duration_s`` simulated seconds or until ``stop`` is set;
    ``on_started(charge_points)`` is called once all are built."""
    stations: List[Station] = []
    cps: List[ChargePoint] = []
    for i, (base, ident) in enumerate(identities(opt.csms_url, opt.count)):
        sopt = StationOptions(**{**opt.station.__dict__})
        if opt.count > 1 and sopt.sample_rate_Hz is None:
            sopt.sample_rate_Hz = 10_000  # 10 samples per PWM period still resolve every period
        if sopt.id_tag:
            sopt.id_tag = sopt.id_tag if opt.count == 1 else f"{sopt.id_tag[:15]}{i + 1:04d}"[:20]
        state = None
        if opt.state_dir is not None:
            state = os.path.join(opt.state_dir, ident)
            sopt.state_dir = state
            os.makedirs(state, exist_ok=True)
        st = Station(sopt, i)
        cp = ChargePoint(st.managers, base, cp_id=ident, version=opt.version,
                         store=None if state is None else os.path.join(state, "ocpp.sqlite"),
                         settings=dict(opt.settings), security_profile=opt.security_profile, password=opt.password,
                         ca_file=opt.ca_file, clock=st.clock, reconnect_min_s=opt.reconnect_min_s,
                         durable=opt.count == 1)
        st.cp = cp
        stations.append(st)
        cps.append(cp)
    for st in stations:
        st.start()
    if on_started is not None:
        on_started(cps)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    tasks = [asyncio.ensure_future(cp.run()) for cp in cps] + [asyncio.ensure_future(st.drive()) for st in stations]
    stop = stop if stop is not None else asyncio.Event()
    try:
        timeout = None if opt.duration_s is None else opt.duration_s / opt.station.speed
        try:
            await asyncio.wait_for(stop.wait(), timeout)
        except asyncio.TimeoutError:
            pass
    finally:
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        await asyncio.gather(*(cp.stop() for cp in cps))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    stats = Stats().merge(cp.stats for cp in cps)
    started = stats.transactions
    energy = sum(sum(b.hardware.meter.import_Wh for b in st.boards) for st in stations)
    per_cp = [{"identity": cp.identity, "registration": cp.registration, **cp.stats.summary()} for cp in cps]
    result = FleetResult(stats, len(cps), wall, cpu, stations[0].clock.monotonic_ms() / 1000.0 if stations else 0.0,
                         started, energy, sum(1 for cp in cps if cp.registration == "Accepted"), per_cp)
    for cp, st in zip(cps, stations):
        cp.close()
        st.close()
    return result

