"""Versions and variants of a definition, and choosing one (``org.x.ds@2.1:small``).

A definition's top-level fields describe one version (``version:``) and one variant (``variant:``,
optional): its *default*, named by the plain id. ``versions:`` and ``variants:`` declare the
others, each with ``notes`` and the fields that differ from the top-level ones, merged as a JSON
Merge Patch (RFC 7396: mappings merge key by key, ``null`` removes a key, anything else
replaces)::

    version: 2.1.0
    variant: full
    versions:
      2.1.0: {notes: Relabelled 12 digits.}
      2.0.0:
        notes: First release.
        resources: {train_labels: {url: ..., sha256: ...}}
    variants:
      full: {notes: Every example.}
      small:
        notes: The first 1,000 training examples.
        data: {train: {images: {path: train_images_1k}}}

:func:`select` applies the version's fields, then the variant's, and names the result by its
canonical id (:mod:`dmconf.refs`): the default version and variant are left out of it, and the
default selection is the definition itself, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dmconf.errors import DefinitionError, InvalidReference, describe_validation
from dmconf.refs import SEPARATOR, VARIANT_PATTERN, DatasetRef, Semver, newest

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition

__all__ = ["FIXED_FIELDS", "Preset", "check_declarations", "merge_patch", "select"]

# What a version or variant cannot change: the names, and the declarations themselves.
FIXED_FIELDS = frozenset({"id", "version", "variant", "versions", "variants"})


class Preset(BaseModel):
    """One declared version or variant: its notes, and the fields it changes (as extra keys)."""

    model_config = ConfigDict(extra="allow")

    notes: str = Field(default="", description="what this version or variant is")

    @property
    def changes(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch of ``patch`` onto ``target`` (neither is modified).

    Hand-written: the PyPI packages for it (json-merge-patch) are unmaintained, and the RFC's
    algorithm is the eight lines below.
    """
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def check_declarations(definition: DatasetDefinition) -> None:
    """Raise ``ValueError`` (pydantic reports it with the field) for inconsistent declarations;
    every declared version and variant is applied once, so a broken one fails on loading."""
    if definition.versions:
        for text in definition.versions:
            Semver(text)  # raises with what a version looks like
        if definition.version not in definition.versions:
            raise ValueError(f"version {definition.version!r} (what the top-level fields "
                             f"describe) must be one of versions: {', '.join(definition.versions)}")
    for kind, name, presets in (("version", definition.version, definition.versions),
                                ("variant", definition.variant, definition.variants)):
        for key, preset in presets.items():
            fixed = sorted(FIXED_FIELDS & set(preset.changes))
            if fixed:
                raise ValueError(f"{kind} {key} changes {', '.join(fixed)}, which no {kind} "
                                 "can change")
            if key == name and preset.changes:
                raise ValueError(f"{kind} {key} is the default, described by the top-level "
                                 f"fields: it can only have notes, not {', '.join(preset.changes)}")
    for name in [*definition.variants, *([definition.variant] if definition.variant else [])]:
        if not VARIANT_PATTERN.match(name):
            raise ValueError(f"variant {name!r}: a variant name is letters, digits, '_' and '-'")
    # Each version and each variant once (not every pair: a hostile definition could declare
    # thousands of each); a pair that only fails together fails when it is chosen.
    dataset = _plain(definition.id)
    for version in definition.versions:
        _select(definition, DatasetRef(id=dataset, version=version))
    for variant in definition.variants:
        _select(definition, DatasetRef(id=dataset, variant=variant))


class _Invalid(ValueError):
    """A version or variant whose fields make an invalid definition."""


def select(definition: DatasetDefinition, ref: DatasetRef) -> DatasetDefinition:
    """The definition of one version and variant; the definition itself for the default."""
    try:
        return _select(definition, ref)
    except _Invalid as exc:
        raise DefinitionError(str(exc), path=definition._source) from None


def _select(definition: DatasetDefinition, ref: DatasetRef) -> DatasetDefinition:
    dataset = _plain(definition.id)
    if not definition.is_plain:  # already one version and variant: only itself
        if ref.is_plain or str(ref) == definition.id:
            return definition
        raise InvalidReference(str(ref), f"{definition.id} is one version and variant of "
                               f"{dataset}; select from the catalogue's definition of {dataset}")
    version = _version(definition, ref)
    variant = ref.variant if ref.variant is not None else definition.variant
    if variant is not None and variant != definition.variant and variant not in \
            definition.variants:
        declared = sorted(definition.variants)
        import difflib

        close = difflib.get_close_matches(variant, declared, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InvalidReference(str(ref), f"{dataset} has no variant {variant!r} (its variants: "
                               f"{', '.join(declared) or 'none'}){hint}")
    canonical = dataset
    if version != definition.version:
        canonical += f"@{version}"
    if variant != definition.variant:
        canonical += f"{SEPARATOR}{variant}"
    if canonical == definition.id:
        return definition
    values = definition.model_dump(exclude=set(FIXED_FIELDS), exclude_unset=False)
    if version is not None and version != definition.version:
        values = merge_patch(values, definition.versions[version].changes)
    if variant is not None and variant != definition.variant:
        values = merge_patch(values, definition.variants[variant].changes)
    values.update(id=canonical, version=version, variant=variant)
    try:
        chosen = type(definition).model_validate(values)
    except ValidationError as exc:
        raise _Invalid(f"{canonical} is invalid: {describe_validation(exc.errors())}") from None
    chosen._source = definition._source
    return chosen


def _version(definition: DatasetDefinition, ref: DatasetRef) -> str | None:
    """The declared version ``ref`` names (the newest that matches), or the default."""
    if ref.version is None:
        return definition.version
    declared = list(definition.versions)
    if not declared and definition.version is not None:
        try:  # a single semantic `version:` is its only version
            declared = [Semver(definition.version).text]
        except ValueError:
            declared = []
    if not declared:
        shown = f" (its version {definition.version!r} is not a semantic version)" \
            if definition.version else ""
        raise InvalidReference(str(ref), f"{_plain(definition.id)} declares no versions{shown}")
    chosen = newest(declared, ref.version)
    if chosen is None:
        ordered = sorted(declared, key=lambda v: Semver(v).key(), reverse=True)
        raise InvalidReference(str(ref), f"{_plain(definition.id)} has no version matching "
                               f"@{ref.version} (its versions: {', '.join(ordered)})")
    return chosen


def _plain(dataset_id: str) -> str:
    from dmconf.refs import base_id

    return base_id(dataset_id)
