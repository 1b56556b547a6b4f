"""``python -m evsefast``: the ``evsefast`` command (see :mod:`evsefast.cli`)."""
import sys

from .cli import main

sys.exit(main())
