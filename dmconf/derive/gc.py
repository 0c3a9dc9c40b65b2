"""``dmconf gc``: remove derived outputs that no definition references any more.

An output is referenced when a definition of its id (any place the catalogue knows it from)
is derived and its current key names the output's folder. Changing a parameter, bumping a
step's version or an input's checksum gives a new key and leaves the old output behind: this
is what collects it, with the build folders of killed runs. Downloaded datasets are never
touched (``dmconf rm`` removes those).

Safety: only entries directly under the data folder's ``<id>/`` folders are considered, each
checked with ``lstat`` (a link is never followed nor removed through); each id is handled under
its lock held exclusively, as ``rm`` does, so an output being built (its builder holds the lock
shared) is waited for and then re-checked; an output is renamed aside before it is deleted, so
no reader ever sees half of one. When a definition cannot be keyed (a missing input, a step
that cannot be imported), its id's outputs are kept and the reason is reported.
"""

from __future__ import annotations

import logging
import os
import shutil
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dmconf.errors import DatasetNotFound, DmconfError

if TYPE_CHECKING:
    from dmconf.catalog import Catalog
    from dmconf.settings import Settings

__all__ = ["Collected", "collect"]

log = logging.getLogger("dmconf")


@dataclass
class Collected:
    """What ``gc`` removed (or would remove), and what it kept because it could not tell."""

    removed: list[tuple[str, Path, int]] = field(default_factory=list)  # id, folder, bytes
    kept: list[str] = field(default_factory=list)  # why an id's outputs were kept

    @property
    def freed(self) -> int:
        return sum(size for _, _, size in self.removed)


def collect(settings: Settings, catalog: Catalog | None = None, *, dry_run: bool = False
            ) -> Collected:
    """Remove every unreferenced derived output (``dry_run``: only say which)."""
    from dmconf.catalog import Catalog
    from dmconf.derive.build import is_output
    from dmconf.fetch.download import remove_path
    from dmconf.store.layout import content_folders

    catalog = catalog or Catalog.from_settings(settings)
    result = Collected()
    for dataset_id in _ids(settings):
        if not any(is_output(f) for f in content_folders(settings, dataset_id)) and not list(
                _leftovers(settings, dataset_id)):
            continue
        referenced = _referenced(catalog, settings, dataset_id, result)
        if referenced is None:
            continue
        if dry_run:
            result.removed += [(dataset_id, f, _size(f)) for f in content_folders(
                settings, dataset_id) if is_output(f) and f.name not in referenced]
            continue
        with _id_locked(settings, dataset_id):
            # under the lock nobody builds this id: re-read what is there
            for folder in content_folders(settings, dataset_id):
                if is_output(folder) and folder.name not in referenced:
                    result.removed.append((dataset_id, folder, _remove(folder)))
            for leftover in _leftovers(settings, dataset_id):  # killed builds
                size = _size(leftover)
                remove_path(leftover)  # a link is unlinked, never followed
                result.removed.append((dataset_id, leftover, size))
    return result


def _ids(settings: Settings) -> list[str]:
    """The id folders directly under the data folder (real folders, never links)."""
    from dmconf.ids import ID_PATTERN

    try:  # the data folder itself is the user's choice (it may be a link to a scratch disk)
        entries = list(os.scandir(settings.data))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(e.name for e in entries
                  if ID_PATTERN.match(e.name) and e.is_dir(follow_symlinks=False))


def _referenced(catalog: Catalog, settings: Settings, dataset_id: str, result: Collected
                ) -> set[str] | None:
    """The folder names the definitions of an id reference; None when one cannot be keyed."""
    from dmconf.derive.build import folder_key
    from dmconf.derive.key import bind

    try:
        places = catalog.places(dataset_id)
    except DatasetNotFound:
        return set()  # no definition any more
    names = set()
    for place in places:
        try:
            definition = place.definition()
            if definition.derive is not None:
                names.add(folder_key(bind(definition, catalog, settings)))
        except DmconfError as exc:
            result.kept.append(f"{dataset_id}: kept its outputs, since its definition in "
                               f"{place.location} cannot be keyed: {exc}")
            return None
    return names


def _leftovers(settings: Settings, dataset_id: str) -> list[Path]:
    from dmconf.derive.build import leftovers
    from dmconf.store.layout import id_folder

    return leftovers(id_folder(settings, dataset_id))


def _size(folder: Path) -> int:
    from dmconf.prepared import folder_size

    return folder_size(folder)


def _remove(folder: Path) -> int:
    """Rename aside, then delete without following links; return the bytes freed."""
    from dmconf.derive.build import aside_name

    size = _size(folder)
    aside = aside_name(folder)
    os.replace(folder, aside)
    if os.path.isdir(aside) and not os.path.islink(aside):
        shutil.rmtree(aside)  # fd-based on Linux: never follows a link inside
    else:
        os.unlink(aside)
    log.info("removed %s (%d bytes)", folder, size)
    return size


def _id_locked(settings: Settings, dataset_id: str) -> AbstractContextManager[None]:
    from dmconf.lock import Locking, id_locked
    from dmconf.store.layout import id_lock

    return id_locked(id_lock(settings, dataset_id), exclusive=True,
                     what=f"collecting unreferenced outputs of {dataset_id}",
                     locking=Locking.of(settings))
