"""``evsefast serve``'s configuration: one place that reads, validates and defaults it.

A TOML (``.toml``) or JSON (``.json``) file; every section and key is optional::

    [mqtt]                       # evsefast.everest.MqttSettings: broker, prefixes, format
    host = "localhost"
    port = 1883

    [site]                       # the shared grid connection (SiteSection)
    limit_A = 32                 # per phase; leave out for no site limit

    [[connectors]]               # one table per connector (ConnectorSection); default: one "sim"
    module_id = "connector_1"
    board = "sim"                # "sim", "yeti" (serial port), "everest" (a BSP module over MQTT)

Without a file: one simulated connector ``connector_1`` and a broker on localhost:1883.  The
``EV_MQTT_*`` / ``MQTT_SERVER_*`` environment variables override ``[mqtt]``; ``EV_MODULE`` the module id
of a single connector (wire_protocols.md §1.1).  Bad values raise ``InvalidInput`` naming the key.

Extension point: a new top-level section (e.g. ``[ocpp]``) is one entry in ``SECTIONS``: its name ->
``"package.module:StructName"``, a msgspec Struct (``forbid_unknown_fields=True``) with a method
``start(site) -> service`` (the service has ``stop()``), where ``site`` is the running
:class:`evsefast.serve_site.Site`.  The module is imported only when a file has that section; the
section's Struct validates its keys, ``load_config`` puts it into ``ServeConfig.sections`` and the site
starts it after the connectors (and stops it before them).
"""
from __future__ import annotations

import json
import os
import re
import sys
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, Dict, List, Literal, Optional

import msgspec
from msgspec import Meta

from .codec import decode
from .errors import InvalidInput
from .everest.settings import MqttSettings

__all__ = [
    "ConnectorSection", "MeterRef", "SECTIONS", "ServeConfig", "SimSection", "SiteSection", "load_config",
    "parse_config",
]

#: Extension point (see the module docstring): section name -> "module:StructName".
SECTIONS: Dict[str, str] = {
    "ocpp": "evsefast.ocpp.serve:OcppSection",  # the site's connectors as one OCPP charge point
}

