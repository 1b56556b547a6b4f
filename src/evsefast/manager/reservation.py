"""Reservation bookkeeping (spec §2.6.4, HEAD EM/EvseManager.cpp:1713-1784, profile P7).

Pure bookkeeping: the charger decides when reserving is allowed and publishes the events.
"""
from __future__ import annotations

from typing import Optional


class Reservation:
    """``reserved`` and the stored id (-1 = reserved without a specific id, or none)."""

    def __init__(self) -> None:
        self.reserved = False
        self.stored_id = -1
        #: the id passed to the accepted ``reserve`` (may be negative), for the events
        self.last_id = -1

    def reserve(self, reservation_id: int) -> Optional[bool]:
        """Try to reserve (the caller checked state and errors).

        Returns None if refused, else whether ``ReservationStart`` should be published
        (HEAD: not for an overwrite of the same id, unless the stored id is still -1).
        """
        overwrite = self.stored_id == reservation_id
        if self.reserved and self.stored_id != -1 and not overwrite:
            return None
        publish = not overwrite or self.stored_id == -1
        self.reserved = True
        self.last_id = reservation_id
        if reservation_id >= 0:
            self.stored_id = reservation_id
        return publish

    def cancel(self) -> Optional[int]:
        """Unreserve; returns the id for ``ReservationEnd`` or None if nothing was reserved."""
        if not self.reserved:
            return None
        rid = self.stored_id if self.stored_id >= 0 else self.last_id
        self.reserved = False
        self.stored_id = -1
        self.last_id = -1
        return rid

    def session_reservation_id(self) -> Optional[int]:
        """The id for ``SessionStarted.reservation_id``: only if reserved with an id >= 0."""
        if self.reserved and self.stored_id >= 0:
            return self.stored_id
        return None

    def mismatches(self, reservation_id: Optional[int]) -> bool:
        """P7: reserved with an id >= 0 and an authorization naming a different id."""
        return (self.reserved and self.stored_id >= 0 and reservation_id is not None
                and reservation_id != self.stored_id)
