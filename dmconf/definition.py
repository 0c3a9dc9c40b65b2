"""The one model of a dataset definition, whether written in YAML or built in Python.

A definition says what to fetch (``resources``) and how the fetched files form a typed object
(``type`` and ``data``). Its id is given by where it lives: ``datasets/com/lecun/mnist.yaml``
defines ``com.lecun.mnist``, and an ``id:`` field, if present, must agree.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dmconf.derive.spec import Derive
from dmconf.errors import DefinitionError, describe_validation
from dmconf.ids import ID_PATTERN
from dmconf.resource import COMMIT_PATTERN, KEY_PATTERN, SHA256_PATTERN, UNPACK_METHODS, Resource
from dmconf.selection import Preset

__all__ = [
    "COMMIT_PATTERN", "ID_PATTERN", "KEY_PATTERN", "SHA256_PATTERN", "UNPACK_METHODS",
    "DatasetDefinition", "Resource", "load_definition_file",
]

# An SPDX licence expression: ids (``MIT``, ``CC-BY-4.0``, ``LicenseRef-...`` for licences SPDX
# does not list) joined by AND / OR / WITH, with parentheses. Syntax only: SPDX adds ids often.
SPDX_ID = r"[A-Za-z0-9][A-Za-z0-9.+-]*"
SPDX_PATTERN = re.compile(
    rf"^\(*{SPDX_ID}\)*(\s+(AND|OR|WITH)\s+\(*{SPDX_ID}\)*)*$"
)
BIBTEX_PATTERN = re.compile(r"^@[A-Za-z]+\s*\{\s*[^,\s]+\s*,", re.DOTALL)


class DatasetDefinition(BaseModel):
    """A dataset: descriptive metadata, resources to fetch and the typed data they form."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="qualified id, the reversed domain of the dataset's site")
    name: str | None = Field(default=None, description="human-readable name")
    description: str = Field(default="", description="what the dataset is")
    homepage: str | None = Field(
        default=None, validation_alias=AliasChoices("homepage", "url"),
        description="the dataset's home page (`url:` is accepted as its older name)",
    )
    license: str | None = Field(
        default=None, description="SPDX licence expression (LicenseRef-NAME where SPDX has none)"
    )
    citation: str | None = Field(default=None, description="how to cite it, as one BibTeX entry")
    version: str | None = Field(
        default=None, description="the publisher's version (semantic, MAJOR.MINOR.PATCH, when "
        "`versions` declares others)")
    variant: str | None = Field(
        default=None, description="the name of the variant the top-level fields describe")
    versions: dict[str, Preset] = Field(
        default_factory=dict, description="every version (`id@2.1`): notes, and the fields that "
        "differ from the top-level ones")
    variants: dict[str, Preset] = Field(
        default_factory=dict, description="named variants (`id:small`): notes, and the fields "
        "that differ from the top-level ones")
    tags: list[str] = Field(default_factory=list, description="domain and kind: image, text...")
    tasks: list[str] = Field(default_factory=list, description="what it is used for")
    splits: dict[str, NonNegativeInt] = Field(
        default_factory=dict, description="split name to its number of examples"
    )
    prepared_size: NonNegativeInt | None = Field(
        default=None,
        description="bytes on disk once prepared, when archives make it differ from downloads",
    )
    terms: str | None = Field(
        default=None, validation_alias=AliasChoices("terms", "agreement"),
        description="data-use terms each user must accept before the dataset is downloaded or "
        "used: their text, or the URL where they are published (`agreement:` is accepted as "
        "its older name)",
    )
    croissant: str | None = Field(
        default=None,
        description="URL of Croissant metadata (JSON-LD) giving the resources, type and data "
        "that this definition leaves out; read when the dataset is prepared",
    )
    resources: dict[str, Resource] = Field(default_factory=dict)
    derive: Derive | None = Field(
        default=None, description="instead of resources: a step that makes this dataset from "
        "others (see dmconf.derive)",
    )
    type: str | None = Field(
        default=None, validate_default=True,
        description="registered short name or dotted path of a pydantic model (required "
        "unless `croissant` gives it)",
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="the fields of `type`; `path`s are relative to the folder"
    )

    # Where the definition was read from, for messages; not part of its content.
    _source: str | None = PrivateAttr(default=None)
    # A derived dataset's key (dmconf.derive.key), once computed against a catalogue.
    _derived_key: str | None = PrivateAttr(default=None)
    # Resource key -> the code that builds it (``build:``), attached only by the plugin's Python
    # module that defines the dataset: never read from a file (dmconf.derive.resource).
    _builders: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_homepage(cls, values: Any) -> Any:
        if isinstance(values, Mapping) and values.get("url") and values.get("homepage") and (
            values["url"] != values["homepage"]
        ):
            raise ValueError("`url` and `homepage` both given and different: keep `homepage`")
        return values

    @model_validator(mode="after")
    def _resources_or_derive(self) -> DatasetDefinition:
        if self.derive is not None and self.resources:
            raise ValueError("a definition has `resources:` (to download) or `derive:` (to make "
                             "from other datasets), not both")
        return self

    @model_validator(mode="after")
    def _built_from_resources(self) -> DatasetDefinition:
        """A built resource reads other resources of the dataset, never itself through a
        cycle (each is built after its inputs)."""
        built = {k: r.build.inputs for k, r in self.resources.items() if r.build is not None}
        for key, inputs in built.items():
            unknown = [i for i in inputs if i not in self.resources or i == key]
            if unknown:
                raise ValueError(f"resources.{key}.build.inputs: {', '.join(unknown)} is not "
                                 "another resource of this dataset")
        seen: set[str] = set()

        def visit(key: str, path: tuple[str, ...]) -> None:
            if key in path:
                raise ValueError("resources built from each other form a cycle: "
                                 + " -> ".join([*path[path.index(key):], key]))
            if key in seen:
                return
            for other in built.get(key, []):
                visit(other, (*path, key))
            seen.add(key)

        for key in built:
            visit(key, ())
        return self

    @field_validator("type")
    @classmethod
    def _type_or_croissant(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("croissant") is None:
            # reported as a missing field: `croissant:` is the only way to leave it out
            raise PydanticCustomError("missing", "Field required")
        return value

    @property
    def unpinned(self) -> list[str]:
        """Keys of the resources that no checksum pins (prepare prints the values to pin)."""
        return [key for key, r in self.resources.items() if r.sha256 is None and r.md5 is None]

    @field_validator("license")
    @classmethod
    def _check_license(cls, value: str | None) -> str | None:
        if value is not None and not SPDX_PATTERN.match(value.strip()):
            raise ValueError(
                f"{value!r} is not an SPDX licence expression (e.g. MIT, CC-BY-4.0, "
                "'CC-BY-SA-4.0 OR MIT'; LicenseRef-NAME for a licence SPDX does not list)"
            )
        return value.strip() if value is not None else None

    @field_validator("citation")
    @classmethod
    def _check_citation(cls, value: str | None) -> str | None:
        if value is None:
            return value
        text = value.strip()
        depth = 0
        for char in text:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth < 0:
                break
        if not BIBTEX_PATTERN.match(text) or depth != 0 or not text.endswith("}"):
            raise ValueError(
                "expected one BibTeX entry, @kind{key, field = {...}, ...} with balanced braces"
            )
        return text

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        from dmconf.refs import base_id

        if not ID_PATTERN.match(base_id(value)):
            raise ValueError("expected dot-separated names of letters, digits, '_' and '-'")
        return value

    @model_validator(mode="after")
    def _check_selection(self) -> DatasetDefinition:
        """A canonical id names the version and variant its fields hold; a plain one may
        declare others (:mod:`dmconf.selection`)."""
        from dmconf.refs import parse_ref
        from dmconf.selection import check_declarations

        if self.is_plain:
            check_declarations(self)
            return self
        ref = parse_ref(self.id)
        if ref.version is not None and ref.version != self.version:
            raise ValueError(f"id {self.id} names version {ref.version}, the fields hold "
                             f"version {self.version}")
        if ref.variant is not None and ref.variant != self.variant:
            raise ValueError(f"id {self.id} names variant {ref.variant}, the fields hold "
                             f"variant {self.variant}")
        if self.versions or self.variants:
            raise ValueError(f"id {self.id} is one version and variant: it declares no others")
        return self

    @field_validator("resources")
    @classmethod
    def _check_keys(cls, value: dict[str, Resource]) -> dict[str, Resource]:
        for key in value:
            if not KEY_PATTERN.match(key):
                raise ValueError(
                    f"resource key {key!r} must be a plain file name (letters, digits, '_', "
                    "'-', '.'; not starting with '.')"
                )
        return value

    @property
    def dataset_id(self) -> str:
        """The id without version or variant: the catalogue entry, and the folder and locks
        of every version and variant in the data folder (``org.x.ds`` for ``org.x.ds:small``)."""
        from dmconf.refs import base_id

        return base_id(self.id)

    @property
    def is_plain(self) -> bool:
        """Whether this is the default version and variant (its id names neither)."""
        return self.dataset_id == self.id

    def select(self, reference: str) -> DatasetDefinition:
        """The version and variant ``reference`` names (``id@2.1:small``, ``@2``, ``:small``
        or the plain id), as a definition whose ``id`` is canonical."""
        from dmconf.refs import parse_ref
        from dmconf.selection import select

        if reference.startswith(("@", ":", "+")):
            reference = self.dataset_id + reference
        return select(self, parse_ref(reference))

    @property
    def source(self) -> str:
        """The file (or Python object) the definition came from, or ``<memory>``."""
        return self._source or "<memory>"

    @property
    def agreement(self) -> str | None:
        """The data-use terms (the field's older name)."""
        return self.terms

    @property
    def url(self) -> str | None:
        """The home page (the field's older name)."""
        return self.homepage

    @property
    def download_size(self) -> int | None:
        """Bytes downloaded by a full prepare, or ``None`` if a resource has no size."""
        sizes = [r.size for r in self.resources.values()]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    @property
    def disk_size(self) -> int | None:
        """Bytes on disk once prepared: ``prepared_size``, or the download size when nothing
        is unpacked; ``None`` when unknown."""
        if self.prepared_size is not None:
            return self.prepared_size
        if all(r.as_downloaded for r in self.resources.values()):
            return self.download_size
        return None

    @property
    def title(self) -> str:
        """The name, or the id when the definition has no name."""
        return self.name or self.id

    def content_digest(self) -> str:
        """sha256 of what the dataset *is*: its id, resource checksums, unpacking and data.

        Never depends on URLs, mirrors, descriptions or local folders, so it names the same
        content on every machine (experimaestro identities and the prepared marker use it).
        A derived dataset's has its key (its inputs' content digests, step, version and
        parameters: :mod:`dmconf.derive.key`) in place of resources.
        """
        if self.derive is not None:
            return self._derived_digest()
        content = {
            "id": self.id,
            "type": self.type,
            "data": self.data,
            "resources": {
                key: {
                    "sha256": r.sha256, "unpack": r.unpack,
                    **({"md5": r.md5} if r.md5 else {}),
                    **({"lines": [s.model_dump(exclude_none=True) for s in r.lines]}
                       if r.lines else {}), **({"unwrap": True} if r.unwrap else {}),
                    **({"build": r.build.model_dump()} if r.build else {}),
                }
                for key, r in sorted(self.resources.items())
            },
        }
        encoded = json.dumps(content, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()

    def derived_key(self) -> str:
        """A derived dataset's key, computed with the default catalogue unless
        :func:`dmconf.derive.key.bind` computed it against another one first."""
        if self._derived_key is not None:
            return self._derived_key
        from dmconf.derive.key import bind

        return bind(self)

    def _derived_digest(self) -> str:
        content = {"id": self.id, "type": self.type, "data": self.data,
                   "derived": self.derived_key()}
        encoded = json.dumps(content, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()

    def to_yaml(self) -> str:
        """The YAML file that defines this dataset; ``from_mapping`` of it gives it back."""
        import yaml

        class Dumper(yaml.SafeDumper):
            pass

        def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        Dumper.add_representer(str, text)
        content = self.model_dump(mode="json", exclude_defaults=True)
        return yaml.dump(content, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)

    @classmethod
    def from_mapping(
        cls, raw: Any, *, dataset_id: str | None = None, source: str | None = None
    ) -> DatasetDefinition:
        """Validate a mapping (parsed YAML, a Hydra node) into a definition.

        Errors name the source, the field and what was expected.
        """
        if not isinstance(raw, Mapping):
            raise DefinitionError(
                f"expected a mapping of fields (name, resources, type, data...), got "
                f"{type(raw).__name__}",
                dataset=dataset_id, path=source,
            )
        values = dict(raw)
        declared = values.get("id")
        if dataset_id is not None:
            if declared is not None and declared != dataset_id:
                raise DefinitionError(
                    f"id {declared!r} does not match {dataset_id!r}, the id given by the file's "
                    "place in the catalogue; fix the id or move the file",
                    dataset=dataset_id, path=source, field="id",
                )
            values["id"] = dataset_id
        try:
            definition = cls.model_validate(values)
        except ValidationError as exc:
            raise DefinitionError(
                describe_validation(exc.errors()), dataset=dataset_id or declared, path=source
            ) from None
        definition._source = source
        return definition


def load_definition_file(path: Path, dataset_id: str) -> DatasetDefinition:
    """Read and validate one YAML definition file (never hangs on a FIFO, see
    :mod:`dmconf.yamlfile`)."""
    from dmconf.yamlfile import UnreadableYaml, read_yaml

    try:
        raw = read_yaml(path)
    except UnreadableYaml as exc:
        raise DefinitionError(str(exc), dataset=dataset_id, path=str(path)) from None
    return DatasetDefinition.from_mapping(raw, dataset_id=dataset_id, source=str(path))
