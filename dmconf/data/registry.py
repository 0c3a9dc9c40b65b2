"""Naming data types, and building a typed object from a definition's ``data`` tree.

A ``type`` is a short registered name (``idx``, ``image-classification``...) or a dotted import
path to any pydantic model (``mypkg.types.Corpus`` or ``mypkg.types:Corpus``). Short names map
to import paths, so naming a type imports only its module.
"""

from __future__ import annotations

import enum
import importlib
import os
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from dmconf.errors import DataTypeError, DefinitionError, describe_validation

__all__ = ["SHORT_NAMES", "build", "dump", "register_type", "resolve_type", "type_name"]

SHORT_NAMES: dict[str, str] = {
    "base": "dmconf.data:Base",
    "generic": "dmconf.data:Generic",
    "file": "dmconf.data:File",
    "folder": "dmconf.data:Folder",
    "idx": "dmconf.data.tensor:IDX",
    "csv": "dmconf.data.csv:CSV",
    "supervised": "dmconf.data.ml:Supervised",
    "image-classification": "dmconf.data.image:ImageClassification",
    "labelled-images": "dmconf.data.image:LabelledImages",
    "idx-image": "dmconf.data.image:IDXImage",
    "mat-array": "dmconf.data.tensor:MatArray",
    "npy": "dmconf.data.tensor:NpyArray",
    "labelled-files": "dmconf.data.ml:LabelledFiles",
    "image-folder": "dmconf.data.image:ImageFolder",
    "image-records": "dmconf.data.image:ImageRecords",
    "text-folder": "dmconf.data.text:TextFolder",
    "text-table": "dmconf.data.text:TextTable",
    "conll": "dmconf.data.text:CoNLL",
    "question-answering": "dmconf.data.text:QuestionAnswering",
    "sentence-pairs": "dmconf.data.text:SentencePairs",
    "plain-text": "dmconf.data.text:PlainText",
    "table": "dmconf.data.tabular:Table",
    "audio-folder": "dmconf.data.audio:AudioFolder",
    "audio-transcripts": "dmconf.data.audio:AudioTranscripts",
    "documents": "dmconf.data.ir:Documents",
    "queries": "dmconf.data.ir:Queries",
    "qrels": "dmconf.data.ir:Qrels",
    "trec-run": "dmconf.data.ir:Run",
    "triplets": "dmconf.data.ir:Triplets",
    "ir-collection": "dmconf.data.ir:IRCollection",
    "word-vectors": "dmconf.data.embeddings:WordVectors",
    "file-set": "dmconf.data.records:FileSet",
    "parquet": "dmconf.data.records:ParquetTable",
    "records": "dmconf.data.records:Records",
}


def register_type(name: str, target: str | type[BaseModel]) -> None:
    """Give a pydantic model a short name usable as ``type:`` in definitions."""
    if not isinstance(target, str):
        target = f"{target.__module__}:{target.__qualname__}"
    known = SHORT_NAMES.get(name)
    if known is not None and known != target:
        raise DataTypeError(f"type name {name!r} is already registered for {known}", name=name)
    SHORT_NAMES[name] = target


