"""dmconf in Hydra: every catalogue dataset is an option of the config group ``dataset``.

Installing dmconf is enough: ``python train.py dataset=com.lecun.mnist`` works in any Hydra app.

How Hydra finds dmconf (see :mod:`dmconf.hydra.source`): when an app starts, Hydra imports every
module of the ``hydra_plugins`` namespace package; dmconf ships ``hydra_plugins.dmconf_plugin``,
whose search-path plugin appends ``dmconf://`` to the app's config search path and whose config
source answers for that scheme, listing the catalogue's ids as the options of ``dataset`` and
loading only the option chosen. The same import registers the ``${dmconf:...}`` resolver.

- :func:`load_dataset` is the ``_target_`` of every dataset node, so
  ``hydra.utils.instantiate(cfg.dataset)`` returns the prepared typed object, as
  ``dmconf.load(cfg.dataset)`` does.
- :func:`without_target` is the ``_target_`` dmconf gives an option of the app's own dataset
  folder that is a definition without one: instantiating it fails with the line to add.
- :class:`PrepareDatasets` is a Hydra callback (``+dmconf=prepare``) that prepares every dataset
  node before the task function runs.
- :func:`register_resolver` makes ``${dmconf:ID}`` and ``${dmconf:ID,train.images}`` known to
  OmegaConf outside Hydra too.
"""

from __future__ import annotations

from dmconf.hydra.callback import PrepareDatasets
from dmconf.hydra.node import TARGET, dataset_nodes, definition_node, load_dataset
from dmconf.hydra.own import without_target
from dmconf.hydra.resolver import RESOLVER, dataset_path, register_resolver
from dmconf.hydra.schema import DatasetConfig, ResourceConfig

__all__ = [
    "RESOLVER",
    "TARGET",
    "DatasetConfig",
    "PrepareDatasets",
    "ResourceConfig",
    "dataset_nodes",
    "dataset_path",
    "definition_node",
    "load_dataset",
    "register_resolver",
    "without_target",
]
