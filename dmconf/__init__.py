"""dmconf: name a dataset by a qualified id, get it downloaded, verified and typed.

>>> from dmconf import prepare_dataset
>>> ds = prepare_dataset("com.lecun.mnist")          # doctest: +SKIP
>>> ds.train.images.data().shape                      # doctest: +SKIP
(60000, 28, 28)

Importing dmconf is cheap: requests, numpy, Hydra and experimaestro load only when used.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # `typing` is not imported: `import dmconf` stays cheap
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

__all__ = [
    "ChecksumMismatch",
    "DataFormatError",
    "DataTypeError",
    "DatasetChanged",
    "DatasetDefinition",
    "DatasetNotFound",
    "DefinitionError",
    "DmconfError",
    "DownloadError",
    "DuplicateDataset",
    "NotPrepared",
    "OfflineError",
    "Resource",
    "Settings",
    "SettingsError",
    "StorageError",
    "UnpackError",
    "VerificationFailed",
    "__version__",
    "find",
    "is_prepared",
    "list_ids",
    "load",
    "load_settings",
    "prepare",
    "prepare_dataset",
    "search",
]

# name -> module that defines it; resolved on first access (PEP 562).
_LAZY = {
    "DatasetDefinition": "dmconf.definition",
    "Resource": "dmconf.definition",
    "Settings": "dmconf.settings",
    "load_settings": "dmconf.settings",
    "prepare": "dmconf.preparation",
    "is_prepared": "dmconf.preparation",
    "find": "dmconf.api",
    "search": "dmconf.api",
    "list_ids": "dmconf.api",
    "load": "dmconf.api",
    "prepare_dataset": "dmconf.api",
    **{
        name: "dmconf.errors"
        for name in (
            "ChecksumMismatch", "DataFormatError", "DataTypeError", "DatasetChanged",
            "DatasetNotFound",
            "DefinitionError", "DmconfError", "DownloadError", "DuplicateDataset", "NotPrepared",
            "OfflineError", "SettingsError", "StorageError", "UnpackError", "VerificationFailed",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dmconf' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from dmconf.api import find, list_ids, load, prepare_dataset, search
    from dmconf.definition import DatasetDefinition, Resource
    from dmconf.errors import (
        ChecksumMismatch,
        DataFormatError,
        DatasetChanged,
        DatasetNotFound,
        DataTypeError,
        DefinitionError,
        DmconfError,
        DownloadError,
        DuplicateDataset,
        NotPrepared,
        OfflineError,
        SettingsError,
        StorageError,
        UnpackError,
        VerificationFailed,
    )
    from dmconf.preparation import is_prepared, prepare
    from dmconf.settings import Settings, load_settings
