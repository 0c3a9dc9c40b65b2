"""Python-defined datasets that packages register under the ``dmconf.datasets`` entry point group.

The entry name is the id and the value the decorated object::

    [project.entry-points."dmconf.datasets"]
    "com.lecun.mnist" = "mnist_plugin.mnist:MNIST"

Listing reads entry names only (package metadata, no import). Searching needs each dataset's
name, description, tags and tasks; they come from an index cached in
``$DMCONF_CACHE/python-datasets.json`` (default: the user cache folder), keyed by the entry point,
its distribution's name and version, and the size and modification time of the module's file, so
that editing an editable install refreshes it. On a miss the module's source is *parsed* (never
run) for the docstring and the literal arguments of ``@dataset``, ``@datatags`` and
``@datatasks``; only when that fails (computed arguments, a file that cannot be found) is the
module imported, once, and its answer cached. Preparing, ``info`` and Hydra always import it.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.catalog import SEARCHED_FIELDS, Entry
from dmconf.errors import DefinitionError
from dmconf.settings_sources import ENV_CACHE

if TYPE_CHECKING:  # imported when a definition is built: listing does not need the models
    from dmconf.catalog import InstalledEntryPoints
    from dmconf.definition import DatasetDefinition

__all__ = ["DATASETS_GROUP", "PythonEntry", "index_file", "python_entries"]

DATASETS_GROUP = "dmconf.datasets"
INDEX_VERSION = 1


def index_file() -> Path:
    """Where the search index of Python-defined datasets is cached."""
    explicit = os.environ.get(ENV_CACHE)
    if explicit:
        return Path(explicit).expanduser() / "python-datasets.json"
    import platformdirs

    return Path(platformdirs.user_cache_dir("dmconf", appauthor=False)) / "python-datasets.json"


class PythonEntry(Entry):
    """A dataset registered by an entry point; ``path`` is its module's file when known."""

    _shown = (*Entry._shown, "target", "distribution", "fingerprint")
    _compared = (*Entry._compared, "target", "distribution", "fingerprint")

    def __init__(self, id: str, path: Path, origin: str,
                 _metadata: dict[str, Any] | None = None, target: str = "",
                 distribution: str = "", fingerprint: list[Any] | None = None) -> None:
        super().__init__(id, path, origin, _metadata)
        self.target, self.distribution, self.fingerprint = target, distribution, fingerprint

    @property
    def location(self) -> str:
        where = f" ({self.path})" if self.path.name else ""
        return f"entry point {self.id!r} = {self.target!r} of {self.distribution}{where}"

    def definition(self) -> DatasetDefinition:
        """Import the module and build the definition (the entry name is the id)."""
        from dmconf.definition import DatasetDefinition
        from dmconf.definitions import PythonDataset

        obj = self._load()
        if isinstance(obj, PythonDataset):
            definition = obj.definition(self.id)
        elif isinstance(obj, DatasetDefinition):
            if obj.id != self.id:
                raise DefinitionError(
                    f"{self.location} gives a definition whose id is {obj.id!r}; make the "
                    "entry point name and the id equal",
                    dataset=self.id, field="id",
                )
            definition = obj.model_copy()
        else:
            raise DefinitionError(
                f"{self.location} names a {type(obj).__name__}, not a dataset: decorate a "
                "function with @dataset (dmconf.definitions) or point at a DatasetDefinition",
                dataset=self.id,
            )
        definition._source = self.location
        return definition

    def metadata(self) -> dict[str, Any]:
        """name, description, tags and tasks: from the index, the source, or an import."""
        if self._metadata is None:
            self._metadata = _indexed(self)
        return self._metadata

    def _load(self) -> Any:
        try:
            return EntryPoint(self.id, self.target, DATASETS_GROUP).load()
        except Exception as exc:  # any error in the plugin's module: say whose it is
            raise DefinitionError(
                f"{self.location} cannot be loaded ({type(exc).__name__}: {exc}); fix or "
                "reinstall the plugin, or uninstall it",
                dataset=self.id,
            ) from exc


