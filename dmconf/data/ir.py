"""Information retrieval: documents, queries, relevance judgements (qrels), runs and training
triplets, and the collection that groups them (BEIR's ``corpus.jsonl``, ``queries.jsonl`` and
``qrels/*.tsv``; TREC topics, qrels and runs).

Each part streams (``iter()``, ``head(n)``) and looks up by id: :meth:`Records.lookup` scans the
file once for line offsets, then reads one line per id; qrels and runs group by query.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import Field

from dmconf.data import Base, File
from dmconf.data.reading import LineLookup, json_line, open_binary, open_text
from dmconf.errors import DataFormatError

T = TypeVar("T")

__all__ = [
    "Documents",
    "IRCollection",
    "Qrel",
    "Qrels",
    "Queries",
    "Records",
    "Run",
    "ScoredDocument",
    "Triplet",
    "Triplets",
]


# `{"field": "string"` at the start of a JSON Lines row: the field's name and its JSON string.
_LEADING_STRING_FIELD = re.compile(rb'\s*\{\s*"([^"\\]*)"\s*:\s*("(?:[^"\\]|\\.)*")')


class Records(File):
    """Rows with an id, in JSON Lines or tab-separated form; each row is a mapping with ``id``.

    JSON Lines: ``id_field`` names the id (BEIR: ``_id``), other fields are kept as they are.
    TSV: ``fields`` names the columns, the id's first (MS MARCO: ``[id, text]``).
    """

    format: Literal["jsonl", "tsv"] = Field(default="jsonl", description="jsonl or tsv")
    id_field: str = Field(default="_id", description="jsonl: the field holding the id")
    fields: list[str] = Field(default=["id", "text"], description="tsv: column names, id first")
    header: bool = Field(default=False, description="tsv: whether the first line is a header")

    def _parse(self, number: int, line: str | bytes) -> dict[str, Any]:
        if self.format == "jsonl":
            row = json_line(self.path, number, line)
            if self.id_field not in row:
                raise DataFormatError(f"{self.path}, line {number}: no {self.id_field!r} field",
                                      path=str(self.path))
            row["id"] = str(row.pop(self.id_field))
            return row
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        values = text.rstrip("\r\n").split("\t")
        if len(values) < len(self.fields):
            values += [""] * (len(self.fields) - len(values))
        return dict(zip(self.fields, values[: len(self.fields)], strict=True))

    def _key(self, number: int, line: bytes) -> str:
        if self.format == "tsv":
            return line.split(b"\t", 1)[0].strip().decode("utf-8", "replace")
        # Fast path: a line that starts with the id field (BEIR writes `{"_id": "..."`) needs
        # no full JSON parse to index; any other line is parsed.
        first = _LEADING_STRING_FIELD.match(line)
        if first is not None and first.group(1) == self.id_field.encode():
            quoted = first.group(2)
            return quoted[1:-1].decode() if b"\\" not in quoted else str(json.loads(quoted))
        return str(self._parse(number, line)["id"])

    def iter(self) -> Iterator[dict[str, Any]]:
        """Every row, streamed."""
        with open_text(self.path) as stream:
            for number, line in enumerate(stream, 1):
                if line.strip() and not (self.header and number == 1):
                    yield self._parse(number, line)

    def ids(self) -> Iterator[str]:
        """Every id, streamed (JSON Lines rows that start with their id are not fully parsed)."""
        with open_binary(self.path) as stream:
            for number, line in enumerate(stream, 1):
                if line.strip() and not (self.header and number == 1):
                    yield self._key(number, line)

    def head(self, count: int = 10) -> list[dict[str, Any]]:
        """The first ``count`` rows (reads only as far as them)."""
        return list(itertools.islice(self.iter(), count))

    def lookup(self) -> Mapping[str, dict[str, Any]]:
        """A read-only mapping id -> row, indexed on first use (one scan of the file)."""
        return LineLookup(self.path, self._key, self._parse, skip=1 if self.header else 0)

    def count(self) -> int:
        return sum(1 for _ in self.iter())


class Documents(Records):
    """A document collection (BEIR ``corpus.jsonl``: ``_id``, ``title``, ``text``)."""


class Queries(Records):
    """Queries or topics: JSON Lines / TSV like :class:`Records`, or TREC topic files
    (``format: trec``: ``<top><num> ... <title> ... <desc> ... <narr> ... </top>``)."""

    format: Literal["jsonl", "tsv", "trec"] = "jsonl"  # type: ignore[assignment]

    def iter(self) -> Iterator[dict[str, Any]]:
        if self.format != "trec":
            yield from super().iter()
            return
        with open_text(self.path) as stream:
            block: list[str] = []
            for line in stream:
                if line.strip().lower() == "<top>":
                    block = []
                elif line.strip().lower() == "</top>":
                    yield self._topic("".join(block))
                else:
                    block.append(line)

    def _topic(self, text: str) -> dict[str, Any]:
        parts = {tag.lower(): body.strip() for tag, body in
                 re.findall(r"<(num|title|desc|narr)>(.*?)(?=<(?:num|title|desc|narr)>|\Z)",
                            text, flags=re.S | re.I)}
        number = re.sub(r"^(Number:)?\s*", "", parts.get("num", ""), flags=re.I)
        if not number:
            raise DataFormatError(f"{self.path}: a <top> without <num>", path=str(self.path))
        return {
            "id": number.split()[0], "title": parts.get("title", ""),
            "description": re.sub(r"^Description:\s*", "", parts.get("desc", ""), flags=re.I),
            "narrative": re.sub(r"^Narrative:\s*", "", parts.get("narr", ""), flags=re.I),
        }

    def lookup(self) -> Mapping[str, dict[str, Any]]:
        if self.format == "trec":  # topic files are small: read them whole
            return {row["id"]: row for row in self.iter()}
        return super().lookup()


def _columns(path: Path, expected: str, count: int, skip: int = 0) -> Iterator[list[str]]:
    """The whitespace-separated columns of each non-empty line, exactly ``count`` of them."""
    with open_text(path) as stream:
        for number, line in enumerate(stream, 1):
            fields = line.split()
            if not fields or number <= skip:
                continue
            if len(fields) != count:
                raise DataFormatError(
                    f"{path}, line {number}: expected {expected}, got {line.strip()!r}",
                    path=str(path),
                )
            yield fields


def _number(kind: Callable[[str], T], value: str, path: Path, expected: str) -> T:
    try:
        return kind(value)
    except ValueError:
        raise DataFormatError(f"{path}: {value!r} is not a number ({expected})",
                              path=str(path)) from None


def _by_query(rows: Iterable[tuple[str, str, T]]) -> dict[str, dict[str, T]]:
    grouped: dict[str, dict[str, T]] = {}
    for query, document, value in rows:
        grouped.setdefault(query, {})[document] = value
    return grouped


class Qrel(NamedTuple):
    query: str
    document: str
    relevance: int


class Qrels(File):
    """Relevance judgements: TREC (``qid iteration docid relevance``, spaces) or BEIR
    (``query-id<TAB>corpus-id<TAB>score`` after a header line)."""

    format: Literal["trec", "beir"] = "trec"

    def iter(self) -> Iterator[Qrel]:
        trec = self.format == "trec"
        expected = "qid iter docid rel" if trec else "query-id corpus-id score"
        for fields in _columns(self.path, expected, 4 if trec else 3, skip=0 if trec else 1):
            yield Qrel(fields[0], fields[-2], _number(int, fields[-1], self.path, expected))

    def lookup(self) -> dict[str, dict[str, int]]:
        """query id -> {document id: relevance}."""
        return _by_query((q.query, q.document, q.relevance) for q in self.iter())


class ScoredDocument(NamedTuple):
    query: str
    document: str
    rank: int
    score: float
    tag: str


class Run(File):
    """A TREC run: ``qid Q0 docid rank score tag`` a line."""

    def iter(self) -> Iterator[ScoredDocument]:
        expected = "qid Q0 docid rank score tag"
        for query, _, document, rank, score, tag in _columns(self.path, expected, 6):
            yield ScoredDocument(query, document, _number(int, rank, self.path, expected),
                                 _number(float, score, self.path, expected), tag)

    def lookup(self) -> dict[str, dict[str, float]]:
        """query id -> {document id: score}."""
        return _by_query((s.query, s.document, s.score) for s in self.iter())


class Triplet(NamedTuple):
    query: str
    positive: str
    negative: str


class Triplets(File):
    """Training triplets, one a line: query, positive document, negative document.

    Each column holds an id or a text, as ``query_ids`` and ``document_ids`` say (MS MARCO's
    ``qidpidtriples`` hold ids, its ``triples.train.small`` texts).
    """

    delimiter: str = Field(default="\t", description="column separator")
    query_ids: bool = Field(default=True, description="the first column is a query id")
    document_ids: bool = Field(default=True, description="the other two are document ids")

    def iter(self) -> Iterator[Triplet]:
        with open_text(self.path) as stream:
            for number, line in enumerate(stream, 1):
                fields = line.rstrip("\r\n").split(self.delimiter)
                if fields == [""]:
                    continue
                if len(fields) != 3:
                    raise DataFormatError(
                        f"{self.path}, line {number}: expected 3 columns separated by "
                        f"{self.delimiter!r}, got "
                        f"{len(fields)}", path=str(self.path),
                    )
                yield Triplet(*fields)


class IRCollection(Base):
    """A test collection: documents, queries, and judgements per split (BEIR: train, dev,
    test); optionally runs to rerank and training triplets."""

    documents: Documents
    queries: Queries
    qrels: dict[str, Qrels] = Field(default_factory=dict, description="split -> judgements")
    runs: dict[str, Run] = Field(default_factory=dict, description="name -> run")
    triplets: Triplets | None = None

    def topics(self, split: str) -> Iterator[dict[str, Any]]:
        """The queries judged in ``split``, streamed in the queries file's order."""
        if split not in self.qrels:
            raise KeyError(f"no qrels for split {split!r} (splits: {', '.join(self.qrels)})")
        judged = self.qrels[split].lookup()
        return (q for q in self.queries.iter() if q["id"] in judged)
