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

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path

from dmconf.errors import DatasetNotFound, DefinitionError, DmconfError
from dmconf.ids import ID_PATTERN
from dmconf.logs import logger
from dmconf.record import Record

TYPE_CHECKING = False  # `typing` is not imported by `list` and `search`
if TYPE_CHECKING:  # imported when used: listing and searching a noted catalogue need neither
    from importlib.metadata import EntryPoint
    from typing import Any, Protocol

    from dmconf.catalog_index import RootIndex
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["Catalog", "Entry", "bundled_folder", "bundled_root"]


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


class Root(Record):
    """A folder of definitions in the reverse-domain layout, and why it is searched (frozen and
    hashable, as a frozen dataclass)."""

    _shown = _compared = ("path", "origin", "rank")
    path: Path
    origin: str
    rank: int

    def __init__(self, path: Path, origin: str, rank: int = PLUGIN) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "rank", rank)

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError  # what a frozen dataclass raises

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")


class Entry(Record):
    """One known dataset: its id and where it is defined; the definition is read on demand."""

    _shown: tuple[str, ...] = ("id", "path", "origin")
    _compared: tuple[str, ...] = (*_shown, "_metadata")

    def __init__(self, id: str, path: Path, origin: str,
                 _metadata: dict[str, Any] | None = None) -> None:
        self.id, self.path, self.origin, self._metadata = id, path, origin, _metadata

    @property
    def location(self) -> str:
        return str(self.path)

    def definition(self) -> DatasetDefinition:
        # Imported here: building the pydantic models costs more than listing a catalogue.
        from dmconf.definition import load_definition_file

        definition = load_definition_file(self.path, self.id)
        if definition.croissant is not None:  # every user of an id sees the files it names
            from dmconf.croissant.resolve import resolve_croissant
            from dmconf.settings import load_settings

            definition = resolve_croissant(definition, load_settings())
        return definition

    def metadata(self) -> dict[str, Any]:
        """name, description, tags, tasks, licence, splits and the download size, read from the
        YAML without validating it all."""
        if self._metadata is None:
            from dmconf.yamlfile import UnreadableYaml

            try:
                self._metadata = read_metadata(self.path)
            except UnreadableYaml as exc:
                raise DefinitionError(str(exc), dataset=self.id, path=str(self.path)) from None
        return self._metadata


def read_metadata(path: Path) -> dict[str, Any]:
    """What searching reads from a definition file (raises UnreadableYaml)."""
    from dmconf.yamlfile import read_yaml

    raw = read_yaml(path)
    raw = raw if isinstance(raw, dict) else {}
    metadata = {key: raw.get(key) for key in SEARCHED_FIELDS}
    resources = raw.get("resources")
    sizes: list[Any] = [r.get("size") for r in resources.values() if isinstance(r, dict)] \
        if isinstance(resources, dict) else []
    if sizes and all(isinstance(s, int) for s in sizes):
        metadata["download_size"] = sum(sizes)
    return metadata


class IndexedEntry(Entry):
    """A YAML definition listed by the catalogue's index; its metadata come from the index."""

    _shown = (*Entry._shown, "rel")
    _compared = (*Entry._compared, "rel")

    def __init__(self, id: str, path: Path, origin: str,
                 _metadata: dict[str, Any] | None = None, index: RootIndex | None = None,
                 rel: str = "") -> None:
        super().__init__(id, path, origin, _metadata)
        self.index, self.rel = index, rel

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None and self.index is not None:
            self.index.refresh([self.rel], [self.id], read_metadata)  # saved with the next save
            meta, problem = self.index.described(self.rel)
            if problem is not None:
                raise DefinitionError(problem, dataset=self.id, path=str(self.path))
            self._metadata = meta
        return super().metadata()  # not stored exactly in the index: read from the file


# Where an id is defined: an entry, or (until an entry is asked for) an index and a file in it.
Place = Entry | tuple["RootIndex", str]


if TYPE_CHECKING:
    class InstalledEntryPoints(Protocol):
        """What ``importlib.metadata.entry_points()`` returns (its class differs by Python
        version)."""

        def select(self, *, group: str) -> Iterable[EntryPoint]: ...


def _plugin_roots(
    installed: InstalledEntryPoints | None = None, report: Callable[[str], None] | None = None
) -> Iterator[Root]:
    """The roots of ``dmconf.catalogs`` plugins; a broken one is reported and skipped."""
    import importlib.util
    from importlib.metadata import entry_points

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