Id = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[^/#+\s]+$")]
Amps = Annotated[float, Meta(ge=0, le=10000)]


class SiteSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The grid connection the connectors of this process share."""

    id: Id = "site"
    #: amps per phase for all connectors together; None = no site limit (each gets its own maximum)
    limit_A: Optional[Amps] = None
    #: "auto": the built-in balancer until EVerest's EnergyManager sends enforce_limits, then the
    #: EnergyManager; "balancer": only the balancer (an EnergyManager's limits are refused);
    #: "energy_manager": only EVerest's EnergyManager (no limit until it sends one)
    authority: Literal["auto", "balancer", "energy_manager"] = "auto"
    #: the least current a charging connector is given; below it the connector is paused
    min_current_A: Annotated[float, Meta(ge=6, le=80)] = 6.0
    #: how often the balancer re-evaluates (plug/unplug/limit changes are picked up within this)
    rebalance_ms: Annotated[float, Meta(ge=50, le=1000)] = 250.0
    #: valid_for of the balancer's limits (a stalled process stops charging after this) and its refresh
    limit_valid_s: Annotated[int, Meta(ge=3, le=3600)] = 30
    #: how long an increase waits after a decrease was sent, so the lowered cars have followed before others
    #: draw more: the manager changes the PWM at most every 5 s (spec §3.4) and the car then has 5 s to
    #: follow (IEC 61851-1 A.4, 5 s), so 10 s keeps the drawn current within the site limit at all times
    settle_s: Annotated[float, Meta(ge=0, le=60)] = 10.0


class MeterRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An EVerest powermeter module used as a billing meter."""

    module_id: Id
    impl: Id = "main"
    timeout_s: Annotated[float, Meta(gt=0, le=300)] = 10.0


class SimSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The simulated board and car of a ``board = "sim"`` connector."""

    #: an EVerest car script run at start ("" = no car until one is sent over MQTT, see the README)
    car: str = ""
    seed: int = 0
    #: CP sampling of the simulated board (10 kS/s: every PWM period still resolved, cheap)
    sample_rate_Hz: Annotated[int, Meta(ge=1000, le=1_000_000)] = 10_000
    max_current_A: Annotated[float, Meta(ge=6, le=80)] = 32.0
    connector: Literal["cable", "socket"] = "cable"
    meter_interval_ms: Annotated[float, Meta(ge=100, le=60000)] = 1000.0
    telemetry_interval_ms: Annotated[float, Meta(ge=100, le=600000)] = 10000.0
    #: how often the simulation is advanced in real time (the car acts every 250 ms; each simulated
    #: event still reaches the manager at its own simulated time, and a cmd first brings the simulation
    #: to the present)
    step_ms: Annotated[float, Meta(ge=10, le=1000)] = 250.0


class ConnectorSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One connector: its EVerest ids, board, store and manager configuration."""

    module_id: Id = "connector_1"
    #: the manifest's module name (metadata) and implementation ids: keep the defaults with
    #: bindings/everest/manifest.json; "EvseManager" to stand in for EVerest's own manifest
    module_name: Id = "evsefast"
    evse_impl: Id = "evse"
    energy_impl: Id = "energy_grid"
    #: the consumer-API id (``everest_api/1/evse_manager_consumer/<id>``); default: the module id;
    #: "" = no consumer API for this connector
    api_module_id: Optional[str] = None
    board: Literal["sim", "yeti", "everest"] = "sim"
    #: yeti: the serial port (a device path or a pyserial URL) and its settings
    port: str = ""
    baudrate: Annotated[int, Meta(ge=9600, le=4_000_000)] = 115200
    yeti_profile: str = "yeti"
    #: everest: the BSP module and its implementation ids
    bsp_module_id: str = ""
    bsp_impl: Id = "board_support"
    lock_impl: str = ""
    rcd_impl: str = ""
    #: EVerest powermeter modules (billing meters); a sim board meters itself, a Yeti board too
    powermeters: List[MeterRef] = []
    #: path of the SQLite power-loss store ("" = none)
    store: str = ""
    #: the grid phases this connector is wired to, in its rotation (a 1-phase car uses the first)
    phases: Literal["L1L2L3", "L2L3L1", "L3L1L2", "L1", "L2", "L3"] = "L1L2L3"
    #: the connector's own maximum for the balancer (default: the board's capabilities)
    max_current_A: Optional[Annotated[float, Meta(ge=6, le=1000)]] = None
    #: error origin mapping (0 = the connector's manager connector_id)
    evse: Annotated[int, Meta(ge=0, le=128)] = 0
    sim: SimSection = SimSection()
    #: ManagerConfig keys (evsefast.config); module_id defaults to this connector's module_id
    manager: Dict[str, Any] = {}
    #: start the manager only after EVerest's GlobalReady ("auto": when the board is an EVerest module)
    wait_global_ready: Literal["auto", "yes", "no"] = "auto"
    #: run MQTT cmds on the MQTT thread: lower latency; not with a "sim" board or EVerest powermeters
    #: (a blocking SQLite store write then also holds up the other connectors' messages)
    inline_cmds: bool = False
    #: consumer API liveness (EVerest's defaults; <= 0 disables)
    heartbeat_ms: float = 1000.0
    comm_check_s: float = 5.0


class ServeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole file."""

    mqtt: MqttSettings = MqttSettings()
    site: SiteSection = SiteSection()
    connectors: List[ConnectorSection] = msgspec.field(default_factory=lambda: [ConnectorSection()])
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: extension sections (see ``SECTIONS``), validated by their own Structs
    sections: Dict[str, Any] = {}


def _literal_values(tp: Any, path: str) -> Optional[List[Any]]:
    """The allowed values when ``path`` (``connectors[0].board``) ends at a Literal field of ``tp``."""
    from msgspec import inspect as mi

    info = mi.type_info(tp)
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if isinstance(info, mi.UnionType):
            info = next((t for t in info.types if not isinstance(t, mi.NoneType)), info)
        if name:
            if not isinstance(info, mi.StructType):
                return None
            info = next((f.type for f in info.fields if f.encode_name == name), None)
        elif isinstance(info, mi.ListType):
            info = info.item_type
        if info is None:
            return None
    if isinstance(info, mi.UnionType):
        info = next((t for t in info.types if not isinstance(t, mi.NoneType)), info)
    return list(info.values) if isinstance(info, mi.LiteralType) else None


def _decode(data: Any, tp: Any, prefix: str) -> Any:
    """``codec.decode``, with the allowed values added for a bad Literal (the codec lists them for enums)."""
    try:
        return decode(data, tp, field_prefix=prefix)
    except InvalidInput as exc:
        values = _literal_values(tp, exc.field[len(prefix):].lstrip("."))
        if values is None or "allowed values" in str(exc):
            raise
        raise InvalidInput(f"{exc}; allowed values: {', '.join(map(str, values))}", exc.field) from exc


def _section_type(name: str):
    target = SECTIONS[name]
    mod, _, attr = target.partition(":")
    return getattr(import_module(mod), attr)


def parse_config(data: Any, env: Optional[Dict[str, str]] = None) -> ServeConfig:
    """Validate a config mapping (from TOML/JSON) and apply the environment; see the module docstring."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(f"config: expected a table of sections, got {type(data).__name__}", "config")
    data = dict(data)
    if "sections" in data:
        raise InvalidInput("config: 'sections' is not a section name", "config.sections")
    extras: Dict[str, Any] = {}
    for name in [k for k in data if k in SECTIONS]:
        extras[name] = _decode(data.pop(name), _section_type(name), name)
    unknown = [k for k in data if k not in ServeConfig.__struct_fields__]
    if unknown:
        allowed = [f for f in ServeConfig.__struct_fields__ if f != "sections"] + sorted(SECTIONS)
        raise InvalidInput(f"config: unknown section {unknown[0]!r}; sections: {', '.join(allowed)}",
                           f"config.{unknown[0]}")
    cfg = _decode(data, ServeConfig, "config")
    env = os.environ if env is None else env
    mqtt = cfg.mqtt.with_env(env)
    connectors = list(cfg.connectors)
    if not connectors:
        raise InvalidInput("config.connectors: at least one connector is needed", "config.connectors")
    ev_module = env.get("EV_MODULE")
    if ev_module and len(connectors) == 1:
        connectors[0] = msgspec.structs.replace(connectors[0], module_id=ev_module)
    _check_connectors(connectors)
    return msgspec.structs.replace(cfg, mqtt=mqtt, connectors=connectors, sections=extras)


def _check_connectors(connectors: List[ConnectorSection]) -> None:
    seen: Dict[str, str] = {}
    for i, c in enumerate(connectors):
        where = f"config.connectors[{i}]"
        for kind, value in (("module_id", c.module_id), ("api_module_id", c.api_module_id or "")):
            if value and value in seen and not (kind == "api_module_id" and seen[value] == c.module_id):
                raise InvalidInput(f"{where}.{kind}: {value!r} is used twice", f"{where}.{kind}")
            if value:
                seen[value] = c.module_id
        if c.board == "yeti" and not c.port:
            raise InvalidInput(f"{where}.port: a yeti board needs its serial port", f"{where}.port")
        if c.board == "everest" and not c.bsp_module_id:
            raise InvalidInput(f"{where}.bsp_module_id: an everest board needs the BSP module id",
                               f"{where}.bsp_module_id")
        if c.inline_cmds and (c.board == "sim" or c.powermeters):
            raise InvalidInput(f"{where}.inline_cmds: not with a sim board (stepped by its driver thread) or EVerest "
                               "powermeters (their transactions wait for MQTT)", f"{where}.inline_cmds")
        mid = c.manager.get("module_id")
        if mid is not None and mid != c.module_id:
            raise InvalidInput(f"{where}.manager.module_id must equal module_id ({c.module_id!r}): enforce_limits is "
                               "addressed by it", f"{where}.manager.module_id")


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"{path}: not valid JSON: {exc}", "config") from None
    if suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on 3.9/3.10 only
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{path}: not valid TOML: {exc}", "config") from None
    raise InvalidInput(f"{path}: the config file must end in .toml or .json", "config")


def load_config(path: Optional[str] = None, env: Optional[Dict[str, str]] = None) -> ServeConfig:
    """The configuration from ``path`` (None: the defaults), with the environment applied."""
    if path is None:
        return parse_config({}, env)
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"config file {path!r} does not exist", "config")
    return parse_config(_read(p), env)
