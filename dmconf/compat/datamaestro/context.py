"""datamaestro's ``context``: where data lives, finding datasets by id, downloading a URL.

``DatafolderPath(folder_id, path)`` names a folder of the user's (a licensed corpus): it stands
for ``datamaestro://datafolder/FOLDER_ID/PATH`` (map it with the settings' ``mirrors:``).

``resource.context.downloadURL(url, size=...)`` (what ``lz4docstore_downloader`` calls) is
dmconf's fetcher (:func:`dmconf.derive.resource.fetched`): only while dmconf builds that
resource, with the settings' mirrors, offline mode, retries and size limits, the resource's
``checker`` verified; the file is in the build's scratch folder and removed after the ``with``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
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

    def __init__(self, resource: Any = None) -> None:
        self.resource = resource  # the resource asking (its checker is verified)

    @classmethod
    def instance(cls) -> Context:
        return cls()

    @contextmanager
    def downloadURL(self, url: str, size: int | None = None) -> Iterator[Any]:
        """The downloaded file (``.path``), while the ``with`` block runs (see the module)."""
        from dmconf.compat.datamaestro.utils import checksums
        from dmconf.derive.resource import fetched

        checker = getattr(self.resource, "checker", None)
        key = getattr(self.resource, "name", None) or url
        with fetched(url, size=size, **checksums(None, checker, key)) as path:
            yield SimpleNamespace(path=path)

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
