"""The data folder as a store: where each dataset's files live (:mod:`~dmconf.store.layout`).

The state file of a dataset folder is :mod:`dmconf.state`, and its locks :mod:`dmconf.lock`.
"""

from __future__ import annotations

from dmconf.store.layout import content_key, dataset_folder, id_folder

__all__ = ["content_key", "dataset_folder", "id_folder"]
