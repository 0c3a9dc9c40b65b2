"""``dmconf info ID``, noted: printed again without the settings model, the catalogue or the
definition's model when ``stat`` calls vouch that nothing it depends on changed.

After ``info`` printed, :func:`remember_info` notes the text with the fingerprint that
:mod:`dmconf.warm` computes for a prepared dataset (the ``DMCONF_*`` variables, ``HOME`` and
``XDG_*``, the settings file, the definition file and the files that would define the same id
in every catalogue root, every ``sys.path`` folder, dmconf's modules) and the working folder.
The line saying whether the dataset is prepared is worked out again each time: prepared when the
state file names the definition's digest and every resource is in place (no link), not prepared
when there is no state file, and anything else takes the full path (which says what it is).
Not noted: a definition written in Python, an id defined in several places (``hides:``), a
``croissant:`` definition, and anything changed less than 2 s before the command started.
Warnings about other files of the catalogue (misplaced names...) are given by ``list``,
``search`` and by ``info`` when it takes the full path, not when it answers from a note.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.settings_sources import cache_folder
from dmconf.warm import (
    RECENT_NS,
    STATE_FILE,
    SUFFIXES,
    _key,
    _nofollow,
    _prepared,
    _sources,
    _write,
)
from dmconf.warm import _fingerprint as warm_fingerprint

if TYPE_CHECKING:
    from dmconf.catalog import Catalog

__all__ = ["recall_info", "remember_info"]

VERSION = 1


def recall_info(dataset: str, form: str) -> str | None:
    """What ``dmconf info DATASET`` (in ``form``) printed last time, if nothing it depends on
    changed since: the fingerprint :mod:`dmconf.warm` computes for a prepared dataset (the
    settings, the definition file and where a duplicate would be, the installed distributions,
    the working folder), and whether the dataset is prepared now (a missing state file: not
    prepared; a complete one: prepared; anything else, the full path says what it is)."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError, IndexError):
        with open(_info_file(dataset, form), "rb", opener=_nofollow) as file:
            note = json.loads(file.read(16 << 20))
        if (note.get("version") != VERSION or note["dataset"] != dataset
                or note["fingerprint"] != _info_fingerprint(dataset, note["roots"],
                                                            note["source"], [])
                or note["code"] != _sources([])):
            return None
        lines = [str(line) for line in note["lines"]]
        at = note["at"]
        if at is not None:
            folder = Path(note["folder"])
            if _prepared(folder, note["digest"], note["resources"]):
                prepared = "yes"
            elif not os.path.lexists(folder / STATE_FILE):
                prepared = "no"
            else:
                return None
            lines[at] = f"prepared:  {prepared} ({folder})"
        return "\n".join(lines)
    return None


def remember_info(dataset: str, form: str, catalog: Catalog, lines: list[str], *,
                  started: int, prepared: tuple[int, Path, str, list[str]] | None = None) -> None:
    """Note what ``info`` printed (``prepared``: the line saying so, the folder, the content
    digest and the resources, to check again each time), unless it depends on more than the
    fingerprint covers: a Python definition, an id defined in several places, Croissant."""
    entry = catalog.entry(dataset)
    if entry.path.suffix not in SUFFIXES or len(catalog.places(dataset)) > 1:
        return
    roots = [str(root.path) for root in catalog.roots]
    times: list[int] = []
    fingerprint = _info_fingerprint(dataset, roots, str(entry.path), times)
    code = _sources(times)
    if max(times, default=0) > started - RECENT_NS:
        return
    at, folder, digest, resources = prepared if prepared else (None, Path(), "", [])
    _write(_info_file(dataset, form), json.dumps({
        "version": VERSION, "dataset": dataset, "roots": roots, "source": str(entry.path),
        "fingerprint": fingerprint, "code": code, "lines": lines, "at": at,
        "folder": str(folder), "digest": digest, "resources": resources}))


def _info_fingerprint(dataset: str, roots: list[str], source: str, times: list[int]) -> list[Any]:
    return [os.getcwd(), *warm_fingerprint(dataset, roots, source, times)]


def _info_file(dataset: str, form: str) -> Path:
    name = hashlib.sha256(f"{_key(dataset)}\0{form}\0{os.getcwd()}".encode()).hexdigest()[:32]
    return cache_folder() / "catalog" / f"info-{name}.json"
