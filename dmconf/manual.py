"""Files downloaded by hand: ``manual:`` resources, and ``dmconf add-file``.

A resource may say ``manual:`` (where to get the file, what to accept) with the ``filename``
users will download, instead of a URL: such a file is never requested from the network.
Users put it in the dataset's manual folder, ``$DMCONF_DATA/.manual/<id>/<filename>``
(:func:`dropped_file` finds it; ``prepare`` without it raises
:class:`~dmconf.errors.ManualDownloadRequired` with the instructions and that folder), or
give its path to ``dmconf add-file ID RESOURCE PATH`` (:func:`add_file`). Either way the
file then goes the way of any download: verified (size, sha256), unpacked, moved into place.
A file in the manual folder is also used, before the URLs, for a resource that has a URL
(a server the user reached by other means).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from dmconf.errors import (
    DefinitionError,
    DmconfError,
    DownloadError,
    ManualDownloadRequired,
    StorageError,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from dmconf.definition import DatasetDefinition, Resource
    from dmconf.settings import Settings

__all__ = ["add_file", "dropped_file"]

log = logging.getLogger("dmconf")


def dropped_file(settings: Settings, definition: DatasetDefinition, key: str,
                 resource: Resource) -> Path | None:
    """The file the user put in the manual folder for this resource; for a ``manual``
    resource without one, raise :class:`ManualDownloadRequired`."""
    from dmconf.store.layout import manual_folder

    folder = manual_folder(settings, definition.dataset_id)
    path = folder / resource.local_name
    if path.is_file():
        return path
    if resource.manual is None:
        return None
    raise ManualDownloadRequired(
        dataset=definition.id, resource=key, instructions=resource.manual, folder=str(folder),
        filename=resource.local_name,
    )


def add_file(dataset: str, key: str, path: Path, *, settings: Settings | None = None
             ) -> BaseModel:
    """Use the file at ``path`` for resource ``key`` of ``dataset``, then prepare the dataset.

    The file is linked (or copied) into the manual folder, verified and unpacked as a download
    would be; the copy is removed once the resource is prepared or found wrong. A file whose
    size is not the definition's is refused before anything is copied.
    """
    from dmconf.preparation import prepare, resolve_definition
    from dmconf.settings import load_settings
    from dmconf.state import DatasetState
    from dmconf.store.layout import manual_folder
    from dmconf.store.stores import group_shared, make_folders

    settings = settings or load_settings()
    definition = resolve_definition(dataset, settings=settings)
    resource = definition.resources.get(key)
    if resource is None:
        raise DefinitionError(
            f"has no resource {key!r} (its resources: {', '.join(definition.resources)})",
            dataset=definition.id, field="resources")
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise StorageError(path=str(path), reason=exc.strerror or str(exc),
                           dataset=definition.id, errno=exc.errno) from None
    if resource.size is not None and size != resource.size:
        raise DownloadError(
            f"{definition.id}: {path} has {size} bytes, resource {key!r} has {resource.size}: "
            "not the file the definition describes; nothing was copied",
            dataset=definition.id, resource=key, path=str(path))
    folder = manual_folder(settings, definition.dataset_id)
    target = folder / resource.local_name
    temporary = folder / f".{resource.local_name}.{os.getpid()}.add"
    try:
        with group_shared(settings):  # a lab's shared store: the group may use it too
            make_folders(folder, settings)
            try:
                os.link(path, temporary)  # the same disk: no copy
            except OSError:
                shutil.copyfile(path, temporary)
            os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise StorageError(path=str(target), reason=exc.strerror or str(exc),
                           dataset=definition.id, errno=exc.errno) from None
    keep = True
    try:
        typed = prepare(definition, settings=settings)
        keep = False
        return typed
    except DmconfError as exc:  # wrong bytes are dropped; kept when another resource failed
        keep = exc.fields.get("resource") != key
        raise
    finally:
        if not keep or DatasetState(settings.dataset_folder(definition)).has(key, resource):
            with contextlib.suppress(OSError):
                target.unlink()
                log.info("%s: %s verified and in place; the copy in %s was removed",
                         definition.id, key, folder)
