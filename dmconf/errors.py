"""The errors dmconf raises.

Every error is a :class:`DmconfError`; each also inherits the builtin it resembles, so code that
already catches ``KeyError`` or ``ValueError`` keeps working::

    DmconfError
    ├── DatasetNotFound (KeyError)        unknown id; carries close matches
    ├── InvalidReference (ValueError)     a malformed ID@VERSION:VARIANT, or one not declared
    ├── DuplicateDataset (ValueError)     one id defined in two places
    ├── DefinitionError (ValueError)      a definition file or field is wrong
    ├── SettingsError (ValueError)        the settings file or an environment variable is wrong
    ├── DataTypeError (TypeError)         an unknown ``type`` or a type that does not fit its place
    ├── DataFormatError (ValueError)      a prepared file is not in the format its type expects
    ├── MissingExtra (ImportError)        reading a format needs an optional extra (pandas...)
    ├── DownloadError (OSError)           a resource could not be fetched from any of its URLs
    │   ├── OfflineError                  a resource is missing and the network is off
    │   ├── AccessDenied (PermissionError) a server answered 401 or 403: credentials needed
    │   └── ManualDownloadRequired (FileNotFoundError) a file the user must download by hand
    ├── StorageError (OSError)            the data folder cannot be written (disk full, denied)
    ├── ChecksumMismatch (ValueError)     downloaded bytes do not match the published sha256
    ├── DatasetChanged (ValueError)       a definition's content is not the one a job was built with
    ├── UnpackError (ValueError)          an archive is corrupt or tries to escape its folder
    ├── VerificationFailed (ValueError)   `dmconf verify` found prepared files that changed
    ├── RemoteError (OSError)             a remote cannot be reached, read or written
    ├── CorruptBlob (ValueError)          a blob's bytes do not match its sha256 (remote or local)
    ├── LockMismatch (ValueError)         a definition or prepared data differs from dmconf.lock
    ├── NotPrepared (FileNotFoundError)   data was asked for before it was prepared
    ├── StepFailed (RuntimeError)         a derived dataset's step raised; nothing was kept
    └── AgreementRequired (PermissionError) the dataset's data-use terms are not accepted yet

Errors carry structured fields (``dataset``, ``url``, ``path``...) and survive pickling, because
Hydra and experimaestro launchers move them across processes. The library raises; only the CLI
turns errors into one-line messages.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # `typing` is not imported: `import dmconf` stays cheap
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "AccessDenied",
    "ChecksumMismatch",
    "CorruptBlob",
    "DataFormatError",
    "DataTypeError",
    "DatasetChanged",
    "DatasetNotFound",
    "DefinitionError",
    "DmconfError",
    "DownloadError",
    "DuplicateDataset",
    "InvalidReference",
    "LockMismatch",
    "ManualDownloadRequired",
    "MissingExtra",
    "NotPrepared",
    "OfflineError",
    "RemoteError",
    "SettingsError",
    "StepFailed",
    "StorageError",
    "UnpackError",
    "VerificationFailed",
]


class DmconfError(Exception):
    """Root of every error raised by dmconf.

    Subclasses are built with keyword arguments only; the message is derived from them, and
    ``__reduce__`` rebuilds the error from the same keywords so it pickles.
    """

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        for key, value in fields.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.fields))


def _rebuild(cls: type[DmconfError], message: str, fields: dict[str, Any]) -> DmconfError:
    error = cls.__new__(cls)
    DmconfError.__init__(error, message, **fields)
    return error


class DatasetNotFound(DmconfError, KeyError):
    """No catalogue knows the dataset id; ``suggestions`` holds the closest known ids."""

    def __init__(self, dataset: str, suggestions: list[str] | None = None) -> None:
        suggestions = list(suggestions or [])
        hint = (
            f"; did you mean {', '.join(suggestions)}?"
            if suggestions
            else "; `dmconf search WORD` lists the known ids"
        )
        DmconfError.__init__(
            self, f"unknown dataset {dataset!r}{hint}", dataset=dataset, suggestions=suggestions
        )

    # KeyError.__str__ would quote the message; keep it readable.
    __str__ = DmconfError.__str__


class InvalidReference(DmconfError, ValueError):
    """A dataset reference (``ID[@VERSION][:VARIANT]``) is malformed, or names a version or
    variant that the dataset does not declare."""

    def __init__(self, reference: str, problem: str) -> None:
        super().__init__(f"{reference}: {problem}", reference=reference, problem=problem)


class DuplicateDataset(DmconfError, ValueError):
    """Two definitions claim one id."""

    def __init__(self, dataset: str, first: str, second: str) -> None:
        super().__init__(
            f"dataset {dataset!r} is defined twice: in {first} and in {second}; "
            "remove or rename one of them",
            dataset=dataset,
            first=first,
            second=second,
        )


class DefinitionError(DmconfError, ValueError):
    """A definition is malformed; ``path`` is its file (if any) and ``field`` the culprit."""

    def __init__(self, message: str, *, dataset: str | None = None, path: str | None = None,
                 field: str | None = None) -> None:
        where = path or dataset or "definition"
        at = f", field {field}" if field else ""
        super().__init__(f"{where}{at}: {message}", dataset=dataset, path=path, field=field)


class SettingsError(DmconfError, ValueError):
    """The settings file or a DMCONF_* environment variable is wrong."""


class DataTypeError(DmconfError, TypeError):
    """A ``type`` names nothing known, or a model that does not fit where it is used."""


class DataFormatError(DmconfError, ValueError):
    """A prepared file does not have the format its data type reads."""


class MissingExtra(DmconfError, ImportError):
    """Reading a format needs an optional library; the message names the extra to install."""

    def __init__(self, *, module: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python package {module!r}, which is not installed: "
            f"pip install 'dmconf[{extra}]'",
            module=module, extra=extra, purpose=purpose,
        )


class DownloadError(DmconfError, OSError):
    """A resource could not be fetched; ``attempts`` lists each URL tried and why it failed.

    Raised for one attempt, it carries ``transient`` (worth retrying: connection errors,
    timeouts, 429, 5xx), ``status`` (the HTTP status, if any) and ``retry_after`` (seconds the
    server asked to wait, if it did).
    """

    @property
    def is_transient(self) -> bool:
        return bool(self.fields.get("transient"))


class OfflineError(DownloadError):
    """A resource is missing and DMCONF_OFFLINE forbids the network."""


class AccessDenied(DownloadError, PermissionError):
    """A server answered 401 or 403: ``host``, the ``credential`` rule tried (its name, never
    its value, None when no rule was for the URL) and ``advice`` on adding one."""

    def __init__(self, *, dataset: str, resource: str, url: str, host: str, status: int,
                 credential: str | None, advice: str) -> None:
        what = ("asks for credentials (HTTP 401)" if status == 401
                else "refused access (HTTP 403)")
        tried = f"credential tried: {credential}" if credential else "no credential was sent"
        extra = ("; if that credential is right, its account may lack access to this file "
                 "(accept the dataset's terms on the publisher's site)" if status == 403
                 and credential else "")
        DownloadError.__init__(
            self, f"{dataset}: resource {resource!r}: {host} {what} for {url}; {tried}{extra}; "
            f"{advice}", dataset=dataset, resource=resource, url=url, host=host, status=status,
            credential=credential, advice=advice,
        )


class ManualDownloadRequired(DownloadError, FileNotFoundError):
    """A ``manual:`` resource is not there yet: its ``instructions``, and the ``folder`` where
    the file named ``filename`` goes (or ``dmconf add-file``)."""

    def __init__(self, *, dataset: str, resource: str, instructions: str, folder: str,
                 filename: str) -> None:
        said = " ".join(instructions.split())
        DownloadError.__init__(
            self, f"{dataset}: resource {resource!r} must be downloaded by hand: {said} -- "
            f"then put the file as {folder}/{filename} and run `dmconf prepare {dataset}` "
            f"again, or run `dmconf add-file {dataset} {resource} PATH`",
            dataset=dataset, resource=resource, instructions=instructions, folder=folder,
            filename=filename,
        )


class StorageError(DmconfError, OSError):
    """The data folder cannot be written: disk full, permission denied, a file in the way.

    Temporary files of the failed step were removed; ``path`` is the file that could not be
    written and ``reason`` the system's explanation. The advice follows the cause (``errno``):
    only a full disk is told to free some space.
    """

    def __init__(self, *, path: str, reason: str, dataset: str | None = None,
                 errno: int | None = None) -> None:
        where = f"{dataset}: " if dataset else ""
        DmconfError.__init__(
            self, f"{where}cannot write {path}: {reason}; {_storage_advice(errno)}",
            path=path, reason=reason, dataset=dataset, errno=errno,
        )


def _storage_advice(number: int | None) -> str:
    import errno as codes

    if number in (codes.ENOSPC, codes.EDQUOT, codes.EFBIG):
        return ("temporary files were removed. Free some space, or point DMCONF_DATA to "
                "another disk")
    if number in (codes.EACCES, codes.EPERM, codes.EROFS):
        return "fix the permissions of the data folder, or point DMCONF_DATA elsewhere"
    if number == codes.ENAMETOOLONG:
        return "the name is too long for this file system: shorten the id or resource key"
    if number in (codes.EEXIST, codes.ENOTDIR, codes.EISDIR, codes.ENOTEMPTY):
        return "a file or folder is in the way: move it out of the data folder"
    if number == codes.ELOOP:
        return "dmconf never follows a symbolic link it did not create: remove the link"
    return "check the data folder (DMCONF_DATA)"


class ChecksumMismatch(DmconfError, ValueError):
    """Downloaded bytes differ from the published sha256; the bytes were deleted."""

    def __init__(self, *, dataset: str, resource: str, url: str, path: str, expected: str,
                 actual: str, size: int, algorithm: str = "sha256") -> None:
        super().__init__(
            f"{dataset}: checksum mismatch for resource {resource!r} downloaded from {url}: "
            f"expected {algorithm} {expected}, got {actual} ({size} bytes); the download was "
            "deleted "
            f"and nothing was written to {path}. The server may have answered an error page, "
            "or the file changed upstream: check the URL in a browser, or set a mirror",
            dataset=dataset, resource=resource, url=url, path=path, expected=expected,
            actual=actual, size=size, algorithm=algorithm,
        )


class DatasetChanged(DmconfError, ValueError):
    """The catalogue's definition no longer has the content digest a configuration was built
    with (an experimaestro job whose identity promised other data)."""

    def __init__(self, *, dataset: str, expected: str, actual: str, path: str) -> None:
        super().__init__(
            f"{dataset}: the definition in {path} no longer has the content this was built "
            f"with (content digest {actual[:12]}…, expected {expected[:12]}…): a checksum or "
            "the data structure changed since. Re-run the experiment so that the job gets an "
            "identity for the new content, or restore the previous definition",
            dataset=dataset, expected=expected, actual=actual, path=path,
        )


class UnpackError(DmconfError, ValueError):
    """An archive is corrupt, or one of its members would land outside its folder."""


class VerificationFailed(DmconfError, ValueError):
    """Prepared files no longer match what was verified; ``problems`` maps resource to reason."""

    def __init__(self, *, dataset: str, problems: dict[str, str]) -> None:
        listed = "; ".join(f"{key}: {why}" for key, why in problems.items())
        super().__init__(
            f"{dataset}: {len(problems)} resource(s) failed verification ({listed}); run "
            f"`dmconf rm {dataset}` then `dmconf prepare {dataset}` to fetch them again",
            dataset=dataset, problems=problems,
        )


class RemoteError(DmconfError, OSError):
    """A remote cannot be reached, read or written; ``remote`` names it, ``missing`` is set
    when what was asked for is not there."""


class CorruptBlob(DmconfError, ValueError):
    """A blob's bytes do not hash to its name: nothing was written from them."""