def resolve_type(name: str, where: str = "type") -> type[BaseModel]:
    """The pydantic model named by a short name or a dotted import path."""
    target = SHORT_NAMES.get(name, name)
    if ":" in target:
        module_name, _, attr = target.partition(":")
    elif "." in target:
        module_name, _, attr = target.rpartition(".")
    else:
        raise DataTypeError(
            f"{where}: unknown type {name!r}; use a registered name "
            f"({', '.join(sorted(SHORT_NAMES))}) or a dotted path to a pydantic model",
            name=name,
        )
    if not all(p.isidentifier() for p in [*module_name.split("."), *attr.split(".")]):
        raise DataTypeError(
            f"{where}: type {name!r} is not a dotted import path (expected package.module.Model "
            f"or package.module:Model, or a registered name: {', '.join(sorted(SHORT_NAMES))})",
            name=name,
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise DataTypeError(
            f"{where}: type {name!r} cannot be imported ({exc}); is its package installed?",
            name=name,
        ) from None
    except Exception as exc:  # the module itself fails: its code is the user's, say whose
        raise DataTypeError(
            f"{where}: type {name!r}: importing {module_name} raised "
            f"{type(exc).__name__}: {' '.join(str(exc).split())}; fix that module",
            name=name,
        ) from None
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise DataTypeError(f"{where}: type {name!r} is not a pydantic model", name=name)
    return obj


def type_name(cls: type[BaseModel]) -> str:
    """The short name of a model if it has one, else its dotted path."""
    target = f"{cls.__module__}:{cls.__qualname__}"
    for short, registered in SHORT_NAMES.items():
        if registered == target:
            return short
    return f"{cls.__module__}.{cls.__qualname__}"


# A ``data`` node ``{_dataset: ID, _part: a.b}`` stands for (part of) another dataset's data,
# and a path ``_dataset=ID/a/b`` for a path in that dataset's folder.
REFERENCE_KEY = "_dataset"
REFERENCE_PATH = "_dataset="


class Resolver(Protocol):
    """Gives what a definition refers to in other datasets (preparing them)."""

    def data(self, dataset_id: str, part: str) -> BaseModel: ...

    def folder(self, dataset_id: str) -> Path: ...


def build(
    raw: Any, expected: type[BaseModel], root: Path, where: str = "data",
    resolve: Resolver | None = None, **extra: Any,
) -> BaseModel:
    """Build a typed object from a ``data`` mapping.

    Nested ``type`` tags choose subclasses and are checked against the field they fill; ``Path``
    fields given as relative strings are resolved inside ``root`` and may not leave it.
    ``extra`` fields (the dataset ``id``) are set on the root object when its model has them.
    """
    if isinstance(raw, expected):
        return raw
    if not isinstance(raw, Mapping):
        raise DataTypeError(
            f"{where}: expected a mapping of {expected.__name__} fields, got {raw!r}", where=where
        )
    if REFERENCE_KEY in raw:
        return _referenced(raw, expected, where, resolve)
    values = dict(raw)
    tag = values.pop("type", None)
    cls = expected
    if tag is not None:
        cls = resolve_type(str(tag), f"{where}.type")
        if not issubclass(cls, expected):
            raise DataTypeError(
                f"{where}.type: {tag!r} ({cls.__name__}) does not fit here, where a "
                f"{expected.__name__} (or a subclass) is expected",
                where=where,
            )
    elif _is_abstract(cls):
        raise DataTypeError(
            f"{where}: needs a `type:` saying which {cls.__name__} it is (e.g. idx, file, folder)",
            where=where,
        )
    for name, field in cls.model_fields.items():
        if name in values:
            values[name] = _build_value(
                values[name], field.annotation, root, f"{where}.{name}", resolve
            )
    if cls.model_config.get("extra") == "allow":  # Generic: tagged extra fields are objects too
        for name, value in values.items():
            if name not in cls.model_fields and isinstance(value, Mapping) and "type" in value:
                values[name] = build(value, BaseModel, root, f"{where}.{name}", resolve)
    for name, value in extra.items():
        if name in cls.model_fields:
            values[name] = value
    try:
        return cls.model_validate(values)
    except ValidationError as exc:
        raise DataTypeError(
            f"{where} ({type_name(cls)}): {describe_validation(exc.errors())}", where=where
        ) from None


def _referenced(
    raw: Mapping[str, Any], expected: type[BaseModel], where: str, resolve: Resolver | None
) -> BaseModel:
    dataset_id, part = str(raw[REFERENCE_KEY]), str(raw.get("_part") or "")
    if resolve is None:
        raise DataTypeError(
            f"{where}: refers to the dataset {dataset_id!r}, which is only available when "
            "preparing (dmconf.prepare)", where=where,
        )
    obj: Any = resolve.data(dataset_id, part)
    if not isinstance(obj, expected):
        raise DataTypeError(
            f"{where}: {dataset_id}{'/' + part if part else ''} gives a "
            f"{type(obj).__name__}, where a {expected.__name__} is expected", where=where,
        )
    return obj


Referencer = Callable[[BaseModel], "dict[str, str] | None"]


def dump(
    obj: BaseModel, where: str = "data", *, reference: Referencer | None = None
) -> dict[str, Any]:
    """The ``data`` mapping of a typed object: the inverse of :func:`build`.

    Fields the object was given explicitly are kept (``None`` ones dropped), paths become
    strings, and a nested object gets a ``type`` tag unless it is of its field's first (default)
    model.
    The root object's own type is not tagged: a definition holds it in ``type``.
    """
    values: dict[str, Any] = {}
    for name, field in type(obj).model_fields.items():
        value = getattr(obj, name)
        if name in obj.model_fields_set and value is not None:
            values[name] = _dump_value(value, field.annotation, f"{where}.{name}", reference)
    for name, value in (obj.model_extra or {}).items():
        values[name] = _dump_value(value, None, f"{where}.{name}", reference)
    return values


def _dump_value(value: Any, annotation: Any, where: str, reference: Referencer | None) -> Any:
    if isinstance(value, BaseModel):
        node = reference(value) if reference is not None else None
        if node is not None:
            return node
        dumped = dump(value, where, reference=reference)
        # Untagged, build() makes the field's first model: tag anything else.
        models = [o for o in _union_members(annotation) if isinstance(o, type)]
        if models[:1] != [type(value)]:
            dumped = {"type": _portable_name(type(value), where), **dumped}
        return dumped
    if isinstance(value, Path):
        if not any(o is Path for o in _union_members(annotation)):
            raise DataTypeError(
                f"{where}: a path in a field that is not declared as a Path would come back as "
                "a string; wrap it in File(path=...) or Folder(path=...) (dmconf.data)",
                where=where,
            )
        return value.as_posix()
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    args = typing.get_args(annotation)
    if isinstance(value, list | tuple):
        item = args[0] if args else None
        return [_dump_value(v, item, f"{where}[{i}]", reference) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        item = args[1] if len(args) == 2 else None
        return {str(k): _dump_value(v, item, f"{where}.{k}", reference) for k, v in value.items()}
    raise DataTypeError(
        f"{where}: a {type(value).__name__} cannot be written in a definition; use paths, "
        "strings, numbers, lists, mappings and pydantic models",
        where=where,
    )


def _portable_name(cls: type[BaseModel], where: str) -> str:
    name = type_name(cls)
    if "<locals>" in name or cls.__module__ == "__main__":
        raise DataTypeError(
            f"{where}: type {cls.__qualname__} is defined in {cls.__module__} where it cannot be "
            "imported by name; define data types at the top level of an importable module",
            where=where,
        )
    return name


def _is_abstract(cls: type[BaseModel]) -> bool:
    from dmconf.data import Base, Generic

    return cls is Base or cls is BaseModel or (cls is not Generic and not cls.model_fields)


def _build_value(
    value: Any, annotation: Any, root: Path, where: str, resolve: Resolver | None = None
) -> Any:
    options = _union_members(annotation)
    models = [o for o in options if isinstance(o, type) and issubclass(o, BaseModel)]
    if models and isinstance(value, Mapping):
        tag = value.get("type")
        if tag is not None and len(models) > 1:
            chosen = resolve_type(str(tag), f"{where}.type")
            models = [m for m in models if issubclass(chosen, m)] or models
        return build(value, models[0], root, where, resolve)
    if any(o is Path for o in options) and isinstance(value, str | Path):
        return _inside(root, value, where, resolve)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, tuple) and args and isinstance(value, list | tuple):
        return [
            _build_value(v, args[0], root, f"{where}[{i}]", resolve) for i, v in enumerate(value)
        ]
    if origin is dict and len(args) == 2 and isinstance(value, Mapping):
        return {
            k: _build_value(v, args[1], root, f"{where}.{k}", resolve) for k, v in value.items()
        }
    return value


def _union_members(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _inside(root: Path, value: str | Path, where: str, resolve: Resolver | None = None) -> Path:
    path = Path(value)
    if path.parts and path.parts[0].startswith(REFERENCE_PATH):
        dataset_id = path.parts[0][len(REFERENCE_PATH):]
        if resolve is None:
            raise DataTypeError(
                f"{where}: a path in the dataset {dataset_id!r}, which is only available when "
                "preparing (dmconf.prepare)", where=where,
            )
        return _inside(resolve.folder(dataset_id), Path(*path.parts[1:]), where)
    if path.is_absolute():
        raise DefinitionError(
            f"path {str(value)!r} is absolute; paths in `data` are relative to the dataset's "
            "folder (name a resource key, or a file inside an unpacked archive)",
            field=where,
        )
    # Lexical, never the disk: the object is built before anything is downloaded, and what
    # lies in the folder (a link someone planted) is checked by prepare, not blamed on `data`.
    normal = os.path.normpath(path)
    if "\0" in normal:
        raise DefinitionError(f"path {str(value)!r} holds a NUL byte, which no file name can",
                              field=where)
    if normal == ".." or normal.startswith(".." + os.sep):
        raise DefinitionError(
            f"path {str(value)!r} leaves the dataset's folder; paths are relative to it",
            field=where,
        )
    return root / path
