"""Reuse a verified resource from another content version of the same id.

Two definitions of one id live in sibling folders (:mod:`dmconf.store.layout`). When they share
a resource (same sha256, same unpacking), the one prepared second takes the other's
materialised file or folder by hard links (a copy where links are impossible), so changing one
checksum of a dataset downloads that resource alone.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition, Resource
    from dmconf.settings import Settings

__all__ = ["reuse_sibling"]

log = logging.getLogger("dmconf")


def reuse_sibling(
    settings: Settings, definition: DatasetDefinition, resource: Resource, target: Path
) -> dict[str, str] | None:
    """Link a sibling's verified copy of ``resource`` at ``target``; return its state entry.

    ``None`` when no sibling holds it (or linking failed: the caller downloads instead).
    """
    from dmconf.fetch.download import remove_path
    from dmconf.state import DatasetState
    from dmconf.store.layout import content_folders, dataset_folder

    if resource.sha256 is None:
        return None
    own = dataset_folder(settings, definition)
    for sibling in content_folders(settings, definition.dataset_id):
        if sibling == own:
            continue
        for key, entry in DatasetState(sibling).resources.items():
            source = sibling / key
            if (entry.get("sha256") != resource.sha256 or entry.get("unpack") != resource.unpacking
                    or not os.path.lexists(source) or os.path.islink(source)):
                continue
            try:
                _link(source, target)
            except OSError as exc:
                log.debug("cannot reuse %s (%s); downloading instead", source, exc)
                remove_path(target)
                return None
            log.info("%s: reusing the verified %s", definition.id, source)
            return entry
    return None


def _link(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, copy_function=_link_file)
    else:
        _link_file(str(source), str(target))


def _link_file(source: str, target: str) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(source, target, follow_symlinks=False)
