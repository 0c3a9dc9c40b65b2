"""The bundled step ``csv-to-parquet``: delimited text tables as Parquet files (pyarrow, the
``parquet`` extra).

Each input (a ``csv``, ``table`` or ``text-table`` object, or any file) becomes
``<input name>.parquet``. The input's own ``delimiter``, ``header``, ``columns`` and ``skip``
are used where it has them; ``delimiter`` in the parameters overrides. Columns are typed by
pyarrow's inference; the file is read and written a block at a time, so tables larger than
memory convert.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dmconf.derive.base import step
from dmconf.errors import DataTypeError

__all__ = ["CsvToParquet", "csv_to_parquet"]


class CsvToParquet(BaseModel):
    """Parameters of ``csv-to-parquet``."""

    model_config = ConfigDict(extra="forbid")

    delimiter: str | None = Field(default=None, min_length=1, max_length=1,
                                  description="field separator (default: the input's, or ',')")
    compression: Literal["zstd", "snappy", "gzip", "brotli", "lz4", "none"] = Field(
        default="zstd", description="Parquet compression codec")


@step(version=1, params=CsvToParquet)
def csv_to_parquet(inputs: dict[str, Any], output: Path, params: CsvToParquet) -> None:
    """Write each delimited input as ``<name>.parquet``."""
    from dmconf.data.reading import require

    require("pyarrow", "parquet", "converting CSV to Parquet")
    from pyarrow import csv
    from pyarrow import parquet as pq

    for name, value in inputs.items():
        path = getattr(value, "path", None)
        if not isinstance(path, Path) or not path.is_file():
            raise DataTypeError(f"csv-to-parquet: input {name!r} is a {type(value).__name__}, "
                                "not a file (name a part such as train)")
        columns = getattr(value, "columns", None)
        header = getattr(value, "header", True) and not columns
        reading = csv.ReadOptions(skip_rows=getattr(value, "skip", 0),
                                  column_names=None if header else columns,
                                  autogenerate_column_names=not header and not columns)
        parsing = csv.ParseOptions(delimiter=params.delimiter or getattr(value, "delimiter", ","))
        reader = csv.open_csv(path, read_options=reading, parse_options=parsing)
        with pq.ParquetWriter(output / f"{name}.parquet", reader.schema,
                              compression=params.compression) as writer:
            for batch in reader:
                writer.write_batch(batch)
