"""``SiteLimiter``: the built-in balancer at work, and who sets the connectors' limits.

Every ``rebalance_ms`` (and at once when a connector starts or stops wanting power, or the site limit
changes) it computes the allocation (:func:`evsefast.serve_balancer.allocate`) and sends each manager
an ``enforce_limits`` (``valid_for`` = ``limit_valid_s``) on its driver thread when its value changed
or is due for refresh.  Decreases go out at once; an increase waits until ``settle_s`` (10 s) after the
last decrease, because a lowered car follows its new PWM only after up to 5 s (the manager's PWM rate,
§3.4) plus 5 s (the car's reaction time): sent together, the raised car could draw its new current while
the lowered one still draws its old, and the site would be over its limit for those seconds.  Without a
site limit every connector gets its own maximum.

Authority (``site.authority``): ``auto`` hands over to EVerest's EnergyManager at its first
``enforce_limits`` (from then on the balancer sends nothing; when the EnergyManager's limits are not
renewed -- broker gone -- they expire and the connectors stop, spec §3.1 step 4); ``balancer`` refuses
the EnergyManager's limits; ``energy_manager`` never balances.

The site limit can be changed live over MQTT (bare JSON, QoS 0)::

    {external_prefix}evsefast/1/site/<site id>/m2e/set_limit   20.5 | null | {"limit_A": 20.5}
        (or {"headers":{"replyTo":<topic>},"payload":<one of those>}: true/false is published there)
    {external_prefix}evsefast/1/site/<site id>/e2m/state       {"limit_A", "authority", "allocations"}
"""
from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any, Dict, List, Optional

import msgspec

from .codec import encode_json
from .serve_balancer import Demand, allocate
from .serve_config import SiteSection
from .types.energy import EnforcedLimits, LimitsRes, NumberWithSource

__all__ = ["SiteLimiter", "parse_limit"]

log = logging.getLogger("evsefast.serve")

SOURCE = "evsefast site balancer"
_MAX_A = 10000.0


def parse_limit(payload: bytes):
    """``(limit_A or None, replyTo)`` from a set_limit payload; raises ``ValueError`` naming the problem."""
    try:
        msg: Any = msgspec.json.decode(payload)
    except msgspec.DecodeError as exc:
        raise ValueError(f"set_limit: malformed JSON: {exc}") from None
    reply = ""
    if isinstance(msg, dict) and "headers" in msg:
        headers = msg.get("headers")
        reply = headers.get("replyTo", "") if isinstance(headers, dict) else ""
        msg = msg.get("payload")
    if isinstance(msg, dict):
        if set(msg) != {"limit_A"}:
            raise ValueError(f"set_limit: expected {{\"limit_A\": <A or null>}}, got keys {sorted(msg)}")
        msg = msg["limit_A"]
    if msg is None:
        return None, reply
    if isinstance(msg, bool) or not isinstance(msg, (int, float)) or not math.isfinite(msg) \
            or not 0 <= msg <= _MAX_A:
        raise ValueError(f"set_limit.limit_A: expected a number 0 <= value <= {_MAX_A:g} (A per phase) or null, "
                         f"got {msg!r}")
    return float(msg), reply


