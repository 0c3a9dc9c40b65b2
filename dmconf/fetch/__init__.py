"""Fetchers: how the bytes of a URL reach a local file, one module per URL scheme.

:func:`fetcher_for` picks the fetcher of a URL's scheme (:mod:`~dmconf.fetch.http` for
``http``/``https``, :mod:`~dmconf.fetch.hf` for ``hf``, :mod:`~dmconf.fetch.file` for
``file``). Around them:
:mod:`~dmconf.fetch.retry` (backoff, Retry-After) and :mod:`~dmconf.fetch.download` (the
partial file a fetcher resumes, its naming and adoption after a crash).
"""

from __future__ import annotations

from dmconf.errors import DownloadError
from dmconf.fetch.base import Fetcher, Sink

__all__ = ["Fetcher", "Sink", "fetcher_for"]


def fetcher_for(url: str) -> type[Fetcher]:
    """The fetcher class for a URL's scheme."""
    scheme = url.partition("://")[0].lower()
    if scheme in ("http", "https"):
        from dmconf.fetch.http import HTTPFetcher

        return HTTPFetcher
    if scheme == "hf":
        from dmconf.fetch.hf import HubFetcher

        return HubFetcher
    if scheme == "file":
        from dmconf.fetch.file import LocalFetcher

        return LocalFetcher
    if scheme == "datamaestro":  # a ported resource only datamaestro's code can make
        raise DownloadError(
            f"{url}: this resource is made by datamaestro code that dmconf does not run (a "
            "folder of yours, a document store, a transformed file); put a copy somewhere and "
            "map the URL to it in the settings' mirrors: (a file:// URL)", url=url,
        )
    raise DownloadError(
        f"{url}: unsupported URL scheme {scheme!r} (dmconf fetches http, https, hf and file URLs)",
        url=url,
    )
