"""The key of a derived dataset: what names its output, on every machine.

The key is the sha256 of a canonical JSON document::

    {"format": 1,
     "inputs": {"images": {"digest": "<content digest of the input>", "part": "train.images"}},
     "step": "dmconf.derive.idx_npy:idx_to_npy", "version": 1,
     "params": {"dtype": "float32", "offset": 0.0, "scale": 0.00392156862745098}}

An input's digest is its definition's content digest (its resources' published sha256 and
unpacking, its type and data tree; for a derived input, its own key), never a path, a URL or an
mtime. Parameters are validated by the step's model, defaults filled in, and written as JSON with
sorted keys; sets are sorted (their iteration order depends on the hash seed), NaN and infinities
are refused. Nothing is pickled. The output lives in ``$DMCONF_DATA/<id>/<key[:16]>/``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from enum import Enum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dmconf.derive.base import Step, find_step
from dmconf.errors import DefinitionError

if TYPE_CHECKING:
    from dmconf.catalog import Catalog
    from dmconf.definition import DatasetDefinition
    from dmconf.derive.spec import Derive
    from dmconf.settings import Settings

__all__ = ["FORMAT", "bind", "canonical_json", "derive_of", "document_of", "key_document",
           "step_of"]

FORMAT = 1
_keying = threading.local()  # ids whose key is being computed (a cycle of inputs is an error)
_documents: dict[str, dict[str, Any]] = {}  # key -> its document, for the output's record


def bind(definition: DatasetDefinition, catalog: Catalog | None = None,
         settings: Settings | None = None) -> str:
    """Compute a derived definition's key against ``catalog`` (default: the settings'), keep
    it on the definition, and return it."""
    if definition._derived_key is not None:
        return definition._derived_key
    stack: list[str] = getattr(_keying, "stack", [])
    _keying.stack = stack
    if definition.id in stack:
        cycle = " -> ".join([*stack[stack.index(definition.id):], definition.id])
        raise DefinitionError(f"derived datasets form a cycle: {cycle}", dataset=definition.id,
                              path=definition._source, field="derive.inputs")
    stack.append(definition.id)
    try:
        document = key_document(definition, catalog, settings)
    finally:
        stack.pop()
    key = hashlib.sha256(canonical_json(document).encode()).hexdigest()
    _documents[key] = document
    definition._derived_key = key
    return key


def document_of(definition: DatasetDefinition) -> dict[str, Any]:
    """The document whose sha256 is the definition's key (computed once)."""
    key = definition.derived_key()
    return _documents.get(key) or key_document(definition)


def step_of(definition: DatasetDefinition) -> Step:
    """The registered step of a derived definition, checked against its ``version``."""
    derive = derive_of(definition)
    found = find_step(derive.step, dataset=definition.id, source=definition._source)
    if derive.version is not None and derive.version != found.version:
        raise DefinitionError(
            f"step {found.path} is at version {found.version}, the definition was written for "
            f"version {derive.version}; check that its output is still what you want, then set "
            f"derive.version: {found.version}",
            dataset=definition.id, path=definition._source, field="derive.version",
        )
    return found


def derive_of(definition: DatasetDefinition) -> Derive:
    """The ``derive:`` block of a definition that must be derived."""
    if definition.derive is None:
        raise DefinitionError("is not a derived dataset (it has no derive:)",
                              dataset=definition.id, path=definition._source)
    return definition.derive


def key_document(definition: DatasetDefinition, catalog: Catalog | None = None,
                 settings: Settings | None = None) -> dict[str, Any]:
    """The canonical document whose sha256 is the key (see the module's documentation)."""
    from dmconf.catalog import Catalog
    from dmconf.preparation import resolve_definition

    derive, found = derive_of(definition), step_of(definition)
    params = found.validate(derive.params, dataset=definition.id, source=definition._source)
    catalog = catalog or Catalog.from_settings(settings)
    inputs = {}
    for name, wanted in sorted(derive.inputs.items()):
        other = resolve_definition(wanted.dataset, settings=settings, catalog=catalog)
        inputs[name] = {"digest": _input_digest(definition, name, other, catalog, settings),
                        "part": wanted.part}
    return {"format": FORMAT, "inputs": inputs, "step": found.path, "version": found.version,
            "params": _canonical(params, definition)}


def _input_digest(definition: DatasetDefinition, name: str, other: DatasetDefinition,
                  catalog: Catalog, settings: Settings | None) -> str:
    if other.derive is not None:
        bind(other, catalog, settings)
    unpinned = sorted(k for k, r in other.resources.items() if r.sha256 is None and r.md5 is None)
    if unpinned:
        raise DefinitionError(
            f"input {name!r} is {other.id}, whose resources {', '.join(unpinned)} have no "
            f"sha256: their content is unknown, so no key can name what is made from them. Pin "
            f"them in {other.source} (`dmconf prepare {other.id}` prints the sha256)",
            dataset=definition.id, path=definition._source, field=f"derive.inputs.{name}",
        )
    return other.content_digest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: one text for one value, in any process."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def _canonical(params: BaseModel, definition: DatasetDefinition) -> Any:
    try:
        value = _plain(params.model_dump(mode="python"))
        canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise DefinitionError(
            f"parameters of step {derive_of(definition).step} cannot be "
            f"written as canonical JSON ({exc}); use strings, numbers, lists and mappings",
            dataset=definition.id, path=definition._source, field="derive.params",
        ) from None
    return value


def _plain(value: Any) -> Any:
    """Parameters as JSON values; sets sorted, whatever the hash seed made their order."""
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="python"))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=canonical_json)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, PurePath):
        return value.as_posix()
    if value is None or isinstance(value, str | int | float):
        return value
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)
