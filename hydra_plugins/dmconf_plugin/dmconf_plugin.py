"""dmconf's entry into every Hydra app.

Hydra imports this module when it scans the ``hydra_plugins`` namespace package at start-up.
It finds the config source for ``dmconf://`` and the search-path plugin that appends it (so the
catalogue is the group ``dataset``), and the import registers the ``${dmconf:...}`` resolver.
The code lives in :mod:`dmconf.hydra`; this module stays thin and cheap to import.
"""

from dmconf.hydra.resolver import register_resolver
from dmconf.hydra.source import DmconfConfigSource, DmconfSearchPathPlugin

__all__ = ["DmconfConfigSource", "DmconfSearchPathPlugin"]

register_resolver()
