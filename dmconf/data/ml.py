"""Machine-learning structures."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field, field_validator

from dmconf.data import Base, Folder
from dmconf.errors import DataFormatError, NotPrepared

__all__ = ["LabelledFiles", "Supervised"]


class Supervised(Base):
    """A supervised dataset: its train, validation and test parts (each optional)."""

    train: Base | None = Field(default=None, description="training part")
    validation: Base | None = Field(default=None, description="validation part")
    test: Base | None = Field(default=None, description="test part")


class LabelledFiles(Folder):
    """Labelled files: one subfolder per class, or one folder whose file names hold the label.

    ``classes`` fixes the labels and their order (label ``i`` is ``classes[i]``); without it,
    every subfolder is a class (or every label the file names hold), in sorted order.
    ``pattern`` selects the files. With ``label_pattern``, a regular expression whose first
    group is the label (Oxford Pets: ``^(.+)_\\d+\\.jpg$``; spoken digits: ``^(\\d)_``), the
    files sit in ``path`` itself and names that do not match are skipped. Listing is lazy:
    :meth:`items` walks one class folder at a time.
    """

    pattern: str = Field(default="*", description="glob of the files inside each class folder")
    classes: list[str] | None = Field(default=None, description="class folder names, in order")
    exclude: list[str] = Field(default_factory=list, description="subfolders that are no class")
    label_pattern: str | None = Field(
        default=None, description="regex on file names whose first group is the label"
    )

    @field_validator("classes", "exclude")
    @classmethod
    def _plain_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not name or name in (".", "..") or "/" in name or "\\" in name:
                raise ValueError(f"{name!r} is not a folder name inside the dataset's folder")
        return value

    @field_validator("pattern")
    @classmethod
    def _inside(cls, value: str) -> str:
        if value.startswith(("/", "\\")) or ".." in value.replace("\\", "/").split("/"):
            raise ValueError(f"{value!r} would match files outside the folder")
        return value

    @field_validator("label_pattern")
    @classmethod
    def _one_group(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                groups = re.compile(value).groups
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
            if groups < 1:
                raise ValueError("needs a group, (...), that captures the label")
        return value

    def _named(self, label_pattern: str) -> Iterator[tuple[Path, str]]:
        expression = re.compile(label_pattern)
        for path in sorted(self.path.glob(self.pattern)):
            found = expression.search(path.name)
            if found is not None and path.is_file():
                yield path, found.group(1)

    def labels(self) -> list[str]:
        """The class names; label ``i`` of :meth:`items` is ``labels()[i]``."""
        if self.classes is not None:
            return list(self.classes)
        if not self.path.is_dir():
            raise NotPrepared(
                f"{self.path} does not exist: prepare the dataset first (dmconf prepare ID)",
                path=str(self.path),
            )
        if self.label_pattern is not None:
            return sorted({label for _, label in self._named(self.label_pattern)})
        return sorted(
            p.name for p in self.path.iterdir()
            if p.is_dir() and p.name not in self.exclude and not p.name.startswith(".")
        )

    def items(self) -> Iterator[tuple[Path, int]]:
        """``(file, label)`` pairs, class by class (by file name with ``label_pattern``)."""
        if self.label_pattern is not None:
            index = {name: i for i, name in enumerate(self.labels())}
            for path, name in self._named(self.label_pattern):
                if name in index:
                    yield path, index[name]
            return
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
