"""Authorization: the cache, and the decision for a presented id tag (S16 §3.5, §3.5.1-3.5.4).

Online, an id tag is sent in an Authorize request and the answer (status, expiry, parent) updates
the cache -- unless ``LocalPreAuthorize`` is set and the cache already holds the tag as Accepted and
unexpired, then it is accepted at once.  Offline (or before the first Accepted BootNotification, or
when the request fails), the cache decides if ``LocalAuthorizeOffline`` is set; an unknown tag is
accepted only with ``AllowOfflineTxForUnknownId``, and a cached tag that is not Accepted or has
expired is rejected either way.  Every IdTagInfo the CSMS sends (Authorize, Start- and
StopTransaction) updates the cache, which persists across restarts (E16 §3.4).
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, NamedTuple, Optional

from .timefmt import parse_iso

__all__ = ["AuthCache", "AuthResult", "decide"]


class AuthResult(NamedTuple):
    """The outcome for one id tag: ``status`` (Accepted, Blocked, Expired, Invalid, ConcurrentTx),
    ``parent`` id tag if known, and ``source`` (csms, cache, offline)."""

    status: str
    parent: Optional[str] = None
    source: str = "csms"

    @property
    def accepted(self) -> bool:
        """True only for Accepted."""
        return self.status == "Accepted"


class AuthCache:
    """The authorization cache over an :class:`~evsefast.ocpp.store.OcppStore`."""

    def __init__(self, store, now_s: Callable[[], float], enabled: Callable[[], bool]) -> None:
        self.store = store
        self.now_s = now_s
        self.enabled = enabled

    def update(self, id_tag: str, info: Optional[dict]) -> None:
        """Record an IdTagInfo (snake_case dict: status, expiry_date, parent_id_tag); 2.0.1 IdTokenInfo
        (status, cache_expiry_date_time, group_id_token) is accepted too."""
        if not info or not self.enabled():
            return
        expiry = info.get("expiry_date") or info.get("cache_expiry_date_time")
        parent = info.get("parent_id_tag")
        group = info.get("group_id_token")
        if parent is None and isinstance(group, dict):
            parent = group.get("id_token")
        try:
            expiry_s = None if expiry is None else parse_iso(expiry)
        except ValueError:
            expiry_s = None
        self.store.cache_put(id_tag, str(info.get("status", "Invalid")), expiry_s, parent)

    def lookup(self, id_tag: str) -> Optional[AuthResult]:
        """The cached result (an expired Accepted entry reads as Expired), or None if unknown."""
        if not self.enabled():
            return None
        row = self.store.cache_get(id_tag)
        if row is None:
            return None
        status, expiry_s, parent = row
        if status == "Accepted" and expiry_s is not None and expiry_s <= self.now_s():
            status = "Expired"
        return AuthResult(status, parent, "cache")

    def clear(self) -> None:
        """ClearCache."""
        self.store.cache_clear()


async def decide(id_tag: str, cache: AuthCache, settings, online: bool,
                 ask_csms: Callable[[str], Awaitable[Optional[dict]]]) -> AuthResult:
    """Accept or reject ``id_tag``; ``ask_csms`` sends the Authorize request and returns the IdTagInfo
    (None if it could not be delivered)."""
    cached = cache.lookup(id_tag)
    if online:
        if settings.local_pre_authorize and cached is not None and cached.accepted:
            return cached
        info: Any = await ask_csms(id_tag)
        if info is not None:
            cache.update(id_tag, info)
            parent = info.get("parent_id_tag")
            group = info.get("group_id_token")
            if parent is None and isinstance(group, dict):
                parent = group.get("id_token")
            return AuthResult(str(info.get("status", "Invalid")), parent, "csms")
    # offline rules
    if cached is not None:
        if settings.local_authorize_offline and cached.accepted:
            return cached._replace(source="offline")
        return cached._replace(source="offline") if not cached.accepted else AuthResult("Invalid", None, "offline")
    if settings.allow_offline_tx_for_unknown_id:
        return AuthResult("Accepted", None, "offline")
    return AuthResult("Invalid", None, "offline")
