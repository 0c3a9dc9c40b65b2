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
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from dmconf.errors import DefinitionError, describe_validation
from dmconf.ids import ID_PATTERN

__all__ = ["ID_PATTERN", "UNPACK_METHODS", "DatasetDefinition", "Resource", "load_definition_file"]

UNPACK_METHODS = ("none", "gunzip", "bunzip2", "unxz", "untar", "unzip")

# A resource key is materialised as a file or folder name in the dataset's folder; names that
# start with a dot are reserved for dmconf's own temporary and state files.
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MD5_PATTERN = re.compile(r"^[0-9a-f]{32}$")
# An SPDX licence expression: ids (``MIT``, ``CC-BY-4.0``, ``LicenseRef-...`` for licences SPDX
# does not list) joined by AND / OR / WITH, with parentheses. Syntax only: SPDX adds ids often.
SPDX_ID = r"[A-Za-z0-9][A-Za-z0-9.+-]*"
SPDX_PATTERN = re.compile(
    rf"^\(*{SPDX_ID}\)*(\s+(AND|OR|WITH)\s+\(*{SPDX_ID}\)*)*$"
)
BIBTEX_PATTERN = re.compile(r"^@[A-Za-z]+\s*\{\s*[^,\s]+\s*,", re.DOTALL)


class Resource(BaseModel):
    """One thing to fetch: a URL, its mirrors, the published sha256 and how to unpack it."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="where the file is published")
    mirrors: list[str] = Field(default_factory=list, description="tried in order after url")
    sha256: str | None = Field(default=None, description="sha256 of the downloaded bytes")
    md5: str | None = Field(
        default=None,
        description="md5 of the downloaded bytes, where the publisher gives no sha256 (verified; "
        "the sha256 is then recorded at the first download)",
    )
    size: int | None = Field(default=None, ge=0, description="size of the downloaded bytes")
    unpack: Literal["none", "gunzip", "bunzip2", "unxz", "untar", "unzip"] = Field(
        default="none", description="how the download becomes the materialised file or folder"
    )
    unwrap: bool = Field(
        default=False,
        description="an archive whose content is one folder becomes that folder (datamaestro's "
        "archives do this)",
    )
    max_unpacked_size: int | None = Field(
        default=None, gt=0, description="bytes at most that unpacking may produce "
        "(default: the settings' unpack_max_size)")
    max_ratio: float | None = Field(
        default=None, gt=1, allow_inf_nan=False,
        description="unpacked bytes per downloaded byte, at most (default: unpack_max_ratio)")
    max_members: int | None = Field(
        default=None, gt=0, description="archive members at most (default: unpack_max_members)")

    @field_validator("sha256", mode="before")
    @classmethod
    def _normalise_sha256(cls, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, str) or not SHA256_PATTERN.match(value.strip().lower()):
            raise ValueError("expected 64 hexadecimal characters (quote it in YAML)")
        return value.strip().lower()

    @field_validator("md5", mode="before")
    @classmethod
    def _normalise_md5(cls, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, str) or not MD5_PATTERN.match(value.strip().lower()):
            raise ValueError("expected 32 hexadecimal characters (quote it in YAML)")
        return value.strip().lower()

    @field_validator("url", "mirrors", mode="after")
    @classmethod
    def _check_urls(cls, value: Any) -> Any:
        from urllib.parse import urlsplit

        for url in [value] if isinstance(value, str) else value:
            if "://" not in url:
                raise ValueError(f"{url!r} is not a URL (expected scheme://host/path)")
            if any(c in url for c in "\0\r\n\t ") or not url.isprintable():
                raise ValueError(f"{url!r} holds spaces or control characters (quote %20 etc.)")
            parts = urlsplit(url)
            if parts.scheme.lower() in ("http", "https"):
                try:
                    parts.port  # noqa: B018 - raises ValueError on a bad port
                except ValueError:
                    raise ValueError(f"{url!r} has an invalid port") from None
                if not parts.hostname:
                    raise ValueError(f"{url!r} has no host name")
        return value

    @property
    def urls(self) -> list[str]:
        """``url`` then the mirrors, in the order they are tried."""
        return [self.url, *(m for m in self.mirrors if m != self.url)]

    @property
    def is_archive(self) -> bool:
        """Whether the resource materialises as a folder."""
        return self.unpack in ("untar", "unzip")


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
    version: str | None = Field(default=None, description="the publisher's version")
    tags: list[str] = Field(default_factory=list, description="domain and kind: image, text...")
    tasks: list[str] = Field(default_factory=list, description="what it is used for")
    splits: dict[str, NonNegativeInt] = Field(
        default_factory=dict, description="split name to its number of examples"
    )
    prepared_size: NonNegativeInt | None = Field(
        default=None,
        description="bytes on disk once prepared, when archives make it differ from downloads",
    )
    agreement: str | None = Field(
        default=None,
        description="data-use terms a user must accept before the dataset is downloaded",
    )
    resources: dict[str, Resource] = Field(default_factory=dict)
    type: str = Field(description="registered short name or dotted path of a pydantic model")
    data: dict[str, Any] = Field(
        default_factory=dict, description="the fields of `type`; `path`s are relative to the folder"
    )

    # Where the definition was read from, for messages; not part of its content.
    _source: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _one_homepage(cls, values: Any) -> Any:
        if isinstance(values, Mapping) and values.get("url") and values.get("homepage") and (
            values["url"] != values["homepage"]
        ):
            raise ValueError("`url` and `homepage` both given and different: keep `homepage`")
        return values

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
        if not ID_PATTERN.match(value):
            raise ValueError("expected dot-separated names of letters, digits, '_' and '-'")
        return value

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
    def source(self) -> str:
        """The file (or Python object) the definition came from, or ``<memory>``."""
        return self._source or "<memory>"

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
        if all(r.unpack == "none" for r in self.resources.values()):
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
        """
        content = {
            "id": self.id,
            "type": self.type,
            "data": self.data,
            "resources": {
                key: {
                    "sha256": r.sha256, "unpack": r.unpack,
                    **({"md5": r.md5} if r.md5 else {}), **({"unwrap": True} if r.unwrap else {}),
                }
                for key, r in sorted(self.resources.items())
            },
        }
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
