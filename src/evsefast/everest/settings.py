"""Broker, prefixes and ids the EVerest way (wire_protocols.md §1.1).

``MqttSettings`` is one process's connection: broker host/port or unix socket, the internal prefix
(``everest/``), the external prefix (``""``), the framework format (``current`` = framework >= v0.25,
``legacy`` = <= v0.24).  ``ModuleIds`` are one evse_manager module's ids: the module instance id, its
implementation ids (``evse``, ``energy_grid``) and the consumer-API module id.

Environment variables override the configuration, as EVerest's manager hands them to a child module
(``runtime.hpp:36-44``): ``EV_MQTT_EVEREST_PREFIX``, ``EV_MQTT_EXTERNAL_PREFIX``, ``EV_MQTT_BROKER_HOST``,
``EV_MQTT_BROKER_PORT``, ``EV_MQTT_BROKER_SOCKET_PATH``, ``EV_MODULE`` (the module id) and, read by the
manager itself, ``MQTT_SERVER_ADDRESS`` / ``MQTT_SERVER_PORT``.
"""
from __future__ import annotations

import os
from typing import Annotated, Dict, Literal, Mapping, Optional

import msgspec
from msgspec import Meta

from ..errors import InvalidInput

__all__ = ["ENV_VARS", "ModuleIds", "MqttSettings", "normalise_prefix"]

#: environment variable -> MqttSettings field (EV_MODULE is a ModuleIds field)
ENV_VARS: Dict[str, str] = {
    "EV_MQTT_EVEREST_PREFIX": "everest_prefix",
    "EV_MQTT_EXTERNAL_PREFIX": "external_prefix",
    "EV_MQTT_BROKER_HOST": "host",
    "EV_MQTT_BROKER_PORT": "port",
    "EV_MQTT_BROKER_SOCKET_PATH": "socket_path",
    "MQTT_SERVER_ADDRESS": "host",
    "MQTT_SERVER_PORT": "port",
}

Port = Annotated[int, Meta(ge=1, le=65535)]
Id = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[^/#+\s]+$")]


def normalise_prefix(prefix: str) -> str:
    """The internal prefix with exactly one trailing ``/`` (``runtime.cpp:274-283``)."""
    return prefix if prefix.endswith("/") else prefix + "/"


class MqttSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One MQTT connection (one process). Defaults are EVerest's."""

    host: str = "localhost"
    port: Port = 1883
    #: a unix socket instead of host/port (EVerest: ``mqtt_broker_socket_path``)
    socket_path: str = ""
    everest_prefix: str = "everest/"
    external_prefix: str = ""
    #: "current": framework >= v0.25 (EVerest >= 2025.12); "legacy": framework <= v0.24
    format: Literal["current", "legacy"] = "current"
    client_id: str = ""
    keepalive_s: Annotated[int, Meta(ge=5, le=3600)] = 30
    #: reconnect back-off: first retry after ``reconnect_min_s``, doubling up to ``reconnect_max_s``
    reconnect_min_s: Annotated[float, Meta(gt=0, le=60)] = 0.5
    reconnect_max_s: Annotated[float, Meta(gt=0, le=600)] = 15.0
    #: QoS 1/2 messages in flight; at or below mosquitto's ``max_inflight_messages`` (20), see §1.9
    max_inflight: Annotated[int, Meta(ge=1, le=20)] = 20

    @property
    def prefix(self) -> str:
        """The internal prefix with its trailing ``/``."""
        return normalise_prefix(self.everest_prefix)

    def __post_init__(self) -> None:
        if self.socket_path and self.host not in ("", "localhost"):
            raise InvalidInput(f"mqtt: set either socket_path or host, not both (EVerest rejects it); got "
                               f"host={self.host!r}, socket_path={self.socket_path!r}", "mqtt.socket_path")
        if self.external_prefix and normalise_prefix(self.external_prefix) == self.prefix:
            raise InvalidInput(f"mqtt.external_prefix must differ from the internal prefix {self.prefix!r}",
                               "mqtt.external_prefix")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise InvalidInput(f"mqtt.reconnect_max_s ({self.reconnect_max_s}) must be >= reconnect_min_s "
                               f"({self.reconnect_min_s})", "mqtt.reconnect_max_s")

    def with_env(self, env: Optional[Mapping[str, str]] = None) -> "MqttSettings":
        """These settings with the ``EV_MQTT_*`` / ``MQTT_SERVER_*`` variables of ``env`` applied."""
        env = os.environ if env is None else env
        changes: Dict[str, object] = {}
        for var, field in ENV_VARS.items():
            value = env.get(var)
            if value is None or value == "":
                continue
            if field == "port":
                try:
                    changes["port"] = int(value)
                except ValueError:
                    raise InvalidInput(f"{var} must be a port number 1-65535, got {value!r}", var) from None
                if not 1 <= changes["port"] <= 65535:
                    raise InvalidInput(f"{var} must be a port number 1-65535, got {value!r}", var)
            else:
                changes[field] = value
        if "socket_path" in changes and "host" not in changes:
            changes["host"] = ""
        if changes.get("host") and "socket_path" not in changes:
            changes["socket_path"] = ""
        if not changes:
            return self
        return msgspec.structs.replace(self, **changes)


class ModuleIds(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ids of one evse_manager module in an EVerest configuration."""

    #: the module instance id (config-sil.yaml: ``connector_1``); ``EV_MODULE`` for a single module
    module_id: Id = "connector_1"
    #: the module name the manager finds a manifest for (``bindings/everest/manifest.json``)
    module_name: Id = "evsefast"
    evse_impl: Id = "evse"
    energy_impl: Id = "energy_grid"
    #: the evse_manager_consumer_API id of this connector's API tree ("" = no API host)
    api_module_id: str = ""
    #: error origin mapping (EVerest ``mapping``): evse number, connector number (0 = not set)
    evse: Annotated[int, Meta(ge=0, le=128)] = 0
    connector: Annotated[int, Meta(ge=0, le=128)] = 0

    def __post_init__(self) -> None:
        if self.api_module_id and any(c in self.api_module_id for c in "/#+ "):
            raise InvalidInput(f"api_module_id must not contain '/', '#', '+' or spaces, got {self.api_module_id!r}",
                               "api_module_id")
