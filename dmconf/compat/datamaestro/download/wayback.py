"""datamaestro's ``wayback_documents``: pages fetched from the Internet Archive by datamaestro."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dmconf.compat.datamaestro.download import Resource

__all__ = ["wayback_documents"]


class wayback_documents(Resource):  # datamaestro's spelling
    def __init__(
        self, timestamp: str, urls_fn: Callable[[], Iterator[str]], name: Any = None
    ) -> None:
        super().__init__(name)
        self.timestamp = timestamp
        self.urls_fn = urls_fn
