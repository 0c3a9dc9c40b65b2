"""Resources whose content the plugin's code builds: datamaestro's ``_download(destination)``.

A resource class of a plugin (or of this layer) that defines ``_download(destination)`` (a
document store builder, ``FilesCopy``, ``beir_judged_qids``...), or datamaestro's older
``download()`` writing ``definition.datapath / varname`` (``lz4docstore_builder``), is a
resource dmconf builds (:mod:`dmconf.derive.resource`): its definition entry is a ``build:``
block naming the code, the plugin's distribution and version, its parameters as far as they can
be named and the resources and datasets it reads; the code itself is attached to the definition
by :meth:`PythonDataset.definition`, and :func:`run` calls it into dmconf's temporary path.

While it runs, every resource of its dataset gives its real path (``self.source.path`` is the
prepared file), a ``reference`` gives the prepared data of that dataset, and ``definition``
gives datamaestro's ``datapath`` whose ``/ varname`` is the destination.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

__all__ = ["block", "builds", "closure_style", "located", "run"]

# the dataset being built, its folder and how to prepare another dataset
_BUILDING: contextvars.ContextVar[_Building | None] = contextvars.ContextVar(
    "dmconf_datamaestro_building", default=None)
# attributes of a resource that are dmconf's bookkeeping, not parameters
_NOT_PARAMS = {"name", "dataset", "transient", "_dependencies", "_varname", "placeholder"}


@dataclass(frozen=True)
class _Building:
    dataset: Any  # the PythonDataset whose resources resolve under folder
    folder: Path
    destination: Path
    prepare: Callable[[str], Any]


def builds(cls: type) -> bool:
    """Whether instances of a resource class are built by code (see the module). One whose
    constructor takes a ``url`` is built only when its code fetches it through the context
    (``self.context.downloadURL``: dmconf's fetcher, ``lz4docstore_downloader``); one opening
    it itself (``urllib``: ``streaming_docstore_builder``) would bypass dmconf's mirrors,
    offline mode, retries and checksums, and is not built."""
    try:
        older = getattr(cls, "download", None)  # datamaestro's older download(force)
        older_api = callable(older) and "force" in inspect.signature(older).parameters
        code = getattr(cls, "_download", None) if callable(
            getattr(cls, "_download", None)) else older if older_api else None
        if code is None:
            return False
        return "url" not in inspect.signature(cls).parameters or _through_context(cls)
    except (TypeError, ValueError):
        return False


def _through_context(cls: type) -> bool:
    """Whether the class's code fetches only through ``context.downloadURL``."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return False
    return ".context.downloadURL(" in source and not any(
        own in source for own in ("urlopen", "requests.", "urllib3.request", "http.client"))


def closure_style(resource: Any) -> bool:
    """Whether the code reads what it needs through closures (no declared dependencies)."""
    return not resource._dependencies


def block(resource: Any, inputs: list[str], datasets: list[str]) -> dict[str, Any]:
    """The ``build:`` block of a resource built by code."""
    cls = type(resource)
    plugin, version = _distribution(cls.__module__)
    if plugin == "dmconf":  # this layer's own builders: their own version, not dmconf's
        version = str(getattr(resource, "build_version", 1))
    params = {name.lstrip("_"): _named(value) for name, value in sorted(vars(resource).items())
              if name not in _NOT_PARAMS}
    return {"step": "plugin-code", "code": f"{cls.__module__}:{cls.__qualname__}",
            "plugin": plugin, "version": version, "inputs": inputs, "datasets": datasets,
            "params": params}


def located(resource: Any, relative: Path) -> Path:
    """``relative`` (to the dataset's folder), absolute while this resource's dataset is built."""
    building = _BUILDING.get()
    if building is None or building.dataset is not resource.dataset:
        return relative
    return building.folder / relative


def prepared_reference(reference: Any, dataset_id: str) -> Any | None:
    """The prepared data of ``dataset_id`` when ``reference`` belongs to the dataset whose
    resource is being built, else None. The other dataset is prepared (and its definition
    built) outside the build's context."""
    building = _BUILDING.get()
    if building is None or reference.dataset is not building.dataset:
        return None
    token = _BUILDING.set(None)
    try:
        return building.prepare(dataset_id)
    finally:
        _BUILDING.reset(token)


def datapath(resource: Any) -> Any:
    """datamaestro's ``definition.datapath`` while the resource is built."""
    building = _BUILDING.get()
    if building is None or building.dataset is not resource.dataset:
        raise AttributeError("definition: only while dmconf builds this resource")
    return _Datapath(building.folder, {resource.key, resource.varname}, building.destination)


class _Datapath:
    """datamaestro's dataset folder: ``/ varname`` is where the resource is written."""

    def __init__(self, folder: Path, names: set[str], destination: Path) -> None:
        self.folder, self.names, self.destination = folder, names, destination

    def __truediv__(self, name: Any) -> Path:
        return self.destination if str(name) in self.names else self.folder / name


def run(resource: Any, destination: Path, folder: Path, prepare: Callable[[str], Any]) -> None:
    """Run the resource's code into ``destination`` (which does not exist yet)."""
    from dmconf.compat.datamaestro.download import FolderResource

    token = _BUILDING.set(_Building(resource.dataset, folder, destination, prepare))
    try:
        if isinstance(resource, FolderResource):
            destination.mkdir()  # an empty folder, as datamaestro gives a folder resource
        if callable(getattr(resource, "_download", None)):
            resource._download(destination)
        else:
            resource.download(True)  # writes datapath / varname: the destination
    finally:
        _BUILDING.reset(token)


def builder(resource: Any) -> Callable[[Path, Path, Callable[[str], Any]], None]:
    """The code the definition carries for the engine (:mod:`dmconf.derive.resource`)."""
    return functools.partial(run, resource)


@functools.cache
def _distribution(module: str) -> tuple[str, str]:
    """The installed distribution providing ``module``, and its version."""
    from importlib import metadata

    top = module.split(".")[0]
    names = metadata.packages_distributions().get(top) or [top]
    try:
        found = metadata.distribution(names[0])
    except metadata.PackageNotFoundError:
        return names[0], "unknown"
    return str(found.metadata["Name"] or names[0]), str(found.version)


def _named(value: Any, depth: int = 0) -> Any:
    """A parameter as a JSON value: code and classes by name, resources by key."""
    from dmconf.compat.datamaestro.definitions import PythonDataset
    from dmconf.compat.datamaestro.download import Resource

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Resource):
        return {"resource": value.name}
    if isinstance(value, PythonDataset):
        return {"dataset": value.id}
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, Enum):
        return _named(value.value, depth)
    if isinstance(value, type) or callable(value):
        found = getattr(value, "__dataset__", None)
        if isinstance(found, PythonDataset):
            return {"dataset": found.id}
        target = getattr(value, "func", value)  # a functools.partial: its function
        return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', '?')}"
    if depth > 3:
        return type(value).__qualname__
    if isinstance(value, Mapping):
        return {str(k): _named(v, depth + 1) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_named(v, depth + 1) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_named(v, depth + 1) for v in value]
    fields = getattr(value, "__dict__", None)
    kind = f"{type(value).__module__}:{type(value).__qualname__}"
    if isinstance(fields, dict):
        return {"class": kind, **{k: _named(v, depth + 1) for k, v in sorted(fields.items())
                                  if not k.startswith("__")}}
    return kind
