"""Several stores, and a store shared by a group.

``data`` may be a list (``[/lab/dmconf, ~/dmconf]``): the first writable store receives
downloads (``Settings.data``); the read-only ones before it (a lab's shared store, a node-local
copy) are used when they hold the dataset prepared, judged by their state file alone: no
write, no lock, no network (:func:`prepared_elsewhere`).

``shared: true`` makes a store usable by every member of its group: while dmconf writes, its
umask lets the group read and write (files 0664, folders 0775, lock files included), and the
folders it creates are setgid, so they keep the store's group (:func:`group_shared`,
:func:`make_folders`).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["first_writable", "group_shared", "make_folders", "prepared_elsewhere"]

_umask_lock = threading.Lock()
_umask_users = 0
_umask_saved = 0


def first_writable(stores: list[Path]) -> int:
    """The index of the first store this user can write (or create); the last if none."""
    for index, store in enumerate(stores):
        existing = store
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
            return index
    return len(stores) - 1


def prepared_elsewhere(settings: Settings, definition: DatasetDefinition) -> Path | None:
    """The folder of a read-only store that holds ``definition`` prepared, if any."""
    from dmconf.state import DatasetState
    from dmconf.store.layout import content_key

    for store in settings.read_only:
        folder = store / definition.dataset_id / content_key(definition)
        try:
            if DatasetState(folder).is_prepared(definition):
                return folder
        except (OSError, ValueError):
            continue  # unreadable, or a link planted there: not this store
    return None


@contextmanager
def group_shared(settings: Settings) -> Iterator[None]:
    """While dmconf writes a ``shared`` store, let the group read and write what it creates.

    The umask is the process's: it is changed once for all threads preparing at the same time
    and restored when the last one finishes.
    """
    global _umask_users, _umask_saved
    if not settings.shared:
        yield
        return
    with _umask_lock:
        if _umask_users == 0:
            _umask_saved = os.umask(0)
            os.umask(_umask_saved & ~0o070)
        _umask_users += 1
    try:
        yield
    finally:
        with _umask_lock:
            _umask_users -= 1
            if _umask_users == 0:
                os.umask(_umask_saved)


def make_folders(folder: Path, settings: Settings) -> None:
    """``mkdir -p folder``; in a ``shared`` store the folders made are setgid and group-rwx."""
    if not settings.shared:
        folder.mkdir(parents=True, exist_ok=True)
        return
    missing = []
    each = folder
    while not each.exists() and each != each.parent:
        missing.append(each)
        each = each.parent
    folder.mkdir(parents=True, exist_ok=True)
    for made in reversed(missing):
        try:
            mode = os.lstat(made).st_mode
            if stat.S_ISDIR(mode):
                os.chmod(made, stat.S_IMODE(mode) | stat.S_ISGID | 0o070)
        except PermissionError:
            pass  # made by another member meanwhile: theirs to set
