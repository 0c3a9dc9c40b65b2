"""Progress bars (tqdm, on stderr) for downloads."""

from __future__ import annotations

import sys
from typing import Any

from dmconf.settings import Settings

__all__ = ["Bar", "progress_enabled"]


def progress_enabled(settings: Settings) -> bool:
    """Bars show when asked for, or by default when stderr is a terminal."""
    if settings.progress is not None:
        return settings.progress
    return sys.stderr.isatty()


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

    def set_total(self, total: int) -> None:
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
