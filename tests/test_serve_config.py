"""``evsefast serve``'s configuration: defaults, TOML and JSON files, the EVerest environment variables,
errors that name the key, and the extension point for more sections."""
from __future__ import annotations

import json
import sys
import types

import msgspec
import pytest

from evsefast import serve_config
from evsefast.errors import InvalidInput
from evsefast.serve_config import load_config, parse_config


def test_defaults_are_one_simulated_connector_and_localhost_1883():
    cfg = load_config(None, env={})
    assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.prefix, cfg.mqtt.external_prefix, cfg.mqtt.format) == (
        "localhost", 1883, "everest/", "", "current")
    assert [(c.module_id, c.board, c.api_module_id) for c in cfg.connectors] == [("connector_1", "sim", None)]
    assert cfg.site.limit_A is None and cfg.site.authority == "auto" and cfg.sections == {}


def test_toml_and_json_files_give_the_same_config(tmp_path):
    toml = tmp_path / "site.toml"
    toml.write_text('[mqtt]\nport = 1884\nformat = "legacy"\n\n[site]\nlimit_A = 32\n\n'
                    '[[connectors]]\nmodule_id = "cp_a"\nphases = "L2L3L1"\n[connectors.manager]\nevse_id = "DE*X*E1*1"\n'
                    '\n[[connectors]]\nmodule_id = "cp_b"\nboard = "yeti"\nport = "/dev/ttyUSB0"\nstore = "b.db"\n')
    data = {"mqtt": {"port": 1884, "format": "legacy"}, "site": {"limit_A": 32},
            "connectors": [{"module_id": "cp_a", "phases": "L2L3L1", "manager": {"evse_id": "DE*X*E1*1"}},
                           {"module_id": "cp_b", "board": "yeti", "port": "/dev/ttyUSB0", "store": "b.db"}]}
    js = tmp_path / "site.json"
    js.write_text(json.dumps(data))
    a, b = load_config(str(toml), env={}), load_config(str(js), env={})
    assert msgspec.to_builtins(a) == msgspec.to_builtins(b)
    assert a.site.limit_A == 32.0 and a.connectors[1].board == "yeti" and a.mqtt.format == "legacy"


def test_environment_overrides_the_file_as_everest_hands_it_to_a_module():
    env = {"MQTT_SERVER_ADDRESS": "10.0.0.2", "MQTT_SERVER_PORT": "1999", "EV_MQTT_EVEREST_PREFIX": "everest_x",
           "EV_MQTT_EXTERNAL_PREFIX": "ext_x/", "EV_MODULE": "evse_left"}
    cfg = parse_config({"mqtt": {"host": "broker", "port": 1884}}, env=env)
    assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.prefix, cfg.mqtt.external_prefix) == (
        "10.0.0.2", 1999, "everest_x/", "ext_x/")
    assert cfg.connectors[0].module_id == "evse_left"
    sock = parse_config({}, env={"EV_MQTT_BROKER_SOCKET_PATH": "/run/mosquitto.sock"})
    assert sock.mqtt.socket_path == "/run/mosquitto.sock" and sock.mqtt.host == ""


@pytest.mark.parametrize("data, field, text", [
    ({"mqtt": {"port": 0}}, "config.mqtt.port", ">= 1"),
    ({"mqtt": {"format": "v2"}}, "config.mqtt.format", "current"),
    ({"site": {"limit_A": -1}}, "config.site.limit_A", ">= 0"),
    ({"site": {"min_current_A": 5}}, "config.site.min_current_A", ">= 6"),
    ({"connectors": [{"board": "pi"}]}, "config.connectors[0].board", "sim"),
    ({"connectors": [{"module_id": "a/b"}]}, "config.connectors[0].module_id", "pattern"),
    ({"connectors": [{"bord": "sim"}]}, "config.connectors[0].bord", "unknown field"),
    ({"connectors": [{"board": "yeti"}]}, "config.connectors[0].port", "serial port"),
    ({"connectors": [{"board": "everest"}]}, "config.connectors[0].bsp_module_id", "BSP module"),
    ({"connectors": [{}, {}]}, "config.connectors[1].module_id", "used twice"),
    ({"connectors": [{"manager": {"module_id": "other"}}]}, "config.connectors[0].manager.module_id", "must equal"),
    ({"connectors": []}, "config.connectors", "at least one"),
    ({"connectors": [{"inline_cmds": True}]}, "config.connectors[0].inline_cmds", "not with a sim board"),
    ({"modbus": {}}, "config.modbus", "unknown section"),
])
def test_bad_values_name_the_key(data, field, text):
    with pytest.raises(InvalidInput) as info:
        parse_config(data, env={})
    assert info.value.field == field
    assert text in str(info.value)


def test_bad_files(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        load_config(str(tmp_path / "nope.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[mqtt\n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_config(str(bad))
    yaml = tmp_path / "c.yaml"
    yaml.write_text("a: 1\n")
    with pytest.raises(InvalidInput, match=".toml or .json"):
        load_config(str(yaml))


class Thing(msgspec.Struct, forbid_unknown_fields=True):
    """A made-up extension section."""

    url: str
    retries: int = 3

    def start(self, site):
        return _Service(self, site)


class _Service:
    started = []

    def __init__(self, section, site):
        self.section, self.site = section, site
        _Service.started.append(self)

    def stop(self):
        self.stopped = True


def test_an_extension_section_is_one_entry_in_SECTIONS(monkeypatch):
    mod = types.ModuleType("evsefast_test_thing")
    mod.Thing = Thing
    monkeypatch.setitem(sys.modules, "evsefast_test_thing", mod)
    monkeypatch.setitem(serve_config.SECTIONS, "thing", "evsefast_test_thing:Thing")
    cfg = parse_config({"thing": {"url": "ws://csms/x"}}, env={})
    assert cfg.sections == {"thing": Thing(url="ws://csms/x", retries=3)}
    with pytest.raises(InvalidInput) as info:
        parse_config({"thing": {"url": "x", "retires": 1}}, env={})
    assert info.value.field == "thing.retires"
