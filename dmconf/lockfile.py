"""Experiment lock files (``dmconf.lock``): the exact data an experiment used.

Not to be confused with :mod:`dmconf.lock` (inter-process locks). A lock file is readable YAML::

    version: 1
    datasets:
      com.lecun.mnist:
        definition: 5f0c…      # the definition's content digest
        manifest: 9ab1…        # the digest of the prepared data's manifest
        resources:
          train_images: {url: http://…, sha256: 440f…, size: 9912422}

:func:`lock` prepares each dataset and records it; :func:`check` lists what no longer matches
the catalogue; :func:`prepare_locked` prepares exactly what is recorded (pulling the locked
manifest from the settings' remotes first) or fails naming what differs. Hydra runs write the
entries of the datasets they used to ``.hydra/dmconf.lock`` (:func:`record_in_hydra_run`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from dmconf.errors import DefinitionError, LockMismatch, describe_validation

if TYPE_CHECKING:
    from dmconf.catalog import Catalog
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["LOCK_FILE", "LockEntry", "check", "entry_for", "lock", "prepare_locked", "read_lock",
           "record_in_hydra_run", "write_lock"]

log = logging.getLogger("dmconf")

LOCK_FILE = "dmconf.lock"
HEADER = (
    "# dmconf.lock: the exact data of this experiment. `dmconf lock --check` tells whether the\n"
    "# definitions still match; `dmconf prepare --locked` prepares exactly this data.\n"
)


class LockedSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    sha256: str | None = None
    size: int | None = None


class LockEntry(BaseModel):
    """One dataset of a lock file."""

    model_config = ConfigDict(extra="forbid")
    definition: str
    manifest: str
    resources: dict[str, LockedSource]


def entry_for(definition: DatasetDefinition, settings: Settings) -> LockEntry:
    """The lock entry of a dataset, preparing it first if needed."""
    from dmconf.preparation import prepare
    from dmconf.store.manifest import manifest_of

    prepare(definition, settings=settings)
    manifest = manifest_of(definition, settings.dataset_folder(definition))
    return LockEntry(
        definition=definition.content_digest(), manifest=manifest.digest(),
        resources={key: LockedSource(url=r.origin, sha256=r.sha256, size=r.size)
                   for key, r in sorted(definition.resources.items())},
    )


def read_lock(path: Path) -> dict[str, LockEntry]:
    """The entries of a lock file (a missing file: none)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"cannot be read: {exc}", path=str(path)) from None
    try:
        raw = yaml.safe_load(text) or {}
        datasets = (raw.get("datasets") or {}) if isinstance(raw, dict) else None
        if not isinstance(datasets, dict):
            raise DefinitionError("expected `datasets:` mapping ids to entries", path=str(path))
        return {str(k): LockEntry.model_validate(v) for k, v in datasets.items()}
    except yaml.YAMLError as exc:
        raise DefinitionError(f"is not valid YAML: {exc}", path=str(path)) from None
    except ValidationError as exc:
        raise DefinitionError(describe_validation(exc.errors()), path=str(path)) from None


def write_lock(path: Path, entries: dict[str, LockEntry]) -> None:
    """Write (atomically) a lock file holding ``entries``, sorted by id."""
    import yaml

    content = {"version": 1, "datasets": {
        key: entries[key].model_dump(mode="json") for key in sorted(entries)}}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(HEADER + yaml.safe_dump(content, sort_keys=False, width=200), encoding="utf-8")
    os.replace(tmp, path)


def lock(
    definitions: Iterable[DatasetDefinition], path: Path, settings: Settings
) -> dict[str, LockEntry]:
    """Add (or refresh) the entries of ``definitions`` in the lock file ``path``."""
    entries = read_lock(path)
    for definition in definitions:
        entries[definition.id] = entry_for(definition, settings)
    write_lock(path, entries)
    return entries


def check(path: Path, catalog: Catalog) -> list[str]:
    """What no longer matches: one line per dataset whose definition changed since locked."""
    from dmconf.errors import DatasetNotFound

    entries = read_lock(path)
    if not entries:
        raise DefinitionError("holds no dataset; create it with `dmconf lock ID...`",
                              path=str(path))
    problems = []
    for dataset_id, entry in entries.items():
        try:
            definition = catalog.find(dataset_id)
        except DatasetNotFound:
            problems.append(f"{dataset_id}: no longer in any catalogue")
            continue
        problems += _differences(definition, entry)
    return problems


