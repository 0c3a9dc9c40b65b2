"""Tensor files, starting with LeCun's IDX format (MNIST and friends)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from dmconf.data import File
from dmconf.errors import DataFormatError, NotPrepared

if TYPE_CHECKING:
    import numpy as np

__all__ = ["IDX", "MatArray", "NpyArray"]

# IDX element type codes (third byte of the magic number) and their big-endian numpy dtypes.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDX(File):
    """An IDX file: a 4-byte magic (0, 0, element type, number of dimensions), big-endian
    uint32 dimensions, then the elements in C order.
    """

    def header(self) -> tuple[str, tuple[int, ...], int]:
        """The numpy dtype string, the shape and the offset of the first element."""
        try:
            with open(self.path, "rb") as stream:
                magic = stream.read(4)
                if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_DTYPES:
                    raise DataFormatError(
                        f"{self.path} is not an IDX file (magic bytes {magic.hex() or 'missing'};"
                        " expected 00 00 <type> <ndim>): was it unpacked (unpack: gunzip)?",
                        path=str(self.path),
                    )
                ndim = magic[3]
                raw = stream.read(4 * ndim)
        except FileNotFoundError:
            raise NotPrepared(
                f"{self.path} does not exist: prepare the dataset first (dmconf prepare ID)",
                path=str(self.path),
            ) from None
        if len(raw) < 4 * ndim:
            raise DataFormatError(f"{self.path}: IDX header truncated", path=str(self.path))
        shape = tuple(int.from_bytes(raw[i : i + 4], "big") for i in range(0, 4 * ndim, 4))
        return IDX_DTYPES[magic[2]], shape, 4 + 4 * ndim

    def data(self) -> np.ndarray:
        """The elements as a read-only, zero-copy ``numpy.memmap`` of the right shape and dtype."""
        import numpy as np

        dtype, shape, offset = self.layout()
        if int(np.prod(shape, dtype=np.int64)) == 0:
            return np.empty(shape, dtype=dtype)  # numpy cannot map zero bytes
        return np.memmap(self.path, dtype=dtype, mode="r", offset=offset, shape=shape)

    def to_dask(self, rows: int | None = None) -> Any:
        """A lazy ``dask.array.Array`` of the elements (the ``dask`` extra): building it reads
        the header only; each chunk of ``rows`` maps its part of the file when computed."""
        from dmconf.engines.dask import idx_array

        return idx_array(self, rows)

    def layout(self) -> tuple[np.dtype, tuple[int, ...], int]:
        """dtype, shape and data offset, checked against the file's size (reads the header)."""
        import numpy as np

        dtype_name, shape, offset = self.header()
        dtype = np.dtype(dtype_name)
        expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        actual = self.path.stat().st_size
        if actual != expected:
            raise DataFormatError(
                f"{self.path}: IDX header announces shape {shape} of {dtype} ({expected} bytes "
                f"with header) but the file has {actual} bytes; the file is truncated or "
                "corrupt: remove the dataset (dmconf rm ID) and prepare it again",
                path=str(self.path),
            )
        return dtype, shape, offset


class MatArray(File):
    """One variable of a MATLAB ``.mat`` file (v4 to v7.2), read with scipy (the ``mat`` extra).

    SVHN keeps its images as ``X`` (32, 32, 3, N) and labels as ``y``; Oxford Flowers its labels
    as ``labels``. ``data()`` reads only the named variable.
    """

    key: str = Field(description="name of the variable in the .mat file")

    def data(self) -> np.ndarray:
        from dmconf.data.reading import require

        scipy_io = require("scipy.io", "mat", f"reading {self.path.name}")
        try:
            content = scipy_io.loadmat(self.path, variable_names=[self.key])
        except FileNotFoundError:
            raise NotPrepared(f"{self.path} does not exist: prepare the dataset first",
                              path=str(self.path)) from None
        except (ValueError, NotImplementedError, OSError) as exc:
            raise DataFormatError(f"{self.path}: not a readable .mat file ({exc})",
                                  path=str(self.path)) from None
        if self.key not in content:
            names = sorted(name for name, _shape, _kind in scipy_io.whosmat(self.path))
            raise DataFormatError(f"{self.path} has no variable {self.key!r} ({names})",
                                  path=str(self.path))
        return content[self.key]


class NpyArray(File):
    """A numpy ``.npy`` file (what the ``idx-to-npy`` step writes)."""

    def data(self) -> np.ndarray:
        """The array, memory-mapped read-only."""
        import numpy as np

        if not self.path.exists():
            raise NotPrepared(
                f"{self.path} does not exist: prepare the dataset first (dmconf prepare ID)",
                path=str(self.path),
            )
        try:
            return np.load(self.path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            raise DataFormatError(f"{self.path} is not a .npy array ({exc})",
                                  path=str(self.path)) from None
