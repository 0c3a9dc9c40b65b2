"""The prepare flow: from a dataset id to a verified folder and a typed object.

Read :func:`prepare` top to bottom: resolve the definition, build the typed object with
absolute paths (so a wrong ``type`` or ``data`` fails before any download), return it at once
if the folder is already prepared (a few ``stat`` calls), otherwise fetch the missing resources
in parallel and mark the dataset prepared. One resource (:mod:`dmconf.materialise`) is fetched
under its own lock: adopt what a killed run left, download the rest (resuming, retrying, then
trying mirrors; hashing and, for single-file decompression, decompressing as bytes arrive),
verify, unpack into a temporary name, move into place.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dmconf.catalog import Catalog
from dmconf.definition import DatasetDefinition, Resource
from dmconf.errors import (
    DefinitionError,
)
from dmconf.lock import Locking
from dmconf.materialise import Job, materialise, run_all, storage, usable_urls
from dmconf.settings import Settings, load_settings
from dmconf.state import DatasetState
from dmconf.store.layout import LOCKS

if TYPE_CHECKING:
    from dmconf.data.registry import Resolver

__all__ = ["Answer", "build_object", "check_paths", "is_prepared", "prepare", "prepared",
           "resolve_definition", "typed_paths"]

log = logging.getLogger("dmconf")


def prepare(
    dataset: str | DatasetDefinition,
    *,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    rebuild: bool = False,
) -> BaseModel:
    """Download what is missing of a dataset, verify it, and return its typed object.

    A derived dataset is built from its inputs instead (:mod:`dmconf.derive`); ``rebuild``
    runs its step again even when its output exists. An id named without settings or
    catalogue is answered from memory when it was prepared before in this process and nothing
    it depends on changed (:mod:`dmconf.warm`).
    """
    remembered = isinstance(dataset, str) and settings is None and catalog is None
    started = time.time_ns()
    if remembered and isinstance(dataset, str) and not rebuild:  # the environment decides
        from dmconf.warm import recall

        warm = recall(dataset)
        if warm is not None:
            return warm
    settings = settings or load_settings()
    if isinstance(dataset, str):
        catalog = catalog or Catalog.from_settings(settings)
    answer = prepared(dataset, settings, catalog, rebuild=rebuild)
    if remembered and isinstance(dataset, str) and catalog is not None:
        from dmconf.warm import remember

        remember(dataset, catalog, answer, started=started)
    return answer.typed


@dataclass
class Answer:
    """What one prepare gave, and what the warm path needs to know to note it."""

    typed: BaseModel
    definition: DatasetDefinition
    settings: Settings
    folder: Path
    elsewhere: bool  # answered from a read-only store
    others: bool  # built from other datasets (``_dataset`` nodes)


def prepared(
    dataset: str | DatasetDefinition, settings: Settings, catalog: Catalog | None, *,
    rebuild: bool = False, known: Callable[[Answer], None] | None = None,
) -> Answer:
    """:func:`prepare` without the warm path, saying where its answer came from; ``known``
    gets the answer once it is known, before anything is downloaded or built."""
    definition = resolve_definition(dataset, settings=settings, catalog=catalog)
    from dmconf.agreements import require_accepted
    from dmconf.store.stores import group_shared, make_folders, prepared_elsewhere

    require_accepted(definition, settings)  # the publisher's terms first: nothing is fetched
    elsewhere = prepared_elsewhere(settings, definition)  # a lab's read-only store
    others = _Others(settings, catalog)
    if elsewhere is not None:
        typed = build_object(definition, elsewhere, others)
        check_paths(definition, elsewhere, typed)
        return Answer(typed, definition, settings, elsewhere, True, others.used)
    folder = settings.dataset_folder(definition)
    # A wrong type or data fails before any download (datasets it refers to are prepared).
    typed = build_object(definition, folder, others)
    answer = Answer(typed, definition, settings, folder, False, others.used)
    if known is not None:
        known(answer)
    if definition.derive is not None:
        from dmconf.derive.build import make

        make(definition, settings, catalog, rebuild=rebuild)
        check_paths(definition, folder, typed)
        return answer
    if rebuild:
        raise DefinitionError(
            "is downloaded, not derived: only derived datasets are rebuilt (`dmconf verify` "
            f"checks a download; `dmconf rm {definition.id}` then prepare fetches it again)",
            dataset=definition.id, path=definition._source)
    if not DatasetState(folder).is_prepared(definition):
        _adopt_legacy(settings, definition)
    if not DatasetState(folder).is_prepared(definition) and not _from_remotes(definition, settings):
        job = Job(definition, folder, settings)
        state = DatasetState(folder)
        for key, resource in definition.resources.items():
            if resource.build is not None:
                from dmconf.derive.resource import builder_of

                builder_of(definition, key, settings)  # a file's: refused before downloads
            elif not state.has(key, resource):
                usable_urls(job, key, resource)  # offline: fail before touching the disk
        with storage(definition.id, folder), group_shared(settings):
            make_folders(folder, settings)
            make_folders(settings.data / LOCKS, settings)
            with _id_locked(settings, definition, exclusive=False):
                state = DatasetState(folder)  # an `rm` may have run while this one waited
                missing = {k: r for k, r in definition.resources.items() if not state.has(k, r)}
                run_all({k: r for k, r in missing.items() if r.build is None},
                        settings.parallel, lambda k, r: materialise(job, k, r), job.cancel)
                _build_missing(job, missing)
                # A type whose data another tool downloads (ir_datasets) does it here, once.
                download = getattr(typed, "dmconf_download", None)
                if callable(download):
                    download()
                DatasetState(folder, job.locking).mark_prepared(definition)
                check_paths(definition, folder, typed)
        log.info("%s", job.summary.line(folder))
    else:
        check_paths(definition, folder, typed)
    return answer


def _build_missing(job: Job, missing: dict[str, Resource]) -> None:
    """The resources built by code, once the ones they read are in place (in order)."""
    from dmconf.derive.resource import build_order, build_resource

    resources = job.definition.resources
    for key in build_order(resources):
        state = DatasetState(job.folder)
        if key in missing or not state.has(key, resources[key]):  # an input was rebuilt
            build_resource(job, key, resources[key])


def _id_locked(
    settings: Settings, definition: DatasetDefinition, *, exclusive: bool
) -> AbstractContextManager[None]:
    from dmconf.lock import id_locked
    from dmconf.store.layout import id_lock

    what = f"{'adopting' if exclusive else 'preparing or removing'} {definition.id}"
    return id_locked(id_lock(settings, definition.dataset_id), exclusive=exclusive, what=what,
                     locking=Locking.of(settings))


def _adopt_legacy(settings: Settings, definition: DatasetDefinition) -> None:
    """Move a folder of dmconf's first layout into place (a rename, no download)."""
    from dmconf.store.layout import adopt_legacy, legacy_folder

    if legacy_folder(settings, definition.dataset_id) is None:
        return
    folder = settings.dataset_folder(definition)
    with storage(definition.id, folder), _id_locked(settings, definition, exclusive=True):
        adopt_legacy(settings, definition)


