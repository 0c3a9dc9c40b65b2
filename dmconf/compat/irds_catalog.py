"""The ir_datasets ids in the catalogue (``irds.<id>``), without dmconf's IR types.

The catalogue reads this module on every command that builds it (``prepare`` of any dataset
included): it needs no pydantic model, so a catalogue does not pay for the typed classes of
:mod:`dmconf.compat.irds` (and :mod:`dmconf.data.ir`) unless an ``irds.*`` dataset is used.
Listing reads an index cached in ``$DMCONF_CACHE/irds.json``, keyed by the installed
ir_datasets version (read from package metadata: no import); a miss imports ir_datasets once
and lists its registry.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.catalog import Entry

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition

__all__ = ["HOME", "KINDS", "PREFIX", "IrdsEntry", "dmconf_id", "ir_datasets_module",
           "irds_entries"]

PREFIX = "irds."
HOME = "IR_DATASETS_HOME"
KINDS = ("docs", "queries", "qrels", "scoreddocs", "docpairs")

# One listing at a time in a process: threads that load the catalogue together (parallel
# downloads, a thread pool of jobs) wait for the first one's index instead of listing again,
# and the logging switch _listed() turns off and on is never interleaved (two interleaved
# calls would restore each other's saved level and leave INFO logging off for good).
_LISTING = threading.Lock()


def dmconf_id(irds_id: str) -> str:
    """``msmarco-passage/dev/small`` -> ``irds.msmarco-passage.dev.small``."""
    return PREFIX + irds_id.replace(".", "_").replace("/", ".")


def ir_datasets_module() -> Any:
    """ir_datasets, its data kept in dmconf's data folder unless ``IR_DATASETS_HOME`` says.

    ir_datasets fixes its folders when its modules are imported: import it through this
    function (before registering datasets of your own) so that they land in dmconf's folder.
    """
    if HOME not in os.environ:
        from dmconf.settings import load_settings

        os.environ[HOME] = str(load_settings().data / "_ir_datasets")
    import ir_datasets

    return ir_datasets



class IrdsEntry(Entry):
    """An ir_datasets id in the catalogue."""

    _shown = (*Entry._shown, "irds_id")
    _compared = (*Entry._compared, "irds_id")

    def __init__(self, id: str, path: Path, origin: str,
                 _metadata: dict[str, Any] | None = None, irds_id: str = "") -> None:
        super().__init__(id, path, origin, _metadata)
        self.irds_id = irds_id

    @property
    def location(self) -> str:
        return f"ir_datasets {self.irds_id!r} ({self.origin})"

    def definition(self) -> DatasetDefinition:
        from dmconf.definition import DatasetDefinition

        meta = self.metadata()
        definition = DatasetDefinition.from_mapping({
            "id": self.id, **{k: v for k, v in meta.items() if v},
            "url": f"https://ir-datasets.com/{self.irds_id.split('/')[0]}.html",
            "type": "dmconf.compat.irds.IrdsDataset", "data": {"irds_id": self.irds_id},
        }, dataset_id=self.id, source=self.location)
        return definition

    def metadata(self) -> dict[str, Any]:
        return self._metadata or {}


def irds_entries() -> list[IrdsEntry]:
    """Every ir_datasets id, from the cached index (ir_datasets is imported on a miss only)."""
    try:
        version = importlib.metadata.version("ir_datasets")
    except importlib.metadata.PackageNotFoundError:
        return []
    from dmconf.entrypoints import _write_index, index_file

    path = index_file().with_name("irds.json")
    index = _cached(path, version)
    if index is None:
        with _LISTING:
            index = _cached(path, version)  # another thread may have listed meanwhile
            if index is None:
                index = _listed() if "ir_datasets" in sys.modules else _listed_elsewhere()
                if index is None:
                    return []
                _write_index(path, index, "datasets", version)
    origin = f"ir_datasets {version}"
    entries = []
    for irds_id, meta in sorted(index.items()):
        entry = IrdsEntry(dmconf_id(irds_id), Path(), origin, irds_id=irds_id)
        entry._metadata = meta
        entries.append(entry)
    return entries


def _cached(path: Path, version: str) -> dict[str, dict[str, Any]] | None:
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        return cached["datasets"] if cached.get("version") == version else None
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def _listed_elsewhere() -> dict[str, dict[str, Any]] | None:
    """The registry listed by another interpreter: importing ir_datasets (numpy, ~1.7 s) here
    would cost every command that lists. Already imported here (with your own registrations),
    it is listed in place instead."""
    import subprocess

    code = (
        "import json, sys; from dmconf.compat.irds_catalog import _listed; "
        "json.dump(_listed(), sys.stdout)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    try:
        listed = json.loads(result.stdout) if result.returncode == 0 else None
    except ValueError:
        listed = None
    if not isinstance(listed, dict):
        from dmconf.logs import logger

        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        logger().warning(
            "ir_datasets is installed but its datasets cannot be listed (%s); irds.* ids are "
            "left out", tail,
        )
        return None
    return listed


def _listed() -> dict[str, dict[str, Any]]:
    import logging

    ir_datasets = ir_datasets_module()
    # ir_datasets logs a deprecation note per alias it describes: hundreds of INFO lines.
    disabled = logging.root.manager.disable
    logging.disable(max(disabled, logging.INFO))
    try:
        return _describe(ir_datasets)
    finally:
        logging.disable(disabled)


def _describe(ir_datasets: Any) -> dict[str, dict[str, Any]]:
    found = {}
    for irds_id in ir_datasets.registry:
        try:
            docs = ir_datasets.registry[irds_id].documentation() or {}
        except Exception:  # documentation is optional and some datasets fail to give it
            docs = {}
        parts = [k for k in KINDS if getattr(ir_datasets.registry[irds_id], f"has_{k}")()]
        found[irds_id] = {
            "name": docs.get("pretty_name"), "description": str(docs.get("desc") or ""),
            "tags": ["ir_datasets", *parts], "tasks": [],
        }
    return found
