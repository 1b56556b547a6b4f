"""Power-loss store (spec §2.7(k)): the open transaction's uuid and energy in SQLite.

EVerest stores the session uuid in its key-value store at transaction start and overwrites it with
``""`` at transaction stop; evsefast also keeps the last persisted energy so the start-up clean-up
can report it in ``SessionCancelled{reason: PowerLoss}``.

SQLite from the standard library, WAL journal, ``synchronous=FULL``: a write has reached the disk
when the call returns, so a power cut (or SIGKILL) right after it loses nothing.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from typing import NamedTuple, Optional, Union

__all__ = ["MemoryStore", "SessionStore", "StoredSession", "open_store"]


class StoredSession(NamedTuple):
    """An open transaction found at start-up."""

    uuid: str
    energy_Wh_import: float
    energy_Wh_export: Optional[float]


class MemoryStore:
    """The store interface without a disk (tests, or chargers without persistence)."""

    def __init__(self) -> None:
        self._row: Optional[StoredSession] = None

    def begin(self, uuid: str, energy_Wh_import: float, energy_Wh_export: Optional[float] = None) -> None:
        """A transaction started: remember its uuid and start energy."""
        self._row = StoredSession(uuid, float(energy_Wh_import), energy_Wh_export)

    def update_energy(self, energy_Wh_import: float, energy_Wh_export: Optional[float] = None) -> None:
        """Persist the running transaction's latest energy (no-op without an open transaction)."""
        if self._row is not None:
            self._row = StoredSession(self._row.uuid, float(energy_Wh_import), energy_Wh_export)

    def clear(self) -> None:
        """The transaction stopped (EVerest writes ``""``)."""
        self._row = None

    def load(self) -> Optional[StoredSession]:
        """The transaction that was open when the process stopped, or None."""
        return self._row

    def close(self) -> None:
        """Nothing to release."""


class SessionStore(MemoryStore):
    """The SQLite-backed store at ``path`` (created if missing)."""

    _SCHEMA = ("CREATE TABLE IF NOT EXISTS session (id INTEGER PRIMARY KEY CHECK (id = 1), uuid TEXT NOT NULL, "
               "energy_Wh_import REAL NOT NULL, energy_Wh_export REAL)")

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        super().__init__()
        self.path = os.fspath(path)
        # autocommit (isolation_level=None): every statement is its own durable transaction
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(self._SCHEMA)
            row = self._db.execute(
                "SELECT uuid, energy_Wh_import, energy_Wh_export FROM session WHERE id = 1").fetchone()
        self._row = StoredSession(*row) if row is not None and row[0] else None

    def begin(self, uuid: str, energy_Wh_import: float, energy_Wh_export: Optional[float] = None) -> None:
        """Write the uuid and start energy synchronously."""
        super().begin(uuid, energy_Wh_import, energy_Wh_export)
        self._write("INSERT OR REPLACE INTO session (id, uuid, energy_Wh_import, energy_Wh_export) "
                    "VALUES (1, ?, ?, ?)", (uuid, float(energy_Wh_import), energy_Wh_export))

    def update_energy(self, energy_Wh_import: float, energy_Wh_export: Optional[float] = None) -> None:
        """Write the latest energy of the open transaction synchronously."""
        if self._row is None:
            return
        super().update_energy(energy_Wh_import, energy_Wh_export)
        self._write("UPDATE session SET energy_Wh_import = ?, energy_Wh_export = ? WHERE id = 1",
                    (float(energy_Wh_import), energy_Wh_export))

    def clear(self) -> None:
        """Forget the transaction synchronously."""
        super().clear()
        self._write("DELETE FROM session WHERE id = 1", ())

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple) -> None:
        with self._lock:
            self._db.execute(sql, args)


def open_store(store) -> Optional[MemoryStore]:
    """``None`` -> no store; a path -> :class:`SessionStore`; a store object -> itself."""
    if store is None:
        return None
    if isinstance(store, (str, bytes, os.PathLike)):
        return SessionStore(store)
    return store
