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

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field, model_validator

from dmconf.compat.irds_catalog import (
    HOME,
    KINDS,
    PREFIX,
    IrdsEntry,
    dmconf_id,
    ir_datasets_module,
    irds_entries,
)
from dmconf.data import ir

# The catalogue's side (ids, listing, importing ir_datasets) is in dmconf.compat.irds_catalog,
# which builds no pydantic model; its names are given here as before.
__all__ = [
    "HOME", "KINDS", "PREFIX", "IrdsDataset", "IrdsDocuments", "IrdsEntry", "IrdsQrels",
    "IrdsQueries", "dmconf_id", "ir_datasets_module", "irds_entries",
]


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
