"""The catalogue: which dataset ids exist, where they are defined, and searching them.

Roots are read in this order: ``DMCONF_CATALOG``, the settings file's ``catalogs``, packages
registered under the ``dmconf.catalogs`` entry point group, then the bundled ``datasets/``;
datasets defined in Python come from the ``dmconf.datasets`` group (:mod:`dmconf.entrypoints`).
Ported datamaestro repositories come from the ``dmconf.repositories`` group
(:mod:`dmconf.compat.datamaestro.repository`).
Listing reads file and entry names only; searching reads YAML metadata (and the cached index of
Python definitions); nothing here imports dataset code.

One id defined in several places is never an error: the user's roots come first, then plugins
(YAML roots, Python datasets, ported repositories), then the bundled catalogue; the first place
is used, one warning names it and the place it hides, and :meth:`Catalog.places` lists them all.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dmconf.errors import DatasetNotFound, DefinitionError, DmconfError
from dmconf.ids import ID_PATTERN
from dmconf.settings import Settings, load_settings

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition

__all__ = ["Catalog", "Entry", "bundled_folder", "bundled_root"]

log = logging.getLogger("dmconf")

CATALOG_GROUP = "dmconf.catalogs"
SUFFIXES = (".yaml", ".yml")
# What searching reads from each definition (and `search --json/--long` shows).
SEARCHED_FIELDS = ("name", "description", "tags", "tasks", "license", "splits")
# Precedence of the places a definition comes from: the lowest rank wins.
USER, PLUGIN, BUNDLED = 0, 1, 2
_warned: set[str] = set()  # duplicate warnings given by this process: each once
SHOWN_DUPLICATES = 3  # duplicates warned in full; the others in one line


def bundled_root() -> Path:
    """The bundled ``datasets/`` folder: inside the installed wheel, or the source checkout's."""
    return bundled_folder("datasets")


def bundled_folder(name: str) -> Path:
    """A folder shipped as ``dmconf/_bundled/NAME`` (``datasets``, ``conf``) or, in an editable
    install, the checkout's ``NAME/`` beside the package."""
    package = Path(__file__).resolve().parent
    shipped = package / "_bundled" / name
    if shipped.is_dir():
        return shipped
    # An editable install runs from the checkout, where NAME/ sits beside the package.
    # Check for the project file so that site-packages/NAME (another project) is never read.
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    return shipped


@dataclass(frozen=True)
class Root:
    """A folder of definitions in the reverse-domain layout, and why it is searched."""

    path: Path
    origin: str
    rank: int = PLUGIN


@dataclass
class Entry:
    """One known dataset: its id and where it is defined; the definition is read on demand."""

    id: str
    path: Path
    origin: str
    _metadata: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def location(self) -> str:
        return str(self.path)

    def definition(self) -> DatasetDefinition:
        # Imported here: building the pydantic models costs more than listing a catalogue.
        from dmconf.definition import load_definition_file

        definition = load_definition_file(self.path, self.id)
        if definition.croissant is not None:  # every user of an id sees the files it names
            from dmconf.croissant.resolve import resolve_croissant

            definition = resolve_croissant(definition, load_settings())
        return definition

    def metadata(self) -> dict[str, Any]:
        """name, description, tags, tasks, licence, splits and the download size, read from the
        YAML without validating it all."""
        if self._metadata is None:
            from dmconf.yamlfile import UnreadableYaml, read_yaml

            try:
                raw = read_yaml(self.path)
            except UnreadableYaml as exc:
                raise DefinitionError(str(exc), dataset=self.id, path=str(self.path)) from None
            raw = raw if isinstance(raw, dict) else {}
            self._metadata = {key: raw.get(key) for key in SEARCHED_FIELDS}
            resources = raw.get("resources")
            sizes = [r.get("size") for r in resources.values() if isinstance(r, dict)] \
                if isinstance(resources, dict) else []
            if sizes and all(isinstance(s, int) for s in sizes):
                self._metadata["download_size"] = sum(sizes)
        return self._metadata


class InstalledEntryPoints(Protocol):
    """What ``importlib.metadata.entry_points()`` returns (its class differs by Python version)."""

    def select(self, *, group: str) -> Iterable[EntryPoint]: ...


