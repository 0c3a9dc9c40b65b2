"""Generated MNIST-format data, shared by the tests and the benchmarks."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array in LeCun's IDX format (written here independently of dmconf)."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
             np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
    big = array.astype(array.dtype.newbyteorder(">"), copy=False)
    header = bytes([0, 0, codes[big.dtype], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + big.tobytes()


@dataclass
class MnistFiles:
    """Generated MNIST-format data: arrays, and gzipped IDX bytes per resource key."""

    arrays: dict[str, np.ndarray]
    gz: dict[str, bytes]

    def sha256(self, key: str) -> str:
        return hashlib.sha256(self.gz[key]).hexdigest()


def make_mnist(seed: int = 1998, compresslevel: int = 1) -> MnistFiles:
    """Random digits of MNIST's shapes, mostly black like the real ones (so gzip has work)."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 60000, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 10000, dtype=np.uint8),
    }
    for key in ("train_images", "test_images"):
        arrays[key][arrays[key] < 200] = 0
    gz = {
        k: gzip.compress(idx_bytes(a), compresslevel=compresslevel, mtime=0)
        for k, a in arrays.items()
    }
    return MnistFiles(arrays, gz)
