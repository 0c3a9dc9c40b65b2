"""The fetcher interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import BinaryIO

from dmconf.settings import Settings

# Called with the number of new bytes written, and once with the total size when known.
Progress = Callable[[int], None]

CHUNK_SIZE = 1 << 20  # 1 MiB: small chunks cost 4-7x in throughput (DESIGN.md, measured)


class Fetcher(ABC):
    """Writes the bytes of one URL to an open binary stream."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def fetch(
        self, url: str, out: BinaryIO, *, on_size: Progress, on_bytes: Progress
    ) -> None:
        """Write the content of ``url`` to ``out``.

        Raises :class:`~dmconf.errors.DownloadError` naming the URL on any failure.
        """