def python_entries(installed: InstalledEntryPoints | None = None) -> list[PythonEntry]:
    """Every dataset of the ``dmconf.datasets`` group (an id may come twice: see the catalogue).

    ``installed`` is a scan of every entry point (``importlib.metadata.entry_points()``) when
    the caller already has one.
    """
    found: dict[str, list[PythonEntry]] = {}
    installed = installed if installed is not None else entry_points()
    for ep in installed.select(group=DATASETS_GROUP):
        dist = getattr(ep, "dist", None)
        name = f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"
        module_file = _module_file(ep.value.partition(":")[0])
        entry = PythonEntry(
            ep.name, module_file or Path(), f"plugin {name}", target=ep.value, distribution=name,
        )
        entry.fingerprint = [ep.value, name, *_stat(module_file)]
        found.setdefault(ep.name, []).append(entry)  # the catalogue warns about duplicates
    return [entry for entries in found.values() for entry in entries]


def _module_file(module: str) -> Path | None:
    """The file Python would import ``module`` from, found without importing anything."""
    parts = module.strip().split(".")
    for folder in sys.path:
        base = Path(folder or ".").joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _stat(path: Path | None) -> list[Any]:
    if path is None:
        return []
    try:
        info = path.stat()
    except OSError:
        return []
    return [str(path), info.st_size, info.st_mtime_ns]


# --- the index -----------------------------------------------------------------------------

_memory: dict[str, dict[str, Any]] = {}  # index file -> its content, read once per process


def _read_index(path: Path) -> dict[str, Any]:
    key = str(path)
    if key not in _memory:
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            content = None
        valid = isinstance(content, dict) and content.get("version") == INDEX_VERSION
        _memory[key] = content["entries"] if valid else {}
    return _memory[key]


def _indexed(entry: PythonEntry) -> dict[str, Any]:
    path = index_file()
    index = _read_index(path)
    cached = index.get(entry.id)
    if isinstance(cached, dict) and cached.get("key") == entry.fingerprint:
        return dict(cached["metadata"])
    metadata = _from_source(entry) or _from_import(entry)
    index[entry.id] = {"key": entry.fingerprint, "metadata": metadata}
    _write_index(path, index)
    return metadata


def _write_index(
    path: Path, index: dict[str, Any], field: str = "entries", version: Any = INDEX_VERSION
) -> None:
    """Atomically replace the index; a cache that cannot be written is only slower."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"version": version, field: index}), "utf-8")
        os.replace(tmp, path)
    with contextlib.suppress(OSError):
        tmp.unlink()


def _from_import(entry: PythonEntry) -> dict[str, Any]:
    definition = entry.definition()
    return {key: getattr(definition, key) for key in SEARCHED_FIELDS}


def _from_source(entry: PythonEntry) -> dict[str, Any] | None:
    """The metadata read from the module's source, or None when it cannot be read statically."""
    from dmconf.definitions import split_docstring

    attribute = entry.target.partition(":")[2].strip()
    if not entry.path.name or not attribute or "." in attribute:
        return None
    try:
        tree = ast.parse(entry.path.read_bytes(), str(entry.path))
    except (OSError, SyntaxError, ValueError):
        return None
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    node = next(
        (n for n in tree.body if isinstance(n, functions) and n.name == attribute), None
    )
    if node is None:
        return None
    decorated = False
    tags: list[str] = []
    tasks: list[str] = []
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        func = call.func if call is not None else decorator
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name == "dataset":
            decorated = True
        elif name in ("datatags", "datatasks"):
            try:  # a computed or starred argument is not a literal: read it by importing
                values = [ast.literal_eval(a) for a in call.args] if call else [None]
            except ValueError:
                return None
            if not all(isinstance(v, str) for v in values):
                return None
            (tags if name == "datatags" else tasks).extend(str(v) for v in values)
    if not decorated:
        return None
    title, description = split_docstring(ast.get_docstring(node, clean=True) or "")
    return {
        "name": title,
        "description": description,
        "tags": list(dict.fromkeys(tags)),
        "tasks": list(dict.fromkeys(tasks)),
    }
