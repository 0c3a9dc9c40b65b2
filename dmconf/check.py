"""``dmconf check --network``: do the pinned URLs and mirrors still answer with the pinned size?

Each URL gets a HEAD request; when the server answers without a usable length (or refuses
HEAD), a one-byte ``Range`` GET reads the total from ``Content-Range``. Nothing is downloaded,
so checksums cannot be checked here; the size is what a publisher's silent change shows first.
URLs are checked in parallel; the library returns rows, the CLI prints them.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dmconf.settings import Settings

if TYPE_CHECKING:
    import requests

    from dmconf.definition import DatasetDefinition

__all__ = ["UrlCheck", "check_urls"]


@dataclass
class UrlCheck:
    """The answer of one URL of one resource."""

    dataset: str
    resource: str
    url: str
    expected: int | None
    actual: int | None = None
    status: int | None = None
    problem: str | None = None  # None: the URL answers with the pinned size

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_urls(
    definitions: Iterable[DatasetDefinition], settings: Settings, workers: int = 16
) -> list[UrlCheck]:
    """Check every URL and mirror of every resource; rows come back in definition order."""
    rows = [UrlCheck(d.id, key, url, r.size)
            for d in definitions for key, r in d.resources.items() for url in r.urls]
    import requests

    with requests.Session() as session, ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(lambda row: _check(session, row, settings), rows))
    return rows


def _check(session: requests.Session, row: UrlCheck, settings: Settings) -> None:
    import requests

    from dmconf.fetch.http import CONTENT_RANGE, HEADERS

    timeout = (settings.connect_timeout, settings.read_timeout)
    if not row.url.startswith(("http://", "https://")):
        row.problem = "not an HTTP URL: not checked"
        return
    try:
        with session.head(row.url, headers=HEADERS, timeout=timeout,
                          allow_redirects=True) as answer:
            row.status = answer.status_code
            length = answer.headers.get("Content-Length")
            if answer.ok and length is not None and length.isdigit() and int(length) > 0:
                row.actual = int(length)
        if row.actual is None:
            ranged = {**HEADERS, "Range": "bytes=0-0"}
            with session.get(row.url, headers=ranged, timeout=timeout, stream=True,
                             allow_redirects=True) as answer:
                row.status = answer.status_code
                found = CONTENT_RANGE.match(answer.headers.get("Content-Range", ""))
                if answer.status_code == 206 and found and found.group(2).isdigit():
                    row.actual = int(found.group(2))
                elif answer.ok and answer.headers.get("Content-Length", "").isdigit():
                    row.actual = int(answer.headers["Content-Length"])
    except requests.RequestException as exc:
        row.problem = f"no answer ({type(exc).__name__}: {exc})"
        return
    if row.status is not None and row.status >= 400:
        row.problem = f"HTTP {row.status}"
    elif row.actual is None and row.expected is not None:
        row.problem = "the server gives no size"
    elif row.expected is not None and row.actual != row.expected:
        row.problem = f"size {row.actual}, pinned {row.expected}: the file changed"
