"""One resource of a dataset definition: what to fetch, where from, how to check and unpack it."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dmconf.derive.spec import Build
from dmconf.unpack.lines import LineStep

__all__ = ["COMMIT_PATTERN", "KEY_PATTERN", "SHA256_PATTERN", "UNPACK_METHODS", "Resource"]

UNPACK_METHODS = ("none", "gunzip", "bunzip2", "unxz", "untar", "unzip", "concat")

# A resource key is materialised as a file or folder name in the dataset's folder; names that
# start with a dot are reserved for dmconf's own temporary and state files.
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# A git commit: what pins a Hugging Face file (`revision:`) to one version of its repository.
COMMIT_PATTERN = re.compile(r"^[0-9a-f]{40}$")
MD5_PATTERN = re.compile(r"^[0-9a-f]{32}$")
DIGESTS = {"sha256": (SHA256_PATTERN, 64), "md5": (MD5_PATTERN, 32)}  # field: its form


class Resource(BaseModel):
    """One thing to fetch: a URL, its mirrors, the published sha256 and how to unpack it."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="where the file is published")
    mirrors: list[str] = Field(default_factory=list, description="tried in order after url")
    manual: str | None = Field(
        default=None,
        description="instead of url: the file is downloaded by hand; where to get it and what "
        "to accept (prepare prints it with the folder to put the file in)",
    )
    filename: str | None = Field(
        default=None, description="with manual: the name of the file the user downloads")
    sha256: str | None = Field(default=None, description="sha256 of the downloaded bytes")
    md5: str | None = Field(
        default=None,
        description="md5 of the downloaded bytes, where the publisher gives no sha256 (verified; "
        "the sha256 is then recorded at the first download)",
    )
    size: int | None = Field(default=None, ge=0, description="size of the downloaded bytes")
    unpack: Literal["none", "gunzip", "bunzip2", "unxz", "untar", "unzip", "concat"] = Field(
        default="none", description="how the download becomes the materialised file or folder "
        "(concat: a tar archive's files joined into one file, .gz members decompressed)"
    )
    lines: list[LineStep] = Field(
        default_factory=list, max_length=100,
        description="after unpacking, steps applied to each line of the (UTF-8) file, in order: "
        "{replace: REGEX, by: TEXT}, {keep: REGEX}, {drop: REGEX} (datamaestro's Replace and "
        "Filter); the sha256 stays that of the downloaded bytes")
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
    revision: str | None = Field(
        default=None,
        description="for hf:// URLs, the commit (40 hexadecimal characters) the file is read at",
    )
    build: Build | None = Field(
        default=None, description="instead of url: the resource is built by the code of the "
        "installed plugin whose Python module defines the dataset (a document store...), after "
        "the resources it reads (see dmconf.derive.resource)")

    @field_validator("revision")
    @classmethod
    def _check_revision(cls, value: str | None) -> str | None:
        if value is not None and not COMMIT_PATTERN.match(value):
            raise ValueError(
                "expected a commit sha (40 lowercase hexadecimal characters; `dmconf import hf "
                "OWNER/NAME --revision BRANCH` finds the commit of a branch)"
            )
        return value

    @field_validator("sha256", "md5", mode="before")
    @classmethod
    def _normalise_digest(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        pattern, length = DIGESTS[info.field_name or ""]
        if not isinstance(value, str) or not pattern.match(value.strip().lower()):
            raise ValueError(f"expected {length} hexadecimal characters (quote it in YAML)")
        return value.strip().lower()

    @model_validator(mode="after")
    def _url_or_manual(self) -> Resource:
        if self.build is not None:
            fetched = [name for name in ("url", "manual", "sha256", "md5", "size", "revision")
                       if getattr(self, name) is not None]
            fetched += [name for name in ("mirrors", "lines", "unwrap") if getattr(self, name)]
            if fetched or self.unpack != "none":
                raise ValueError("a resource with `build` is made, not downloaded: leave out "
                                 f"{', '.join(fetched or ['unpack'])}")
            return self
        if self.manual is None:
            if self.url is None:
                raise ValueError("give `url` (or `manual` instructions with a `filename`)")
            return self
        if self.url is not None or self.mirrors:
            raise ValueError("a `manual` resource is never downloaded: leave out url and "
                             "mirrors, and say in `manual` where to get the file")
        if self.filename is None:
            raise ValueError("a `manual` resource needs the `filename` users will download")
        return self

    @field_validator("filename", mode="after")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and (not KEY_PATTERN.match(value) or value in (".", "..")):
            raise ValueError("expected a plain file name (letters, digits, '_', '-', '.')")
        return value

    @field_validator("url", "mirrors", mode="after")
    @classmethod
    def _check_urls(cls, value: Any) -> Any:
        from urllib.parse import urlsplit

        for url in [value] if isinstance(value, str) else value or []:
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
                if parts.username is not None or parts.password is not None:
                    raise ValueError(
                        f"{parts.scheme}://{parts.hostname}/...: a user name or password in a "
                        "URL; credentials never go in a definition: add a rule under "
                        "`credentials:` in the settings, or a line in ~/.netrc")
        return value

    @model_validator(mode="after")
    def _revision_of_hub_files(self) -> Resource:
        if self.revision is not None and not (self.url or "").startswith("hf://"):
            raise ValueError("`revision` pins hf:// URLs only")
        return self

    @property
    def urls(self) -> list[str]:
        """``url`` then the mirrors, in the order they are tried (none for a manual one; an
        hf:// URL carries its ``revision`` as ``hf://datasets/OWNER/NAME@REVISION/PATH``)."""
        url = self.url
        if url is None:
            return []
        if self.revision is not None:
            from dmconf.huggingface.hub import with_revision

            url = with_revision(url, self.revision)
        return [url, *(m for m in self.mirrors if m != url)]

    @property
    def origin(self) -> str:
        """Where the file comes from, for lock files and messages: the URL,
        ``manual:FILENAME`` or ``build:CODE``."""
        if self.build is not None:
            return f"build:{self.build.code}"
        return self.url or f"manual:{self.filename}"

    @property
    def local_name(self) -> str:
        """The name of the file a user puts in the dataset's manual folder: ``filename``, or
        the last part of the URL's path."""
        from urllib.parse import unquote, urlsplit

        if self.filename:
            return self.filename
        name = unquote(urlsplit(self.url or "").path.rstrip("/").rsplit("/", 1)[-1])
        return name if KEY_PATTERN.match(name) and name not in (".", "..") else "download"

    @property
    def is_archive(self) -> bool:
        """Whether the resource materialises as a folder."""
        return self.unpack in ("untar", "unzip")

    @property
    def as_downloaded(self) -> bool:
        """Whether the materialised file is the downloaded bytes (no unpacking, no lines)."""
        return self.unpack == "none" and not self.lines and self.build is None

    @property
    def unpacking(self) -> str:
        """How the download becomes the file, as the state file records it: ``unpack``, then
        a digest of the ``lines`` steps if any (another version reuses only the same)."""
        if not self.lines:
            return self.unpack
        steps = json.dumps([s.model_dump(exclude_none=True) for s in self.lines])
        return f"{self.unpack}+lines:{hashlib.sha256(steps.encode()).hexdigest()[:16]}"

    @model_validator(mode="after")
    def _lines_of_a_file(self) -> Resource:
        if self.lines and self.is_archive:
            raise ValueError("`lines` rewrites a file: it cannot follow unpack: untar or unzip")
        return self
