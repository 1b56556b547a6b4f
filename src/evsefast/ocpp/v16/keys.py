"""OCPP 1.6 configuration keys (S16 §9.1, §9.3 Smart Charging, §9.4 Reservation; SW §7) over the settings.

GetConfiguration lists every readable key (``AuthorizationKey`` is write-only, SW §7.2); ChangeConfiguration
answers NotSupported for an unknown key, Rejected for a read-only key or a bad value (an unsupported
measurand, S16 §3.16.4), Accepted otherwise (S16 §5.3, §5.8).
"""
from __future__ import annotations

from typing import Dict, Optional

from ..settings import SETTINGS

__all__ = ["KEYS", "STATIC", "key_value", "setting_of"]

#: 1.6 key -> setting name
KEYS: Dict[str, str] = {
    "AllowOfflineTxForUnknownId": "allow_offline_tx_for_unknown_id",
    "AuthorizationCacheEnabled": "authorization_cache_enabled",
    "AuthorizeRemoteTxRequests": "authorize_remote_tx",
    "ClockAlignedDataInterval": "clock_aligned_interval_s",
    "ConnectionTimeOut": "connection_timeout_s",
    "ConnectorPhaseRotation": "connector_phase_rotation",
    "GetConfigurationMaxKeys": "get_configuration_max_keys",
    "HeartbeatInterval": "heartbeat_interval_s",
    "LocalAuthorizeOffline": "local_authorize_offline",
    "LocalPreAuthorize": "local_pre_authorize",
    "MeterValuesAlignedData": "aligned_data",
    "MeterValuesSampledData": "sampled_data",
    "MeterValueSampleInterval": "meter_sample_interval_s",
    "ResetRetries": "reset_retries",
    "StopTransactionOnEVSideDisconnect": "stop_tx_on_ev_side_disconnect",
    "StopTransactionOnInvalidId": "stop_tx_on_invalid_id",
    "StopTxnAlignedData": "stop_txn_aligned_data",
    "StopTxnSampledData": "stop_txn_sampled_data",
    "TransactionMessageAttempts": "tx_message_attempts",
    "TransactionMessageRetryInterval": "tx_message_retry_interval_s",
    "UnlockConnectorOnEVSideDisconnect": "unlock_on_ev_side_disconnect",
    "WebSocketPingInterval": "websocket_ping_interval_s",
    "ReserveConnectorZeroSupported": "reserve_connector_zero_supported",
    "ChargeProfileMaxStackLevel": "charge_profile_max_stack_level",
    "ChargingScheduleMaxPeriods": "charging_schedule_max_periods",
    "MaxChargingProfilesInstalled": "max_charging_profiles_installed",
    "ConnectorSwitch3to1PhaseSupported": "connector_switch_3to1_phase_supported",
    "AuthorizationKey": "authorization_key",
    "SecurityProfile": "security_profile",
}

#: read-only keys with fixed values (number of connectors is filled in per charge point)
STATIC: Dict[str, str] = {
    "SupportedFeatureProfiles": "Core,SmartCharging,Reservation,RemoteTrigger",
    "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
    "MeterValuesSampledDataMaxLength": "7",
    "MeterValuesAlignedDataMaxLength": "7",
    "StopTxnSampledDataMaxLength": "7",
    "StopTxnAlignedDataMaxLength": "7",
}


def setting_of(key: str) -> Optional[str]:
    """The setting behind a key (keys are case-sensitive in 1.6), or None."""
    return KEYS.get(key)


def key_value(value) -> str:
    """A setting value as 1.6 configuration text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def writable(key: str) -> bool:
    """True if the CSMS may change ``key``."""
    name = KEYS.get(key)
    return name is not None and SETTINGS[name].writable
