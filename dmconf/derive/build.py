"""Making a derived dataset: prepare the inputs, run the step once, adopt the output atomically.

Read :func:`make` top to bottom. The output of key ``K`` lives in ``$DMCONF_DATA/<id>/<K[:16]>/``
with two files of dmconf's beside the step's: ``.dmconf-derived.json`` (the key, its document,
the step's source digest and a tree digest of the output) and the usual state file. Both are
written into the temporary folder ``<id>/.<K[:16]>.<pid>@<host>.build`` before it is renamed
into place, so an output is either absent or complete: a run killed during the step leaves only
the temporary, which the next build removes once its process is gone. Builds of one key are
serialised by a lock in ``$DMCONF_DATA/.locks/derived/<id>/``, taken while holding the id's
lock shared (as ``prepare`` does), so ``rm`` and ``gc`` never remove an output being built and
four processes asking at once run the step once.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.checksum import tree_sha256
from dmconf.derive.key import FORMAT, derive_of, step_of
from dmconf.errors import DefinitionError, DmconfError, StepFailed, VerificationFailed
from dmconf.lock import Locking
from dmconf.state import DatasetState
from dmconf.store.ownfiles import open_own, read_own

if TYPE_CHECKING:
    from pydantic import BaseModel

    from dmconf.catalog import Catalog
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["OUTPUT_FILE", "aside_name", "folder_key", "is_output", "leftovers", "make",
           "output_record", "verify_output"]

log = logging.getLogger("dmconf")

OUTPUT_FILE = ".dmconf-derived.json"
RESERVED = ".dmconf-"  # names of dmconf's files at the top of an output
_warned: set[tuple[str, str]] = set()  # (id, key) whose changed step was warned about


def make(definition: DatasetDefinition, settings: Settings, catalog: Catalog | None = None,
         *, rebuild: bool = False) -> Path:
    """Build a derived dataset's output unless it is there; return its folder.

    ``rebuild`` runs the step again even when the output exists (``prepare --rebuild``), and
    replaces it atomically.
    """
    key = definition.derived_key()
    folder = settings.dataset_folder(definition)
    found = step_of(definition)
    if not rebuild and output_record(folder, key) is not None:
        _mark_prepared(definition, folder, settings)
        _warn_if_changed(definition, folder, found.source_sha256())
        return folder
    inputs = {name: _input(definition, name, settings, catalog)
              for name in sorted(derive_of(definition).inputs)}
    params = found.validate(derive_of(definition).params, dataset=definition.id,
                            source=definition._source)
    with _storage(definition, folder), _build_locked(definition, settings, key):
        if not rebuild and output_record(folder, key) is not None:  # built meanwhile
            if not DatasetState(folder).is_prepared(definition):
                DatasetState(folder, Locking.of(settings)).mark_prepared(definition)
            return folder
        from dmconf.fetch.download import remove_path
        from dmconf.store.assemble import _rename_into_place

        for leftover in leftovers(folder.parent, folder.name):
            remove_path(leftover)
        build = folder.with_name(f".{folder.name}.{_owner()}.build")
        remove_path(build)
        os.mkdir(build)
        try:
            log.info("%s: running step %s (version %d)", definition.id, found.path, found.version)
            _run(definition, found.path, lambda: found.function(inputs, build, params))
            _record(definition, build, key, found.source_sha256(), Locking.of(settings))
            _rename_into_place(build, folder)
        finally:
            remove_path(build)
    log.info("%s: built %s", definition.id, folder)
    return folder


def output_record(folder: Path, key: str | None = None) -> dict[str, Any] | None:
    """What ``.dmconf-derived.json`` of an output folder records, if it is a complete output
    (of ``key``, when given); never read through a link."""
    if not is_output(folder):
        return None
    try:
        record = json.loads(read_own(folder / OUTPUT_FILE) or b"null")
    except (ValueError, UnicodeDecodeError, DmconfError):
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None
    return record if key is None or record.get("key") == key else None


def is_output(folder: Path) -> bool:
    """Whether ``folder`` is a real folder (not a link) holding a derived output's record."""
    try:
        return stat.S_ISDIR(os.lstat(folder).st_mode) and stat.S_ISREG(
            os.lstat(folder / OUTPUT_FILE).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def verify_output(definition: DatasetDefinition, settings: Settings) -> dict[str, str]:
    """Re-hash a derived output against the tree digest recorded when it was built."""
    key = definition.derived_key()
    folder = settings.dataset_folder(definition)
    record = output_record(folder, key)
    if record is None:
        from dmconf.errors import NotPrepared

        raise NotPrepared(f"{definition.id} is not built in {folder}; run `dmconf prepare "
                          f"{definition.id}`", dataset=definition.id, path=str(folder))
    actual = tree_sha256(folder, skip=RESERVED)
    if actual != record.get("tree_sha256"):
        raise VerificationFailed(dataset=definition.id, problems={
            "output": f"{folder} changed (tree sha256 {actual}, built as "
                      f"{record.get('tree_sha256')}); `dmconf prepare --rebuild "
                      f"{definition.id}` builds it again"})
    return {"output": "ok"}


def _input(definition: DatasetDefinition, name: str, settings: Settings,
           catalog: Catalog | None) -> BaseModel:
    """An input, prepared through the same engine as any dataset, or the part asked for."""
    from dmconf.preparation import prepare

    wanted = derive_of(definition).inputs[name]
    value: Any = prepare(wanted.dataset, settings=settings, catalog=catalog)
    for attribute in filter(None, wanted.part.split(".")):
        if not hasattr(value, attribute):
            raise DefinitionError(
                f"input {name!r}: {wanted.dataset} has no part {wanted.part!r} ({attribute!r} "
                f"is not a field of its {type(value).__name__})",
                dataset=definition.id, path=definition._source, field=f"derive.inputs.{name}",
            )
        value = getattr(value, attribute)
    return value


def _run(definition: DatasetDefinition, path: str, call: Any) -> None:
    try:
        call()
    except DmconfError:
        raise
    except Exception as exc:
        raise StepFailed(
            f"{definition.id}: step {path} failed ({type(exc).__name__}: {exc}); nothing was "
            "kept. Fix the step or its parameters, then prepare again (`dmconf --debug "
            "prepare` shows the traceback)", dataset=definition.id, step=path,
        ) from exc


def _record(definition: DatasetDefinition, build: Path, key: str, source: str | None,
            locking: Locking) -> None:
    """Write the output's record and state into the build folder (before its rename)."""
    from dmconf.derive.key import document_of

    reserved = sorted(e.name for e in os.scandir(build) if e.name.startswith(RESERVED))
    if reserved:
        raise StepFailed(f"{definition.id}: the step wrote {', '.join(reserved)}; names starting "
                         f"with {RESERVED} are dmconf's", dataset=definition.id)
    record = {"format": FORMAT, "id": definition.id, "key": key,
              "document": document_of(definition), "step_source_sha256": source,
              "tree_sha256": tree_sha256(build, skip=RESERVED)}
    with open_own(build / OUTPUT_FILE, "xb") as out:
        out.write(json.dumps(record, indent=1, sort_keys=True).encode())
    DatasetState(build, locking).mark_prepared(definition)


def _mark_prepared(definition: DatasetDefinition, folder: Path, settings: Settings) -> None:
    """An output of this key, whose definition changed elsewhere (its data tree): mark it
    prepared for this one, as prepare does for downloaded resources (no rebuild)."""
    if DatasetState(folder).is_prepared(definition):
        return
    from dmconf.preparation import _id_locked

    with _storage(definition, folder), _id_locked(settings, definition, exclusive=False):
        DatasetState(folder, Locking.of(settings)).mark_prepared(definition)


def _warn_if_changed(definition: DatasetDefinition, folder: Path, source: str | None) -> None:
    record = output_record(folder) or {}
    built = record.get("step_source_sha256")
    key = str(record.get("key"))
    if source is None or built is None or built == source or (definition.id, key) in _warned:
        return
    _warned.add((definition.id, key))
    found = step_of(definition)
    log.warning(
        "%s: the source of step %s changed since %s was built, but its version is still %d: "
        "the output may be stale. Rebuild it with `dmconf prepare --rebuild %s` (or bump the "
        "step's version: a new key, the old output stays until `dmconf gc`)",
        definition.id, found.path, folder, found.version, definition.id,
    )


@contextmanager
def _build_locked(definition: DatasetDefinition, settings: Settings, key: str) -> Iterator[None]:
    """The id's lock shared (as prepare takes it: rm and gc wait), then the build lock of
    this key (one builder), with the settings' lock kind; in a ``shared`` store, what is made
    meanwhile is the group's too."""
    from dmconf.lock import locked
    from dmconf.preparation import _id_locked
    from dmconf.store.layout import LOCKS
    from dmconf.store.stores import group_shared, make_folders

    lock = settings.data / LOCKS / "derived" / definition.dataset_id / f"{folder_key(key)}.lock"
    with group_shared(settings):
        make_folders(lock.parent, settings)
        make_folders(settings.dataset_folder(definition).parent, settings)
        with _id_locked(settings, definition, exclusive=False), locked(
                lock, f"building {definition.id}", Locking.of(settings)):
            yield


def folder_key(key: str) -> str:
    from dmconf.store.layout import KEY_LENGTH

    return key[:KEY_LENGTH]


def _owner() -> str:
    from dmconf.fetch.download import HOST

    return f"{os.getpid()}@{HOST}"


def leftovers(id_dir: Path, name: str | None = None) -> list[Path]:
    """Build and stale folders (``.<key>.<pid>@<host>.build|.stale``) in an id's folder, of
    one output (``name``) or all, whose process is gone: a run killed during its step."""
    from dmconf.fetch.download import gone
    from dmconf.store.layout import is_content_key

    try:
        entries = list(os.scandir(id_dir))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for entry in entries:
        parts = entry.name.split(".", 2)  # "", key, "pid@host.build"
        if len(parts) < 3 or parts[0] or not is_content_key(parts[1]) or (
                name is not None and parts[1] != name) or not parts[2].endswith(
                (".build", ".stale")):
            continue
        pid, _, host = parts[2].rsplit(".", 1)[0].partition("@")
        if pid.isdigit() and host and gone(int(pid), host, Path(entry.path)):
            found.append(Path(entry.path))
    return found


def aside_name(folder: Path) -> Path:
    """Where this process moves an output before deleting it (a ``leftovers`` name)."""
    return folder.with_name(f".{folder.name}.{_owner()}.stale")


@contextmanager
def _storage(definition: DatasetDefinition, folder: Path) -> Iterator[None]:
    from dmconf.materialise import storage

    with storage(definition.id, folder):
        yield
