"""Text datasets: classification (folders or delimited files), token tagging (CoNLL),
question answering (SQuAD JSON), sentence pairs (NLI) and plain corpora.

Every reader streams its file: ``next(iter(...))`` of a large corpus reads its first lines only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from dmconf.data import File
from dmconf.data.ml import LabelledFiles
from dmconf.data.reading import json_line, open_text
from dmconf.errors import DataFormatError

__all__ = ["CoNLL", "PlainText", "QuestionAnswering", "SentencePairs", "TextFolder", "TextTable"]



class TextFolder(LabelledFiles):
    """Texts sorted into one folder per class (IMDB reviews: ``train/pos/*.txt``)."""

    pattern: str = "*.txt"

    def text(self, path: Path) -> str:
        with open_text(path) as stream:
            return stream.read()

    def texts(self) -> Iterator[tuple[str, int]]:
        """``(text, label)`` pairs, read one file at a time."""
        for path, label in self.items():
            yield self.text(path), label


class TextTable(File):
    """Rows of a delimited file (CSV, TSV), each a mapping of column name to text.

    ``columns`` names the columns of a file without a header line (AG News:
    ``[label, title, description]``); with ``header: true`` the first line names them.
    ``label`` and ``text`` say which columns a classifier reads.
    """

    delimiter: str = Field(default=",", description="field separator (\\t for TSV)")
    header: bool = Field(default=True, description="whether the first line names the columns")
    columns: list[str] | None = Field(default=None, description="column names, without header")
    text: list[str] = Field(default_factory=list, description="the columns holding the text")
    label: str | None = Field(default=None, description="the column holding the label")
    quoting: bool = Field(default=True, description="false: quotes are ordinary characters")
    skip: int = Field(default=0, ge=0, description="lines before the header or first row")

    def rows(self) -> Iterator[dict[str, str]]:
        """One mapping per row, streamed."""
        try:
            yield from self._rows()
        except csv.Error as exc:  # a field over csv's 128 KiB limit, a NUL byte...
            raise DataFormatError(f"{self.path}: not a readable delimited file ({exc})",
                                  path=str(self.path)) from None

    def _rows(self) -> Iterator[dict[str, str]]:
        with open_text(self.path) as stream:
            for _ in range(self.skip):
                stream.readline()
            reader = csv.reader(stream, delimiter=self.delimiter,
                                quoting=csv.QUOTE_MINIMAL if self.quoting else csv.QUOTE_NONE)
            names = self.columns
            for number, fields in enumerate(reader, 1):
                if names is None:
                    if self.header:
                        names = [f.strip() for f in fields]
                        continue
                    names = [str(i) for i in range(len(fields))]
                elif number == 1 and self.header:
                    continue
                if not fields:
                    continue
                if len(fields) != len(names):
                    raise DataFormatError(
                        f"{self.path}, line {number}: {len(fields)} fields, expected "
                        f"{len(names)} ({', '.join(names)})", path=str(self.path),
                    )
                yield dict(zip(names, fields, strict=True))

    def examples(self) -> Iterator[tuple[str, str]]:
        """``(text, label)`` pairs: the ``text`` columns joined by a space, and ``label``."""
        if not self.text or self.label is None:
            raise DataFormatError(f"{self.path}: the definition names no text/label columns",
                                  path=str(self.path))
        for row in self.rows():
            yield " ".join(row[c] for c in self.text), row[self.label]


class CoNLL(File):
    """Token tagging in the CoNLL format: one token a line with its tags in columns,
    sentences separated by blank lines (CoNLL-2003: ``token POS chunk NER``)."""

    columns: list[str] = Field(description="name of each column, the token's first")
    delimiter: str | None = Field(default=None, description="column separator (default: spaces)")
    encoding: str = Field(default="utf-8", description="text encoding (CoNLL-2002: latin-1)")

    def sentences(self) -> Iterator[dict[str, list[str]]]:
        """One mapping a sentence: column name to the list of its values, streamed.

        ``-DOCSTART-`` lines (document boundaries) are skipped.
        """
        current: dict[str, list[str]] = {c: [] for c in self.columns}
        with open_text(self.path, self.encoding) as stream:
            for number, line in enumerate(stream, 1):
                fields = line.split(self.delimiter) if line.strip() else []
                if fields and fields[0] == "-DOCSTART-":
                    continue
                if not fields:
                    if current[self.columns[0]]:
                        yield current
                        current = {c: [] for c in self.columns}
                    continue
                if len(fields) != len(self.columns):
                    raise DataFormatError(
                        f"{self.path}, line {number}: {len(fields)} columns, expected "
                        f"{len(self.columns)} ({', '.join(self.columns)})", path=str(self.path),
                    )
                for name, value in zip(self.columns, fields, strict=True):
                    current[name].append(value.strip())
        if current[self.columns[0]]:
            yield current


class QuestionAnswering(File):
    """Extractive question answering in SQuAD's JSON (``data[].paragraphs[].qas[]``)."""

    def records(self) -> Iterator[dict[str, Any]]:
        """One mapping per question: id, title, context, question, answers (text, start)."""
        import json

        with open_text(self.path) as stream:
            try:
                content = json.load(stream)
            except ValueError as exc:
                raise DataFormatError(f"{self.path}: not JSON ({exc})",
                                      path=str(self.path)) from None
        try:
            for article in content["data"]:
                for paragraph in article["paragraphs"]:
                    for qa in paragraph["qas"]:
                        yield {
                            "id": qa["id"], "title": article.get("title", ""),
                            "context": paragraph["context"], "question": qa["question"],
                            "answers": [{"text": a["text"], "start": a["answer_start"]}
                                        for a in qa.get("answers", [])],
                        }
        except (KeyError, TypeError) as exc:
            raise DataFormatError(
                f"{self.path}: not SQuAD's layout (data/paragraphs/qas; missing {exc})",
                path=str(self.path),
            ) from None


class SentencePairs(File):
    """Sentence pairs with a label (NLI, paraphrase), in JSON Lines or a delimited file.

    ``first``, ``second`` and ``label`` name the fields (SNLI: ``sentence1``, ``sentence2``,
    ``gold_label``); rows whose label is in ``skip_labels`` (SNLI's ``-``) are left out.
    """

    format: Literal["jsonl", "tsv"] = "jsonl"
    first: str = "sentence1"
    second: str = "sentence2"
    label: str = "gold_label"
    skip_labels: list[str] = Field(default_factory=list)

    def pairs(self) -> Iterator[tuple[str, str, str]]:
        """``(first, second, label)`` triples, streamed."""
        if self.format == "jsonl":
            rows: Iterator[dict[str, Any]] = self._json_rows()
        else:
            rows = TextTable(path=self.path, delimiter="\t", quoting=False).rows()
        for row in rows:
            try:
                label = str(row[self.label])
                if label not in self.skip_labels:
                    yield row[self.first], row[self.second], label
            except KeyError as exc:
                raise DataFormatError(f"{self.path}: a row has no field {exc}",
                                      path=str(self.path)) from None

    def _json_rows(self) -> Iterator[dict[str, Any]]:
        with open_text(self.path) as stream:
            for number, line in enumerate(stream, 1):
                if line.strip():
                    yield json_line(self.path, number, line)


class PlainText(File):
    """A plain text corpus (Tiny Shakespeare...)."""

    def lines(self) -> Iterator[str]:
        """Lines without their end of line, streamed."""
        with open_text(self.path) as stream:
            for line in stream:
                yield line.rstrip("\r\n")

    def read(self) -> str:
        with open_text(self.path) as stream:
            return stream.read()
