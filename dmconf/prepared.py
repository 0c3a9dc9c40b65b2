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

__all__ = ["PreparedDataset", "disk_usage", "remove", "verify"]


def verify(definition: DatasetDefinition, settings: Settings) -> dict[str, str]:
    """Re-hash a prepared dataset's resources; return ``{key: "ok"}`` or raise.

    Raises :class:`NotPrepared` when nothing was prepared, :class:`VerificationFailed` naming
    each resource that is missing or changed.
    """
    folder = settings.dataset_folder(definition.id)
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
        elif resource.unpack != "none" and "materialised" not in recorded:
            problems[key] = "prepared by an older dmconf, which recorded no digest of it"
        else:
            expected = resource.sha256 if resource.unpack == "none" and resource.sha256 else (
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
    if not ID_PATTERN.match(dataset_id):
        raise SettingsError(f"{dataset_id!r} is not a dataset id (expected com.example.name)")


def remove(dataset_id: str, settings: Settings) -> Path:
    """Delete a dataset's folder (works for ids no catalogue knows any more); return it."""
    _check_id(dataset_id)
    folder = settings.dataset_folder(dataset_id)
    if not folder.is_dir():
        raise NotPrepared(f"{dataset_id} has no data in {folder}: nothing to remove",
                          dataset=dataset_id, path=str(folder))
    shutil.rmtree(folder)
    for parent in folder.parents:  # the now-empty com/, com/lecun/ folders
        if parent == settings.data or settings.data not in parent.parents:
            break
        try:
            parent.rmdir()
        except OSError:
            break
    return folder


@dataclass
class PreparedDataset:
    """A dataset folder found under the data folder."""

    id: str
    folder: Path
    size: int
    complete: bool  # every resource recorded, and the dataset marked prepared


def disk_usage(settings: Settings) -> list[PreparedDataset]:
    """Every dataset folder under the data folder (found by its state file), with its size.

    Sizes count every file, partial downloads included, without following links.
    """
    found: list[PreparedDataset] = []
    if not settings.data.is_dir():
        return found
    for root, dirs, files in os.walk(settings.data):
        if STATE_FILE not in files:
            continue
        dirs.clear()  # a dataset folder holds no other dataset
        folder = Path(root)
        state = DatasetState(folder)
        found.append(PreparedDataset(
            id=".".join(folder.relative_to(settings.data).parts), folder=folder,
            size=_size(folder), complete=state.digest is not None,
        ))
    return sorted(found, key=lambda d: d.id)


def _size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                total += os.lstat(os.path.join(root, name)).st_size
    return total