def _differences(definition: DatasetDefinition, entry: LockEntry) -> list[str]:
    if definition.content_digest() == entry.definition:
        return []
    found = []
    for key in sorted({*entry.resources, *definition.resources}):
        locked, now = entry.resources.get(key), definition.resources.get(key)
        if locked is None or now is None:
            found.append(f"resource {key!r} {'added' if locked is None else 'removed'}")
        elif locked.sha256 != now.sha256:
            found.append(f"resource {key!r} sha256 {locked.sha256} -> {now.sha256}")
    what = "; ".join(found) or "its type, data or unpacking changed"
    return [f"{definition.id}: the definition ({definition.source}) differs from the lock: {what}"]


def prepare_locked(
    lock_path: str | Path, ids: list[str], settings: Settings, catalog: Catalog
) -> list[Any]:
    """Prepare exactly the locked data of ``ids`` (every locked dataset when empty)."""
    from dmconf.preparation import is_prepared, prepare
    from dmconf.store.manifest import manifest_of

    path = Path(lock_path)
    entries = read_lock(path)
    if not entries:
        raise DefinitionError("holds no dataset (or does not exist); `dmconf lock ID...` writes "
                              "it", path=str(path))
    unknown = [i for i in ids if i not in entries]
    if unknown:
        raise LockMismatch(f"{path}: {', '.join(unknown)} not locked; `dmconf lock` them first",
                           path=str(path))
    typed = []
    for dataset_id in ids or list(entries):
        entry, definition = entries[dataset_id], catalog.find(dataset_id)
        differences = _differences(definition, entry)
        if differences:
            raise LockMismatch(f"{path}: " + "; ".join(differences), dataset=dataset_id)
        if not is_prepared(definition, settings=settings):
            _pull_locked(definition, entry, settings)
        typed.append(prepare(definition, settings=settings))
        manifest = manifest_of(definition, settings.dataset_folder(definition))
        if manifest.digest() != entry.manifest:
            raise LockMismatch(
                f"{dataset_id}: the prepared data (manifest {manifest.digest()}) is not the "
                f"locked data (manifest {entry.manifest}) although the definition matches; "
                f"pull the locked version (`dmconf pull {dataset_id}@{entry.manifest}`), or "
                f"re-lock with `dmconf lock {dataset_id}` if this data is what you want",
                dataset=dataset_id,
            )
    return typed


def _pull_locked(definition: DatasetDefinition, entry: LockEntry, settings: Settings) -> None:
    """Try the settings' remotes for the exact locked manifest; quietly leave it to prepare."""
    from dmconf.errors import CorruptBlob, RemoteError
    from dmconf.remote import open_remote
    from dmconf.remote.transfer import fetch_manifest, install

    for name in settings.remotes:
        remote = open_remote(name, settings)
        try:
            manifest = fetch_manifest(definition.dataset_id, entry.manifest, remote)
            install(definition, manifest, settings, remote)
            return
        except (RemoteError, CorruptBlob, DefinitionError) as exc:
            log.warning("%s; trying the next source", exc)


def record_in_hydra_run(definition: DatasetDefinition, settings: Settings) -> Path | None:
    """Add the dataset's lock entry to ``.hydra/dmconf.lock`` of the running Hydra job.

    Does nothing outside a Hydra job, or when the job writes no ``.hydra`` folder, or for a
    derived dataset (lock files hold downloaded data; a derived one is made from its inputs).
    """
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized() or definition.derive is not None:
        return None
    config = HydraConfig.get()
    subdir = config.output_subdir
    if subdir is None:
        return None
    folder = Path(config.runtime.output_dir) / subdir
    from filelock import FileLock

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    entry = entry_for(definition, settings)
    with FileLock(folder / f".{LOCK_FILE}.lock"):
        entries = read_lock(path)
        entries[definition.id] = entry
        write_lock(path, entries)
    return path
