"""Where a dataset's files live in the data folder.

Every caller of the store asks :func:`dataset_folder`, so a change of layout is one line here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["dataset_folder"]


def dataset_folder(definition: DatasetDefinition, settings: Settings) -> Path:
    """The folder that holds (or will hold) the prepared files of ``definition``."""
    return settings.dataset_folder(definition.id)
