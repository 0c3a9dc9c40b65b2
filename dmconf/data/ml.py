"""Machine-learning structures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

from dmconf.data import Base, Folder
from dmconf.errors import DataFormatError, NotPrepared

__all__ = ["LabelledFiles", "Supervised"]


class Supervised(Base):
    """A supervised dataset: its train, validation and test parts (each optional)."""

    train: Base | None = Field(default=None, description="training part")
    validation: Base | None = Field(default=None, description="validation part")
    test: Base | None = Field(default=None, description="test part")


class LabelledFiles(Folder):
    """A folder with one subfolder per class, each holding that class's files.

    ``classes`` fixes the labels and their order (label ``i`` is ``classes[i]``); without it,
    every subfolder is a class, in sorted order. ``pattern`` selects the files in each one.
    Listing is lazy: :meth:`items` walks one class folder at a time.
    """

    pattern: str = Field(default="*", description="glob of the files inside each class folder")
    classes: list[str] | None = Field(default=None, description="class folder names, in order")
    exclude: list[str] = Field(default_factory=list, description="subfolders that are no class")

    def labels(self) -> list[str]:
        """The class names; label ``i`` of :meth:`items` is ``labels()[i]``."""
        if self.classes is not None:
            return list(self.classes)
        if not self.path.is_dir():
            raise NotPrepared(
                f"{self.path} does not exist: prepare the dataset first (dmconf prepare ID)",
                path=str(self.path),
            )
        return sorted(
            p.name for p in self.path.iterdir()
            if p.is_dir() and p.name not in self.exclude and not p.name.startswith(".")
        )

    def items(self) -> Iterator[tuple[Path, int]]:
        """``(file, label)`` pairs, class by class, files in name order."""
        for label, name in enumerate(self.labels()):
            folder = self.path / name
            if not folder.is_dir():
                raise DataFormatError(
                    f"{self.path}: class folder {name!r} is missing", path=str(self.path)
                )
            for path in sorted(folder.glob(self.pattern)):
                if path.is_file():
                    yield path, label

    def __len__(self) -> int:
        return sum(1 for _ in self.items())
