"""Care of prepared data: verify it, remove it, list it with its size.

What ``verify`` can check: a resource kept as downloaded (``unpack: none``) is re-hashed against
the definition's sha256 itself. An unpacked resource cannot be checked against the definition
without the download (which is not kept), so it is checked against the sha256 recorded when it
was materialised from a verified download: of the decompressed file, or a tree digest (paths,
kinds, contents, link targets) of the unpacked folder. That catches files changed, truncated or
removed since; it also reports when the definition's sha256 changed since preparation.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dmconf.checksum import file_sha256, tree_sha256
from dmconf.definition import ID_PATTERN, DatasetDefinition
from dmconf.errors import NotPrepared, SettingsError, VerificationFailed
from dmconf.settings import Settings
from dmconf.state import STATE_FILE, DatasetState

__all__ = ["PreparedDataset", "disk_usage", "folder_size", "remove", "verify"]


def verify(definition: DatasetDefinition, settings: Settings) -> dict[str, str]:
    """Re-hash a prepared dataset's resources; return ``{key: "ok"}`` or raise.

    Raises :class:`NotPrepared` when nothing was prepared, :class:`VerificationFailed` naming
    each resource that is missing or changed.
    """
    from dmconf.preparation import _adopt_legacy

    if definition.derive is not None:
        from dmconf.derive.build import verify_output

        return verify_output(definition, settings)
    _adopt_legacy(settings, definition)
    folder = settings.dataset_folder(definition)
    state = DatasetState(folder)
    if not state.resources:
        raise NotPrepared(
            f"{definition.id} is not prepared in {folder}; run `dmconf prepare {definition.id}`",
            dataset=definition.id, path=str(folder),
        )
    problems, checked = {}, {}
    for key, resource in definition.resources.items():
        recorded = state.resources.get(key)
        path = folder / key
        if recorded is None or not (path.exists() or path.is_symlink()):
            problems[key] = f"missing ({path})"
        elif resource.sha256 is not None and recorded.get("sha256") != resource.sha256:
            problems[key] = "the definition's sha256 changed since it was prepared"
        elif resource.build is not None and not state.has(key, resource):
            problems[key] = (f"built from other inputs than those now in place; `dmconf "
                             f"prepare {definition.id}` builds it again")
        elif not resource.as_downloaded and "materialised" not in recorded:
            problems[key] = "prepared by an older dmconf, which recorded no digest of it"
        else:
            expected = resource.sha256 if resource.as_downloaded and resource.sha256 else (
                recorded.get("materialised") or recorded.get("sha256"))
            actual = tree_sha256(path) if path.is_dir() else file_sha256(path)
            if actual != expected:
                problems[key] = f"{path} changed (sha256 {actual}, expected {expected})"
            else:
                checked[key] = "ok"
    if problems:
        raise VerificationFailed(dataset=definition.id, problems=problems)
    return checked


def _check_id(dataset_id: str) -> None:
    from dmconf.refs import base_id

    plain = base_id(dataset_id)
    if plain != dataset_id and ID_PATTERN.match(plain):
        raise SettingsError(f"{dataset_id}: rm removes every version and variant of an id "
                            f"(they share its folder); name the id alone: {plain}")
    if not ID_PATTERN.match(dataset_id):
        raise SettingsError(f"{dataset_id!r} is not a dataset id (expected com.example.name)")


def remove(dataset_id: str, settings: Settings) -> Path:
    """Delete every content version of a dataset id (works for ids no catalogue knows any
    more); return its folder.

    Takes the id's lock exclusively, so it waits for a ``prepare`` of the id to finish, and a
    ``prepare`` starting meanwhile waits for it. Removes nothing but that id's data: an id that
    is only a prefix of others (``org`` when ``org.a`` exists) is an error.
    """
    from dmconf.lock import Locking, id_locked
    from dmconf.store.layout import content_folders, id_folder, id_lock, legacy_folder

    _check_id(dataset_id)
    folder = id_folder(settings, dataset_id)
    if not content_folders(settings, dataset_id) and legacy_folder(settings, dataset_id) is None:
        raise NotPrepared(_nothing_to_remove(dataset_id, settings),
                          dataset=dataset_id, path=str(folder))
    with id_locked(id_lock(settings, dataset_id), exclusive=True, what=f"removing {dataset_id}",
                   locking=Locking.of(settings)):
        for version in content_folders(settings, dataset_id):
            shutil.rmtree(version)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty: never what dmconf did not make
        legacy = legacy_folder(settings, dataset_id)
        if legacy is not None:
            _remove_legacy(legacy, settings)
    return folder


def _nothing_to_remove(dataset_id: str, settings: Settings) -> str:
    prefix = f"{dataset_id}."
    longer = sorted(d.id for d in disk_usage(settings) if d.id.startswith(prefix))
    also = f" (it is only the start of {', '.join(longer[:5])})" if longer else ""
    return (f"{dataset_id} has no data in {settings.data}{also}: nothing to remove; "
            "`dmconf du` lists the prepared datasets")


def _remove_legacy(folder: Path, settings: Settings) -> None:
    """Remove a first-layout folder's own entries (those its state records, its state, its
    temporaries); a dataset nested in it stays."""
    from dmconf.definition import KEY_PATTERN
    from dmconf.fetch.download import remove_path
    from dmconf.state import STATE_LOCK
    from dmconf.store.layout import remove_empty_folders

    keys = [k for k in DatasetState(folder).resources if KEY_PATTERN.fullmatch(k)]
    for entry in os.scandir(folder):
        if entry.name in (STATE_FILE, STATE_LOCK) or entry.name in keys or any(
                entry.name.startswith(f".{k}.") for k in keys):
            remove_path(Path(entry.path))
    remove_empty_folders(settings, folder)


@dataclass
class PreparedDataset:
    """A dataset folder found under the data folder."""

    id: str
    folder: Path
    size: int
    complete: bool  # every resource recorded, and the dataset marked prepared
    derived: bool = False  # the output of a step (dmconf.derive), not a download


def disk_usage(settings: Settings) -> list[PreparedDataset]:
    """Every dataset folder under the data folder (found by its state file), with its size.

    Sizes count every file, partial downloads included, without following links. Folders of
    dmconf's first layout (``com/lecun/mnist``) are listed too, until a ``prepare`` adopts them.
    """
    from dmconf.derive.build import is_output
    from dmconf.remote import STORE
    from dmconf.store.layout import LOCKS, MANUAL, is_content_key

    found: list[PreparedDataset] = []
    if not settings.data.is_dir():
        return found
    for root, dirs, files in os.walk(settings.data):
        folder = Path(root)
        if folder == settings.data:
            dirs[:] = [d for d in dirs if d not in (LOCKS, MANUAL, STORE)]  # STORE: `copy`'s
        if STATE_FILE not in files:
            continue
        dirs.clear()  # a dataset folder holds no other dataset
        relative = folder.relative_to(settings.data).parts
        current = len(relative) == 2 and is_content_key(relative[1])
        found.append(PreparedDataset(
            id=relative[0] if current else ".".join(relative), folder=folder,
            size=folder_size(folder), complete=DatasetState(folder).digest is not None,
            derived=current and is_output(folder),
        ))
    return sorted(found, key=lambda d: (d.id, str(d.folder)))


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (links counted, never followed)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                total += os.lstat(os.path.join(root, name)).st_size
    return total
