"""The manager's own errors as events: every raise and clear of an ``evse_manager/*`` error becomes a
:class:`~evsefast.types.ModuleError` (EVerest's Error object) for ``EvseManager.subscribe_errors``.

A clear repeats the raise's ``uuid`` with ``state`` ``ClearedByModule``, as EVerest's framework does, so a
subscriber (or the MQTT error topics) can pair them; a raise and clear within one tick are both delivered.
"""
from __future__ import annotations

import time
import uuid as _uuid
from typing import Callable, Dict, Tuple

from ..types.board import Severity
from ..types.framework_error import ErrorLifecycleState, ErrorMapping, ErrorOrigin, ModuleError
from .errors import ActiveError

ERRORS_CHANNEL = "errors"


def rfc3339_ms(wall_s: float) -> str:
    """``2026-01-01T00:00:00.000Z`` for a Unix time in seconds."""
    whole = int(wall_s // 1)
    ms = int(round((wall_s - whole) * 1000.0))
    if ms >= 1000:
        whole, ms = whole + 1, ms - 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{ms:03d}Z"


class OwnErrorEvents:
    """Turns ``ErrorState`` notifications into ``ModuleError`` publications on the ``errors`` channel."""

    def __init__(self, publish: Callable[[str, object], None], wall_s: Callable[[], float], module_id: str,
                 connector_id: int, implementation_id: str = "evse") -> None:
        self._publish = publish
        self._wall_s = wall_s
        self._origin = ErrorOrigin(module_id=module_id, implementation_id=implementation_id,
                                   mapping=ErrorMapping(evse=connector_id) if connector_id > 0 else None)
        self._uuids: Dict[Tuple[str, str], str] = {}

    def __call__(self, err: ActiveError, raised: bool) -> None:
        key = (err.type, err.sub_type)
        if raised:
            uid = self._uuids[key] = str(_uuid.uuid4())
        else:
            uid = self._uuids.pop(key, "") or str(_uuid.uuid4())
        self._publish(ERRORS_CHANNEL, ModuleError(
            type=err.type, sub_type=err.sub_type, description=err.description, message=err.message,
            severity=Severity(err.severity),
            state=ErrorLifecycleState.Active if raised else ErrorLifecycleState.ClearedByModule,
            timestamp=rfc3339_ms(self._wall_s()), uuid=uid, vendor_id=err.vendor_id or "EVerest",
            origin=self._origin))
