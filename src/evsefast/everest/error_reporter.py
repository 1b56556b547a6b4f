"""``ErrorReporter``: the manager's active ``evse_manager/*`` errors as framework Error objects.

The manager has no error callback; its ``active_errors`` (including ``evse_manager/Inoperative``) are
compared after every processing pass.  A new error is raised with a fresh uuid and the raise time; a
vanished one is cleared with the same object in state ``ClearedByModule`` (everest.cpp:722-738,
error_json.hpp).  Only the evse_manager namespace is reported: the interface declares
``/errors/evse_manager`` only; board errors show up through ``Inoperative`` (its message names the
cause), as in EVerest.
"""
from __future__ import annotations

import time
import uuid
from typing import Callable, Dict, List, Optional, Tuple

import msgspec

from .envelopes import ErrorMapping, ErrorOrigin, FrameworkError
from .timefmt import rfc3339_ms

__all__ = ["ErrorReporter"]

Key = Tuple[str, str]


class ErrorReporter:
    """Tracks which errors were raised on the wire; ``update`` returns the Error objects to publish."""

    namespace = "evse_manager/"

    def __init__(self, module_id: str, impl_id: str, *, evse: int = 0, connector: int = 0,
                 wall_s: Callable[[], float] = time.time) -> None:
        mapping = None
        if evse > 0:
            mapping = ErrorMapping(evse=evse, connector=connector if connector > 0 else None)
        self.origin = ErrorOrigin(module_id=module_id, implementation_id=impl_id, mapping=mapping)
        self.wall_s = wall_s
        self.raised: Dict[Key, FrameworkError] = {}

    def update(self, active_errors) -> List[FrameworkError]:
        """Raise what became active, clear what went away (in that order of discovery)."""
        out: List[FrameworkError] = []
        seen = set()
        for e in active_errors:
            if not e.type.startswith(self.namespace):
                continue
            key = (e.type, e.sub_type)
            seen.add(key)
            if key not in self.raised:
                err = FrameworkError(
                    type=e.type, sub_type=e.sub_type, description=e.description or e.type,
                    message=e.message or e.type, severity=e.severity or "High", origin=self.origin,
                    timestamp=rfc3339_ms(self.wall_s()), uuid=str(uuid.uuid4()), state="Active",
                    vendor_id=e.vendor_id or "everest")
                self.raised[key] = err
                out.append(err)
        for key in [k for k in self.raised if k not in seen]:
            err = self.raised.pop(key)
            out.append(msgspec.structs.replace(err, state="ClearedByModule"))
        return out

    def active(self) -> List[FrameworkError]:
        """The errors currently raised on the wire (re-published after a reconnect)."""
        return list(self.raised.values())

    def find(self, error_type: str) -> Optional[FrameworkError]:
        """The raised error of ``error_type`` (any sub-type), if any."""
        for (t, _), err in self.raised.items():
            if t == error_type:
                return err
        return None