def check_paths(definition: DatasetDefinition, folder: Path, typed: BaseModel) -> None:
    """Raise naming the first ``path`` of the typed object that does not exist.

    A definition whose ``data`` expects another layout than the archive has (a top folder
    named differently) fails here, with what the resource does contain, rather than handing
    out a path that does not exist.
    """
    for where, path in typed_paths(typed):
        if os.path.lexists(path):
            continue
        relative = Path(os.path.relpath(path, folder))
        top = folder / relative.parts[0]
        holds = ""
        if top.is_dir() and not top.is_symlink():
            names = sorted(e.name + ("/" if e.is_dir() else "") for e in os.scandir(top))
            shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            holds = f"; {relative.parts[0]} holds: {shown or 'nothing'}"
        raise DefinitionError(
            f"{where}.path is {relative.as_posix()}, which does not exist after preparing "
            f"({path}){holds}. Fix the path in the definition",
            dataset=definition.id, path=definition._source, field=f"{where}.path",
        )


def typed_paths(typed: BaseModel) -> Iterator[tuple[str, Path]]:
    """Every ``path`` of a typed object, with the attribute path that leads to it."""
    return _paths(typed, "data")


def _paths(value: Any, where: str) -> Iterator[tuple[str, Path]]:
    """Every ``path`` of a typed object, with the attribute path that leads to it."""
    if isinstance(value, BaseModel):
        path = getattr(value, "path", None)
        if isinstance(path, Path):
            yield where, path
        names = [*type(value).model_fields, *(value.model_extra or {})]
        for name in names:
            if name != "path":
                yield from _paths(getattr(value, name, None), f"{where}.{name}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _paths(item, f"{where}.{index}")
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _paths(item, f"{where}.{name}")


def is_prepared(dataset: str | DatasetDefinition, *, settings: Settings | None = None) -> bool:
    """Whether a dataset is prepared in the data folder (no network, no hashing)."""
    settings = settings or load_settings()
    definition = resolve_definition(dataset, settings=settings)
    from dmconf.store.stores import prepared_elsewhere

    return prepared_elsewhere(settings, definition) is not None or DatasetState(
        settings.dataset_folder(definition)).is_prepared(definition)


def resolve_definition(
    dataset: str | DatasetDefinition | Mapping[str, Any],
    *,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
) -> DatasetDefinition:
    """A definition from an id (looked up in the catalogue), a mapping, or a definition.

    A derived definition's key is computed against the same catalogue (its inputs' ids are
    looked up there).
    """
    if isinstance(dataset, DatasetDefinition):
        definition = dataset
    elif isinstance(dataset, Mapping):
        definition = DatasetDefinition.from_mapping(dataset)
    else:
        catalog = catalog or Catalog.from_settings(settings)
        definition = catalog.find(dataset)
    if definition.croissant is not None:  # resources and data from Croissant metadata
        from dmconf.croissant.resolve import resolve_croissant

        definition = resolve_croissant(definition, settings or load_settings())
    if definition.derive is not None:
        from dmconf.derive.key import bind

        bind(definition, catalog, settings)
    return definition


def _from_remotes(definition: DatasetDefinition, settings: Settings) -> bool:
    """The settings' remotes, tried before the original URLs (a content-addressed mirror)."""
    if not settings.remotes:
        return False
    from dmconf.remote.transfer import prepare_from_remotes
    from dmconf.store.stores import group_shared

    with group_shared(settings):
        return prepare_from_remotes(definition, settings)


@dataclass
class _Others:
    """Other datasets a definition refers to (``_dataset`` nodes), prepared on demand."""

    settings: Settings
    catalog: Catalog | None
    used: bool = False  # the answer depends on other definitions: never noted

    def data(self, dataset_id: str, part: str) -> BaseModel:
        self.used = True
        obj: Any = prepare(dataset_id, settings=self.settings, catalog=self.catalog)
        for name in filter(None, part.split(".")):
            obj = getattr(obj, name)
        return obj

    def folder(self, dataset_id: str) -> Path:
        self.data(dataset_id, "")
        definition = resolve_definition(dataset_id, settings=self.settings, catalog=self.catalog)
        return self.settings.dataset_folder(definition)


def build_object(
    definition: DatasetDefinition, folder: Path, resolve: Resolver | None = None
) -> BaseModel:
    """The typed object of a definition whose files are (or will be) in ``folder``.

    ``resolve`` gives what it refers to in other datasets.
    """
    from dmconf.data.registry import build, resolve_type

    cls = resolve_type(definition.type or "generic", f"{definition.source}: type")
    return build(
        definition.data, cls, folder, f"{definition.id}: data", resolve, id=definition.id
    )
