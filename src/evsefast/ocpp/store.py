"""The charge point's persistent state in one SQLite file (or in memory).

What must survive a restart or a power cut (S16 §3.7, §4.9, §5.2, E16 §3.4, §3.37):

* ``queue`` -- transaction-related messages not yet confirmed by the CSMS, in order;
* ``txmap`` -- local (negative) transaction ids -> the ids the CSMS assigned;
* ``tx`` -- the open transaction of each connector (id tag, meter start, sampled data, seqNo);
* ``kv`` -- configuration values changed by the CSMS, availability, counters;
* ``auth_cache`` -- the authorization cache;
* ``profiles`` -- installed charging profiles.

Autocommit with ``synchronous=FULL`` in WAL mode (as :mod:`evsefast.store`): when a write returns it
is on disk, so a SIGKILL right after it loses nothing.  ``durable=False`` uses ``synchronous=NORMAL``
(survives a process kill, not a power cut) for large simulated fleets.
"""
from __future__ import annotations

import json
import os
import sqlite3
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

__all__ = ["OcppStore", "QueuedMessage"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL, "
    "payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS txmap (local_id INTEGER PRIMARY KEY, csms_id INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tx (connector_id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS auth_cache (id_tag TEXT PRIMARY KEY, status TEXT NOT NULL, expiry_s REAL, "
    "parent TEXT)",
    "CREATE TABLE IF NOT EXISTS profiles (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
)


class QueuedMessage(NamedTuple):
    """One persisted transaction message: ``payload`` holds the call's snake_case keyword arguments."""

    seq: int
    action: str
    payload: Dict[str, Any]
    attempts: int


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class OcppStore:
    """SQLite store at ``path`` (created with its folder if missing); ``None`` keeps it in memory."""

    def __init__(self, path: Union[str, os.PathLike, None] = None, *, durable: bool = True) -> None:
        self.path = None if path is None else os.fspath(path)
        if self.path is not None:
            folder = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(folder, exist_ok=True)
        self._db = sqlite3.connect(self.path or ":memory:", isolation_level=None, check_same_thread=False)
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=" + ("FULL" if durable else "NORMAL"))
        for sql in _SCHEMA:
            self._db.execute(sql)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _one(self, sql: str, args: tuple = ()) -> Optional[tuple]:
        return self._db.execute(sql, args).fetchone()

    # -- key/value ---------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key``, or ``default``."""
        row = self._one("SELECT value FROM kv WHERE key = ?", (key,))
        return default if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable) under ``key``; None deletes it."""
        if value is None:
            self._db.execute("DELETE FROM kv WHERE key = ?", (key,))
        else:
            self._db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, _dumps(value)))

    def items(self, prefix: str) -> Iterator[Tuple[str, Any]]:
        """Every ``(key, value)`` whose key starts with ``prefix``."""
        rows = self._db.execute("SELECT key, value FROM kv WHERE substr(key, 1, ?) = ? ORDER BY key",
                                (len(prefix), prefix)).fetchall()
        for key, value in rows:
            yield key, json.loads(value)

    def next_counter(self, name: str, start: int = 1) -> int:
        """A persistent counter: returns ``start`` the first time, then one more on every call."""
        value = int(self.get("counter." + name, start - 1)) + 1
        self.put("counter." + name, value)
        return value

    # -- transaction message queue -----------------------------------------------------------------
    def enqueue(self, action: str, payload: Dict[str, Any]) -> int:
        """Append a message; returns its sequence number (the delivery order)."""
        cur = self._db.execute("INSERT INTO queue (action, payload) VALUES (?, ?)", (action, _dumps(payload)))
        return int(cur.lastrowid)

    def queued(self) -> List[QueuedMessage]:
        """Every queued message, oldest first."""
        rows = self._db.execute("SELECT seq, action, payload, attempts FROM queue ORDER BY seq").fetchall()
        return [QueuedMessage(seq, action, json.loads(payload), attempts) for seq, action, payload, attempts in rows]

    def dequeue(self, seq: int) -> None:
        """Forget a delivered (or abandoned) message."""
        self._db.execute("DELETE FROM queue WHERE seq = ?", (seq,))

    def count_attempt(self, seq: int) -> None:
        """One more failed delivery attempt of message ``seq``."""
        self._db.execute("UPDATE queue SET attempts = attempts + 1 WHERE seq = ?", (seq,))

    # -- transaction id map (1.6) ------------------------------------------------------------------
    def map_tx(self, local_id: int, csms_id: int) -> None:
        """The CSMS assigned ``csms_id`` to the transaction known locally as ``local_id``."""
        self._db.execute("INSERT OR REPLACE INTO txmap (local_id, csms_id) VALUES (?, ?)", (local_id, csms_id))

    def csms_tx(self, local_id: int) -> Optional[int]:
        """The CSMS id of a local transaction id, or None while unknown."""
        row = self._one("SELECT csms_id FROM txmap WHERE local_id = ?", (local_id,))
        return None if row is None else int(row[0])

    def forget_tx_map(self, keep_local_ids) -> None:
        """Drop mappings no longer referenced (called when the queue has drained)."""
        keep = list(keep_local_ids)
        if keep:
            marks = ",".join("?" * len(keep))
            self._db.execute(f"DELETE FROM txmap WHERE local_id NOT IN ({marks})", keep)
        else:
            self._db.execute("DELETE FROM txmap")

    # -- open transactions -------------------------------------------------------------------------
    def save_tx(self, connector_id: int, body: Optional[Dict[str, Any]]) -> None:
        """Persist the open transaction of a connector (None: no open transaction)."""
        if body is None:
            self._db.execute("DELETE FROM tx WHERE connector_id = ?", (connector_id,))
        else:
            self._db.execute("INSERT OR REPLACE INTO tx (connector_id, body) VALUES (?, ?)",
                             (connector_id, _dumps(body)))

    def open_txs(self) -> Dict[int, Dict[str, Any]]:
        """connector id -> the transaction that was open when the process stopped."""
        rows = self._db.execute("SELECT connector_id, body FROM tx").fetchall()
        return {int(cid): json.loads(body) for cid, body in rows}

    # -- authorization cache -----------------------------------------------------------------------
    def cache_put(self, id_tag: str, status: str, expiry_s: Optional[float], parent: Optional[str]) -> None:
        """Insert or update a cache entry."""
        self._db.execute("INSERT OR REPLACE INTO auth_cache (id_tag, status, expiry_s, parent) VALUES (?, ?, ?, ?)",
                         (id_tag, status, expiry_s, parent))

    def cache_get(self, id_tag: str) -> Optional[Tuple[str, Optional[float], Optional[str]]]:
        """``(status, expiry_s, parent)`` of a cached id tag, or None."""
        return self._one("SELECT status, expiry_s, parent FROM auth_cache WHERE id_tag = ?", (id_tag,))

    def cache_clear(self) -> None:
        """Empty the cache."""
        self._db.execute("DELETE FROM auth_cache")

    # -- charging profiles -------------------------------------------------------------------------
    def profiles(self) -> List[Dict[str, Any]]:
        """Every installed profile (as stored)."""
        return [json.loads(b) for (b,) in self._db.execute("SELECT body FROM profiles ORDER BY id").fetchall()]

    def put_profile(self, profile_id: int, body: Dict[str, Any]) -> None:
        """Install or replace profile ``profile_id``."""
        self._db.execute("INSERT OR REPLACE INTO profiles (id, body) VALUES (?, ?)", (profile_id, _dumps(body)))

    def delete_profile(self, profile_id: int) -> None:
        """Remove profile ``profile_id``."""
        self._db.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))
