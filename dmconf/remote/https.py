"""A read-only remote served over HTTP(S): a remote folder published by any web server.

Anything pushed to a folder remote can be served as it is (``https://lab.example/dmconf``) and
pulled from; pushing to it is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dmconf.remote.base import Remote

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["HTTPRemote"]


class HTTPRemote(Remote):
    kind = "https"
    extra = "https"
    writable = False

    def _root(self, url: str) -> str:
        return url.rstrip("/")

    def _open_fs(self) -> AbstractFileSystem:
        from fsspec.implementations.http import HTTPFileSystem

        return HTTPFileSystem(**self.options)
