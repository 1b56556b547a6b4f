"""``EverestConnector`` (one manager on MQTT: driver thread, module, consumer API) and ``run_module``.

The smallest standalone use, an evsefast manager replacing EVerest's EvseManager ``connector_1``::

    from evsefast import EvseManager
    from evsefast.everest import run_module
    conn = run_module(EvseManager({"module_id": "connector_1"}, board=my_board))
    ...
    conn.close()

Settings come from ``MqttSettings().with_env()`` (the ``EV_*`` / ``MQTT_SERVER_*`` variables) and the
module id from ``EV_MODULE`` unless given.
"""
from __future__ import annotations

import logging
import os
from typing import Callable, Optional

from .api import ConsumerApi
from .driver import ManagerDriver
from .link import MqttLink
from .module import EverestModule
from .settings import ModuleIds, MqttSettings
from .wire import wire_format

__all__ = ["EverestConnector", "run_module"]

log = logging.getLogger("evsefast.everest")


class EverestConnector:
    """One manager on a shared ``MqttLink``: a ``ManagerDriver`` thread, an ``EverestModule`` and (with
    ``ids.api_module_id``) a ``ConsumerApi``.  ``start``/``stop``; ``run(fn)`` runs ``fn`` on the
    driver thread and returns its result.  ``inline_cmds`` runs MQTT cmds on paho's network thread
    (lower latency; see the note in ``__init__`` for when that is allowed)."""

    def __init__(self, manager, link: MqttLink, ids: ModuleIds, *, step: Optional[Callable[[float], None]] = None,
                 time_ms: Optional[Callable[[], float]] = None, step_ms: float = 100.0,
                 wait_global_ready: bool = False, heartbeat_ms: float = 1000.0, comm_check_s: float = 5.0,
                 on_external_limits: Optional[Callable[[str], None]] = None,
                 limits_refusal: Optional[Callable[[], Optional[str]]] = None, inline_cmds: bool = False) -> None:
        s = link.settings
        if manager.config.module_id != ids.module_id:
            raise ValueError(f"the manager's config.module_id ({manager.config.module_id!r}) must be the EVerest "
                             f"module id ({ids.module_id!r}): enforce_limits is addressed by it")
        self.manager = manager
        self.link = link
        self.ids = ids
        self.wire = wire_format(s.format)
        self.driver = ManagerDriver(manager, name=f"evsefast-{ids.module_id}", time_ms=time_ms, step=step,
                                    step_ms=step_ms)
        self.module = EverestModule(manager, link, self.driver, self.wire, s.prefix, ids,
                                    wait_global_ready=wait_global_ready, on_external_limits=on_external_limits,
                                    limits_refusal=limits_refusal)
        # cmds on paho's network thread: one thread hop less per call. Only for a board that takes
        # commands from any thread while the driver ticks (not a simulated board: the driver steps it
        # without the manager's lock) and meters that never wait for MQTT (not EverestPowerMeter)
        self.module.inline_cmds = inline_cmds
        self.api: Optional[ConsumerApi] = None
        if ids.api_module_id:
            self.api = ConsumerApi(manager, link, self.driver, ids.api_module_id, external_prefix=s.external_prefix,
                                   heartbeat_ms=heartbeat_ms, comm_check_s=comm_check_s,
                                   framework=(self.wire, s.prefix), wall_s=manager.clock.wall_s)
        self.wait_global_ready = wait_global_ready

    def start(self) -> None:
        """Subscribe and start the driver (the manager starts now, or on GlobalReady)."""
        self.module.attach()
        if self.api is not None:
            self.api.attach()
        self.driver.start(start_manager=not self.wait_global_ready)

    def run(self, fn: Callable, timeout_s: float = 10.0):
        """Run ``fn()`` on the driver thread; its result."""
        return self.driver.run_sync(fn, timeout_s)

    def stop(self) -> None:
        """Stop the driver thread (the manager and board stay as they are)."""
        self.driver.stop()

    def close(self) -> None:
        """Stop the driver, the link if this connector owns it (``run_module``), and close the manager."""
        self.stop()
        if self.owns_link:
            self.link.stop()
        self.manager.close()

    owns_link = False


def run_module(manager, settings: Optional[MqttSettings] = None, ids: Optional[ModuleIds] = None, *,
               wait_global_ready: bool = False, connect_timeout_s: float = 0.0,
               inline_cmds: bool = False) -> EverestConnector:
    """Connect ``manager`` as an EVerest module and start it; ``close()`` the result to stop."""
    settings = (settings or MqttSettings()).with_env()
    if ids is None:
        ids = ModuleIds(module_id=os.environ.get("EV_MODULE") or manager.config.module_id)
    link = MqttLink(settings, name=ids.module_id)
    conn = EverestConnector(manager, link, ids, wait_global_ready=wait_global_ready, inline_cmds=inline_cmds)
    conn.owns_link = True
    conn.start()
    link.start()
    if connect_timeout_s > 0 and not link.wait_connected(connect_timeout_s):
        log.warning("no broker at %s yet; retrying in the background", settings.socket_path or
                    f"{settings.host}:{settings.port}")
    return conn
