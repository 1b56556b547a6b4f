"""Bad input on every cmd topic (both formats): malformed JSON, missing or extra args, wrong types,
unknown enum values -> an error CmdResult naming the problem, the charger's state unchanged, the
process alive; a flood of 10,000 bad messages does not grow memory."""
from __future__ import annotations

import gc
import json
import tracemalloc
import uuid

import pytest

from evsefast.everest.testing import ModuleRig
from evsefast.types.interface import CMDS

FORMATS = ["current", "legacy"]

GOOD_ARGS = {
    "get_evse": {},
    "enable_disable": {"connector_id": 0, "cmd_source": {"enable_source": "LocalAPI", "enable_state": "Disable",
                                                          "enable_priority": 0}},
    "authorize_response": {"provided_token": {"id_token": {"value": "T", "type": "ISO14443"},
                                              "authorization_type": "RFID"},
                           "validation_result": {"authorization_status": "Accepted", "tariff_messages": []}},
    "withdraw_authorization": {},
    "reserve": {"reservation_id": 7},
    "cancel_reservation": {},
    "pause_charging": {},
    "resume_charging": {},
    "stop_transaction": {"request": {"reason": "Local"}},
    "force_unlock": {"connector_id": 1},
    "external_ready_to_start_charging": {},
    "set_plug_and_charge_configuration": {"plug_and_charge_configuration": {"pnc_enabled": True}},
    "update_allowed_energy_transfer_modes": {"allowed_energy_transfer_modes": ["AC_three_phase_core"]},
}

#: per cmd: (label, args, field the message must name) for wrong types and unknown enum values
WRONG = {
    "enable_disable": [("type", {"connector_id": "0", "cmd_source": GOOD_ARGS["enable_disable"]["cmd_source"]},
                        "connector_id"),
                       ("enum", {"connector_id": 0, "cmd_source": {"enable_source": "Moon", "enable_state": "Disable",
                                                                    "enable_priority": 0}},
                        "cmd_source.enable_source"),
                       ("range", {"connector_id": 0, "cmd_source": {"enable_source": "LocalAPI",
                                                                     "enable_state": "Disable",
                                                                     "enable_priority": 10001}},
                        "cmd_source.enable_priority")],
    "authorize_response": [("enum", {"provided_token": {"id_token": {"value": "T", "type": "Bogus"},
                                                        "authorization_type": "RFID"},
                                     "validation_result": GOOD_ARGS["authorize_response"]["validation_result"]},
                            "provided_token.id_token.type")],
    "reserve": [("type", {"reservation_id": True}, "reservation_id"),
                ("type", {"reservation_id": 1.5}, "reservation_id")],
    "stop_transaction": [("enum", {"request": {"reason": "Whatever"}}, "request.reason")],
    "force_unlock": [("type", {"connector_id": [1]}, "connector_id")],
    "set_plug_and_charge_configuration": [("type", {"plug_and_charge_configuration": {"pnc_enabled": "yes"}},
                                           "plug_and_charge_configuration.pnc_enabled")],
    "update_allowed_energy_transfer_modes": [("enum", {"allowed_energy_transfer_modes": ["Warp"]},
                                              "allowed_energy_transfer_modes[0]"),
                                             ("range", {"allowed_energy_transfer_modes": []},
                                              "allowed_energy_transfer_modes")],
}


def _snapshot(rig):
    m = rig.manager
    return (m.state, len(m.session_events), [tuple(e) for e in m.active_errors],
            {name: m.get(name, "json") for name in m.VARS}, list(rig.board.commands))


def _send(rig, fmt, cmd, payload_obj=None, raw=None):
    if fmt == "current":
        topic = f"{rig.evse_base}/cmd/{cmd}"
    else:
        topic = f"{rig.evse_base}/cmd"
    rig.peer.publish(topic, raw if raw is not None else json.dumps(payload_obj).encode())


def _call(cmd, fmt, args, cid, **extra):
    data = {"id": cid, "args": args, "origin": "ocpp", **extra}
    if fmt == "current":
        return {"msg_type": "Cmd", "data": data}
    return {"name": cmd, "type": "call", "data": data}


def _watch_errors(rig, fmt):
    if fmt == "current":
        return rig.peer.watch(f"{rig.evse_base}/cmd/+/response/ocpp", lambda t, p: json.loads(p)["data"]["data"])
    return rig.peer.watch(f"{rig.evse_base}/cmd", lambda t, p: (
        json.loads(p)["data"] if json.loads(p).get("type") == "result" else None))


