"""Image datasets (datamaestro_image's ``datamaestro_image.data``).

Arrays of images come memory-mapped (IDX files, CIFAR-style binary records) or from MATLAB
files (``.mat``, with the ``mat`` extra); image folders list their files lazily and decode one
image at a time with Pillow (the ``image`` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from dmconf.data import Base, Generic
from dmconf.data.ml import LabelledFiles, Supervised
from dmconf.data.reading import require
from dmconf.data.tensor import IDX
from dmconf.errors import DataFormatError, NotPrepared

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Base",
    "Generic",
    "IDXImage",
    "ImageClassification",
    "ImageFolder",
    "ImageRecords",
    "LabelledImages",
    "read_image",
]


class IDXImage(IDX):
    """Images stored as an IDX tensor (N, height, width[, channels])."""


class LabelledImages(Base):
    """Images with one label each."""

    images: Base = Field(description="the images (an IDX tensor, a folder...)")
    labels: Base = Field(description="one label per image")


def read_image(path: Path) -> np.ndarray:
    """Decode an image file (JPEG, PNG...) into a uint8 array (height, width[, channels])."""
    import numpy as np

    image = require("PIL.Image", "image", f"decoding {path.name}")
    try:
        with image.open(path) as opened:
            return np.asarray(opened)
    except FileNotFoundError:
        raise NotPrepared(f"{path} does not exist: prepare the dataset first",
                          path=str(path)) from None
    except (OSError, SyntaxError) as exc:  # Pillow's UnidentifiedImageError is an OSError
        raise DataFormatError(f"{path}: not a readable image ({exc})", path=str(path)) from None


class ImageFolder(LabelledFiles):
    """Images sorted into one folder per class (EuroSAT, DTD, Food-101...).

    ``items()`` lists ``(path, label)`` lazily; ``image(path)`` decodes one (``image`` extra).
    """

    pattern: str = "*.*"

    def image(self, path: Path) -> np.ndarray:
        return read_image(path)


class ImageRecords(Base):
    """Fixed-size binary records of label bytes then pixels, as in CIFAR's binary version.

    Each record is ``label_bytes`` bytes of labels (CIFAR-10: one; CIFAR-100: coarse then
    fine) followed by the image, ``shape`` uint8 values in C order (CIFAR: 3 x 32 x 32,
    channels first). Files are memory-mapped: nothing is read until pixels are used.
    """

    paths: list[Path] = Field(description="record files, read in this order")
    label_bytes: int = Field(default=1, ge=0, description="label bytes before each image")
    shape: list[int] = Field(default=[3, 32, 32], description="shape of one image")
    label_names: list[str] | None = Field(default=None, description="name of each label value")

    def _records(self) -> list[np.ndarray]:
        import numpy as np

        record = np.dtype([("labels", "u1", (self.label_bytes,)),
                           ("image", "u1", tuple(self.shape))])
        parts = []
        for path in self.paths:
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                raise NotPrepared(f"{path} does not exist: prepare the dataset first",
                                  path=str(path)) from None
            if size % record.itemsize:
                raise DataFormatError(
                    f"{path}: {size} bytes is not a whole number of {record.itemsize}-byte "
                    f"records ({self.label_bytes} label bytes + image {self.shape}); is it the "
                    "binary version, unpacked?", path=str(path),
                )
            parts.append(np.memmap(path, dtype=record, mode="r") if size else
                         np.empty(0, dtype=record))
        return parts

    def images(self) -> np.ndarray:
        """All images, (N, *shape) uint8: a zero-copy map for one file, a copy for several."""
        import numpy as np

        parts = [p["image"] for p in self._records()]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def labels(self, which: int = -1) -> np.ndarray:
        """One label per image: label byte ``which`` (default the last: CIFAR-100's fine)."""
        import numpy as np

        if self.label_bytes == 0:
            raise DataFormatError("these records carry no labels", path=str(self.paths[0]))
        return np.concatenate([p["labels"][:, which] for p in self._records()])

    def __len__(self) -> int:
        return sum(len(p) for p in self._records())

    def record(self, index: int) -> tuple[Any, np.ndarray]:
        """The labels and image of record ``index`` (reads only that record)."""
        for part in self._records():
            if index < len(part):
                return tuple(int(x) for x in part[index]["labels"]), part[index]["image"]
            index -= len(part)
        raise IndexError(index)


class ImageClassification(Supervised):
    """A supervised image-classification dataset: each part is images with labels (MNIST's
    IDX pair, untagged), an image folder or CIFAR-style records."""

    train: LabelledImages | ImageFolder | ImageRecords | None = None
    validation: LabelledImages | ImageFolder | ImageRecords | None = None
    test: LabelledImages | ImageFolder | ImageRecords | None = None
