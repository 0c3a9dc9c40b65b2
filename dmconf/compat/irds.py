"""The ir_datasets bridge (``pip install 'dmconf[irds]'``): each ir_datasets id is ``irds.<id>``.

``msmarco-passage/dev/small`` is ``irds.msmarco-passage.dev.small`` (``/`` become dots, dots
``_``). Listing and searching read an index cached in ``$DMCONF_CACHE/irds.json``, keyed by the
installed ir_datasets version (read from package metadata: no import); a miss imports
ir_datasets once and lists its registry. Preparing runs ir_datasets' own downloads (its URLs,
its checksums) with ``IR_DATASETS_HOME`` in dmconf's data folder (``<data>/_ir_datasets``), then
the prepared :class:`IrdsDataset` is dmconf's IR test collection (:mod:`dmconf.data.ir`) whose
documents, queries and qrels are read through ir_datasets.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from dmconf.catalog import Entry
from dmconf.data import ir

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition

__all__ = [
    "PREFIX", "IrdsDataset", "IrdsDocuments", "IrdsEntry", "IrdsQrels", "IrdsQueries",
    "ir_datasets_module", "irds_entries",
]

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


def _load(irds_id: str) -> Any:
    return ir_datasets_module().load(irds_id)


def _row(record: Any, id_field: str) -> dict[str, Any]:
    """An ir_datasets record (a named tuple) as a mapping: ``id`` then its other fields."""
    fields = record._asdict()
    return {"id": fields.pop(id_field), **fields}


class IrdsDocuments(ir.Documents):
    """The documents of an ir_datasets dataset, read through ir_datasets."""

    irds_id: str = Field(description="the ir_datasets id")

    def iter(self) -> Iterator[dict[str, Any]]:
        return (_row(doc, "doc_id") for doc in _load(self.irds_id).docs_iter())

    def ids(self) -> Iterator[str]:
        return (row["id"] for row in self.iter())

    def lookup(self) -> Mapping[str, dict[str, Any]]:
        """id -> document, through ir_datasets' document store (no scan of the corpus)."""
        return _DocStore(_load(self.irds_id))

    def count(self) -> int:
        return int(_load(self.irds_id).docs_count() or sum(1 for _ in self.iter()))


class _DocStore(Mapping[str, dict[str, Any]]):
    def __init__(self, dataset: Any) -> None:
        self._dataset, self._store = dataset, dataset.docs_store()

    def __getitem__(self, key: str) -> dict[str, Any]:
        try:
            return _row(self._store.get(key), "doc_id")
        except (KeyError, AttributeError):  # ir_datasets' stores raise either for a missing id
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return (doc.doc_id for doc in self._dataset.docs_iter())

    def __len__(self) -> int:
        return int(self._dataset.docs_count())


class IrdsQueries(ir.Queries):
    """The queries of an ir_datasets dataset, read through ir_datasets."""

    irds_id: str = Field(description="the ir_datasets id")

    def iter(self) -> Iterator[dict[str, Any]]:
        return (_row(query, "query_id") for query in _load(self.irds_id).queries_iter())

    def ids(self) -> Iterator[str]:
        return (row["id"] for row in self.iter())

    def lookup(self) -> Mapping[str, dict[str, Any]]:
        return {row["id"]: row for row in self.iter()}


class IrdsQrels(ir.Qrels):
    """The relevance judgements of an ir_datasets dataset, read through ir_datasets."""

    irds_id: str = Field(description="the ir_datasets id")

    def iter(self) -> Iterator[ir.Qrel]:
        for qrel in _load(self.irds_id).qrels_iter():
            yield ir.Qrel(qrel.query_id, qrel.doc_id, int(qrel.relevance))


class IrdsDataset(ir.IRCollection):
    """A dataset of ir_datasets as dmconf's test collection (:class:`dmconf.data.ir.
    IRCollection`): ``documents``, ``queries`` and ``qrels[IRDS_ID]`` are dmconf's IR types,
    read through ir_datasets; a part the dataset lacks is ``None`` (no ``qrels`` entry).
    Their ``path`` is the dataset's folder in ir_datasets' home."""

    irds_id: str = Field(description="the ir_datasets id (msmarco-passage/dev/small)")
    documents: IrdsDocuments | None = None  # type: ignore[assignment]
    queries: IrdsQueries | None = None  # type: ignore[assignment]
    qrels: dict[str, IrdsQrels] = Field(  # type: ignore[assignment]
        default_factory=dict, description="the ir_datasets id -> its judgements")

    @model_validator(mode="before")
    @classmethod
    def _parts(cls, data: Any) -> Any:
        """From ``irds_id`` alone (a definition's data), the parts the dataset has: asking
        ir_datasets which ones downloads nothing."""
        if not isinstance(data, dict) or "irds_id" not in data or (
                {"documents", "queries", "qrels"} & set(data)):
            return data
        irds_id = data["irds_id"]
        dataset = _load(irds_id)
        part = {"irds_id": irds_id,
                "path": ir_datasets_module().util.home_path() / irds_id.split("/")[0]}
        return {
            **data,
            "documents": part if dataset.has_docs() else None,
            "queries": part if dataset.has_queries() else None,
            "qrels": {irds_id: part} if dataset.has_qrels() else {},
        }

    def dataset(self) -> Any:
        """ir_datasets' own object for it."""
        return _load(self.irds_id)

    def dmconf_download(self) -> None:
        """Fetch what ir_datasets needs for each part it has (its downloads, its checks); run
        by ``dmconf prepare`` once."""
        dataset = self.dataset()
        for kind in KINDS:
            if getattr(dataset, f"has_{kind}", lambda: False)():
                path = getattr(dataset, f"{kind}_path", None)
                if callable(path):
                    path()
                else:
                    next(iter(getattr(dataset, f"{kind}_iter")()), None)


@dataclass
class IrdsEntry(Entry):
    """An ir_datasets id in the catalogue."""

    irds_id: str = ""

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
        "import json, sys; from dmconf.compat.irds import _listed; "
        "json.dump(_listed(), sys.stdout)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    try:
        listed = json.loads(result.stdout) if result.returncode == 0 else None
    except ValueError:
        listed = None
    if not isinstance(listed, dict):
        import logging

        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        logging.getLogger("dmconf").warning(
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
