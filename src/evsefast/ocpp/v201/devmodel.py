"""The OCPP 2.0.1 device model: the components and variables this charge point has.

The variables the core features use, including the ones Part 6 TC_B_53 checks (spec/ocpp.md §4.4).
Most map onto the shared settings (``SampledDataCtrlr.TxUpdatedInterval`` is 1.6's
MeterValueSampleInterval); a few are fixed or computed from the state (AvailabilityState, DateTime).
Only the Actual attribute exists; ``BasicAuthPassword`` is write-only.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple, Union

from ..settings import SETTINGS, SettingError
from ..timefmt import iso

__all__ = ["DeviceModel", "VARIABLES", "Var"]


class Var(NamedTuple):
    """A variable: a setting name, a fixed text, or a function of (protocol, evse id) -> text."""

    source: Union[str, Callable[[Any, Optional[int]], str]]
    instance: Optional[str] = None
    evse: bool = False  # an EVSE / Connector component (needs component.evse.id)
    fixed: bool = False  # source is a fixed text


def _fixed(text: str, instance: Optional[str] = None, evse: bool = False) -> Var:
    return Var(text, instance, evse, True)


def _availability(proto, evse_id: Optional[int]) -> str:
    if evse_id is None:
        return "Available" if proto.cp_operative else "Unavailable"
    c = proto.connector(evse_id)
    return c.status() if c is not None else "Unavailable"


def _evse_available(proto, evse_id: Optional[int]) -> str:
    c = proto.connector(evse_id or 0)
    return "true" if c is not None and not c.unavailable else "false"


VARIABLES: Dict[Tuple[str, str], Var] = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): Var("heartbeat_interval_s"),
    ("OCPPCommCtrlr", "MessageTimeout"): Var("message_timeout_s", "Default"),
    ("OCPPCommCtrlr", "MessageAttempts"): Var("tx_message_attempts", "TransactionEvent"),
    ("OCPPCommCtrlr", "MessageAttemptInterval"): Var("tx_message_retry_interval_s", "TransactionEvent"),
    ("OCPPCommCtrlr", "OfflineThreshold"): Var("offline_threshold_s"),
    ("OCPPCommCtrlr", "ResetRetries"): Var("reset_retries"),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"): Var("unlock_on_ev_side_disconnect"),
    ("OCPPCommCtrlr", "WebSocketPingInterval"): Var("websocket_ping_interval_s"),
    ("OCPPCommCtrlr", "FileTransferProtocols"): _fixed("HTTPS"),
    ("OCPPCommCtrlr", "NetworkConfigurationPriority"): _fixed("0"),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"): _fixed("3"),
    ("SampledDataCtrlr", "TxUpdatedInterval"): Var("meter_sample_interval_s"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): Var("sampled_data"),
    ("SampledDataCtrlr", "TxEndedInterval"): Var("tx_ended_interval_s"),
    ("SampledDataCtrlr", "TxEndedMeasurands"): Var("stop_txn_sampled_data"),
    ("SampledDataCtrlr", "TxStartedMeasurands"): Var("started_measurands"),
    ("AlignedDataCtrlr", "Interval"): Var("clock_aligned_interval_s"),
    ("AlignedDataCtrlr", "Measurands"): Var("aligned_data"),
    ("AlignedDataCtrlr", "TxEndedInterval"): Var("aligned_tx_ended_interval_s"),
    ("AlignedDataCtrlr", "TxEndedMeasurands"): Var("stop_txn_aligned_data"),
    ("AuthCtrlr", "AuthorizeRemoteStart"): Var("authorize_remote_tx"),
    ("AuthCtrlr", "LocalAuthorizeOffline"): Var("local_authorize_offline"),
    ("AuthCtrlr", "LocalPreAuthorize"): Var("local_pre_authorize"),
    ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"): Var("allow_offline_tx_for_unknown_id"),
    ("AuthCacheCtrlr", "Enabled"): Var("authorization_cache_enabled"),
    ("TxCtrlr", "EVConnectionTimeOut"): Var("connection_timeout_s"),
    ("TxCtrlr", "StopTxOnInvalidId"): Var("stop_tx_on_invalid_id"),
    ("TxCtrlr", "StopTxOnEVSideDisconnect"): Var("stop_tx_on_ev_side_disconnect"),
    ("TxCtrlr", "TxStartPoint"): _fixed("EVConnected,Authorized"),
    ("TxCtrlr", "TxStopPoint"): _fixed("EVConnected,Authorized"),
    ("ClockCtrlr", "DateTime"): Var(lambda proto, _e: iso(proto.now_s())),
    ("ClockCtrlr", "TimeSource"): Var("time_source"),
    # read-only in 2.0.1 (changed through SetNetworkProfile, not supported here)
    ("SecurityCtrlr", "SecurityProfile"): Var(lambda proto, _e: str(proto.settings.security_profile)),
    ("SecurityCtrlr", "OrganizationName"): Var("organization_name"),
    ("SecurityCtrlr", "CertificateEntries"): _fixed("0"),
    ("SecurityCtrlr", "BasicAuthPassword"): Var("authorization_key"),
    ("DeviceDataCtrlr", "ItemsPerMessage"): _fixed("100"),
    ("DeviceDataCtrlr", "BytesPerMessage"): _fixed("65000"),
    ("SmartChargingCtrlr", "Enabled"): _fixed("true"),
    ("SmartChargingCtrlr", "Available"): _fixed("true"),
    ("ReservationCtrlr", "Enabled"): _fixed("true"),
    ("ReservationCtrlr", "Available"): _fixed("true"),
    ("ChargingStation", "AvailabilityState"): Var(_availability),
    ("ChargingStation", "Available"): _fixed("true"),
    ("ChargingStation", "SupplyPhases"): _fixed("3"),
    ("EVSE", "AvailabilityState"): Var(_availability, evse=True),
    ("EVSE", "Available"): Var(_evse_available, evse=True),
    ("EVSE", "SupplyPhases"): _fixed("3", evse=True),
    ("EVSE", "Power"): Var(lambda proto, e: str(round(proto.smart.hw_max_A(e) * 230.0 * 3)), evse=True),
    ("Connector", "AvailabilityState"): Var(_availability, evse=True),
    ("Connector", "Available"): Var(_evse_available, evse=True),
    ("Connector", "ConnectorType"): _fixed("cType2", evse=True),
}
_COMPONENTS = frozenset(k[0] for k in VARIABLES)
_ITEM_LISTS = ("GetVariables", "SetVariables", "GetReport")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class DeviceModel:
    """Get/SetVariables over a protocol object (its settings, connectors and smart charging)."""

    def __init__(self, proto) -> None:
        self.proto = proto

    def _lookup(self, component: Dict[str, Any], variable: Dict[str, Any]) -> Tuple[Optional[Var], Optional[int],
                                                                                     str]:
        cname = component.get("name")
        vname = variable.get("name")
        if cname not in _COMPONENTS:
            return None, None, "UnknownComponent"
        evse = component.get("evse") or {}
        evse_id = evse.get("id")
        var = VARIABLES.get((cname, vname))
        if var is None:
            return None, None, "UnknownVariable"
        if var.evse:
            if evse_id is None or self.proto.connector(int(evse_id)) is None:
                return None, None, "UnknownComponent"
            if cname == "Connector" and evse.get("connector_id") not in (None, 1):
                return None, None, "UnknownComponent"
        elif evse_id is not None:
            return None, None, "UnknownComponent"
        inst = variable.get("instance")
        if var.instance is not None and inst not in (None, var.instance):
            return None, None, "UnknownVariable"
        if var.instance is None and inst is not None and not (cname == "DeviceDataCtrlr" and inst in _ITEM_LISTS):
            return None, None, "UnknownVariable"
        return var, (None if evse_id is None else int(evse_id)), "Accepted"

    def get(self, item: Dict[str, Any]) -> Dict[str, Any]:
        """One GetVariableResult for a GetVariableData item."""
        component, variable = item.get("component", {}), item.get("variable", {})
        out: Dict[str, Any] = {"component": component, "variable": variable}
        attr = item.get("attribute_type", "Actual")
        var, evse_id, status = self._lookup(component, variable)
        if var is not None and attr != "Actual":
            status = "NotSupportedAttributeType"
        if status != "Accepted":
            out["attribute_status"] = status
            return out
        if var.fixed:
            value = var.source
        elif callable(var.source):
            value = var.source(self.proto, evse_id)
        else:
            if not SETTINGS[var.source].readable:
                out["attribute_status"] = "Rejected"  # write-only
                return out
            value = _text(getattr(self.proto.settings, var.source))
        out["attribute_status"] = "Accepted"
        out["attribute_value"] = value
        return out

    def set(self, item: Dict[str, Any]) -> Tuple[Dict[str, Any], Optional[str]]:
        """One SetVariableResult for a SetVariableData item, and the setting changed (if any)."""
        component, variable = item.get("component", {}), item.get("variable", {})
        out: Dict[str, Any] = {"component": component, "variable": variable}
        attr = item.get("attribute_type", "Actual")
        var, _evse, status = self._lookup(component, variable)
        if var is not None and attr != "Actual":
            status = "NotSupportedAttributeType"
        if status != "Accepted":
            out["attribute_status"] = status
            return out, None
        if var.fixed or callable(var.source) or not SETTINGS[var.source].writable:
            out["attribute_status"] = "Rejected"  # read-only
            return out, None
        name = var.source
        try:
            new = self.proto.settings.check(name, item.get("attribute_value"))
        except SettingError:
            out["attribute_status"] = "Rejected"
            return out, None
        self.proto.settings.set(name, new)
        out["attribute_status"] = "RebootRequired" if SETTINGS[name].reboot else "Accepted"
        return out, name
