"""``evsefast serve`` with an ``[ocpp]`` section: the site's connectors as one OCPP charge point (real
mosquitto, simulated boards in real time, a CSMS built with the ``ocpp`` package)."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from evsefast.errors import InvalidInput
from evsefast.ocpp.testing import Csms
from evsefast.serve_config import parse_config
from evsefast.serve_site import Site

CAR = "iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 3600"


def _config(mosquitto, ocpp, n=2, **site):
    tag = uuid.uuid4().hex[:8]
    return parse_config({
        "mqtt": {"host": mosquitto.host, "port": mosquitto.port, "everest_prefix": f"everest_{tag}",
                 "external_prefix": f"ext_{tag}/"},
        "site": {"id": "depot", **site},
        "connectors": [{"module_id": f"cp{i}", "sim": {"car": CAR if i == 0 else "", "seed": i}} for i in range(n)],
        "ocpp": ocpp}, env={})


def test_serve_runs_the_connectors_as_one_charge_point(mosquitto):
    async def main():
        async with Csms("1.6") as csms:
            cfg = _config(mosquitto, {"csms": csms.url("SITE1"), "config": {"MeterValueSampleInterval": 1}})
            site = Site(cfg)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, site.start)
            try:
                await csms.wait_for(lambda: "Preparing" in csms.statuses(1), timeout=20)
                keys = (await csms.call("SITE1", "GetConfiguration", key=["NumberOfConnectors"])).configuration_key
                assert keys[0]["value"] == "2"
                await csms.wait_for(lambda: csms.statuses(2)[-1:] == ["Available"], timeout=20)  # once ready
                res = await csms.call("SITE1", "RemoteStartTransaction", id_tag="SITE-TAG", connector_id=1)
                assert res.status == "Accepted"
                await csms.wait_for(lambda: "Charging" in csms.statuses(1), timeout=20)
                await csms.wait_for("MeterValues", timeout=20)
                start = csms.of("StartTransaction")[0].payload
                assert start["connector_id"] == 1 and start["id_tag"] == "SITE-TAG"
                # the charge point is the connectors' energy manager: the site balancer handed over
                assert site.limiter.authority == "energy_manager"
                limits = site.connectors[0].manager.get("enforced_limits")
                assert limits.limits_root_side.ac_max_current_A.source == "ocpp"
            finally:
                await loop.run_in_executor(None, site.shutdown)
            stops = csms.of("StopTransaction")
            assert stops and stops[0].payload["reason"] == "Reboot"  # serve's shutdown stops with Reboot
    asyncio.run(asyncio.wait_for(main(), 90))


def test_ocpp_section_is_validated(mosquitto):
    with pytest.raises(InvalidInput, match="ocpp"):
        _config(mosquitto, {"csms": "http://x/CP1"})
    with pytest.raises(InvalidInput, match="ocpp"):
        _config(mosquitto, {"csms": "ws://x/CP1", "config": {"NoSuchKey": 1}})
    with pytest.raises(InvalidInput, match="ocpp"):
        _config(mosquitto, {"csms": "ws://x/CP1", "unknown": 1})
    with pytest.raises(InvalidInput, match="ocpp"):
        _config(mosquitto, {"csms": "ws://x/CP1", "security_profile": 1})  # no password
    cfg = _config(mosquitto, {"csms": "ws://127.0.0.1:9/CP1", "connectors": ["nope"]}, n=1)
    with pytest.raises(InvalidInput, match="ocpp.connectors"):
        cfg.sections["ocpp"].start(Site(cfg))
    cfg = _config(mosquitto, {"csms": "ws://127.0.0.1:9/CP1"}, n=1, limit_A=32.0)
    with pytest.raises(InvalidInput, match="site.limit_A"):
        cfg.sections["ocpp"].start(Site(cfg))


def test_readme_ocpp_section_is_a_valid_serve_config(tmp_path):
    import re
    import sys
    from pathlib import Path

    readme = Path(__file__).resolve().parent.parent / "README.md"
    if not readme.is_file():
        pytest.skip("README.md is not beside the tests")
    block = readme.read_text().split("<!-- ocpp-serve-config -->", 1)[1]
    toml_text = re.search(r"```toml\n(.*?)```", block, re.S).group(1)
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    data = tomllib.loads(toml_text)
    (tmp_path / "ca.pem").write_text("")
    data["ocpp"]["ca_file"] = str(tmp_path / "ca.pem")
    cfg = parse_config(data, env={})
    sec = cfg.sections["ocpp"]
    assert sec.security_profile == 2 and sec.version == "1.6"
    assert sec.settings() == {"meter_sample_interval_s": 60, "allow_offline_tx_for_unknown_id": True}
