"""The typed structure of a dataset's data, read from its pydantic models, for a dataset page.

A definition's ``type`` names the model of the prepared object and ``data`` fills its fields,
with nested ``type`` tags choosing subclasses. This walks both together, the way
:func:`dmconf.data.registry.build` does, without building anything: each node says which model
(its short name and class), what the model's docstring or the field's description says, and for
a leaf the value the definition gives it (a path relative to the dataset's folder...).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dmconf.errors import DmconfError

__all__ = ["Node", "data_structure"]

# Fields dmconf fills itself (the root object's ``id``): not part of what a definition gives.
FILLED_BY_DMCONF = ("id",)
MAX_CHILDREN = 50  # a data tree listing thousands of parts: show the first ones and a count
MAX_VALUE = 200  # characters of a leaf value shown


@dataclass
class Node:
    """One field of the prepared object: a model (with children) or a leaf value."""

    name: str
    type: str  # short type name, dotted path, or the annotation of a leaf (``Path``, ``int``)
    model: str | None = None  # class name, for models
    doc: str = ""  # the field's description
    model_doc: str = ""  # the model's docstring (first paragraph)
    value: str | None = None
    children: list[Node] = field(default_factory=list)
    more: int = 0  # children left out (beyond MAX_CHILDREN)


def data_structure(type_name: str | None, data: Mapping[str, Any]) -> Node:
    """The structure of a definition's data: its root model, filled by ``data``."""
    if type_name is None:  # a `croissant:` definition: its metadata gives type and data
        return Node("", "croissant", doc="",
                    model_doc="(given by the dataset's Croissant metadata when it is prepared)")
    return _tagged("", type_name, data, "")


def _tagged(name: str, tag: str, raw: Mapping[str, Any], description: str) -> Node:
    from dmconf.data.registry import resolve_type

    try:
        cls = resolve_type(tag)
    except DmconfError as exc:  # a type from a package not installed here: say so, go on
        return Node(name, tag, doc=description, model_doc=f"(its model cannot be read: {exc})")
    return _model(name, cls, raw, description)


def _model(name: str, cls: type[BaseModel], raw: Mapping[str, Any], description: str) -> Node:
    from dmconf.data.registry import type_name

    node = Node(name, type_name(cls), cls.__name__, description, _doc(cls))
    given = {k: v for k, v in raw.items() if k != "type"}
    for field_name, info in cls.model_fields.items():
        if field_name in FILLED_BY_DMCONF or field_name not in given:
            continue
        node.children.append(
            _value(field_name, given.pop(field_name), info.annotation, info.description or "")
        )
    for extra, value in given.items():  # Generic's free-form fields
        node.children.append(_value(str(extra), value, None, ""))
    return _trimmed(node)


def _value(name: str, raw: Any, annotation: Any, description: str) -> Node:
    from dmconf.data.registry import REFERENCE_KEY

    models = [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
    if isinstance(raw, Mapping):
        if REFERENCE_KEY in raw:
            part = f" / {raw['_part']}" if raw.get("_part") else ""
            return Node(name, "reference", doc=description or "the data of another dataset",
                        value=f"{raw[REFERENCE_KEY]}{part}")
        tag = raw.get("type")
        if tag is not None:
            return _tagged(name, str(tag), raw, description)
        if models:
            return _model(name, models[0], raw, description)
        inner = _container_item(annotation)
        if inner is not None:  # dict[str, Qrels]: one child per key
            node = Node(name, _annotation(annotation), doc=description)
            for key, value in raw.items():
                node.children.append(_value(str(key), value, inner, ""))
            return _trimmed(node)
    if isinstance(raw, list) and raw and all(isinstance(v, Mapping) for v in raw):
        inner = _container_item(annotation)
        if inner is not None:
            node = Node(name, _annotation(annotation), doc=description)
            node.children = [_value(f"[{i}]", v, inner, "") for i, v in enumerate(raw)]
            return _trimmed(node)
    return Node(name, _annotation(annotation) if annotation is not None else type(raw).__name__,
                doc=description, value=_shown(raw))


def _trimmed(node: Node) -> Node:
    if len(node.children) > MAX_CHILDREN:
        node.more = len(node.children) - MAX_CHILDREN
        del node.children[MAX_CHILDREN:]
    return node


def _members(annotation: Any) -> list[Any]:
    """``A | B | None`` -> ``[A, B, NoneType]``; anything else -> ``[annotation]``."""
    if annotation is None:
        return []
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (origin is not None and origin.__name__ == "UnionType"):
        return list(typing.get_args(annotation))
    return [annotation]


def _container_item(annotation: Any) -> Any:
    """The model held by ``dict[str, M]`` or ``list[M]`` (or ``None``)."""
    for member in _members(annotation):
        origin = typing.get_origin(member)
        if origin in (dict, list):
            item = typing.get_args(member)[-1]
            if any(isinstance(m, type) and issubclass(m, BaseModel) for m in _members(item)):
                return item
    return None


def _annotation(annotation: Any) -> str:
    if annotation is None:
        return "any"
    if annotation is Path:
        return "Path"
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__name__
    text = str(annotation)
    for prefix in ("typing.", "pathlib.", "dmconf.data."):
        text = text.replace(prefix, "")
    return text


def _shown(raw: Any) -> str:
    text = raw if isinstance(raw, str) else json.dumps(raw, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _doc(cls: type[BaseModel]) -> str:
    """The first paragraph of the model's own docstring (never pydantic's BaseModel's)."""
    doc = cls.__dict__.get("__doc__") or ""
    return " ".join(doc.strip().split("\n\n")[0].split()).replace("``", "")
