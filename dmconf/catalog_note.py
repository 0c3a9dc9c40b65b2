"""The catalogue's set-up, noted: ``list`` and ``search`` without the settings model or the scan
of installed distributions, when ``stat`` calls vouch that nothing changed.

Building a catalogue from the settings (:meth:`dmconf.catalog.Catalog.from_settings`) imports
pydantic to validate the settings, scans every installed distribution's entry points
(``importlib.metadata``) and asks the plugins for their datasets. What it gives is small: the
roots (folder, origin, rank) and the datasets defined in Python (id, place, search metadata when
known). After a command built one, :func:`remember` notes it in
``$DMCONF_CACHE/catalog/setup-<digest>.json`` with its *fingerprint*, as :mod:`dmconf.warm`
does for a prepared dataset:

- the ``DMCONF_*`` variables (and ``HOME``, ``XDG_*``), the interpreter and the working folder
  (relative roots are read from it);
- the settings file;
- every ``sys.path`` folder (installing, upgrading or removing a distribution adds or removes
  its ``.dist-info`` there: a plugin's roots and Python datasets);
- the file each Python-defined dataset is read from, and its folder (its metadata come from it);
- dmconf's own modules.

:func:`noted_catalog` recomputes the fingerprint; when it matches, the catalogue is built from
the note. Its roots are listed and searched as always (the index stats every folder, and every
file for ``search``), so a definition added, removed or edited shows at once. A note is not
written when something it depends on changed less than 2 s before the command started (it could
change again unseen), nor when building the catalogue reported a broken plugin (the warning is
given by the full path each time). A Python dataset's definition, and metadata not noted, come
from the catalogue built in full.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from dmconf.catalog import Catalog, Entry, Root
from dmconf.settings_sources import cache_folder, settings_file
from dmconf.warm import RECENT_NS, _key, _nofollow, _sources, _stat, _write

TYPE_CHECKING = False  # `typing` is not imported by `list` and `search`
if TYPE_CHECKING:
    from typing import Any

    from dmconf.definition import DatasetDefinition

__all__ = ["NotedEntry", "noted_catalog", "remember"]

VERSION = 1


class _Built:
    """The catalogue built from the settings, once, when something needs it."""

    def __init__(self) -> None:
        self.catalog: Catalog | None = None
        self.broken = True  # building reported a broken plugin: not noted

    def get(self) -> Catalog:
        if self.catalog is None:
            self.catalog = Catalog.from_settings()
            repositories = sys.modules.get("dmconf.compat.datamaestro.repository")
            self.broken = bool(self.catalog.problems or getattr(repositories, "_warned", None))
        return self.catalog


class NotedEntry(Entry):
    """A dataset defined in Python, as noted: its id, its place, its metadata when known."""

    _shown = (*Entry._shown, "where")
    _compared = (*Entry._compared, "where")

    def __init__(self, id: str, path: Path, origin: str,
                 _metadata: dict[str, Any] | None = None, where: str = "",
                 built: _Built | None = None) -> None:
        super().__init__(id, path, origin, _metadata)
        self.where, self.built = where, built

    @property
    def location(self) -> str:
        return self.where

    def definition(self) -> DatasetDefinition:
        assert self.built is not None
        return self.built.get().entry(self.id).definition()

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            assert self.built is not None
            self._metadata = self.built.get().entry(self.id).metadata()
        return self._metadata


def noted_catalog() -> Catalog:
    """The catalogue from its note when nothing it depends on changed, else from the settings
    (give it to :func:`remember` once used)."""
    started = time.time_ns()  # before anything is read
    built = _Built()
    catalog = _recall(built) or built.get()
    catalog._noting = (started, built)  # type: ignore[attr-defined]
    return catalog


def remember(catalog: Catalog) -> None:
    """Note a catalogue that :func:`noted_catalog` built from the settings (after the command
    used it, so that the metadata it read are noted too); one built from a note is left."""
    started, built = getattr(catalog, "_noting", (0, None))
    if built is None or built.catalog is None or built.broken:
        return
    full = built.catalog
    python = []
    for entry in full.python:
        meta = entry._metadata
        if meta is not None and _json_exact(meta) is None:
            meta = None
        python.append([entry.id, str(entry.path), entry.origin, entry.location, meta])
    times: list[int] = []
    fingerprint = _fingerprint(python, times)
    code = _sources(times)
    if max(times, default=0) > started - RECENT_NS:
        return
    roots = [[str(root.path), root.origin, root.rank] for root in full.roots]
    _write(_file(), json.dumps({"version": VERSION, "fingerprint": fingerprint, "code": code,
                                "roots": roots, "python": python}))


def _recall(built: _Built) -> Catalog | None:
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError, IndexError):
        with open(_file(), "rb", opener=_nofollow) as file:
            note = json.loads(file.read(64 << 20))
        if note.get("version") != VERSION or note["code"] != _sources([]):
            return None
        python = note["python"]
        if note["fingerprint"] != _fingerprint(python, []):
            return None
        roots = [Root(Path(path), str(origin), int(rank)) for path, origin, rank in note["roots"]]
        paths = {path: Path(path) for path in {p for _, p, *_ in python}}  # ir_datasets' share one
        entries = [NotedEntry(str(i), paths[path], str(origin), meta, where=str(where),
                              built=built) for i, path, origin, where, meta in python]
        return Catalog(roots, entries)
    return None


def _fingerprint(python: list[list[Any]], times: list[int]) -> list[Any]:
    files = sorted(path for path in {p for _, p, *_ in python} if Path(path).name)
    return [
        VERSION, _key(""), os.getcwd(), _stat(str(settings_file()), times),
        [[entry, _stat(entry, times)] for entry in sys.path if entry],
        [[path, _stat(path, times), _stat(os.path.dirname(path), times)] for path in files],
    ]


def _file() -> Path:
    name = hashlib.sha256(f"{_key('')}\0{os.getcwd()}".encode()).hexdigest()[:32]
    return cache_folder() / "catalog" / f"setup-{name}.json"


def _json_exact(value: Any) -> str | None:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return None
    return text if json.loads(text) == value else None

