"""``file://`` URLs: copy from a local or mounted path (offline clusters, lab mirrors)."""

from __future__ import annotations

import os
from typing import BinaryIO
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from dmconf.errors import DownloadError
from dmconf.fetch.base import CHUNK_SIZE, Fetcher, Progress


class LocalFetcher(Fetcher):
    """Copy a local file."""

    def fetch(self, url: str, out: BinaryIO, *, on_size: Progress, on_bytes: Progress) -> None:
        path = url2pathname(unquote(urlparse(url).path))
        try:
            with open(path, "rb") as source:
                on_size(os.fstat(source.fileno()).st_size)
                while chunk := source.read(CHUNK_SIZE):
                    out.write(chunk)
                    on_bytes(len(chunk))
        except OSError as exc:
            raise DownloadError(f"{url}: {exc.strerror} ({path})", url=url) from None
