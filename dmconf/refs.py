"""How a dataset is named everywhere an id is accepted: ``ID[@VERSION][:VARIANT]``.

The one grammar, parsed here and nowhere else (the CLI, :func:`dmconf.prepare_dataset`, the
catalogue's lookup, Hydra options and defaults lists, ``${dmconf:...}``, experimaestro)::

    ref      := ID [ "@" version ] [ (":" | "+") variant ]
    ID       := name ( "." name )*                  name := [A-Za-z0-9_][A-Za-z0-9_-]*
    version  := N [ "." N [ "." N [ "-" pre ] ] ]   N := 0 | [1-9][0-9]*
    pre      := ident ( "." ident )*                ident := [0-9A-Za-z-]+   (semver 2.0.0)
    variant  := name

``@2`` means the newest 2.x.y release, ``@2.1`` the newest 2.1.y, ``@2.1.0`` exactly that one
(``@2.1.0-rc.1`` a pre-release, which partial versions never pick). ``+`` is the same as ``:``
before a variant: Hydra escapes ``:`` as ``\\:`` in ``hydra.job.override_dirname`` and Windows
forbids it in file names, so ``dataset=org.x.ds+small`` is the spelling for sweeps whose
folders are named after their overrides. Versions are semver without build metadata
(``+build`` says nothing about precedence, and ``+`` starts a variant here).

The *canonical* id of a dataset (its :attr:`~dmconf.definition.DatasetDefinition.id`) spells the
exact version and the variant with ``:``, each only when it is not the definition's default: the
default selection is the plain id, so declaring versions or variants later changes no existing
id, content digest or experimaestro identifier.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from dmconf.errors import InvalidReference
from dmconf.ids import ID_PATTERN

__all__ = [
    "VARIANT_PATTERN",
    "DatasetRef",
    "Semver",
    "base_id",
    "newest",
    "parse_ref",
]

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_N = r"(?:0|[1-9][0-9]*)"
_PRE = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
VARIANT_PATTERN = re.compile(rf"^{_NAME}$")
VERSION_SPEC = re.compile(rf"^{_N}(?:\.{_N}(?:\.{_N}(?:-{_PRE})?)?)?$")
SEMVER = re.compile(rf"^({_N})\.({_N})\.({_N})(?:-({_PRE}))?$")
_REF = re.compile(r"^(?P<id>[^@:+]+)(?:@(?P<version>[^:+]*))?(?:[:+](?P<variant>.*))?$")
SEPARATOR = ":"
SAFE_SEPARATOR = "+"  # the variant separator that needs no escaping in Hydra folder names


class DatasetRef(BaseModel):
    """A parsed reference: the dataset id, a version to match (or ``None``), a variant name."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str | None = None
    variant: str | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a dataset id (letters, digits, '_' and '-' "
                             "between dots)")
        return value

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str | None) -> str | None:
        if value is not None and not VERSION_SPEC.match(value):
            raise ValueError(f"@{value} is not a version (2, 2.1, 2.1.0 or 2.1.0-rc.1)")
        return value

    @field_validator("variant")
    @classmethod
    def _check_variant(cls, value: str | None) -> str | None:
        if value is not None and not VARIANT_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a variant name (letters, digits, '_', '-')")
        return value

    def __str__(self) -> str:
        version = f"@{self.version}" if self.version is not None else ""
        variant = f"{SEPARATOR}{self.variant}" if self.variant is not None else ""
        return f"{self.id}{version}{variant}"

    @property
    def safe(self) -> str:
        """The spelling with ``+`` before the variant (no ``:``: fit for a folder name)."""
        return str(self).replace(SEPARATOR, SAFE_SEPARATOR)

    @property
    def is_plain(self) -> bool:
        return self.version is None and self.variant is None


def parse_ref(text: Any) -> DatasetRef:
    """``org.x.ds@2.1:small`` as a :class:`DatasetRef`; one clear error for anything else."""
    from pydantic import ValidationError

    raw = str(text).strip()
    found = _REF.match(raw)
    if found is None:
        raise InvalidReference(raw, "expected ID[@VERSION][:VARIANT], e.g. org.x.ds@2.1:small")
    try:
        return DatasetRef(**{k: v for k, v in found.groupdict().items() if v is not None
                             or k == "id"})
    except ValidationError as exc:
        problem = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise InvalidReference(raw, problem) from None


def base_id(text: str) -> str:
    """The dataset id of a reference or canonical id (``org.x.ds:small`` -> ``org.x.ds``):
    what names its folder in the data folder, its locks and its catalogue entry."""
    return re.split(r"[@:+]", text, maxsplit=1)[0]


class Semver:
    """A declared version, ``MAJOR.MINOR.PATCH[-PRERELEASE]``, ordered as semver 2.0.0 §11.

    Hand-written (twenty lines) rather than ``packaging.version``: packaging is only a
    dependency of hydra-core here, and implements PEP 440, which orders pre-releases
    differently and rejects semver's (``1.0.0-alpha.beta``).
    """

    def __init__(self, text: str) -> None:
        found = SEMVER.match(text)
        if found is None:
            raise ValueError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH, "
                             "optionally -PRERELEASE; quote it in YAML)")
        self.text = text
        self.release = (int(found[1]), int(found[2]), int(found[3]))
        self.pre = tuple(found[4].split(".")) if found[4] else ()

    def key(self) -> tuple[Any, ...]:
        # A release sorts after its pre-releases; numeric identifiers sort before others and
        # by value; a longer list of identifiers sorts after its prefix.
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.release, not self.pre, pre)

    def matches(self, spec: str) -> bool:
        """Whether ``spec`` (``2``, ``2.1``, ``2.1.0``, ``2.1.0-rc.1``) names this version."""
        if SEMVER.match(spec):
            return spec == self.text
        parts = tuple(int(p) for p in spec.split("."))
        return not self.pre and self.release[: len(parts)] == parts


def newest(versions: list[str], spec: str) -> str | None:
    """The newest of ``versions`` that ``spec`` names, or ``None``."""
    found = [Semver(v) for v in versions if Semver(v).matches(spec)]
    return max(found, key=Semver.key).text if found else None
