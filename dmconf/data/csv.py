"""Delimited text tables, read with numpy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from dmconf.data import File
from dmconf.errors import DataFormatError, NotPrepared

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CSV"]


class CSV(File):
    """A delimited text file; ``data()`` reads it with ``numpy.loadtxt``."""

    delimiter: str = Field(default=",", description="field separator")
    header: int = Field(default=0, ge=0, description="lines to skip before the data")
    names: list[str] | None = Field(default=None, description="column names, if known")
    dtype: str = Field(default="float64", description="numpy dtype of the values")

    def columns(self) -> list[str]:
        """Column names: ``names``, or the last header line split on the delimiter."""
        if self.names is not None:
            return list(self.names)
        if self.header == 0:
            return []
        with open(self.path, encoding="utf-8") as stream:
            line = ""
            for _ in range(self.header):
                line = stream.readline()
        return [name.strip() for name in line.rstrip("\n").split(self.delimiter)]

    def data(self) -> np.ndarray:
        """The values as a 2-D numpy array of ``dtype``."""
        import numpy as np

        try:
            return np.loadtxt(
                self.path, delimiter=self.delimiter, skiprows=self.header, dtype=self.dtype,
                ndmin=2,
            )
        except FileNotFoundError:
            raise NotPrepared(
                f"{self.path} does not exist: prepare the dataset first", path=str(self.path)
            ) from None
        except ValueError as exc:
            raise DataFormatError(
                f"{self.path}: cannot read as {self.dtype} CSV (delimiter {self.delimiter!r}, "
                f"{self.header} header lines): {exc}",
                path=str(self.path),
            ) from None
