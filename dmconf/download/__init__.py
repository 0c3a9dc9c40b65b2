"""datamaestro's downloader decorators, each adding one resource to a ``@dataset`` definition.

:mod:`~dmconf.download.single` has ``filedownloader`` (one file, gunzipped when the URL ends in
``.gz`` and the file name does not), :mod:`~dmconf.download.archive` has ``zipdownloader`` and
``tardownloader`` (a folder). They describe; :mod:`dmconf.preparation` downloads.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dmconf.definition import Resource
from dmconf.definitions import Download, PythonDataset
from dmconf.errors import DefinitionError

__all__ = ["Downloader"]


class Downloader:
    """A decorator that adds one resource to the ``@dataset`` below it."""

    def __init__(
        self, key: str, varname: str, url: str, unpack: str, *, checker: Any = None,
        sha256: str | None = None, size: int | None = None, mirrors: Iterable[str] = (),
        placeholder: Path | None = None,
    ) -> None:
        self.key = key
        self.varname = varname
        self.placeholder = placeholder or Path(key)
        self.fields = {
            "url": url, "mirrors": list(mirrors), "sha256": _sha256(sha256, checker, key),
            "size": size, "unpack": unpack,
        }

    def __call__(self, target: PythonDataset) -> PythonDataset:
        where = f"@{type(self).__name__}({self.key!r})"
        if not isinstance(target, PythonDataset):
            raise DefinitionError(
                f"{where} applies to a @dataset definition: put it above @dataset "
                f"(got {target!r})"
            )
        from dmconf.definition import KEY_PATTERN

        if not KEY_PATTERN.match(self.key):
            raise DefinitionError(
                f"{where}: the name must be a plain file name (letters, digits, '_', '-', '.'; "
                "not starting with '.')",
                path=target.where,
            )
        resource = _resource(self.fields, f"{target.where}: {where}")
        target.add_download(Download(self.key, self.varname, resource, self.placeholder))
        return target


def _resource(fields: dict[str, Any], where: str) -> Resource:
    from pydantic import ValidationError

    from dmconf.errors import describe_validation

    try:
        return Resource.model_validate(fields)
    except ValidationError as exc:
        raise DefinitionError(describe_validation(exc.errors()), path=where) from None


def _sha256(sha256: str | None, checker: Any, key: str) -> str | None:
    """The sha256 to pin: ``sha256=``, or a checker that is a sha256 string or ``HashCheck``."""
    if checker is None or sha256 is not None:
        return sha256
    if isinstance(checker, str):
        return checker
    value, hasher = getattr(checker, "hashstr", None), getattr(checker, "hasherfn", None)
    algorithm = getattr(hasher() if callable(hasher) else None, "name", None)
    if isinstance(value, str) and algorithm == "sha256":
        return value
    raise DefinitionError(
        f"resource {key!r}: dmconf verifies sha256 only and cannot use the checker {checker!r}; "
        "replace it with sha256='...' (without one, the first download prints the value to pin)"
    )
