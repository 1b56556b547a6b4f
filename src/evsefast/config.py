"""``ManagerConfig``: the EvseManager configuration (EVerest ``EM/manifest.yaml`` keys, spec §7.4).

Same key names and defaults as EVerest's manifest for the AC basic-charging keys; a few keys are
evsefast extensions (marked below).  Build it from keywords, or validate a dict / JSON text::

    cfg = ManagerConfig(connector_id=1, evse_id="DE*PNX*E1*1")
    cfg = ManagerConfig.from_any({"connector_id": 1, "has_ventilation": False})

Bad values raise :class:`evsefast.errors.CommandRejected` naming the field
(e.g. ``config.soft_over_current_timeout_ms: Expected `int` >= 6000``).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .errors import CommandRejected

__all__ = ["ManagerConfig"]


class ManagerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Configuration of one EvseManager (one connector). Defaults are EVerest's.

    ``connector_id`` is required by EVerest's manifest; evsefast defaults it to 1 so a bare
    ``EvseManager()`` works for a single-connector charger.
    """

    connector_id: Annotated[int, Meta(ge=1, le=128)] = 1
    connector_type: str = "Unknown"
    evse_id: str = "DE*PNX*E1234567*1"
    ac_nominal_voltage: Annotated[float, Meta(gt=0, le=1000)] = 230.0
    has_ventilation: bool = True
    charge_mode: Literal["AC", "DC"] = "AC"
    ac_hlc_enabled: bool = False
    ac_hlc_use_5percent: bool = True
    ac_enforce_hlc: bool = False
    hack_simplified_mode_limit_10A: bool = False
    soft_over_current_tolerance_percent: Annotated[float, Meta(ge=0, le=1000)] = 10.0
    soft_over_current_measurement_noise_A: Annotated[float, Meta(ge=0, le=1000)] = 0.5
    soft_over_current_timeout_ms: Annotated[int, Meta(ge=6000)] = 7000
    disable_authentication: bool = False
    request_zero_power_in_idle: bool = False
    external_ready_to_start_charging: bool = False
    uk_smartcharging_random_delay_enable: bool = False
    uk_smartcharging_random_delay_max_duration: Annotated[int, Meta(ge=0)] = 600
    uk_smartcharging_random_delay_at_any_change: bool = True
    initial_meter_value_timeout_ms: Annotated[int, Meta(ge=0)] = 5000
    switch_3ph1ph_delay_s: Annotated[int, Meta(ge=0)] = 10
    switch_3ph1ph_cp_state: Literal["X1", "F"] = "X1"
    lock_connector_in_state_b: bool = True
    state_F_after_fault_ms: Annotated[int, Meta(ge=0)] = 300
    fail_on_powermeter_errors: bool = True
    raise_mrec9: bool = False
    inoperative_error_use_vendor_id: bool = False
    session_id_type: Literal["UUID", "UUID_BASE64", "SHORT_BASE64"] = "UUID"
    # -- evsefast extensions --------------------------------------------------------------------
    #: EVerest module id: ``enforce_limits`` is ignored unless its ``uuid`` equals it, and it is
    #: the ``uuid`` of the published ``limits``.
    module_id: str = "evse_manager"
    #: Power-loss store: persist the session's energy at most this often while a transaction runs
    #: (the uuid itself is written synchronously at transaction start and stop). Each checkpoint is one
    #: synchronous SQLite WAL write (about 8 KiB and two flushes on the file system, see evsefast.store);
    #: raise it on small flash: the fallback energy it guards loses at most interval x charging power.
    session_store_interval_ms: Annotated[int, Meta(ge=0)] = 1000

    @classmethod
    def from_any(cls, value: Any) -> "ManagerConfig":
        """A ManagerConfig from None (defaults), a ManagerConfig, a dict, or JSON text/bytes.

        Raises ``CommandRejected`` whose ``field`` names the offending key (``config.<key>``).
        """
        if value is None:
            return cls()
        if isinstance(value, cls):
            # re-validate: msgspec does not check constraints on construction
            value = msgspec.structs.asdict(value)
        from .codec import decode  # local: codec imports the types package

        return decode(value, cls, field_prefix="config")
