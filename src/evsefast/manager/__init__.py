"""The charging kernel: IEC adapter, charger state machine and the ``EvseManager`` facade.

``from evsefast.manager import EvseManager``.  Layout (one job per file): ``iec`` (CP adapter,
contactors, lock), ``charger`` + ``states`` (the state machine), ``events`` (seed session events),
``enable`` (enable/disable source table), ``reservation``, ``errors`` (inoperative logic),
``limits`` (limit glue over ``kernels.limits``), ``metering``, ``boot`` (start-up and power-loss
clean-up), ``vars`` (var hub), ``inbox`` (thread-safe board listener), ``cmds`` + ``api`` (facade),
``var_access`` (per-var typed ``subscribe``/``get``), ``aio`` (``events()``, ``wait_ready()``).
"""
from .aio import EventsOverflow, EventStream, VarEvent
from .api import EvseManager
from .var_access import VarName

__all__ = ["EventStream", "EventsOverflow", "EvseManager", "VarEvent", "VarName"]
