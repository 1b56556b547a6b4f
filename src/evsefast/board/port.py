"""The board port: what the manager sends to a board and what a board reports back.

``BoardSupport`` mirrors EVerest's ``evse_board_support`` interface (spec §7.1/§7.2)
plus the ``connector_lock`` commands.  Commands flow down as method calls; data
flows up through a ``BoardListener`` that the manager attaches.  A board may call
the listener from its own thread (a serial reader, say): the manager's listener
is thread-safe and never blocks the caller.

``PowerMeter`` mirrors EVerest's ``powermeter`` interface: samples flow up through
``BoardListener.on_powermeter``, transaction requests flow down.
"""
from __future__ import annotations

import abc
from typing import Optional

from ..types.board import (
    BoardError,
    BspEvent,
    HardwareCapabilities,
    PowerOnOff,
    ProximityPilot,
    Telemetry,
)
from ..types.powermeter import (
    Powermeter,
    TransactionReq,
    TransactionRequestStatus,
    TransactionStartResponse,
    TransactionStopResponse,
)


class BoardListener(abc.ABC):
    """Receives what a board reports. The manager implements it; boards call it."""

    @abc.abstractmethod
    def on_bsp_event(self, event: BspEvent) -> None:
        """A CP state (A-F), PowerOn/PowerOff contactor feedback, or Disconnected."""

    @abc.abstractmethod
    def on_capabilities(self, capabilities: HardwareCapabilities) -> None:
        """The board's hardware capabilities (published at least once)."""

    @abc.abstractmethod
    def on_ac_pp_ampacity(self, pp: ProximityPilot) -> None:
        """Cable ampacity read from the proximity pilot (socket connectors)."""

    @abc.abstractmethod
    def on_ac_nr_of_phases_available(self, phases: int) -> None:
        """Number of phases the board can currently supply (1..3)."""

    @abc.abstractmethod
    def on_telemetry(self, telemetry: Telemetry) -> None:
        """Board telemetry (temperatures, supply voltages, relay state)."""

    @abc.abstractmethod
    def on_request_stop_transaction(self, request) -> None:
        """The board asks to stop the transaction (a ``StopTransactionRequest``)."""

    @abc.abstractmethod
    def on_error_raised(self, error: BoardError) -> None:
        """A board error became active (e.g. ``evse_board_support/DiodeFault``)."""

    @abc.abstractmethod
    def on_error_cleared(self, error_type: str, sub_type: str = "") -> None:
        """A board error identified by ``(error_type, sub_type)`` is no longer active."""

    @abc.abstractmethod
    def on_powermeter(self, sample: Powermeter) -> None:
        """A power-meter sample from the billing meter."""


class BoardSupport(abc.ABC):
    """A charger board: control pilot, contactors, connector lock (evse_board_support).

    Implementations: ``evsefast.sim.board.SimBoard`` (simulated physics),
    ``evsefast.board.yeti.driver.YetiBoard`` (serial), ``evsefast.testing.FakeBoard``
    (records every command, for users' own tests).
    """

    #: True if the board drives a connector lock (``force_unlock`` then returns true).
    supports_connector_lock: bool = True

    def __init__(self) -> None:
        self._listener: Optional[BoardListener] = None

    def attach(self, listener: BoardListener) -> None:
        """Connect the manager's listener; called once before ``start``."""
        self._listener = listener

    @property
    def listener(self) -> Optional[BoardListener]:
        """The attached listener, or None."""
        return self._listener

    def start(self) -> None:
        """Begin reporting (open ports, start threads). Default: nothing to do."""

    def close(self) -> None:
        """Stop reporting and release resources. Default: nothing to do."""

    # -- evse_board_support commands -------------------------------------------------
    @abc.abstractmethod
    def enable(self, value: bool) -> None:
        """Enable or disable the board (a disabled board caches PWM commands)."""

    @abc.abstractmethod
    def pwm_on(self, value: float) -> None:
        """Start or change the 1 kHz PWM; ``value`` is the duty in percent (0..100)."""

    @abc.abstractmethod
    def cp_state_X1(self) -> None:
        """PWM off: constant +12 V (state X1)."""

    @abc.abstractmethod
    def cp_state_F(self) -> None:
        """Constant -12 V: EVSE not available (state F)."""

    def cp_state_E(self) -> None:
        """0 V on the CP (state E). Never used by the manager; optional."""
        raise NotImplementedError("this board does not support CP state E")

    @abc.abstractmethod
    def allow_power_on(self, value: PowerOnOff) -> None:
        """Allow (or forbid) closing the contactors."""

    @abc.abstractmethod
    def ac_switch_three_phases_while_charging(self, value: bool) -> None:
        """Switch between one phase (False) and three phases (True)."""

    @abc.abstractmethod
    def ac_set_overcurrent_limit_A(self, value: float) -> None:
        """Set the board's hardware over-current limit in A."""

    # -- connector_lock commands -----------------------------------------------------
    def lock(self) -> None:
        """Lock the connector. Default: no lock fitted, nothing to do."""

    def unlock(self) -> None:
        """Unlock the connector. Default: no lock fitted, nothing to do."""


class PowerMeter(abc.ABC):
    """A billing power meter (EVerest ``powermeter``): samples up, transactions down."""

    def __init__(self) -> None:
        self._listener: Optional[BoardListener] = None

    def attach(self, listener: BoardListener) -> None:
        """Connect the manager's listener (receives ``on_powermeter`` samples)."""
        self._listener = listener

    @property
    def listener(self) -> Optional[BoardListener]:
        """The attached listener, or None."""
        return self._listener

    def start_transaction(self, request: TransactionReq) -> TransactionStartResponse:
        """Begin a metered transaction. Default: not supported."""
        return TransactionStartResponse(status=TransactionRequestStatus.NOT_SUPPORTED)

    def stop_transaction(self, transaction_id: str) -> TransactionStopResponse:
        """End a metered transaction. Default: not supported."""
        return TransactionStopResponse(status=TransactionRequestStatus.NOT_SUPPORTED)


__all__ = ["BoardListener", "BoardSupport", "PowerMeter"]
