"""Tabular data: a delimited file with named, typed columns.

The core reads it with the standard ``csv`` module into rows or a numpy structured array;
``to_pandas()`` uses pandas (the ``tabular`` extra) for those who want a DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from dmconf.data.reading import require
from dmconf.data.text import TextTable
from dmconf.errors import DataFormatError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Table"]

# Column dtypes a definition may declare; `str` columns stay text (numpy: unicode).
DTYPES = {"str", "int", "float", "bool", "int64", "int32", "float64", "float32"}


class Table(TextTable):
    """A table: a header line (or ``columns``), then rows; ``dtypes`` types the columns.

    Values in ``missing`` (``?`` for UCI files, ``""``) become ``None`` in rows and NaN (or
    -1 for integers, 0 for booleans) in arrays. ``skip`` lines at the top are not data
    (UCI Adult's test file starts with one). A trailing ``.`` on labels, as in that same file,
    is the publisher's; use ``strip`` to remove characters around every value.
    """

    dtypes: dict[str, str] = Field(default_factory=dict, description="column to dtype")
    missing: list[str] = Field(default_factory=list, description="values that mean missing")
    strip: str = Field(default=" ", description="characters stripped around every value")

    @field_validator("dtypes")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        for name, dtype in value.items():
            if dtype not in DTYPES:
                raise ValueError(f"column {name!r}: dtype {dtype!r} is not one of {sorted(DTYPES)}")
        return value

    def records(self) -> Iterator[dict[str, Any]]:
        """Rows with values converted to their column's dtype (``None`` when missing)."""
        for number, row in enumerate(self.rows(), 1):
            yield {name: self._convert(name, value, number) for name, value in row.items()}

    def _convert(self, name: str, value: str, number: int) -> Any:
        value = value.strip(self.strip)
        if value in self.missing:
            return None
        kind = self.dtypes.get(name, "str")
        try:
            if kind.startswith("int"):
                return int(value)
            if kind.startswith("float"):
                return float(value)
            if kind == "bool":
                return value.lower() in ("1", "true", "yes", "t", "y")
        except ValueError:
            raise DataFormatError(
                f"{self.path}, row {number}, column {name!r}: {value!r} is not {kind}",
                path=str(self.path),
            ) from None
        return value

    def to_numpy(self) -> np.ndarray:
        """The table as a numpy structured array (one field per column)."""
        import numpy as np

        records = list(self.records())
        names = list(records[0]) if records else list(self.columns or [])
        fields = []
        for name in names:
            kind = self.dtypes.get(name, "str")
            if kind == "str":
                width = max((len(r[name] or "") for r in records), default=1)
                fields.append((name, f"U{max(width, 1)}"))
            else:
                fields.append((name, {"int": "i8", "float": "f8", "bool": "?"}.get(kind, kind)))
        dtype = np.dtype(fields)
        fill = {"f": float("nan"), "i": -1, "b": False, "U": ""}
        rows = [tuple(r[n] if r[n] is not None else fill[dtype[n].kind] for n in names)
                for r in records]
        return np.array(rows, dtype=dtype)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame (the ``tabular`` extra)."""
        pandas = require("pandas", "tabular", f"reading {self.path.name} as a DataFrame")
        return pandas.DataFrame.from_records(list(self.records()))

