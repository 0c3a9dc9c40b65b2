"""Where a dataset's files live: ``$DMCONF_DATA/<id>/<content-key>/``.

``<id>`` is the whole dotted id as one folder name (``com.lecun.mnist``), so ``org.a`` and
``org.a.b`` are siblings and never nest. ``<content-key>`` is the first 16 hex digits of a
sha256 over what the resources *are* (:func:`content_key`): two definitions of one id with
different checksums (a local Hydra option reusing a catalogue id) live side by side, and
alternating between them downloads nothing again, while editing a description, a URL, a mirror
or the ``data`` tree keeps the folder. A dataset folder never contains another dataset.

Every caller gets a dataset's folder from :func:`dataset_folder` (``Settings.dataset_folder``
delegates to it). Locks of a dataset id live apart, in ``$DMCONF_DATA/.locks/`` (never removed,
so a process waiting on a lock never holds an unlinked one).

The first layout nested ids (``$DMCONF_DATA/com/lecun/mnist/``); :func:`adopt_legacy` moves such a
folder into the new place without downloading again, and only ever touches a folder that holds
dmconf's state file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = [
    "KEY_LENGTH",
    "LOCKS",
    "adopt_legacy",
    "content_folders",
    "content_key",
    "dataset_folder",
    "id_folder",
    "id_lock",
    "is_content_key",
    "legacy_folder",
    "remove_empty_folders",
]

log = logging.getLogger("dmconf")

KEY_LENGTH = 16
LOCKS = ".locks"  # ids never start with a dot: no dataset can be called that
MANUAL = ".manual"  # files users downloaded by hand, one folder per id (dmconf.manual)
CONTENT_KEY = re.compile(rf"[0-9a-f]{{{KEY_LENGTH}}}")


def content_key(definition: DatasetDefinition) -> str:
    """16 hex digits naming the content of a definition's resources.

    For each resource (by key): its sha256 and unpacking (with its ``lines`` steps, if any); for
    a resource without sha256 (content unknown), its URL and unpacking. Nothing else: not the
    description, mirrors or ``data``.
    A derived dataset's is the start of its key (:mod:`dmconf.derive.key`).
    """
    if definition.derive is not None:
        return definition.derived_key()[:KEY_LENGTH]
    content = {
        key: {"sha256": r.sha256, "unpack": r.unpacking} if r.sha256 else {
            "url": r.origin, "unpack": r.unpacking}
        for key, r in sorted(definition.resources.items())
    }
    encoded = json.dumps(content, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:KEY_LENGTH]


def is_content_key(name: str) -> bool:
    return CONTENT_KEY.fullmatch(name) is not None


def id_folder(settings: Settings, dataset_id: str) -> Path:
    """The folder holding every content version of one id: ``$DMCONF_DATA/<id>``."""
    return settings.data / dataset_id


def dataset_folder(settings: Settings, definition: DatasetDefinition) -> Path:
    """The folder of a dataset's files: ``$DMCONF_DATA/<id>/<content-key>``."""
    return id_folder(settings, definition.dataset_id) / content_key(definition)


def content_folders(settings: Settings, dataset_id: str) -> list[Path]:
    """The content versions of an id present in the data folder (real folders, no links)."""
    try:
        entries = list(os.scandir(id_folder(settings, dataset_id)))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(Path(e.path) for e in entries
                  if is_content_key(e.name) and e.is_dir(follow_symlinks=False))


def manual_folder(settings: Settings, dataset_id: str) -> Path:
    """Where a user puts the files of ``dataset_id`` downloaded by hand."""
    return settings.data / MANUAL / dataset_id


def id_lock(settings: Settings, dataset_id: str) -> Path:
    """The lock file that ``prepare`` (shared) and ``rm`` (exclusive) take for an id."""
    return settings.data / LOCKS / f"{dataset_id}.lock"


def legacy_folder(settings: Settings, dataset_id: str) -> Path | None:
    """The first layout's folder of an id (``com/lecun/mnist``), if it holds dmconf's state."""
    from dmconf.state import STATE_FILE

    folder = settings.data.joinpath(*dataset_id.split("."))
    try:
        is_state = stat.S_ISREG(os.lstat(folder / STATE_FILE).st_mode)
        is_folder = stat.S_ISDIR(os.lstat(folder).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return folder if is_state and is_folder else None


def adopt_legacy(settings: Settings, definition: DatasetDefinition) -> None:
    """Move a first-layout folder of this id into the new place (hold the id's lock).

    Only what its state file records moves (its resources, then the state file itself, last,
    so that a run killed half-way starts again where it stopped); another dataset nested in it
    (``org.a.b`` inside ``org/a``) stays, for its own adoption. Resources are checked against
    the definition as usual afterwards: one whose checksum changed is downloaded again.
    """
    from dmconf.definition import KEY_PATTERN
    from dmconf.fetch.download import remove_path
    from dmconf.state import STATE_FILE, STATE_LOCK, DatasetState

    old = legacy_folder(settings, definition.dataset_id)
    new = dataset_folder(settings, definition)
    if old is None or (new / STATE_FILE).exists():
        return
    log.info("%s: adopting %s (dmconf's first data layout) as %s", definition.id, old, new)
    # a state file is data another user may have written: only plain resource names move
    recorded = [k for k in DatasetState(old).resources
                if KEY_PATTERN.fullmatch(k) and not is_content_key(k)]
    new.mkdir(parents=True, exist_ok=True)
    for key in recorded:
        source = old / key
        if os.path.lexists(source):
            remove_path(new / key)
            os.replace(source, new / key)
    os.replace(old / STATE_FILE, new / STATE_FILE)
    for entry in os.scandir(old):  # the first layout's locks and leftovers of this dataset
        if entry.name == STATE_LOCK or any(entry.name.startswith(f".{k}.") for k in recorded):
            remove_path(Path(entry.path))
    remove_empty_folders(settings, old)


def remove_empty_folders(settings: Settings, folder: Path) -> None:
    """Remove ``folder`` and its parents below the data folder while they are empty (the
    ``com/``, ``com/lecun/`` folders of the first layout)."""
    for each in (folder, *folder.parents):
        if each == settings.data or settings.data not in each.parents:
            break
        try:
            each.rmdir()
        except OSError:
            break
