"""The fetcher interface, and the sink a fetcher writes into.

A fetcher moves the bytes of one URL into a :class:`Sink`. The sink may already hold the first
bytes (a partial download): the fetcher asks for the rest (``resume_point``), tells the sink
where the server's answer starts (``begin``: at the bytes held, or at 0 when the server ignored
the range), then writes. Retrying is not the fetcher's job (see :mod:`dmconf.fetch.retry`): a
fetcher raises :class:`~dmconf.errors.DownloadError` with ``transient=True`` when trying again
may help.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

from dmconf.settings import Settings

CHUNK_SIZE = 1 << 20  # 1 MiB: small chunks cost 4-7x in throughput (DESIGN.md, measured)


class Body(Protocol):
    """An answer's bytes as sent (a file opened ``rb`` has both methods)."""

    def read(self, size: int, /) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""

    def readinto(self, buffer: memoryview, /) -> int:
        """Fill ``buffer``; the bytes put there (fewer only at the end, 0 past it)."""


class Sink(Protocol):
    """Where a fetcher writes; implemented by :class:`dmconf.fetch.download.Download`."""

    #: the media type the server announced (``Content-Type``), when it announced one
    content_type: str | None

    def resume_point(self, url: str) -> tuple[int, str | None]:
        """Bytes already held, and the validator (ETag...) the server gave for them at ``url``."""

    def begin(self, url: str, offset: int, validator: str | None, total: int | None) -> None:
        """The answer starts at ``offset`` (the bytes held, or 0: start over); ``total`` bytes."""

    def write(self, data: bytes) -> None:
        """Append bytes of the answer."""


@runtime_checkable
class BodySink(Sink, Protocol):
    """A sink that reads the answer itself, into buffers it reuses (:class:`Download` does)."""

    def write_from(self, body: Body) -> int:
        """Append the next chunk of ``body`` (the answer's bytes as sent); the bytes appended,
        0 at its end."""


class Fetcher(ABC):
    """Writes the bytes of one URL into a sink, continuing from what the sink holds."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def fetch(self, url: str, sink: Sink) -> None:
        """Write the rest of ``url`` into ``sink``.

        Raises :class:`~dmconf.errors.DownloadError` naming the URL on any failure, with
        ``transient=True`` when a later attempt may succeed.
        """
