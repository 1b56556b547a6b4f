"""Power-loss store (spec §2.7(k)): the open transaction's uuid and energy in SQLite.

EVerest stores the session uuid in its key-value store at transaction start and overwrites it with
``""`` at transaction stop; evsefast also keeps the last persisted energy so the start-up clean-up
can report it in ``SessionCancelled{reason: PowerLoss}``.

SQLite from the standard library, WAL journal, ``synchronous=FULL``: a write has reached the disk
when the call returns, so a power cut (or SIGKILL) right after it loses nothing.

How often it writes, and what that costs in flash wear
-------------------------------------------------------
* At transaction start and stop: one synchronous write each (uuid and energy).
* While a transaction runs: one energy checkpoint per billing-meter sample, at most every
  ``ManagerConfig.session_store_interval_ms`` (default 1000 ms, so about once a second). Each checkpoint is
  one WAL frame (one 4 KiB page plus a 24-byte header) and one ``fsync``; SQLite copies the WAL back into the
  database file every 1000 pages (its default auto-checkpoint), so the file system sees about 8 KiB of writes
  and two flushes per checkpoint: about 30 MB and 3,600 syncs per hour of charging at the default, 0.5 MB
  and 60 syncs at ``session_store_interval_ms = 60000``.
* On eMMC or SD flash with a few thousand erase cycles per block, static wear levelling spreads this over
  the free space; a charger that charges 8 h a day at the default writes about 90 GB a year. Raise the
  interval on small or cheap flash: the checkpoint only matters when the power meter cannot be read at the
  next start-up, because ``SessionCancelled{PowerLoss}`` reports the meter's own reading taken then (P10);
  the energy lost from the fallback is at most interval × charging power (1 s at 22 kW: 6 Wh).

Errors are :class:`~evsefast.errors.StoreError` naming the path and what is wrong, never a raw
``sqlite3`` error. A corrupt or truncated database is moved aside as ``<name>.corrupt-<timestamp>`` (with
its ``-wal``/``-shm`` files) with a warning, and the store starts empty; a store that cannot be written at
all (missing directory, a directory, a read-only file system or file) is an error at construction.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from typing import NamedTuple, Optional, Union

from .errors import StoreError

log = logging.getLogger("evsefast.store")

__all__ = ["MemoryStore", "SessionStore", "StoredSession", "open_store"]


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """A damaged file, as opposed to one we may not open or write (which is not moved aside)."""
    if isinstance(exc, sqlite3.OperationalError) and "malformed" not in str(exc):
        return False  # locked, read-only, cannot open, disk full: the file is not at fault
    return True


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
        self._lock = threading.Lock()
        self._check_path()
        try:
            self._db, row = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise self._error(exc) from exc
            aside = self._move_aside()
            log.warning("power-loss store %s is corrupt (%s): moved aside to %s; starting empty",
                        self.path, exc, aside)
            try:
                self._db, row = self._open()
            except sqlite3.Error as exc2:
                raise self._error(exc2) from exc2
        self._row = StoredSession(*row) if row is not None and row[0] else None

    def _check_path(self) -> None:
        parent = os.path.dirname(os.path.abspath(self.path))
        if os.path.isdir(self.path):
            raise StoreError(f"power-loss store {self.path!r} is a directory; give a file path such as "
                             f"{os.path.join(self.path, 'session.db')!r}", self.path)
        if not os.path.isdir(parent):
            raise StoreError(f"power-loss store {self.path!r}: directory {parent!r} does not exist", self.path)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise StoreError(f"power-loss store {self.path!r}: directory {parent!r} is not writable "
                             f"(read-only file system or permissions)", self.path)

    def _open(self):
        # autocommit (isolation_level=None): every statement is its own durable transaction
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(self._SCHEMA)
            row = db.execute("SELECT uuid, energy_Wh_import, energy_Wh_export FROM session WHERE id = 1").fetchone()
            ok = db.execute("PRAGMA quick_check").fetchone()
            if ok is None or ok[0] != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed ({ok[0] if ok else 'no result'})")
            db.execute("PRAGMA user_version = 1")  # a real write: a read-only store fails here, at construction
        except BaseException:
            db.close()
            raise
        return db, row

    def _move_aside(self) -> str:
        aside = f"{self.path}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}"
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.replace(self.path + suffix, aside + suffix)
        except OSError as exc:
            raise StoreError(f"power-loss store {self.path!r} is corrupt and cannot be moved aside: {exc}",
                             self.path) from exc
        return aside

    def _error(self, exc: BaseException) -> StoreError:
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            what = "is read-only (read-only file system or permissions)"
        elif "unable to open" in text:
            what = "cannot be opened"
        elif "disk" in text and "full" in text:
            what = "cannot be written: the disk is full"
        else:
            what = f"cannot be used: {text}"
        return StoreError(f"power-loss store {self.path!r} {what}", self.path)

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
            try:
                self._db.execute(sql, args)
            except sqlite3.Error as exc:
                raise self._error(exc) from exc


def open_store(store) -> Optional[MemoryStore]:
    """``None`` -> no store; a path -> :class:`SessionStore`; a store object -> itself."""
    if store is None:
        return None
    if isinstance(store, (str, bytes, os.PathLike)):
        return SessionStore(store)
    return store
