"""A remote: a content-addressed store of prepared datasets on any fsspec file system.

Layout below the remote's root::

    blobs/ab/abcdef…                  file contents, named by their sha256 (shared by every
                                      dataset and version: pushing a new version sends only
                                      what changed)
    manifests/<id>/<digest>.json      one manifest per prepared version of a dataset
    refs/<id>/latest                  the digest of the last manifest pushed for <id>
    refs/<id>/<definition digest>     the last manifest pushed for that definition content

Every write goes to a temporary name beside its target, is checked, then renamed: a killed push
leaves only temporaries, never a blob or manifest under its final name with the wrong bytes,
and two pushes of the same data write the same bytes under the same names. Subclasses (one file
per kind) only say how to open their file system.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dmconf.errors import CorruptBlob, DmconfError, RemoteError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from dmconf.settings import RemoteSettings, Settings

__all__ = ["Remote"]

log = logging.getLogger("dmconf")

CHUNK = 1 << 20
# Manifests and refs are read whole; a manifest of ImageNet's 1.3 million files is ~250 MB. A
# remote answering more than this is not a dmconf remote.
SMALL = 1 << 30


class Remote:
    """A named store; ``fs`` is opened on first use (so listing remotes never connects)."""

    kind = "remote"
    writable = True
    #: fsspec's extra that brings this kind's backend, for the "install it" message
    extra: str | None = None

    def __init__(self, name: str, config: RemoteSettings, settings: Settings) -> None:
        self.name = name
        self.url = config.url
        self.public = config.public
        self.options: dict[str, Any] = dict(config.options)
        self.settings = settings
        self.root = self._root(config.url)
        self._fs: AbstractFileSystem | None = None

    # -- what a kind provides -------------------------------------------------------------
    def _root(self, url: str) -> str:
        """The root path inside the file system."""
        raise NotImplementedError

    def _open_fs(self) -> AbstractFileSystem:
        raise NotImplementedError

    def _makedirs(self, path: str) -> None:
        self.fs.makedirs(path, exist_ok=True)

    # -- shared ---------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"remote {self.name!r} ({self.url})" if self.name != self.url else self.url

    @property
    def fs(self) -> AbstractFileSystem:
        if self._fs is None:
            try:
                self._fs = self._open_fs()
            except ImportError as exc:
                extra = f" (pip install 'dmconf[{self.extra}]')" if self.extra else ""
                raise RemoteError(
                    f"{self}: the {self.kind} backend is not installed{extra}: {exc}",
                    remote=self.name, url=self.url,
                ) from None
            except DmconfError:
                raise
            except Exception as exc:  # each backend has its own exception tree
                raise RemoteError(f"{self}: cannot connect: {_reason(exc)}",
                                  remote=self.name, url=self.url) from exc
        return self._fs

    def blob_path(self, sha256: str) -> str:
        return f"{self.root}/blobs/{sha256[:2]}/{sha256}"

    def manifest_path(self, dataset_id: str, digest: str) -> str:
        return f"{self.root}/manifests/{dataset_id}/{digest}.json"

    def ref_path(self, dataset_id: str, ref: str) -> str:
        return f"{self.root}/refs/{dataset_id}/{ref}"

    @contextmanager
    def io(self, what: str) -> Iterator[None]:
        """Turn a backend's errors during ``what`` into one RemoteError naming the remote."""
        try:
            yield
        except DmconfError:
            raise
        except FileNotFoundError as exc:
            raise RemoteError(f"{self}: {what}: not found", remote=self.name, url=self.url,
                              missing=True) from exc
        except Exception as exc:  # each backend has its own exception tree
            raise RemoteError(f"{self}: {what}: {_reason(exc)}", remote=self.name,
                              url=self.url) from exc

    def exists(self, path: str) -> bool:
        with self.io(f"cannot look up {path}"):
            return bool(self.fs.exists(path))

    def read_small(self, path: str) -> bytes:
        """A manifest or ref; RemoteError with ``missing=True`` when there is none."""
        with self.io(f"cannot read {path}"), self.fs.open(path, "rb") as stream:
            data = stream.read(SMALL + 1)
        if len(data) > SMALL:
            raise RemoteError(f"{self}: {path} is larger than {SMALL} bytes; not a dmconf file",
                              remote=self.name, url=self.url)
        return bytes(data)

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write small content (manifest, ref) through a temporary name."""
        self._write(path, lambda out: out.write(data), None)

    def put_blob(self, local: Path, sha256: str, where: str,
                 advance: Callable[[int], None] | None = None) -> None:
        """Upload ``local`` as blob ``sha256``, refusing if its bytes no longer hash to it."""

        def copy(out: BinaryIO) -> str:
            digest = hashlib.sha256()
            with open(local, "rb") as stream:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    if advance is not None:
                        advance(len(chunk))
            return digest.hexdigest()

        self._write(self.blob_path(sha256), copy, (sha256, where))

    def _write(self, path: str, fill: Any, expect: tuple[str, str] | None) -> None:
        self.ensure_writable()
        tmp = f"{path}.tmp-{secrets.token_hex(8)}"
        parent = path.rsplit("/", 1)[0]
        with self.io(f"cannot write {path}"):
            self._makedirs(parent)
            try:
                with self.fs.open(tmp, "wb") as out:
                    actual = fill(out)
                if expect is not None and actual != expect[0]:
                    raise CorruptBlob(
                        f"{expect[1]} changed since it was prepared (sha256 {actual}, manifest "
                        f"{expect[0]}); nothing was pushed for it. Run `dmconf verify`",
                        remote=self.name, blob=expect[0], path=expect[1],
                    )
                self.fs.mv(tmp, path)
            except BaseException:
                self._discard(tmp)
                raise

    def _discard(self, tmp: str) -> None:
        try:
            self.fs.rm(tmp)
        except Exception:  # best effort: a leftover temporary is never taken for data
            log.debug("%s: could not remove %s", self, tmp)

    def ensure_writable(self) -> None:
        if not self.writable:
            raise RemoteError(f"{self}: a {self.kind} remote is read-only; push to a folder, "
                              "ssh:// or s3:// remote", remote=self.name, url=self.url)

    def open_blob(self, sha256: str) -> BinaryIO:
        with self.io(f"cannot read blob {sha256}"):
            return self.fs.open(self.blob_path(sha256), "rb")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