class SiteLimiter:
    """Balances ``connectors`` (``ServeConnector``) under ``site``; see the module docstring."""

    def __init__(self, site: SiteSection, connectors: List[Any], link, external_prefix: str = "") -> None:
        self.site = site
        self.connectors = connectors
        self.link = link
        self.limit_A: Optional[float] = site.limit_A
        self.authority = "energy_manager" if site.authority == "energy_manager" else "balancer"
        self.allocations: Dict[str, float] = {}
        self._sent: Dict[str, tuple] = {}  # module_id -> (amps, monotonic s)
        self._increases_from = 0.0  # monotonic s: increases wait until the last decrease has taken effect
        self._event = threading.Event()
        self._stop = False
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self.base = f"{external_prefix}evsefast/1/site/{site.id}"
        self.rebalances = 0
        link.subscribe(f"{self.base}/m2e/set_limit", self._on_set_limit, qos=0)
        link.on_connect(self.publish_state)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the balancer thread."""
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._loop, name="evsefast-site", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the balancer thread (limits already sent stay valid until they expire)."""
        self._stop = True
        self._event.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def wake(self) -> None:
        """Rebalance now (a connector's demand changed)."""
        self._event.set()

    # -- authority -------------------------------------------------------------------------------
    def refusal(self) -> Optional[str]:
        """Why an EnergyManager's enforce_limits is refused (None: accepted)."""
        if self.site.authority == "balancer":
            return "this connector's limits are set by evsefast's site balancer (site.authority = 'balancer')"
        return None

    def on_external_limits(self, module_id: str) -> None:
        """An EnergyManager sent limits to ``module_id``: in ``auto`` it takes over the whole site."""
        if self.authority == "balancer" and self.site.authority == "auto":
            self.authority = "energy_manager"
            log.info("EVerest's EnergyManager sent limits to %s: it now sets the limits of every connector "
                     "(the site balancer stops)", module_id)
            self.publish_state()

    # -- the loop --------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop:
            try:
                if self.authority == "balancer":
                    self.rebalance()
            except Exception:  # noqa: BLE001 - keep balancing
                log.exception("site balancer failed")
            self._event.wait(self.site.rebalance_ms / 1000.0)
            self._event.clear()

    def demands(self) -> List[Demand]:
        """The connectors that want power now."""
        out = []
        for c in self.connectors:
            if c.demanding or self.limit_A is None:
                out.append(Demand(c.module_id, c.grid_phases(), c.max_current_A(), c.since))
        return out

    def rebalance(self) -> Dict[str, float]:
        """Compute and send the allocation; returns it."""
        with self._lock:
            demands = self.demands()
            alloc = allocate(self.limit_A, demands, self.site.min_current_A)
            full = {c.module_id: alloc.get(c.module_id, 0.0) for c in self.connectors}
            changed = full != self.allocations
            self.allocations = full
            self.rebalances += 1
            now = time.monotonic()
            refresh_s = self.site.limit_valid_s / 3.0
            due = []
            for c in self.connectors:
                if not c.manager.get("ready"):
                    # the manager sets its own start-up limit (0 A) when it boots: send ours after that
                    self._sent.pop(c.module_id, None)
                    continue
                amps = full[c.module_id]
                sent = self._sent.get(c.module_id)
                if sent is None or sent[0] != amps or now - sent[1] >= refresh_s:
                    due.append((amps - (sent[0] if sent else 0.0), c, amps))
            due.sort(key=lambda x: x[0])  # decreases first
            # a car that still charges follows a decrease only after seconds; one that stopped draws nothing
            if any(delta < 0 and c.demanding for delta, c, _ in due):
                self._increases_from = now + self.site.settle_s
            for delta, c, amps in due:
                if delta > 0 and now < self._increases_from:
                    continue  # held: the lowered cars have not followed yet (the loop sends it later)
                self._sent[c.module_id] = (amps, now)
                self._send(c, amps)
        if changed:
            log.info("site %s: limit %s -> %s", self.site.id,
                     "none" if self.limit_A is None else f"{self.limit_A:g} A/phase",
                     ", ".join(f"{k} {v:g} A" for k, v in full.items()))
            self.publish_state()
        return full

    def _send(self, connector, amps: float) -> None:
        limits = EnforcedLimits(uuid=connector.module_id, valid_for=self.site.limit_valid_s, schedule=[],
                                limits_root_side=LimitsRes(ac_max_current_A=NumberWithSource(value=amps,
                                                                                             source=SOURCE)))
        mgr = connector.manager

        def apply() -> None:
            if self.authority == "balancer":  # not if the EnergyManager took over while this was queued
                mgr.enforce_limits(limits)
        connector.driver.submit(apply)

    # -- MQTT --------------------------------------------------------------------------------------
    def set_limit(self, limit_A: Optional[float]) -> None:
        """Change the site limit (A per phase, None = none) and rebalance at once."""
        self.limit_A = limit_A
        log.info("site %s: limit set to %s", self.site.id, "none" if limit_A is None else f"{limit_A:g} A/phase")
        self.wake()

    def _on_set_limit(self, topic: str, payload: bytes) -> None:
        try:
            limit, reply = parse_limit(payload)
        except ValueError as exc:
            log.warning("site %s: %s", self.site.id, exc)
            try:
                reply = msgspec.json.decode(payload).get("headers", {}).get("replyTo", "")
            except Exception:  # noqa: BLE001 - nothing to answer to
                reply = ""
            if reply:
                self.link.publish(reply, b"false", qos=0)
            return
        self.set_limit(limit)
        if reply:
            self.link.publish(reply, b"true", qos=0)

    def publish_state(self) -> None:
        """Publish ``e2m/state``."""
        state = {"limit_A": self.limit_A, "authority": self.authority, "allocations": dict(self.allocations)}
        self.link.publish(f"{self.base}/e2m/state", encode_json(state), qos=0)
