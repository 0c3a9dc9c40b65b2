"""What a credential source gives: a :class:`Credential`, named by the rule it came from.

A credential never prints its secret: ``repr`` and ``str`` show the rule's name only, so a
credential that reaches a log line, an error or a traceback's locals says where it came from
and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Credential", "origin_of"]

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a URL, lower-cased, with the scheme's default port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


@dataclass(frozen=True)
class Credential:
    """How to authenticate one request, and the name of the rule that says so.

    ``rule`` is safe to print (``settings rule 'lab'``, ``~/.netrc (machine data.lab.org)``);
    ``missing`` says why a rule that matched gave nothing (``$LAB_TOKEN is not set``). The
    secret parts (``basic``, ``headers``, ``options``) are left out of ``repr``.
    """

    rule: str
    basic: tuple[str, str] | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    options: dict[str, str] = field(default_factory=dict, repr=False)  # for fsspec (s3fs)
    missing: str | None = None
    explicit: bool = False  # a settings rule naming this URL (kept across a redirect)

    @property
    def usable(self) -> bool:
        """Whether it holds something to send."""
        return self.basic is not None or bool(self.headers) or bool(self.options)

    def describe(self) -> str:
        """The rule's name, and why it gave nothing when it did not."""
        return f"{self.rule} ({self.missing})" if self.missing else self.rule

    def __str__(self) -> str:
        return self.describe()