def _bad_calls(fmt):
    """(cmd, label, payload bytes, expected error type, text the message must contain)."""
    out = []
    for cmd, good in GOOD_ARGS.items():
        cid = f"{cmd}-json"
        malformed = json.dumps(_call(cmd, fmt, good, cid)).encode()[:-2] + b",,}"
        out.append((cmd, "malformed JSON", cid, malformed, "MessageParsingError", "malformed"))
        if good:
            first = next(iter(good))
            args = {k: v for k, v in good.items() if k != first}
            out.append((cmd, "missing arg", f"{cmd}-missing", json.dumps(_call(cmd, fmt, args, f"{cmd}-missing")).encode(),
                        "SchemaValidationError", f"missing argument '{first}'"))
        args = {**good, "bogus": 1}
        out.append((cmd, "extra arg", f"{cmd}-extra", json.dumps(_call(cmd, fmt, args, f"{cmd}-extra")).encode(),
                    "SchemaValidationError", "unknown argument 'bogus'"))
        for i, (label, args, field) in enumerate(WRONG.get(cmd, [])):
            cid = f"{cmd}-{label}-{i}"
            out.append((cmd, label, cid, json.dumps(_call(cmd, fmt, args, cid)).encode(), "SchemaValidationError",
                        field))
    return out


def test_every_cmd_has_a_wrong_type_or_enum_case_where_it_has_typed_args():
    assert {c for c, spec in CMDS.items() if spec.arguments} <= set(WRONG)


@pytest.mark.parametrize("fmt, inline", [("current", False), ("legacy", False), ("current", True)])
def test_bad_input_on_every_cmd_topic(mosquitto, fmt, inline):
    with ModuleRig(mosquitto, fmt, inline_cmds=inline) as rig:
        rig.plug_in()  # a session, so that a wrongly applied cmd would change something visible
        replies = _watch_errors(rig, fmt)
        before = _snapshot(rig)
        cases = _bad_calls(fmt)
        for cmd, label, cid, payload, etype, text in cases:
            _send(rig, fmt, cmd, raw=payload)
            got = replies.get(timeout_s=5)
            assert got["id"] == cid, (cmd, label)
            assert "retval" not in got and got["origin"] == "connector_1"
            assert got["error"]["__everest__error_type"] == etype, (cmd, label, got)
            assert text in got["error"]["__everest__error_msg"], (cmd, label, got)
        rig.run(lambda: None)
        assert _snapshot(rig) == before
        assert rig.driver.running and rig.module.bad_calls == len(cases)
        # still alive and answering
        assert rig.peer.call_value("connector_1", "evse", "get_evse")["id"] == 1
        # a bad message without id/origin cannot be answered: dropped, nothing changes
        _send(rig, fmt, "pause_charging", raw=b"\x00garbage")
        assert rig.peer.call_value("connector_1", "evse", "pause_charging") is False


def test_unknown_cmd_is_answered_with_an_error(mosquitto):
    with ModuleRig(mosquitto) as rig:
        replies = _watch_errors(rig, "current")
        _send(rig, "current", "make_coffee", _call("make_coffee", "current", {}, "c1"))
        got = replies.get()
        assert got["error"]["__everest__error_type"] == "MessageParsingError"
        assert "unknown cmd 'make_coffee'" in got["error"]["__everest__error_msg"]


@pytest.mark.slow
def test_a_flood_of_bad_messages_does_not_grow_memory(mosquitto):
    """10,000 bad calls (a third unanswerable garbage) after a warm-up: the traced Python memory of the
    whole process grows by less than 128 KiB (a leak of 13 bytes per message would exceed it).  Sent in
    bursts of 500, so the MQTT queues' high-water mark is reached in the warm-up and what is measured is
    what stays behind per message."""
    with ModuleRig(mosquitto) as rig:
        replies = rig.peer.watch(f"{rig.evse_base}/cmd/+/response/ocpp", lambda t, p: 1)
        cmds = list(GOOD_ARGS)

        def flood(n: int, burst: int = 500) -> None:
            for start in range(0, n, burst):
                expected = 0
                for i in range(start, min(n, start + burst)):
                    cmd = cmds[i % len(cmds)]
                    cid = uuid.uuid4().hex
                    if i % 3 == 0:
                        raw = b'{"msg_type":"Cmd","data":{"id":"' + cid.encode() + b'","origin":"ocpp","args":{,,}}}'
                    elif i % 3 == 1:
                        raw = json.dumps(_call(cmd, "current", {"nope": i}, cid)).encode()
                    else:
                        raw = b"garbage " + cid.encode()  # no id/origin to answer to
                    expected += i % 3 != 2
                    rig.peer.link.publish(f"{rig.evse_base}/cmd/{cmd}", raw, qos=0)
                rig.wait_for(lambda: len(replies.seen) >= expected, timeout_s=60, what="the error replies")
                replies.seen.clear()
                replies.drain()

        flood(1000)
        gc.collect()
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            flood(10_000)
            gc.collect()
            now, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        print(f"flood: traced memory grew by {(now - base) / 1024:.1f} KiB")
        assert now - base < 128 * 1024, f"memory grew by {(now - base) / 1024:.0f} KiB"
        assert rig.module.bad_calls >= 11_000
        assert rig.driver.running and rig.peer.call_value("connector_1", "evse", "get_evse")["id"] == 1
