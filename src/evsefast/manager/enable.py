"""enable_disable: the per-source table and its priority rules (spec §2.7(g), EM/Charger.cpp:1623-1758)."""
from __future__ import annotations

from typing import List, Tuple

Entry = Tuple[str, str, int]  # (enable_source, enable_state, enable_priority)

UNASSIGNED_WINNER: Entry = ("Unspecified", "Unassigned", 10000)


class EnableTable:
    """One entry per ``enable_source``; evaluation in insertion order.

    * a new command replaces the entry of the same source, otherwise it is appended;
    * ``Unassigned`` entries are skipped; the first other entry becomes the winner;
    * a later entry with a numerically lower priority (0 = highest) replaces the winner;
    * an entry with equal priority replaces it only if it says ``Disable`` ("disable wins ties");
    * no entry left -> enabled, winner ``{Unspecified, Unassigned, 10000}``.
    """

    def __init__(self) -> None:
        self.entries: List[Entry] = []

    def set(self, source: str, state: str, priority: int) -> None:
        """Insert or replace the entry of ``source``."""
        for i, (src, _, _) in enumerate(self.entries):
            if src == source:
                self.entries[i] = (source, state, priority)
                return
        self.entries.append((source, state, priority))

    def winner(self) -> Entry:
        """The deciding entry (see the class docstring)."""
        best = None
        for entry in self.entries:
            if entry[1] == "Unassigned":
                continue
            if best is None or entry[2] < best[2] or (entry[2] == best[2] and entry[1] == "Disable"):
                best = entry
        return UNASSIGNED_WINNER if best is None else best

    def enabled(self) -> bool:
        """True unless the winner says ``Disable`` (``Unassigned`` counts as enabled)."""
        return self.winner()[1] != "Disable"
