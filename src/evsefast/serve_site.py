"""``Site``: everything ``evsefast serve`` runs in one process.

One MQTT connection (``MqttLink``) shared by the connectors (``ServeConnector``: board, manager,
EVerest module, consumer API, each on its own driver thread), the site limiter (balancer thread), and
the extension sections of the config (``serve_config.SECTIONS``), which get the running site:
``site.connectors`` (each with ``module_id``, ``manager``, ``run(fn)`` to act on its driver thread),
``site.connector(module_id)``, ``site.link`` and ``site.config``.

``shutdown()`` is the SIGTERM path: the balancer stops; every connector's transaction is stopped
(reason ``Reboot``: the charger's software restarts) and the connector disabled (CP F, power off);
the final vars go out (``ready`` false last, acknowledged by the broker); then the extensions, the
drivers, the boards and the connection close.
"""
from __future__ import annotations

import logging
import time
from typing import Any, List, Optional

from .errors import EvseError
from .everest.link import MqttLink
from .everest.wire import wire_format
from .serve_config import ServeConfig
from .serve_connector import ServeConnector
from .serve_limits import SiteLimiter

__all__ = ["Site"]

log = logging.getLogger("evsefast.serve")

_DISABLE = {"enable_source": "LocalAPI", "enable_state": "Disable", "enable_priority": 0}
_SETTLED = frozenset(("Idle", "Finished", "Disabled", "WaitingForAuthentication"))


class Site:
    """The process's connectors, balancer and services; see the module docstring."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        m = config.mqtt
        self.link = MqttLink(m, name=f"evsefast-serve-{config.site.id}")
        self.wire = wire_format(m.format)
        self.connectors: List[ServeConnector] = []
        self.limiter: Optional[SiteLimiter] = None
        limiter_ref: List[SiteLimiter] = []

        def on_change() -> None:
            if limiter_ref:
                limiter_ref[0].wake()

        def on_external(module_id: str) -> None:
            if limiter_ref:
                limiter_ref[0].on_external_limits(module_id)

        def refusal():
            return limiter_ref[0].refusal() if limiter_ref else None

        for i, section in enumerate(config.connectors):
            self.connectors.append(ServeConnector(i, section, self.link, self.wire, m.prefix,
                                                  external_prefix=m.external_prefix, on_change=on_change,
                                                  on_external_limits=on_external, limits_refusal=refusal))
        self.limiter = SiteLimiter(config.site, self.connectors, self.link, m.external_prefix)
        limiter_ref.append(self.limiter)
        self.services: List[Any] = []
        self._started = False

    def connector(self, module_id: str) -> ServeConnector:
        """The connector with ``module_id``."""
        for c in self.connectors:
            if c.module_id == module_id:
                return c
        raise KeyError(f"no connector {module_id!r}; connectors: {', '.join(c.module_id for c in self.connectors)}")

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the connectors, connect (in the background, with back-off), balance, start extensions."""
        if self._started:
            return
        self._started = True
        m = self.config.mqtt
        for c in self.connectors:
            c.start()
        self.link.start()
        self.limiter.start()
        for name, section in self.config.sections.items():
            log.info("starting [%s]", name)
            self.services.append(section.start(self))
        log.info("evsefast serve: %d connector(s) [%s], broker %s, %s format, site limit %s",
                 len(self.connectors), ", ".join(f"{c.module_id} ({c.section.board})" for c in self.connectors),
                 m.socket_path or f"{m.host}:{m.port}", m.format,
                 "none" if self.config.site.limit_A is None else f"{self.config.site.limit_A:g} A/phase")

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """The safe stop (see the module docstring); never raises."""
        if not self._started:
            return
        self._started = False
        log.info("evsefast serve: shutting down: every connector to its safe state")
        self.limiter.stop()
        for c in self.connectors:
            c.driver.submit(lambda c=c: self._stop_transaction(c))
        deadline = time.monotonic() + min(3.0, timeout_s)
        while time.monotonic() < deadline and any(c.manager.state not in _SETTLED for c in self.connectors):
            time.sleep(0.02)
        for c in self.connectors:
            self._safe(c)
        time.sleep(0.3)  # a simulated board's contactors open after its relay delay
        for c in self.connectors:
            try:
                c.run(c.module.republish_state, timeout_s=2.0)
            except Exception:  # noqa: BLE001
                log.exception("%s: final vars not published", c.module_id)
        for c in self.connectors:
            topic, payload = self.wire.var(c.module.base_evse, "ready", b"false")
            self.link.publish_wait(topic, payload, timeout_s=2.0)
        for svc in reversed(self.services):
            try:
                svc.stop()
            except Exception:  # noqa: BLE001
                log.exception("stopping a service failed")
        for c in self.connectors:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                log.exception("%s: close failed", c.module_id)
        self.link.stop()
        log.info("evsefast serve: stopped")

    @staticmethod
    def _stop_transaction(c: ServeConnector) -> None:
        try:
            c.manager.stop_transaction({"reason": "Reboot"})
        except EvseError as exc:  # not ready yet, or closed: there is no transaction to stop
            log.info("%s: no transaction stopped: %s", c.module_id, exc)

    @staticmethod
    def _safe(c: ServeConnector) -> None:
        try:
            c.run(lambda: c.manager.enable_disable(0, _DISABLE), timeout_s=2.0)
            log.info("%s: disabled (CP F, power off)", c.module_id)
        except Exception:  # noqa: BLE001 - the driver is stuck: force the board's safe state directly
            log.exception("%s: could not disable through the manager; forcing the board off", c.module_id)
            try:
                from .types.board import PowerOnOff, PowerOnOffReason

                c.manager.board.allow_power_on(PowerOnOff(allow_power_on=False, reason=PowerOnOffReason.PowerOff))
                c.manager.board.cp_state_F()
            except Exception:  # noqa: BLE001
                log.exception("%s: board did not take the safe state", c.module_id)
