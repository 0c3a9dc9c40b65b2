"""A lazy Dask array over an IDX file (the ``dask`` extra): ``IDX.to_dask()``.

Building the array reads the IDX header (a few bytes) and nothing else: each chunk is a task
that maps its own rows of the file (``numpy.memmap`` at the chunk's offset, zero-copy) when it
runs. The
graph holds the path, the dtype and offsets, never data, so it pickles to a few kilobytes and a
distributed scheduler ships it to workers that read the shared disk themselves; slicing the
array culls the chunks it does not need, whose pages are never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.data.reading import require

if TYPE_CHECKING:
    import numpy as np

    from dmconf.data.tensor import IDX

__all__ = ["CHUNK_BYTES", "idx_array"]

CHUNK_BYTES = 64 << 20  # Dask's advice: chunks of tens to a hundred megabytes


def idx_array(idx: IDX, rows: int | None = None) -> Any:
    """A ``dask.array.Array`` of the IDX file's elements, chunked along its first axis
    (``rows`` per chunk; default: about 64 MiB)."""
    da = require("dask.array", "dask", f"a Dask array of {idx.path.name}")
    from dask import delayed

    if rows is not None and rows < 1:
        raise ValueError(f"rows must be positive, got {rows}")
    dtype, shape, offset = idx.layout()
    if not shape or 0 in shape:
        return da.from_array(idx.data())  # nothing to read lazily
    row_bytes = dtype.itemsize * _product(shape[1:])
    step = rows if rows is not None else max(1, CHUNK_BYTES // max(row_bytes, 1))
    read = delayed(_read_rows, pure=True)
    blocks = [
        da.from_delayed(
            read(str(idx.path), dtype.str, offset + start * row_bytes,
                 (min(step, shape[0] - start), *shape[1:])),
            shape=(min(step, shape[0] - start), *shape[1:]), dtype=dtype,
        )
        for start in range(0, shape[0], step)
    ]
    return da.concatenate(blocks, axis=0)


def _read_rows(path: str, dtype: str, offset: int, shape: tuple[int, ...]) -> np.ndarray:
    """One chunk: its rows mapped from the file (zero-copy; pages are read as they are used)."""
    import numpy as np

    return np.memmap(Path(path), dtype=np.dtype(dtype), mode="r", offset=offset, shape=shape)


def _product(values: tuple[int, ...]) -> int:
    result = 1
    for value in values:
        result *= value
    return result
