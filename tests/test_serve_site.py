"""A site in one process (``Site``, what ``evsefast serve`` runs), in real time on simulated boards and a
real mosquitto: the site limit changed live over MQTT is rebalanced within 1 s, EVerest's
EnergyManager takes over in ``auto`` and is refused in ``balancer``, extension sections start/stop."""
from __future__ import annotations

import json
import sys
import time
import types
import uuid

import msgspec
import pytest

from evsefast import serve_config
from evsefast.everest.calls import CallError
from evsefast.everest.peer import EverestPeer
from evsefast.serve_config import parse_config
from evsefast.serve_site import Site
from evsefast.testing import enforced_limits

CAR = "iec_wait_pwr_ready;draw_power_regulated 32,3;sleep 3600"


def _site(mosquitto, n=3, **site):
    tag = uuid.uuid4().hex[:8]
    data = {"mqtt": {"host": mosquitto.host, "port": mosquitto.port, "everest_prefix": f"everest_{tag}",
                     "external_prefix": f"ext_{tag}/"},
            "site": {"id": "depot", **site},
            "connectors": [{"module_id": f"cp{i}", "manager": {"disable_authentication": True},
                            "sim": {"car": CAR, "seed": i}} for i in range(n)]}
    return parse_config(data, env={})


def _wait(pred, timeout_s=10.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_site_limit_changed_live_is_rebalanced_within_a_second(mosquitto):
    # settle_s: increases wait this long after a decrease (10 s by default, test_serve_balancer checks why);
    # 1 s here keeps the managers' side of this test short
    cfg = _site(mosquitto, limit_A=20.0, settle_s=1.0)
    site = Site(cfg)
    peer = EverestPeer(cfg.mqtt, "hmi").start()
    base = f"{cfg.mqtt.external_prefix}evsefast/1/site/depot"
    states = peer.watch(f"{base}/e2m/state", lambda t, p: json.loads(p))
    replies = peer.watch(f"{base}/e2m/reply/#", lambda t, p: json.loads(p))
    try:
        site.start()
        _wait(lambda: all(c.demanding for c in site.connectors), what="three charging connectors")
        state = states.wait_for(lambda s: len(s["allocations"]) == 3 and all(a > 0 for a in s["allocations"].values()))
        assert state["limit_A"] == 20.0 and state["authority"] == "balancer"
        assert sorted(state["allocations"].values()) == [6.6, 6.7, 6.7]
        for limit, expect in ((40.0, [13.3, 13.3, 13.4]), (12.0, [0.0, 6.0, 6.0]), (None, [32.0, 32.0, 32.0])):
            if limit is None:
                # at 12 A the youngest session was paused (no 6 A left for it), the other two charge on
                _wait(lambda: sorted(c.manager.state for c in site.connectors)[:2] == ["Charging", "Charging"]
                      and sum(c.manager.state == "Charging" for c in site.connectors) == 2, what="one paused")
            t0 = time.monotonic()
            peer.publish(f"{base}/m2e/set_limit", json.dumps(
                {"headers": {"replyTo": f"{base}/e2m/reply/1"}, "payload": {"limit_A": limit}}).encode(), qos=0)
            assert replies.get() is True
            state = states.wait_for(lambda s: s["limit_A"] == limit and sorted(s["allocations"].values()) == expect)
            assert time.monotonic() - t0 < 1.0
            # the managers hold it: their limits var is the allocation (capped by the 32 A board)
            _wait(lambda: sorted(c.manager.get("limits").max_current for c in site.connectors) == expect,
                  what=f"the managers' limits for {limit}")
        peer.publish(f"{base}/m2e/set_limit", b'{"headers":{"replyTo":"' + f"{base}/e2m/reply/2".encode()
                     + b'"},"payload":-5}', qos=0)
        assert replies.get() is False and site.limiter.limit_A is None
    finally:
        site.shutdown()
        peer.stop()


def test_the_energy_manager_takes_over_in_auto_and_is_refused_in_balancer_mode(mosquitto):
    for authority in ("auto", "balancer"):
        cfg = _site(mosquitto, n=1, limit_A=32.0, authority=authority)
        site = Site(cfg)
        em = EverestPeer(cfg.mqtt, "energy_manager").start()
        try:
            site.start()
            c = site.connectors[0]
            _wait(lambda: c.demanding and c.manager.get("limits").max_current == 32.0, what="the balancer's limit")
            args = {"value": enforced_limits(10.0, valid_for=30, uuid="cp0")}
            if authority == "auto":
                em.call("cp0", "energy_grid", "enforce_limits", args)
                _wait(lambda: site.limiter.authority == "energy_manager", what="the hand-over")
                sent = dict(site.limiter._sent)
                time.sleep(0.6)  # two balancer periods: it sends nothing any more
                assert site.limiter._sent == sent
                assert c.manager.get("limits").max_current == 10.0
            else:
                with pytest.raises(CallError) as info:
                    em.call("cp0", "energy_grid", "enforce_limits", args)
                assert info.value.error_type == "HandlerException" and "site balancer" in info.value.message
                assert site.limiter.authority == "balancer" and c.manager.get("limits").max_current == 32.0
        finally:
            site.shutdown()
            em.stop()


class Thing(msgspec.Struct, forbid_unknown_fields=True):
    """A made-up extension section that records what the site gave it."""

    name: str

    def start(self, site):
        return _Service(self, site)


class _Service:
    instances = []

    def __init__(self, section, site):
        self.section = section
        self.modules = [c.module_id for c in site.connectors]
        self.ready = site.connector("cp0").run(lambda: site.connector("cp0").manager.get("ready"))
        self.stopped = False
        _Service.instances.append(self)

    def stop(self):
        self.stopped = True


def test_an_extension_section_gets_the_running_site(mosquitto, monkeypatch):
    mod = types.ModuleType("evsefast_test_site_thing")
    mod.Thing = Thing
    monkeypatch.setitem(sys.modules, "evsefast_test_site_thing", mod)
    monkeypatch.setitem(serve_config.SECTIONS, "thing", "evsefast_test_site_thing:Thing")
    data = msgspec.to_builtins(_site(mosquitto, n=2))
    data.pop("sections")
    data["thing"] = {"name": "x"}
    site = Site(parse_config(data, env={}))
    site.start()
    site.shutdown()
    svc = _Service.instances[-1]
    assert svc.section == Thing(name="x") and svc.modules == ["cp0", "cp1"] and svc.stopped
