"""datamaestro's ``context``: where data lives, and finding datasets by id.

``DatafolderPath(folder_id, path)`` names a folder of the user's (a licensed corpus): it stands
for ``datamaestro://datafolder/FOLDER_ID/PATH`` (map it with the settings' ``mirrors:``).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["Context", "DatafolderPath", "find_dataset", "prepare_dataset"]


class DatafolderPath:
    """A path inside a folder the user configures (datamaestro's ``datafolders``)."""

    def __init__(self, folderid: str, path: str) -> None:
        self.folderid = folderid
        self.path = path

    @property
    def url(self) -> str:
        return f"datamaestro://datafolder/{self.folderid}/{PurePosixPath(self.path)}"

    def __str__(self) -> str:
        return f"datafolder-path({self.folderid}):{self.path}"


class Context:
    """The data folder and settings, from dmconf's settings."""

    @classmethod
    def instance(cls) -> Context:
        return cls()

    @property
    def datapath(self) -> Path:
        from dmconf.settings import load_settings

        return load_settings().data

    def dataset(self, dataset_id: str) -> Any:
        from dmconf.catalog import Catalog

        return Catalog.from_settings().find(dataset_id)


def find_dataset(dataset_id: str) -> Any:
    """The definition of an id."""
    return Context.instance().dataset(dataset_id)


def prepare_dataset(dataset_id: str, **kwargs: Any) -> Any:
    """The prepared data of an id (:func:`dmconf.prepare`)."""
    from dmconf.preparation import prepare

    return prepare(dataset_id)


Repository = object
