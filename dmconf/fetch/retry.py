"""Retrying one URL: exponential backoff with jitter, honouring ``Retry-After``.

Hand-written rather than urllib3's ``Retry`` or tenacity: urllib3 retries requests, not a body
that breaks half-way (which must resume from the bytes on disk), and its backoff options differ
between urllib3 1.26 and 2.x, which requests both allows; the loop itself is a dozen lines.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from dmconf.errors import DownloadError
from dmconf.settings import Settings

__all__ = ["backoff_delay", "parse_retry_after", "with_retries"]

log = logging.getLogger("dmconf")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, settings: Settings, retry_after: float | None = None) -> float:
    """The wait before retry number ``attempt`` (0 for the first retry).

    ``backoff * 2**attempt`` with "equal jitter" (half fixed, half random, so that many jobs
    failing together do not retry together), at most ``backoff_max``; a server's Retry-After
    wins over the computed delay, capped at ``backoff_max`` too so that a job never sleeps for
    hours on one header.
    """
    if retry_after is not None:
        return min(retry_after, settings.backoff_max)
    ceiling = min(settings.backoff_max, settings.backoff * 2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def with_retries(
    attempt: Callable[[], None], settings: Settings, progressed: Callable[[], int],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run ``attempt`` until it succeeds, retrying transient DownloadErrors.

    ``progressed()`` counts bytes held: an attempt that moved the download forward resets the
    retry count, so a long transfer over a connection that drops now and then still finishes,
    while a server that fails ``settings.retries + 1`` times in a row without sending a byte
    gives up.
    """
    failures = 0
    while True:
        before = progressed()
        try:
            attempt()
            return
        except DownloadError as exc:
            if not exc.is_transient:
                raise
            if progressed() > before:
                failures = 0
            if failures >= settings.retries:
                raise
            retry_after = exc.fields.get("retry_after")
            delay = backoff_delay(failures, settings, retry_after)
            why = " (the server's Retry-After)" if retry_after is not None else ""
            log.warning(
                "%s; retrying in %.1f s%s, retry %d of %d", exc, delay, why, failures + 1,
                settings.retries,
            )
            sleep(delay)
            failures += 1
