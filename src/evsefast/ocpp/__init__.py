"""An OCPP charge point on the ``ocpp`` package and ``websockets``, driving ``EvseManager``s in-process.

* :class:`ChargePoint` -- OCPP 1.6J (Core, Smart Charging, Reservation, Remote Trigger; security
  profiles 1 and 2) or 2.0.1 (core) over one or more managers; persistent offline queue in SQLite.
* :mod:`evsefast.ocpp.testing` -- a recording CSMS built with the same package (tests, demos).
* :mod:`evsefast.ocpp.fleet` -- many simulated charge points in one process (``evsefast chargepoint --count N``).

The mapping from the manager's session events to OCPP messages follows ``spec/ocpp.md``; the
docstrings of :mod:`.v16.connector` and :mod:`.v201.connector` say what is sent when.
"""
from .chargepoint import VERSIONS, ChargePoint
from .settings import SETTINGS, Settings
from .store import OcppStore

__all__ = ["ChargePoint", "OcppStore", "SETTINGS", "Settings", "VERSIONS"]