def _plugin_roots(
    installed: InstalledEntryPoints | None = None, report: Callable[[str], None] | None = None
) -> Iterator[Root]:
    """The roots of ``dmconf.catalogs`` plugins; a broken one is reported and skipped."""
    import importlib.util

    installed = installed if installed is not None else entry_points()
    for ep in installed.select(group=CATALOG_GROUP):
        try:
            spec = importlib.util.find_spec(ep.value)
        except Exception as exc:  # any error importing the plugin's parent package
            problem = (f"entry point {ep.name!r} of {CATALOG_GROUP} names package {ep.value!r}, "
                       f"which cannot be found ({type(exc).__name__}: {exc})")
            _report(report, f"{problem}; reinstall or remove the plugin")
            continue
        locations = list(spec.submodule_search_locations or []) if spec else []
        if not locations:
            _report(report, f"entry point {ep.name!r} of {CATALOG_GROUP} names {ep.value!r}, "
                    "which is not an importable package folder; reinstall or remove the plugin")
            continue
        dist = getattr(ep, "dist", None)
        owner = f"plugin {dist.name}" if dist is not None else f"plugin {ep.name}"
        for location in locations:
            yield Root(Path(location), owner, PLUGIN)


def _report(report: Callable[[str], None] | None, problem: str) -> None:
    if report is None:
        raise DefinitionError(problem)
    report(problem)


def _walk(root: Root, report: Callable[[str], None]) -> Iterator[Entry]:
    base = str(root.path)

    def skipped(exc: OSError) -> None:
        report(f"{exc.filename} ({root.origin}): cannot be listed: {exc.strerror}")

    for folder, dirs, files in os.walk(base, onerror=skipped):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        rel = os.path.relpath(folder, base)
        prefix = "" if rel == "." else rel.replace(os.sep, ".") + "."
        for name in sorted(files):
            stem, suffix = os.path.splitext(name)
            if suffix in SUFFIXES and not stem.startswith((".", "_")):
                if ID_PATTERN.match(prefix + stem):
                    yield Entry(prefix + stem, Path(folder, name), root.origin)
                else:
                    report(f"{Path(folder, name)}: its place in {base} does not make a dataset "
                           "id (letters, digits, '_' and '-' between dots); rename it")


def _log_problem(problem: str) -> None:
    log.warning("skipped: %s", problem)


