"""datamaestro's ``datamaestro.data.ml``."""

from __future__ import annotations

from pathlib import Path
from typing import Generic, TypeVar

from pydantic import Field

from dmconf.compat.datamaestro.data import Base
from dmconf.data.ml import Supervised as CoreSupervised

__all__ = ["FolderBased", "Supervised", "Test", "Train", "Validation"]

Train = TypeVar("Train")
Validation = TypeVar("Validation")
Test = TypeVar("Test")


class Supervised(Base, CoreSupervised, Generic[Train, Validation, Test]):
    """train, validation and test parts."""


class FolderBased(Base):
    """A classification dataset whose folders are the classes."""

    classes: list[str] = Field(description="class names (folder names)")
    path: Path = Field(description="the folder holding one folder per class")
