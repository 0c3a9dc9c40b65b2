"""dmconf's entry into every Hydra app.

Hydra imports this module when it scans the ``hydra_plugins`` namespace package at start-up,
in the process the user started, before it changes directory or launches jobs. It finds the
config source for ``dmconf://`` and the search-path plugin that appends it (so the catalogue is
the group ``dataset``), and the source for ``dmconf-own://`` that the plugin puts first (the
app's own dataset options without ``_target_``); the import makes relative ``DMCONF_*`` paths
absolute (jobs inherit them), registers the ``${dmconf:...}`` resolver, the ``DatasetConfig``
schema and the node of an own option without ``_target_``.
The code lives in :mod:`dmconf.hydra`; this module stays thin and cheap to import.
"""

import os

from dmconf.hydra.own import OwnOptionSource, store_without_target
from dmconf.hydra.resolver import register_resolver
from dmconf.hydra.schema import store_schema
from dmconf.hydra.source import DmconfConfigSource, DmconfSearchPathPlugin
from dmconf.settings_sources import anchor_paths

__all__ = ["DmconfConfigSource", "DmconfSearchPathPlugin", "OwnOptionSource"]

anchor_paths(os.environ, os.getcwd())
register_resolver()
store_schema()
store_without_target()
