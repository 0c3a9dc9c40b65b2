"""HTTP(S) downloads with requests, streamed in large chunks."""

from __future__ import annotations

from typing import BinaryIO

import requests

from dmconf import __version__
from dmconf.errors import DownloadError
from dmconf.fetch.base import CHUNK_SIZE, Fetcher, Progress

# identity: the checksum is of the file as published, so ask servers not to re-encode it.
HEADERS = {
    "User-Agent": f"dmconf/{__version__} (+https://pypi.org/project/dmconf/)",
    "Accept-Encoding": "identity",
}


class HTTPFetcher(Fetcher):
    """GET the URL and stream its body."""

    def fetch(self, url: str, out: BinaryIO, *, on_size: Progress, on_bytes: Progress) -> None:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            with requests.get(
                url, stream=True, timeout=timeout, headers=HEADERS
            ) as response:
                if response.status_code >= 400:
                    raise DownloadError(
                        f"{url}: the server answered HTTP {response.status_code} "
                        f"{response.reason or ''}".rstrip(),
                        url=url, status=response.status_code,
                    )
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and "Content-Encoding" not in response.headers:
                    on_size(int(length))
                for chunk in response.raw.stream(CHUNK_SIZE, decode_content=True):
                    out.write(chunk)
                    on_bytes(len(chunk))
        except requests.RequestException as exc:
            raise DownloadError(f"{url}: {_reason(exc)}", url=url) from None


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "timed out while connecting"
    if isinstance(exc, requests.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        return f"the transfer stopped before the end ({type(exc).__name__})"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect (no network, wrong host, or the server is down)"
    return str(exc)