def _log_problem(problem: str) -> None:
    logger().warning("skipped: %s", problem)


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
        self._hidden: dict[str, list[Place]] = {}  # places hidden by the one used, by id
        self._groups: list[tuple[RootIndex, dict[str, RootIndex]]] = []  # each root's ids
        self._made: dict[tuple[str, int], Entry] = {}
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
        from importlib.metadata import entry_points

        from dmconf.settings import load_settings

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
        from dmconf.compat.irds_catalog import irds_entries
        from dmconf.entrypoints import python_entries

        python = [*python_entries(installed), *repository_entries(installed), *irds_entries()]
        catalog = cls(roots, python, on_problem)
        for problem in problems:
            catalog.report(problem)
        return catalog

    @cached_property
    def _located(self) -> dict[str, RootIndex | Entry]:
        """The place used for each id, in the order met (see the module's precedence): an
        entry, or, until an entry is asked for, the index of the root whose file defines it
        (:meth:`RootIndex.rel_of` names the file). The places it hides, in order, are in
        ``_hidden``."""
        from dmconf.catalog_index import RootIndex

        ranked: list[tuple[int, RootIndex | None, list[str], list[Entry]]] = []
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
            index = RootIndex(str(root.path), root.origin)
            ids = index.listing(self.report)
            index.save()
            ranked.append((root.rank, index, ids, []))
        python: list[Entry] = []
        for entry in self.python:
            if not ID_PATTERN.match(entry.id):
                self.report(f"{entry.location}: {entry.id!r} is not a dataset id (letters, "
                            "digits, '_' and '-' between dots); fix the entry point's name")
                continue
            python.append(entry)
        ranked.append((PLUGIN, None, [e.id for e in python], python))
        first: dict[str, RootIndex | Entry] = {}
        for _, owner, ids, found in sorted(ranked, key=lambda item: item[0]):  # stable
            # 10^5 files: no loop in Python...
            group: dict[str, Any] = dict.fromkeys(ids, owner) if owner is not None else dict(
                zip(ids, found, strict=True))
            if owner is not None:
                owner.unique = len(group) == len(ids)
            # (two key views: isdisjoint iterates the shorter one)
            if len(group) != len(ids) or not group.keys().isdisjoint(first.keys()):
                group = {}  # ...unless an id comes twice
                places: list[Any] = found if owner is None else owner.rels()
                for dataset_id, place in zip(ids, places, strict=True):
                    if dataset_id in first or dataset_id in group:
                        hidden = place if owner is None else (owner, place)
                        self._hidden.setdefault(dataset_id, []).append(hidden)
                    else:
                        group[dataset_id] = place if owner is None else owner
            first.update(group)
            if owner is not None:
                self._groups.append((owner, group))
        self._warn_duplicates(first)
        return first

    def _warn_duplicates(self, first: dict[str, RootIndex | Entry]) -> None:
        """One warning per id defined in several places (each once per process)."""
        if not self._hidden:
            return
        order = [dataset_id for dataset_id in first if dataset_id in self._hidden]  # as met
        messages = []
        for dataset_id in order:
            hidden = [_location(self._place(dataset_id, n)) for n in
                      range(1, 1 + len(self._hidden[dataset_id]))]
            messages.append(
                f"{dataset_id} is defined in several places; using "
                f"{_location(self._place(dataset_id, 0, first))}, not {', '.join(hidden)} "
                f"(dmconf info {dataset_id} lists them)")
        new = [m for m in messages if m not in _warned]
        _warned.update(new)
        for message in new[:SHOWN_DUPLICATES]:
            logger().warning("%s", message)
        if len(new) > SHOWN_DUPLICATES:  # two plugins sharing 80 ids: not 80 lines each time
            rest = [m.split(" ", 1)[0] for m in new[SHOWN_DUPLICATES:]]
            logger().warning(
                "%d more ids are defined in several places (the first one is used; dmconf info "
                "ID lists them): %s", len(rest), ", ".join(rest),
            )

    def _place(self, dataset_id: str, number: int,
               located: dict[str, RootIndex | Entry] | None = None) -> Place:
        """The ``number``-th place of an id (0: the one used), as an entry or (index, path)."""
        if number:
            return self._hidden[dataset_id][number - 1]
        place = (self._located if located is None else located)[dataset_id]
        if isinstance(place, Entry):
            return place
        return (place, place.rel_of(dataset_id))

    def _entry(self, dataset_id: str, number: int = 0) -> Entry:
        """The entry of one place of an id, made once."""
        made = self._made.get((dataset_id, number))
        if made is None:
            place = self._place(dataset_id, number)
            if isinstance(place, tuple):
                index, rel = place
                place = IndexedEntry(
                    dataset_id, Path(index.base, rel), index.origin, index=index, rel=rel)
            made = self._made[(dataset_id, number)] = place
        return made

    @property
    def entries(self) -> Mapping[str, Entry]:
        """Each id's entry (the place used), in id order; made one by one as they are read."""
        return _Entries(self)

    def places(self, dataset_id: str) -> list[Entry]:
        """Every place that defines ``dataset_id``, the one used first."""
        entry = self.entry(dataset_id)  # unknown: DatasetNotFound with suggestions
        return [self._entry(entry.id, n) for n in range(1 + len(self._hidden.get(entry.id, [])))]

    @cached_property
    def _ids(self) -> list[str]:
        return sorted(self._located)

    def ids(self) -> list[str]:
        return list(self._ids)

    def entry(self, dataset_id: str) -> Entry:
        """The entry of an id (a reference's version and variant are ignored here)."""
        if _is_reference(dataset_id):
            from dmconf.refs import parse_ref

            dataset_id = parse_ref(dataset_id).id
        if dataset_id in self._located:
            return self._entry(dataset_id)
        import difflib

        close = difflib.get_close_matches(dataset_id, self._located, n=3, cutoff=0.6)
        if not close:
            tail = dataset_id.rsplit(".", 1)[-1].lower()
            close = [i for i in self._located if i.rsplit(".", 1)[-1].lower() == tail][:3]
        raise DatasetNotFound(dataset_id, close)

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
        if not words and not want_tags and not want_tasks and not want_licenses:
            return self.ids()
        # Files of the index are matched there, after a stat of each; the rest (Python
        # definitions, files the index cannot answer for) are read and matched here.
        located = self._located
        matched: set[str] = set()
        unsure = {entry.id for entry in self.python if located.get(entry.id) is entry}
        for index, used in self._refreshed(None):
            yes, maybe = index.matching(words, want_tags, want_tasks, want_licenses)
            for rels, found in ((yes, matched), (maybe, unsure)):
                for rel in rels:  # the file of an id in this root, used for that id
                    dataset_id = index.id_of(rel)
                    if used.get(dataset_id) is index and index.used(dataset_id, rel):
                        found.add(dataset_id)
        matches = []
        for dataset_id in sorted(matched | unsure):  # in id order, as ids() lists them
            if dataset_id in matched:
                matches.append(dataset_id)
                continue
            try:
                meta = self._entry(dataset_id).metadata()
            except DmconfError as exc:  # one broken definition never hides the others
                self.report(str(exc))
                continue
            if _matches(dataset_id, meta, words, want_tags, want_tasks, want_licenses):
                matches.append(dataset_id)
        return matches

    def _refreshed(self, ids: set[str] | None) -> list[tuple[RootIndex, dict[str, RootIndex]]]:
        """Each index with the ids it answers for among ``ids`` (None: all ids), their files'
        metadata made current (and saved)."""
        found = []
        for index, group in self._groups:  # each holds the ids its root is used for
            used = group if ids is None else {i: r for i, r in group.items() if i in ids}
            if used:
                if ids is None and len(used) == index.count:  # every file listed: by folder
                    index.refresh_listed(read_metadata)
                else:
                    index.refresh([index.rel_of(i) for i in used], list(used), read_metadata)
                index.save()
                found.append((index, used))
        return found

    def described(self, ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
        """Each id with its metadata; a definition that cannot be read is reported, skipped."""
        self._refreshed(set(ids))
        rows = []
        for dataset_id in ids:
            try:
                rows.append((dataset_id, self.entry(dataset_id).metadata()))
            except DmconfError as exc:
                self.report(str(exc))
        return rows


class _Entries(Mapping[str, Entry]):
    """A catalogue's entries by id, each made when it is read."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def __getitem__(self, dataset_id: str) -> Entry:
        if dataset_id not in self._catalog._located:
            raise KeyError(dataset_id)
        return self._catalog._entry(dataset_id)

    def __contains__(self, dataset_id: object) -> bool:
        return dataset_id in self._catalog._located

    def __iter__(self) -> Iterator[str]:
        return iter(self._catalog._ids)

    def __len__(self) -> int:
        return len(self._catalog._located)


def _matches(dataset_id: str, meta: dict[str, Any], words: list[str], tags: set[str],
             tasks: set[str], licenses: set[str]) -> bool:
    """Whether a definition's metadata answer a search (as the index's query does)."""
    from dmconf.catalog_index import labels, search_text

    if licenses and str(meta.get("license") or "").lower() not in licenses:
        return False
    if not tags <= set(labels(meta, "tags")) or not tasks <= set(labels(meta, "tasks")):
        return False
    text = search_text(dataset_id, meta)
    return all(word in text for word in words)


def _location(place: Place) -> str:
    if isinstance(place, tuple):
        return str(Path(place[0].base, place[1]))
    return place.location


def _is_reference(text: str) -> bool:
    """Whether ``text`` names a version or variant (ids never hold these characters)."""
    return any(c in text for c in "@:+")
