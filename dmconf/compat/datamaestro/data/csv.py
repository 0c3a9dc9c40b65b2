"""datamaestro's ``datamaestro.data.csv``: ``Generic`` (a delimited file) and ``Matrix``."""

from __future__ import annotations

import csv
from typing import Any

from pydantic import Field

from dmconf.compat.datamaestro.data import File

__all__ = ["Generic", "Matrix"]


class Generic(File):
    """A delimited text file; ``names_row`` (>= 0) is the row holding the column names."""

    delimiter: str = ","
    ignore: int = Field(default=0, description="lines to skip first")
    names_row: int = -1

    def columns(self) -> list[str] | None:
        """The column names, or None."""
        if self.names_row < 0:
            return None
        for index, row in enumerate(self._rows()):
            if index == self.names_row:
                return row
        return None

    def _rows(self) -> Any:
        with self.path.open(encoding="utf-8", newline="") as stream:
            for _ in range(self.ignore):
                stream.readline()
            yield from csv.reader(stream, delimiter=self.delimiter)


class Matrix(Generic):
    """Numbers; ``target`` names the column returned apart."""

    size_row: int = -1
    target: str | None = None

    def data(self) -> tuple[Any, ...]:
        """``(names, values)``, or ``(names, values, targets)`` when ``target`` is set."""
        import numpy as np

        names: list[str] = []
        rows, targets = [], []
        skip = -1
        for index, row in enumerate(self._rows()):
            if index == self.size_row:
                continue
            if index == self.names_row:
                names = row
                skip = names.index(self.target) if self.target else -1
                continue
            rows.append([float(x) for i, x in enumerate(row) if i != skip])
            if skip >= 0:
                targets.append(float(row[skip]))
        if self.target:
            return names, np.array(rows), np.array(targets)
        return names, np.array(rows)
