"""Data types: the pydantic models that prepared datasets are made of.

Mirrors datamaestro's ``datamaestro.data``: :class:`Base` is the common root, :class:`File` and
:class:`Folder` point at prepared paths, :class:`Generic` accepts extra fields. Specific types
live in submodules (``tensor.IDX``, ``csv.CSV``, ``ml.Supervised``, ``image.*``) and are named in
definitions by short registered names (see :mod:`dmconf.data.registry`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Base", "File", "Folder", "Generic"]


class Base(BaseModel):
    """Root of dmconf's data types.

    The prepared root object carries the dataset ``id``; nested parts leave it unset. JSON
    exports (``model_dump_json(exclude_none=True)``) hold absolute paths.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str | None = Field(default=None, description="the dataset id, on the prepared root object")

    # Fields are often declared as a base type (``train: Base``) and hold a subclass (``IDX``).
    # Pydantic serialises by the declared type unless told otherwise, which would drop the
    # subclass's fields (its path!) from JSON; dumps of dmconf data are duck-typed by default.
    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("serialize_as_any", True)
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("serialize_as_any", True)
        return super().model_dump_json(**kwargs)


class Generic(Base):
    """A data object with free-form fields, for structures no specific type describes."""

    model_config = ConfigDict(extra="allow")


class File(Base):
    """One prepared file."""

    path: Path = Field(description="absolute path of the file once prepared")


class Folder(Base):
    """One prepared folder (an unpacked archive, say)."""

    path: Path = Field(description="absolute path of the folder once prepared")
