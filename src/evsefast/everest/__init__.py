"""evsefast over EVerest's MQTT protocols (wire_protocols.md §1, §2).

* :class:`EverestModule` -- an ``EvseManager`` as an EVerest module: provides ``evse``
  (evse_manager) and ``energy_grid`` (energy) in the framework's current or legacy format;
* :class:`ConsumerApi` -- the ``everest_api/1/evse_manager_consumer/<id>`` tree for external apps;
* :class:`EverestBoard` / :class:`EverestPowerMeter` -- EVerest BSP and power-meter modules used as
  evsefast's ``BoardSupport`` / ``PowerMeter`` ports;
* :class:`EverestConnector` -- one manager with its driver thread, module and consumer API on a link;
* :class:`MqttLink`, :class:`ManagerDriver`, :class:`MqttSettings`, :class:`ModuleIds` -- the
  connection, the thread that owns a manager, and the EVerest-style settings;
* :class:`EverestPeer`, :class:`Mosquitto` and ``evsefast.everest.testing.ModuleRig`` -- EVerest's side
  of the wire, a real broker, and a manager on a recording board as a module, for tests.

``run_module`` wires one manager up in a few lines; ``evsefast serve`` runs whole sites.
Names are imported lazily (paho-mqtt is only loaded when used).
"""
from __future__ import annotations

from importlib import import_module

_LAZY = {
    "ConsumerApi": "evsefast.everest.api",
    "EverestBoard": "evsefast.everest.board",
    "EverestConnector": "evsefast.everest.run",
    "EverestModule": "evsefast.everest.module",
    "EverestPeer": "evsefast.everest.peer",
    "EverestPowerMeter": "evsefast.everest.powermeter",
    "ManagerDriver": "evsefast.everest.driver",
    "ModuleIds": "evsefast.everest.settings",
    "Mosquitto": "evsefast.everest.broker",
    "MqttLink": "evsefast.everest.link",
    "MqttSettings": "evsefast.everest.settings",
    "run_module": "evsefast.everest.run",
    "wire_format": "evsefast.everest.wire",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'evsefast.everest' has no attribute {name!r}")
    value = getattr(import_module(target), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
