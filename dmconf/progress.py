"""Progress on stderr: a tqdm bar per resource being downloaded, one summary line per dataset."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from dmconf.settings import Settings

__all__ = ["Bar", "Summary", "human_size", "progress_enabled"]


def progress_enabled(settings: Settings) -> bool:
    """Bars show when asked for, or by default when stderr is a terminal."""
    if settings.progress is not None:
        return settings.progress
    return sys.stderr.isatty()


def human_size(size: float) -> str:
    """``12.3 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


class Bar:
    """One byte counter; a tqdm bar when enabled, nothing otherwise."""

    def __init__(self, label: str, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                leave=False, dynamic_ncols=True,
            )

    def set_total(self, total: int | None) -> None:
        if self._bar is not None and total is not None:
            self._bar.total = total
            self._bar.refresh()

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def reset(self) -> None:
        if self._bar is not None:
            self._bar.reset()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class Summary:
    """What one prepare did, for its closing log line (thread-safe: resources run in parallel)."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self.started = time.monotonic()
        self.resources = 0
        self.downloaded = 0
        self._lock = threading.Lock()

    def add(self, received: int) -> None:
        with self._lock:
            self.resources += 1
            self.downloaded += received

    def line(self, folder: object) -> str:
        elapsed = time.monotonic() - self.started
        rate = f", {human_size(self.downloaded / elapsed)}/s" if elapsed > 0 else ""
        return (
            f"{self.dataset}: prepared in {folder}: {self.resources} resource(s) fetched, "
            f"{human_size(self.downloaded)} downloaded in {elapsed:.1f} s{rate}"
        )