class LockMismatch(DmconfError, ValueError):
    """A definition, or prepared data, differs from what ``dmconf.lock`` records."""


class NotPrepared(DmconfError, FileNotFoundError):
    """Data was asked for before its dataset was prepared."""


class StepFailed(DmconfError, RuntimeError):
    """The step of a derived dataset (or the plugin code building a resource) raised; its
    temporary output was removed, nothing adopted."""


class AgreementRequired(DmconfError, PermissionError):
    """A dataset's publisher asks users to accept terms; this user has not yet (``terms``)."""

    def __init__(self, *, dataset: str, terms: str) -> None:
        super().__init__(
            f"{dataset}: its publisher's data-use terms must be accepted before it is "
            f"downloaded or used: {terms} -- to accept them, run `dmconf accept {dataset}` "
            "(or add the id to `accepted:` in the settings file)",
            dataset=dataset, terms=terms,
        )


USERINFO = re.compile(r"(://)[^/@\s'\"]*@")


def describe_validation(errors: list[Any], prefix: str = "") -> str:
    """One readable sentence per problem of a pydantic ``ValidationError.errors()`` list.

    ``field a.b: expected ..., got 'x'`` rather than pydantic's multi-line dump.
    """
    parts = []
    for err in errors:
        path = [*(prefix.split(".") if prefix else []), *err.get("loc", ())]
        loc = ".".join(str(p) for p in path)
        given = err.get("input")
        shown = USERINFO.sub(r"\1***@", repr(given))  # never echo a password written in a URL
        if len(shown) > 60:
            shown = shown[:57] + "..."
        what = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if not loc:  # a check of the whole model: its message says it all
            parts.append(what)
        elif err.get("type") == "missing":
            parts.append(f"field {loc}: required but missing")
        elif err.get("type") == "extra_forbidden":
            parts.append(f"field {loc}: unknown field (check its spelling)")
        else:
            parts.append(f"field {loc}: {what} (got {shown})")
    return "; ".join(parts)
