"""The ``[ocpp]`` section of ``evsefast serve``: the site's connectors as one OCPP charge point.

::

    [ocpp]
    csms = "wss://csms.example.com/ocpp/CP001"   # the CSMS endpoint, the identity at its end
    version = "1.6"                              # or "2.0.1"
    security_profile = 2                         # 0 none, 1 basic auth, 2 TLS + basic auth
    password = "0123456789abcdef0123"            # AuthorizationKey / BasicAuthPassword
    ca_file = "/etc/evsefast/csms-ca.pem"        # the CSMS's certificate authority (wss)
    state = "/var/lib/evsefast/ocpp.sqlite"      # offline queue, configuration, availability, open transactions
    connectors = ["connector_1", "connector_2"]  # OCPP connector 1, 2, ... (default: every connector, in order)
    config = { MeterValueSampleInterval = 60 }   # initial OCPP configuration (1.6 keys or setting names)

The charge point runs on its own thread with its own event loop; what it asks of a manager runs on
that connector's driver thread (``ServeConnector.run``), as everything touching a manager in
``evsefast serve`` does.  Smart charging makes the charge point the connectors' energy manager: with
``site.authority = "auto"`` the site balancer hands over to it at the start, ``"balancer"`` and a
``site.limit_A`` are refused (express a site limit as a ChargePointMaxProfile instead).
"""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Annotated, Any, Callable, Dict, List, Literal, Optional

import msgspec
from msgspec import Meta

from ..errors import InvalidInput

__all__ = ["ManagerOnDriver", "OcppSection", "OcppService"]

log = logging.getLogger("evsefast.ocpp")

#: the manager cmds the charge point uses; they run on the connector's driver thread
_CMDS = frozenset(("authorize_response", "withdraw_authorization", "enable_disable", "reserve", "cancel_reservation",
                   "pause_charging", "resume_charging", "stop_transaction", "force_unlock", "enforce_limits"))


class ManagerOnDriver:
    """An ``EvseManager`` whose cmds run through ``run(fn)`` (a driver thread); vars, subscriptions and
    read-only properties are the manager's own."""

    def __init__(self, manager, run: Callable[[Callable[[], Any]], Any]) -> None:
        self._manager = manager
        self._run = run

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._manager, name)
        if name in _CMDS:
            def cmd(*args: Any, **kwargs: Any) -> Any:
                return self._run(lambda: attr(*args, **kwargs))
            return cmd
        return attr


class OcppSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[ocpp]``: see the module docstring."""

    csms: Annotated[str, Meta(min_length=6, max_length=2000)]
    version: Literal["1.6", "2.0.1"] = "1.6"
    cp_id: Optional[Annotated[str, Meta(min_length=1, max_length=48)]] = None
    security_profile: Annotated[int, Meta(ge=0, le=2)] = 0
    password: Optional[Annotated[str, Meta(min_length=16, max_length=40)]] = None
    ca_file: Optional[str] = None
    state: Optional[str] = None
    connectors: Optional[List[str]] = None
    config: Dict[str, Any] = {}
    vendor: Annotated[str, Meta(min_length=1, max_length=20)] = "evsefast"
    model: Annotated[str, Meta(min_length=1, max_length=20)] = "evsefast"

    def __post_init__(self) -> None:
        from .link import Security, build_url
        from .settings import SETTINGS, SettingError, Settings
        from .v16.keys import KEYS

        try:
            url, _ = build_url(self.csms, self.cp_id)
            Security(self.security_profile, self.password, self.ca_file).check(url)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        for key, value in self.config.items():
            name = KEYS.get(key, key)
            if name not in SETTINGS:
                raise ValueError(f"config: unknown key {key!r}")
            try:
                Settings.check(name, value)
            except SettingError as exc:
                raise ValueError(f"config: {exc}") from None

    def settings(self) -> Dict[str, Any]:
        """The initial settings (setting name -> value)."""
        from .settings import Settings
        from .v16.keys import KEYS

        return {KEYS.get(k, k): Settings.check(KEYS.get(k, k), v) for k, v in self.config.items()}

    def start(self, site) -> "OcppService":
        """Build and start the charge point over the site's connectors."""
        cfg = site.config.site
        if cfg.limit_A is not None or cfg.authority == "balancer":
            raise InvalidInput("ocpp: the charge point's smart charging sets the connectors' limits; leave out "
                               "site.limit_A and site.authority = 'balancer' (a ChargePointMaxProfile is the "
                               "OCPP way to cap the site)", "ocpp")
        wanted = self.connectors or [c.module_id for c in site.connectors]
        try:
            connectors = [site.connector(m) for m in wanted]
        except KeyError as exc:
            raise InvalidInput(f"ocpp.connectors: {exc.args[0]}", "ocpp.connectors") from None
        service = OcppService(self, connectors)
        if site.limiter is not None:  # "auto": the balancer hands over, as to an EnergyManager
            site.limiter.on_external_limits(connectors[0].module_id)
        service.start()
        return service


class OcppService:
    """The charge point of ``section`` on its own thread; ``stop()`` ends it."""

    def __init__(self, section: OcppSection, connectors: List[Any]) -> None:
        from .chargepoint import ChargePoint

        self.section = section
        self.connectors = connectors
        managers = [ManagerOnDriver(c.manager, c.run) for c in connectors]
        self.cp = ChargePoint(managers, section.csms, cp_id=section.cp_id, version=section.version,
                              store=section.state, settings=section.settings(),
                              security_profile=section.security_profile, password=section.password,
                              ca_file=section.ca_file, clock=connectors[0].manager.clock, vendor=section.vendor,
                              model=section.model)
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._started = threading.Event()

    def start(self) -> None:
        """Start the thread and the charge point in it."""
        self._thread = threading.Thread(target=self._main, name="evsefast-ocpp", daemon=True)
        self._thread.start()
        self._started.wait(5.0)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        try:
            task = loop.create_task(self.cp.run())
            loop.call_soon(self._started.set)
            loop.run_until_complete(task)
        except Exception:  # noqa: BLE001
            log.exception("the OCPP charge point stopped")
        finally:
            loop.close()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the charge point (queued transaction messages stay in the store) and the thread."""
        loop = self.loop
        if loop is not None and self._thread is not None and self._thread.is_alive():
            fut = asyncio.run_coroutine_threadsafe(self.cp.stop(), loop)
            try:
                fut.result(timeout_s)
            except Exception:  # noqa: BLE001
                log.warning("the OCPP charge point did not stop within %g s", timeout_s)
            self._thread.join(timeout_s)
        self.cp.close()
