"""``file://`` URLs: copy from a local or mounted path (offline clusters, lab mirrors).

No socket is opened, so these URLs work with ``DMCONF_OFFLINE=1``: rewrite a dataset's URLs to a
shared folder (settings ``mirrors``) and offline nodes prepare from it.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from dmconf.errors import DownloadError
from dmconf.fetch.base import CHUNK_SIZE, Fetcher, Sink


class LocalFetcher(Fetcher):
    """Copy a local file, continuing after the bytes the sink holds."""

    def fetch(self, url: str, sink: Sink) -> None:
        path = url2pathname(unquote(urlparse(url).path))
        try:
            source = open(path, "rb")  # noqa: SIM115 - closed below; write errors must pass
        except OSError as exc:
            raise DownloadError(f"{url}: {exc.strerror} ({path})", url=url) from None
        with source:
            info = os.fstat(source.fileno())
            validator = f"{info.st_size}-{info.st_mtime_ns}"
            offset, held_validator = sink.resume_point(url)
            if offset > info.st_size or held_validator not in (None, validator):
                offset = 0
            source.seek(offset)
            sink.begin(url, offset, validator, info.st_size)
            while True:
                try:
                    chunk = source.read(CHUNK_SIZE)
                except OSError as exc:  # a mount that went away: worth another try
                    raise DownloadError(
                        f"{url}: {exc.strerror} ({path})", url=url, transient=True
                    ) from None
                if not chunk:
                    break
                sink.write(chunk)  # disk full here is the data folder's problem, not the URL's
