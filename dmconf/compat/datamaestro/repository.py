"""Ported datamaestro repositories: a package of definition modules, found without importing it.

A plugin registers its definitions package (what ``dmconf port`` writes)::

    [project.entry-points."dmconf.repositories"]
    text = "dmconf_text.config"

Every module below that folder (hyphenated names included) is *parsed*, never run, to list its
``@dataset`` classes and functions; their ids follow datamaestro's rule (:mod:`.ids`), and their
name, description, tags and tasks come from the docstring and literal decorator arguments. The
result of each file is cached in ``$DMCONF_CACHE/repositories.json``, keyed by the file's size
and modification time, so ``list`` and ``search`` read the cache. A module that cannot be parsed
is reported once (a warning) and skipped. ``info``, ``prepare``, Hydra and experimaestro import
the module to build the definition.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import json
import sys
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.catalog import Entry
from dmconf.compat.datamaestro import ids
from dmconf.entrypoints import INDEX_VERSION
from dmconf.errors import DefinitionError
from dmconf.logs import logger

if TYPE_CHECKING:
    from dmconf.catalog import InstalledEntryPoints
    from dmconf.definition import DatasetDefinition

__all__ = ["REPOSITORIES_GROUP", "RepositoryEntry", "repository_entries"]

REPOSITORIES_GROUP = "dmconf.repositories"
_warned: set[str] = set()


class RepositoryEntry(Entry):
    """A dataset of a ported repository: ``module:name`` in a definitions package."""

    _shown = (*Entry._shown, "module", "attribute")
    _compared = (*Entry._compared, "module", "attribute")

    def __init__(self, id: str, path: Path, origin: str,
                 _metadata: dict[str, Any] | None = None, module: str = "",
                 attribute: str = "") -> None:
        super().__init__(id, path, origin, _metadata)
        self.module, self.attribute = module, attribute

    @property
    def location(self) -> str:
        return f"{self.module}:{self.attribute} ({self.path}, {self.origin})"

    def definition(self) -> DatasetDefinition:
        from dmconf.compat.datamaestro.definitions import PythonDataset

        try:
            obj = getattr(importlib.import_module(self.module), self.attribute)
        except Exception as exc:  # the plugin's code: say whose module failed
            raise DefinitionError(
                f"{self.location} cannot be loaded ({type(exc).__name__}: {exc}); fix or "
                "reinstall the plugin, or uninstall it", dataset=self.id,
            ) from exc
        wrapper = getattr(obj, "__dataset__", obj) if isinstance(obj, type) else obj
        if not isinstance(wrapper, PythonDataset):
            raise DefinitionError(f"{self.location} is not a @dataset", dataset=self.id)
        definition = wrapper.definition(self.id)
        definition._source = self.location
        return definition

    def metadata(self) -> dict[str, Any]:
        return self._metadata or {}


def _package_folder(package: str) -> list[Path]:
    """The folders of ``package`` on ``sys.path``, found without importing anything."""
    parts = package.strip().split(".")
    return [
        Path(base or ".").joinpath(*parts) for base in sys.path
        if Path(base or ".").joinpath(*parts).is_dir()
    ]


def repository_entries(installed: InstalledEntryPoints) -> list[RepositoryEntry]:
    """The datasets of every ``dmconf.repositories`` package, from the cache or the source."""
    from dmconf.entrypoints import index_file

    index_path = index_file().with_name("repositories.json")
    index = _read(index_path)
    changed = False
    found: list[RepositoryEntry] = []
    def owner(ep: EntryPoint) -> tuple[str, str]:  # plugins in a stable order: by name
        dist = getattr(ep, "dist", None)
        return (dist.name if dist is not None else "", ep.name)

    for ep in sorted(installed.select(group=REPOSITORIES_GROUP), key=owner):
        dist = getattr(ep, "dist", None)
        origin = f"plugin {dist.name}" if dist is not None else f"plugin {ep.name}"
        folders = _package_folder(ep.value)
        if not folders:
            _warn_once(
                f"entry point {ep.name!r} of {REPOSITORIES_GROUP} names {ep.value!r}, which is "
                "not an installed package folder; reinstall or remove the plugin"
            )
        for folder in folders[:1]:
            for path in sorted(folder.rglob("*.py")):
                relative = path.relative_to(folder).with_suffix("")
                if "__pycache__" in relative.parts:
                    continue
                parts = [p for p in relative.parts if p != "__init__"]
                module = ".".join([ep.value, *parts])
                stat = path.stat()
                key = [stat.st_size, stat.st_mtime_ns]
                cached = index.get(str(path))
                if not (isinstance(cached, dict) and cached.get("key") == key):
                    datasets = _parse(path)
                    if datasets and datasets[0].get("dynamic"):
                        datasets = _imported(module)
                        if datasets is None:
                            continue
                    cached = {"key": key, "datasets": datasets}
                    index[str(path)] = cached
                    changed = True
                if cached["datasets"] is None:
                    _warn_once(f"{path}: cannot be parsed; its datasets are skipped")
                    continue
                below = ".".join(parts)
                for item in cached["datasets"]:
                    dataset_id = ids.dataset_id(below, item["name"], item["id"])
                    if dataset_id is None:
                        continue
                    entry = RepositoryEntry(
                        dataset_id, path, origin, module=module, attribute=item["name"]
                    )
                    entry._metadata = item["metadata"]
                    found.append(entry)
    if changed:
        from dmconf.entrypoints import _write_index

        _write_index(index_path, index, "files")
    return found


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logger().warning("%s", message)


def _parse(path: Path) -> list[dict[str, Any]] | None:
    """The ``@dataset`` definitions of a module's source, or None if it cannot be parsed.

    A module that makes datasets in a function (a loop over a table of corpora) cannot be read
    statically: ``[{"dynamic": True}]`` says to import it once.
    """
    from dmconf.compat.datamaestro.definitions import split_docstring

    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    # decorator name -> its call (``TIPSTER = dataset(url=...)`` then ``@TIPSTER``)
    aliases: dict[str, ast.Call | None] = {"dataset": None}
    for node in tree.body:
        value = getattr(node, "value", None)
        if isinstance(node, ast.Assign) and isinstance(value, ast.Call):
            if _name(value.func) != "dataset":
                continue
            aliases.update({t.id: value for t in node.targets if isinstance(t, ast.Name)})
    found = []
    seen_calls: set[int] = set()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        declared: Any = None
        decorated = False
        labels: dict[str, list[str]] = {"tags": [], "tasks": []}
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            name = _name(call.func if call is not None else decorator)
            if name in aliases:
                decorated = True
                call = call if name == "dataset" else aliases[name]
                seen_calls.add(id(call))
                for keyword in call.keywords if call else []:
                    if keyword.arg == "id":
                        with contextlib.suppress(ValueError):
                            declared = ast.literal_eval(keyword.value)
            elif name in ("datatags", "datatasks") and call is not None:
                for arg in call.args:
                    with contextlib.suppress(ValueError):
                        value = ast.literal_eval(arg)
                        if isinstance(value, str):
                            labels["tags" if name == "datatags" else "tasks"].append(value)
        if not decorated:
            continue
        title, description = split_docstring(ast.get_docstring(node, clean=True) or "")
        found.append({
            "name": node.name, "id": declared if isinstance(declared, str) else None,
            "metadata": {"name": title, "description": description, **labels},
        })
    seen_calls |= {id(call) for call in aliases.values()}
    dynamic = any(
        isinstance(n, ast.Call) and _name(n.func) == "dataset" and id(n) not in seen_calls
        for n in ast.walk(tree)
    )
    return [{"dynamic": True}] if dynamic else found


def _name(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)


def _imported(module: str) -> list[dict[str, Any]] | None:
    """The datasets a module makes when run (imported once, then cached), or None."""
    from dmconf.compat.datamaestro.definitions import PythonDataset, split_docstring

    try:
        namespace = vars(importlib.import_module(module))
    except Exception as exc:  # the plugin's code: report it once, keep listing the others
        _warn_once(f"{module} cannot be imported ({type(exc).__name__}: {exc}); skipped")
        return None
    found = []
    for name, obj in namespace.items():
        wrapper = getattr(obj, "__dataset__", None) if isinstance(obj, type) else obj
        if not isinstance(wrapper, PythonDataset) or wrapper.__module__ != module:
            continue
        title, description = split_docstring(inspect.cleandoc(wrapper.__doc__ or ""))
        found.append({
            "name": name, "id": wrapper.full_id,
            "metadata": {"name": title, "description": description, "tags": wrapper.tags,
                         "tasks": wrapper.tasks},
        })
    return found


def _read(path: Path) -> dict[str, Any]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    valid = isinstance(content, dict) and content.get("version") == INDEX_VERSION
    return dict(content["files"]) if valid else {}
