"""Records: what a Croissant ``RecordSet`` or a Hugging Face split becomes when no more specific
dmconf type fits.

:class:`FileSet` is the files of a folder that match glob patterns (a Croissant ``FileSet``, the
members of an unpacked archive). :class:`ParquetTable` is a table stored as Parquet shards
(read with pyarrow, the ``parquet`` extra). :class:`Records` reads typed fields out of CSV, TSV,
JSON Lines, JSON or Parquet files, each field taken from one column (or JSON key) and converted
to its dtype, with inline rows for small enumerations (Croissant's ``data``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dmconf.data import Base, Folder
from dmconf.data.reading import json_line, open_text, require
from dmconf.errors import DataFormatError

__all__ = ["FileSet", "ParquetTable", "RecordField", "Records"]

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
DTYPES = ("str", "int", "float", "bool", "bytes", "url", "date", "any")


class FileSet(Folder):
    """Files of a folder matching ``includes`` (glob patterns, ``**`` for any depth)."""

    includes: list[str] = Field(default_factory=lambda: ["**/*"], description="glob patterns")

    @field_validator("includes")
    @classmethod
    def _relative(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if pattern.startswith("/") or ".." in pattern.split("/"):
                raise ValueError(f"pattern {pattern!r} must stay inside the folder")
        return value

    def files(self) -> list[Path]:
        """The matching files, sorted; none outside the folder (links are not followed out)."""
        root = self.path.resolve()
        found = {
            p for pattern in self.includes for p in self.path.glob(pattern)
            if p.is_file() and p.resolve().is_relative_to(root)
        }
        return sorted(found)


def _read_parquet(paths: list[Path], columns: list[str] | None) -> Any:
    parquet = require("pyarrow.parquet", "parquet", "reading Parquet files")
    arrow = require("pyarrow", "parquet", "reading Parquet files")
    tables = [parquet.read_table(p, columns=columns) for p in paths]
    if not tables:
        raise DataFormatError("no Parquet file to read")
    return arrow.concat_tables(tables) if len(tables) > 1 else tables[0]


class ParquetTable(Base):
    """A table in one Parquet file (``path``: what the ``csv-to-parquet`` step writes) or in
    several (``paths``: shards of one split, read in order)."""

    path: Path | None = Field(default=None, description="the Parquet file (or give `paths`)")
    paths: list[Path] = Field(default_factory=list, description="the Parquet files, in order")
    columns: list[str] | None = Field(default=None, description="columns to read (default all)")

    @model_validator(mode="after")
    def _one_way(self) -> ParquetTable:
        if (self.path is None) == (not self.paths):
            raise ValueError("give `path` (one Parquet file) or `paths` (shards), not both")
        return self

    @property
    def files(self) -> list[Path]:
        """The Parquet files, in order."""
        return [self.path] if self.path is not None else list(self.paths)

    def to_arrow(self) -> Any:
        """The table as a ``pyarrow.Table`` (the ``parquet`` extra)."""
        return _read_parquet(self.files, self.columns)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame (the ``parquet`` and ``tabular`` extras)."""
        return self.to_arrow().to_pandas()

    def records(self) -> Iterator[dict[str, Any]]:
        """Rows as dicts of Python values, one shard at a time."""
        for path in self.files:
            yield from _read_parquet([path], self.columns).to_pylist()

    def __len__(self) -> int:
        parquet = require("pyarrow.parquet", "parquet", "reading Parquet files")
        return sum(parquet.ParquetFile(p).metadata.num_rows for p in self.files)


class RecordField(BaseModel):
    """One field of a record: where it is read (``column``) and its dtype."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = Field(default=None, description="column or JSON key (default: name)")
    key: str | None = Field(default=None, description="a key inside the column's value")
    file_property: Literal["filename", "fullpath"] | None = Field(
        default=None, description="take the value from the file's name or path, not its content"
    )
    regex: str | None = Field(default=None, description="keep the regex's first group")
    dtype: Literal["str", "int", "float", "bool", "bytes", "url", "date", "any"] = "str"

    def value(self, name: str, raw: dict[str, Any], path: Path | None, root: Path | None) -> Any:
        import re

        if self.file_property is not None and path is not None:
            value: Any = path.name if self.file_property == "filename" else (
                path.relative_to(root).as_posix() if root else path.as_posix())
        else:
            value = raw.get(self.column or name)
            if self.key is not None:
                value = value.get(self.key) if isinstance(value, dict) else None
        if self.regex is not None and isinstance(value, str):
            match = re.search(self.regex, value)
            value = (match.group(1) if match.groups() else match.group(0)) if match else None
        return _convert(value, self.dtype)


class Records(Base):
    """Typed records read from files (or given inline, ``rows``)."""

    paths: list[Path] = Field(default_factory=list, description="files holding the records")
    file_set: FileSet | None = Field(default=None, description="or: the files of a file set")
    format: Literal["csv", "tsv", "jsonl", "json", "parquet"] = "csv"
    fields: dict[str, RecordField] = Field(default_factory=dict, description="name to field")
    rows: list[dict[str, Any]] | None = Field(default=None, description="inline records")

    def records(self) -> Iterator[dict[str, Any]]:
        """Each record as ``{field name: value}``, values converted to the field's dtype."""
        root = self.file_set.path if self.file_set is not None else None
        for path, raw in self._raw():
            if not self.fields:
                yield raw
                continue
            yield {name: f.value(name, raw, path, root) for name, f in self.fields.items()}

    def _raw(self) -> Iterator[tuple[Path | None, dict[str, Any]]]:
        if self.rows is not None:
            for row in self.rows:
                yield None, row
            return
        paths = self.file_set.files() if self.file_set is not None else self.paths
        for path in paths:
            for raw in self._read(path):
                yield path, raw

    def _read(self, path: Path) -> Iterator[dict[str, Any]]:
        if self.format == "parquet":
            columns = sorted({f.column or n for n, f in self.fields.items() if not f.file_property})
            yield from _read_parquet([path], columns or None).to_pylist()
        elif self.format in ("csv", "tsv"):
            with open_text(path) as stream:
                yield from csv.DictReader(stream, delimiter="\t" if self.format == "tsv" else ",")
        elif self.format == "jsonl":
            with open_text(path) as stream:
                for number, line in enumerate(stream, 1):
                    if line.strip():
                        yield json_line(path, number, line)
        else:
            with open_text(path) as stream:
                try:
                    value = json.load(stream)
                except ValueError as exc:
                    raise DataFormatError(f"{path}: not JSON ({exc})", path=str(path)) from None
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    yield item


def _convert(value: Any, dtype: str) -> Any:
    if value is None or value == "" or dtype in ("any", "bytes"):
        return None if value == "" else value
    try:
        if dtype == "int":
            return int(value)
        if dtype == "float":
            return float(value)
        if dtype == "bool":
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    except (TypeError, ValueError):
        return None  # a value that is not of its declared type ("?" in a numeric column)
    return value if isinstance(value, str) else str(value)
