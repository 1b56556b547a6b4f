"""Every var of the manager as JSON on a message bus, in EVerest's MQTT format.

One ``topic payload`` line per publication, as EVerest's framework publishes a var
(``everest/modules/<module>/impl/evse/var/<var>`` with ``{"msg_type":"Var","data":{"data":...}}``).
Replace ``publish`` by an MQTT client's (paho-mqtt: ``client.publish(topic, payload, qos=2)``).
The session is simulated with evsefast's test doubles on a manual clock: it runs in milliseconds.
"""
from __future__ import annotations

import sys
from typing import Callable

from evsefast.testing import ManagerHarness

TOPIC = "everest/modules/connector_1/impl/evse/var/{name}"


def publish(topic: str, payload: bytes) -> None:
    sys.stdout.write(f"{topic} {payload.decode()}\n")


def forward(name: str) -> Callable[[bytes], None]:
    """A subscriber that wraps the var's JSON (bytes, EVerest's field names) in the framework's envelope."""
    topic = TOPIC.format(name=name)

    def send(data: bytes) -> None:
        publish(topic, b'{"msg_type":"Var","data":{"data":' + data + b"}}")
    return send


h = ManagerHarness({"connector_id": 1}, start=False)  # a checking fake board and meter, a manual clock
for name in h.mgr.VARS:                                # all 15 vars of the interface
    h.mgr.subscribe(name, forward(name), encoding="json")
h.mgr.start()
h.sample(0.0)          # the first meter value: the manager is ready
h.limit(16.0)          # the energy manager's limit
h.plug_in()
h.authorize("RFID1")
h.advance(1_000)
h.cp("C")
h.cp("PowerOn")
for second in range(1, 31):   # 30 s at 11 kW, a meter value per second
    h.sample(second * 11_000 / 3600)
    h.advance(1_000)
for event in ("B", "PowerOff", "A"):
    h.cp(event)
h.advance(1_000)
