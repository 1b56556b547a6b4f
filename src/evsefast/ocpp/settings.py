"""The charge point's settings: one typed table behind OCPP 1.6 keys and 2.0.1 variables.

Both protocols name the same behaviour differently (``MeterValueSampleInterval`` in 1.6,
``SampledDataCtrlr.TxUpdatedInterval`` in 2.0.1); both map onto the settings below.  A value the
CSMS changes is persisted (S16 §5.3: configuration survives a reboot) under ``cfg.<name>``.

Defaults follow the spec's examples and libocpp's Core defaults (spec/ocpp.md §2.6-§2.8, §4.4).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

__all__ = ["MEASURANDS", "SETTINGS", "Setting", "Settings", "SettingError"]

#: measurands this charge point can sample (from the billing meter and the published limits)
MEASURANDS = (
    "Energy.Active.Import.Register", "Energy.Active.Export.Register", "Power.Active.Import", "Current.Import",
    "Current.Offered", "Voltage", "Frequency",
)


class SettingError(ValueError):
    """A value that does not fit the setting (the message names the setting and what is allowed)."""


def _int(lo: int, hi: int) -> Callable[[str, Any], int]:
    def conv(name: str, v: Any) -> int:
        try:
            if isinstance(v, bool):
                raise ValueError
            n = int(str(v).strip())
        except ValueError:
            raise SettingError(f"{name}: must be an integer in [{lo}, {hi}], got {v!r}") from None
        if not lo <= n <= hi:
            raise SettingError(f"{name}: must be in [{lo}, {hi}], got {n}")
        return n
    return conv


def _bool(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "1"):
        return True
    if s in ("false", "0"):
        return False
    raise SettingError(f"{name}: must be true or false, got {v!r}")


def _measurands(name: str, v: Any) -> str:
    items = [x.strip() for x in str(v).split(",") if x.strip()]
    bad = [x for x in items if x not in MEASURANDS]
    if bad:
        raise SettingError(f"{name}: unsupported measurand {bad[0]!r}; supported: {', '.join(MEASURANDS)}")
    return ",".join(items)


def _text(lo: int, hi: int) -> Callable[[str, Any], str]:
    def conv(name: str, v: Any) -> str:
        s = str(v)
        if not lo <= len(s) <= hi:
            raise SettingError(f"{name}: must be {lo}-{hi} characters, got {len(s)}")
        return s
    return conv


@dataclass(frozen=True)
class Setting:
    """One setting: its default, the converter that validates a new value, and whether the CSMS may
    write it (``writable``) and read it back (``readable``; false for secrets)."""

    default: Any
    convert: Callable[[str, Any], Any]
    writable: bool = True
    readable: bool = True
    reboot: bool = False  # a change takes effect after a reconnect (RebootRequired)


SETTINGS: Dict[str, Setting] = {
    "heartbeat_interval_s": Setting(300, _int(0, 86400)),
    "connection_timeout_s": Setting(60, _int(0, 86400)),
    "meter_sample_interval_s": Setting(60, _int(0, 86400)),
    "sampled_data": Setting("Energy.Active.Import.Register,Power.Active.Import,Current.Import", _measurands),
    "stop_txn_sampled_data": Setting("Energy.Active.Import.Register", _measurands),
    "started_measurands": Setting("Energy.Active.Import.Register", _measurands),
    "tx_ended_interval_s": Setting(0, _int(0, 86400)),
    "clock_aligned_interval_s": Setting(0, _int(0, 86400)),
    "aligned_tx_ended_interval_s": Setting(0, _int(0, 86400)),
    "aligned_data": Setting("Energy.Active.Import.Register", _measurands),
    "stop_txn_aligned_data": Setting("", _measurands),
    "authorize_remote_tx": Setting(False, _bool),
    "local_authorize_offline": Setting(True, _bool),
    "local_pre_authorize": Setting(False, _bool),
    "allow_offline_tx_for_unknown_id": Setting(False, _bool),
    "authorization_cache_enabled": Setting(True, _bool),
    "stop_tx_on_invalid_id": Setting(True, _bool),
    "stop_tx_on_ev_side_disconnect": Setting(True, _bool, writable=False),
    "unlock_on_ev_side_disconnect": Setting(True, _bool, writable=False),
    "tx_message_attempts": Setting(3, _int(0, 100)),
    "tx_message_retry_interval_s": Setting(60, _int(0, 86400)),
    "message_timeout_s": Setting(30, _int(1, 3600)),
    "reset_retries": Setting(1, _int(0, 10)),
    "websocket_ping_interval_s": Setting(0, _int(0, 86400), reboot=True),
    "connector_phase_rotation": Setting("NotApplicable", _text(0, 500)),
    "authorization_key": Setting("", _text(16, 40), readable=False, reboot=True),
    "security_profile": Setting(0, _int(0, 2), reboot=True),
    "offline_threshold_s": Setting(60, _int(0, 86400)),
    "organization_name": Setting("evsefast", _text(0, 50)),
    "time_source": Setting("Heartbeat", _text(0, 50)),
    # read-only capabilities
    "reserve_connector_zero_supported": Setting(False, _bool, writable=False),
    "charge_profile_max_stack_level": Setting(10, _int(0, 1000), writable=False),
    "charging_schedule_max_periods": Setting(24, _int(1, 1000), writable=False),
    "max_charging_profiles_installed": Setting(20, _int(1, 1000), writable=False),
    "connector_switch_3to1_phase_supported": Setting(False, _bool, writable=False),
    "get_configuration_max_keys": Setting(100, _int(1, 1000), writable=False),
}


class Settings:
    """Current values: defaults, then ``overrides`` (e.g. from the command line), then what the CSMS
    changed (persisted in ``store``)."""

    def __init__(self, store, overrides: Optional[Dict[str, Any]] = None) -> None:
        self._store = store
        self._values: Dict[str, Any] = {name: s.default for name, s in SETTINGS.items()}
        for name, value in (overrides or {}).items():
            self._values[name] = self.check(name, value)
        for key, value in store.items("cfg."):
            name = key[4:]
            if name in SETTINGS:
                try:
                    self._values[name] = SETTINGS[name].convert(name, value)
                except SettingError:
                    pass  # a stale value from an older version: keep the default

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    @staticmethod
    def check(name: str, value: Any) -> Any:
        """The converted value, or ``SettingError`` naming the setting and what is allowed."""
        spec = SETTINGS.get(name)
        if spec is None:
            raise SettingError(f"unknown setting {name!r}")
        return spec.convert(name, value)

    def set(self, name: str, value: Any, *, persist: bool = True) -> Tuple[Any, Any]:
        """Validate and apply; returns ``(old, new)``."""
        new = self.check(name, value)
        old = self._values[name]
        self._values[name] = new
        if persist:
            self._store.put("cfg." + name, new)
        return old, new

    def measurands(self, name: str) -> Tuple[str, ...]:
        """A measurand list setting as a tuple."""
        text = self._values[name]
        return tuple(x for x in text.split(",") if x)
