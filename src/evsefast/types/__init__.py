"""msgspec types for every type the evse_manager interface uses (seed types win).

Field names and enum values are EVerest's, letter for letter; optional fields that
are unset are omitted from the encoded JSON, never sent as ``null``.
"""
from .board import *  # noqa: F401,F403
from .powermeter import *  # noqa: F401,F403