class Catalog:
    """All the datasets that a set of roots defines."""

    def __init__(
        self,
        roots: Iterable[Root],
        python: Iterable[Entry] = (),
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.roots = list(roots)
        self.python = list(python)  # entries of Python-defined datasets (dmconf.entrypoints)
        self.problems: list[str] = []  # broken entries skipped, each reported once
        self._on_problem = on_problem or _log_problem

    def report(self, problem: str) -> None:
        """Say once that a broken entry (or a folder that cannot be listed) is skipped: on the
        log (stderr) by default, or to the ``on_problem`` the catalogue was built with."""
        if problem not in self.problems:
            self.problems.append(problem)
            self._on_problem(problem)

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        plugins: bool = True,
        on_problem: Callable[[str], None] | None = None,
    ) -> Catalog:
        """The user's roots, then plugins' (``plugins=False`` leaves them out), then the
        bundled catalogue; ``on_problem`` hears of what is skipped (default: the log)."""
        settings = settings or load_settings()
        roots = [
            Root(p, "catalogue root (DMCONF_CATALOG or settings)", USER) for p in settings.catalogs
        ]
        bundled = Root(bundled_root(), "bundled catalogue", BUNDLED)
        if not plugins:
            return cls([*roots, bundled], on_problem=on_problem)
        # One scan of the installed distributions serves both entry point groups: each scan
        # reads every distribution's metadata, the largest cost of building a catalogue.
        installed = entry_points()
        problems: list[str] = []
        roots += list(_plugin_roots(installed, problems.append))
        roots.append(bundled)
        from dmconf.compat.datamaestro.repository import repository_entries
        from dmconf.compat.irds import irds_entries
        from dmconf.entrypoints import python_entries

        python = [*python_entries(installed), *repository_entries(installed), *irds_entries()]
        catalog = cls(roots, python, on_problem)
        for problem in problems:
            catalog.report(problem)
        return catalog

    @cached_property
    def _places(self) -> dict[str, list[Entry]]:
        """Every place defining each id, the one used first (see the module's precedence)."""
        ranked: list[tuple[int, Entry]] = []
        seen_roots: set[Path] = set()
        for root in self.roots:
            if not root.path.is_dir():
                if root.path.exists():
                    self.report(f"{root.path} ({root.origin}): not a folder")
                continue
            resolved = root.path.resolve()
            if resolved in seen_roots:
                continue
            seen_roots.add(resolved)
            ranked += [(root.rank, entry) for entry in _walk(root, self.report)]
        for entry in self.python:
            if not ID_PATTERN.match(entry.id):
                self.report(f"{entry.location}: {entry.id!r} is not a dataset id (letters, "
                            "digits, '_' and '-' between dots); fix the entry point's name")
                continue
            ranked.append((PLUGIN, entry))
        places: dict[str, list[Entry]] = {}
        for _, entry in sorted(ranked, key=lambda item: item[0]):  # stable: order within a rank
            places.setdefault(entry.id, []).append(entry)
        messages = [
            f"{dataset_id} is defined in several places; using {found[0].location}, not "
            f"{', '.join(e.location for e in found[1:])} (dmconf info {dataset_id} lists them)"
            for dataset_id, found in places.items() if len(found) > 1
        ]
        new = [m for m in messages if m not in _warned]
        _warned.update(new)
        for message in new[:SHOWN_DUPLICATES]:
            log.warning("%s", message)
        if len(new) > SHOWN_DUPLICATES:  # two plugins sharing 80 ids: not 80 lines each time
            rest = [m.split(" ", 1)[0] for m in new[SHOWN_DUPLICATES:]]
            log.warning(
                "%d more ids are defined in several places (the first one is used; dmconf info "
                "ID lists them): %s", len(rest), ", ".join(rest),
            )
        return dict(sorted(places.items()))

    @cached_property
    def entries(self) -> dict[str, Entry]:
        return {dataset_id: found[0] for dataset_id, found in self._places.items()}

    def places(self, dataset_id: str) -> list[Entry]:
        """Every place that defines ``dataset_id``, the one used first."""
        entry = self.entry(dataset_id)  # unknown: DatasetNotFound with suggestions
        return list(self._places[entry.id])

    def ids(self) -> list[str]:
        return list(self.entries)

    def entry(self, dataset_id: str) -> Entry:
        """The entry of an id (a reference's version and variant are ignored here)."""
        if _is_reference(dataset_id):
            from dmconf.refs import parse_ref

            dataset_id = parse_ref(dataset_id).id
        try:
            return self.entries[dataset_id]
        except KeyError:
            close = difflib.get_close_matches(dataset_id, self.entries, n=3, cutoff=0.6)
            if not close:
                tail = dataset_id.rsplit(".", 1)[-1].lower()
                close = [i for i in self.entries if i.rsplit(".", 1)[-1].lower() == tail][:3]
            raise DatasetNotFound(dataset_id, close) from None

    def find(self, dataset_id: str) -> DatasetDefinition:
        """The validated definition of an id, or of a reference's version and variant
        (``org.x.ds@2.1:small``, see :mod:`dmconf.refs`), whose ``id`` is then canonical."""
        definition = self.entry(dataset_id).definition()
        return definition.select(dataset_id) if _is_reference(dataset_id) else definition

    def search(
        self, query: str = "", *, tags: Iterable[str] = (), tasks: Iterable[str] = (),
        licenses: Iterable[str] = (),
    ) -> list[str]:
        """Ids whose id, name, description, tags or tasks contain every word of ``query``.

        A word ``tag:X`` or ``task:X`` (datamaestro's syntax) restricts like ``tags``/``tasks``;
        ``licenses`` keeps datasets whose licence is one of them (case-insensitive).
        """
        words, want_tags, want_tasks = [], {t.lower() for t in tags}, {t.lower() for t in tasks}
        want_licenses = {name.lower() for name in licenses}
        for word in query.lower().split():
            if word.startswith("tag:"):
                want_tags.add(word[4:])
            elif word.startswith("task:"):
                want_tasks.add(word[5:])
            else:
                words.append(word)
        matches = []
        for dataset_id, entry in self.entries.items():
            if not words and not want_tags and not want_tasks and not want_licenses:
                matches.append(dataset_id)
                continue
            try:
                meta = entry.metadata()
            except DmconfError as exc:  # one broken definition never hides the others
                self.report(str(exc))
                continue
            if want_licenses and str(meta.get("license") or "").lower() not in want_licenses:
                continue
            entry_tags = {str(t).lower() for t in _listed(meta.get("tags"))}
            entry_tasks = {str(t).lower() for t in _listed(meta.get("tasks"))}
            if not want_tags <= entry_tags or not want_tasks <= entry_tasks:
                continue
            text = " ".join(
                [dataset_id, str(meta.get("name") or ""), str(meta.get("description") or ""),
                 *entry_tags, *entry_tasks]
            ).lower()
            if all(word in text for word in words):
                matches.append(dataset_id)
        return matches


def _is_reference(text: str) -> bool:
    """Whether ``text`` names a version or variant (ids never hold these characters)."""
    return any(c in text for c in "@:+")


def _listed(value: Any) -> list[Any]:
    """A tags or tasks field as a list, whatever a broken file holds there."""
    return value if isinstance(value, list) else []
