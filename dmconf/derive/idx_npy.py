"""The bundled step ``idx-to-npy``: IDX files (MNIST and friends) as ``.npy`` arrays.

Each input (an ``idx`` object, or a part that is one) becomes ``<input name>.npy`` in the
output, of the chosen ``dtype``, with every element mapped to ``element * scale + offset``
(``scale: 0.00392156862745098`` is 1/255: pixels in [0, 1]). For an integer ``dtype`` the result
is rounded to the nearest integer and clipped to the type's range. The array is written through
a memory map, a block of rows at a time, so an input larger than memory converts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dmconf.derive.base import step
from dmconf.errors import DataTypeError

__all__ = ["IdxToNpy", "idx_to_npy"]

BLOCK = 64 << 20  # bytes of output written at a time


class IdxToNpy(BaseModel):
    """Parameters of ``idx-to-npy``."""

    model_config = ConfigDict(extra="forbid")

    dtype: Literal["uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                   "float64"] = Field(default="float32", description="element type of the arrays")
    scale: float = Field(default=1.0, description="each element is multiplied by it...")
    offset: float = Field(default=0.0, description="...then this is added")

    @field_validator("scale", "offset")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return value


@step(version=1, params=IdxToNpy)
def idx_to_npy(inputs: dict[str, Any], output: Path, params: IdxToNpy) -> None:
    """Write each IDX input as ``<name>.npy``."""
    import numpy as np

    from dmconf.data.tensor import IDX

    for name, value in inputs.items():
        if not isinstance(value, IDX):
            raise DataTypeError(f"idx-to-npy: input {name!r} is a {type(value).__name__}, not "
                                "an IDX file (name a part such as train.images)")
        source = value.data()
        dtype = np.dtype(params.dtype)
        target = output / f"{name}.npy"
        if source.size == 0 or source.ndim == 0:
            np.save(target, _convert(np.asarray(source), dtype, params))
            continue
        array = np.lib.format.open_memmap(target, mode="w+", dtype=dtype, shape=source.shape)
        row = max(1, dtype.itemsize * int(np.prod(source.shape[1:], dtype=np.int64)))
        rows = max(1, BLOCK // row)
        for start in range(0, source.shape[0], rows):
            array[start:start + rows] = _convert(source[start:start + rows], dtype, params)
        array.flush()
        del array  # closes the memory map before the folder is renamed


def _convert(block: Any, dtype: Any, params: IdxToNpy) -> Any:
    import numpy as np

    if params.scale == 1.0 and params.offset == 0.0 and np.can_cast(block.dtype, dtype):
        return block.astype(dtype)
    values = block.astype(np.float64) * params.scale + params.offset
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    return values.astype(dtype)
