"""``evsefast serve``: drive a simulated connector's car over MQTT, the way EVerest's EvManager and
YetiSimulator are driven (wire_protocols.md §4.1-§4.2), so Node-RED flows and test controllers work:

* ``{external_prefix}everest_external/nodered/<connector_id>/carsim/cmd/execute_charging_session``:
  a car script (EVerest's command language), replacing the car's queue from its defaults;
* ``…/carsim/cmd/modify_charging_session``: replace the queue, keep the car's state;
* ``…/carsim/cmd/enable``: ``false`` unplugs and stops the car (``true`` changes nothing);
* ``…/carsim/error``: ``{"error_type": "MREC6UnderVoltage", "raise": "true"}`` raises (``"false"``
  clears) a board error (``evse_board_support/<type>`` unless the type names its interface).

Payloads are the raw text (a JSON string is accepted too).  Bad input is logged and ignored.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from .errors import InvalidInput

__all__ = ["CarSim"]

log = logging.getLogger("evsefast.serve")


def _text(payload: bytes) -> str:
    text = payload.decode("utf-8", "replace").strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
            if isinstance(value, str):
                return value
        except ValueError:
            pass
    return text


class CarSim:
    """The carsim topics of one simulated connector (car and hardware touched on its driver thread)."""

    def __init__(self, link, driver, hardware, car, *, connector_id: int, module_id: str,
                 external_prefix: str = "") -> None:
        self.driver = driver
        self.hardware = hardware
        self.car = car
        self.module_id = module_id
        self.base = f"{external_prefix}everest_external/nodered/{connector_id}/carsim"
        link.subscribe(f"{self.base}/cmd/+", self._on_cmd, qos=0)
        link.subscribe(f"{self.base}/error", self._on_error, qos=0)

    def _on_cmd(self, topic: str, payload: bytes) -> None:
        cmd = topic[len(self.base) + 5:]
        text = _text(payload)
        if cmd in ("execute_charging_session", "modify_charging_session"):
            self.driver.submit(lambda: self._script(cmd, text))
        elif cmd == "enable":
            if text.lower() == "false":
                self.driver.submit(lambda: self._script("execute_charging_session", ""))
        else:
            log.warning("%s: carsim: unknown cmd %r (execute_charging_session, modify_charging_session, enable)",
                        self.module_id, cmd)

    def _script(self, cmd: str, script: str) -> None:
        try:
            if cmd == "modify_charging_session":
                self.car.modify(script)
            else:
                self.car.execute(script)
        except InvalidInput as exc:
            log.warning("%s: carsim: %s rejected: %s", self.module_id, cmd, exc)
            return
        log.info("%s: car: %s %r", self.module_id, cmd, script)

    def _on_error(self, topic: str, payload: bytes) -> None:
        try:
            msg: Any = json.loads(payload)
            etype = str(msg["error_type"])
            raised = str(msg.get("raise", "true")).lower() == "true"
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s: carsim error: expected {\"error_type\": ..., \"raise\": \"true\"}: %s", self.module_id, exc)
            return
        kind = etype if "/" in etype else f"evse_board_support/{etype}"

        def inject() -> None:
            try:
                self.hardware.inject_fault(kind, raised)
            except InvalidInput as exc:
                log.warning("%s: carsim error rejected: %s", self.module_id, exc)
        self.driver.submit(inject)
