"""Data-use agreements: ``lua = useragreement(TERMS, id=...)`` then ``@lua`` above ``@dataset``.

The terms are stored in the definition's ``agreement`` field; ``prepare`` refuses to download
until the user accepts them (``dmconf accept ID``), see :mod:`dmconf.agreements`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dmconf.compat.datamaestro.definitions import wrapper_of

__all__ = ["useragreement"]

T = TypeVar("T")


def useragreement(message: str, id: str | None = None) -> Callable[[T], T]:
    """Require accepting ``message`` before the dataset is downloaded."""

    def require(target: T) -> T:
        wrapper = wrapper_of("useragreement", target)
        text = message.strip()
        if text not in wrapper.agreements:
            wrapper.agreements.append(text)
        return target

    return require


