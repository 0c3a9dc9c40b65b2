"""Where every item of a prepared dataset is, as absolute paths and ``file://`` URIs.

Distributed readers take lists of files (Ray Data's ``read_numpy``/``read_parquet``, Dask's
``read_csv``, Spark's ``spark.read``); on a disk every worker mounts, these are the prepared
files themselves. An item is any node of the typed object that has a ``path`` (a file or a
folder), named by its attribute path (``train.images``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dmconf.errors import DefinitionError

__all__ = ["Item", "item_paths", "select_part"]


class Item(BaseModel):
    """One item of a prepared dataset."""

    part: str
    type: str
    kind: str  # file or folder
    path: str
    uri: str
    bytes: int | None = None  # files only


def select_part(typed: Any, part: str | None, dataset_id: str) -> Any:
    """The node of a prepared object that ``part`` names (``train``, ``train.images``)."""
    value = typed
    walked: list[str] = []
    for name in part.split(".") if part else []:
        known = _items(value)
        if name not in known:
            where = ".".join(walked) or "the dataset"
            raise DefinitionError(
                f"part {part!r}: {where} has no item {name!r}; its items are "
                f"{', '.join(known) or 'none'}", dataset=dataset_id, field="part")
        value = getattr(value, name)
        walked.append(name)
    return value


def item_paths(typed: BaseModel, part: str | None = None, *, dataset_id: str = "") -> list[Item]:
    """Every item with a path below ``part`` of a prepared object, in attribute order."""
    items = []
    for where, node in _walk(select_part(typed, part, dataset_id), part or ""):
        absolute = Path(os.path.abspath(node.path))
        is_file = absolute.is_file()
        items.append(Item(
            part=where, type=type(node).__name__, kind="file" if is_file else "folder",
            path=str(absolute), uri=absolute.as_uri(),
            bytes=absolute.stat().st_size if is_file else None,
        ))
    return items


def _walk(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """The nodes with a ``path`` of a typed object (lists and mappings included)."""
    if isinstance(value, BaseModel):
        if isinstance(getattr(value, "path", None), Path):
            yield where, value
        for name in _items(value):
            if name != "path":
                yield from _walk(getattr(value, name), f"{where}.{name}".lstrip("."))
    elif isinstance(value, list | tuple | dict):
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in pairs:
            yield from _walk(item, f"{where}.{key}".lstrip("."))


def _items(value: Any) -> list[str]:
    """The fields of a data object that hold something (its ``id`` aside)."""
    names = [*getattr(type(value), "model_fields", {}), *(getattr(value, "model_extra", None)
                                                         or {})]
    return [n for n in names if n != "id" and getattr(value, n, None) is not None]
