"""The unpack interface."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path


class Unpacker(ABC):
    """Turns a verified download into its materialised form at a temporary path.

    The caller moves ``target`` into place with ``os.replace`` once this returns, and removes it
    if this raises, so an unpacker only has to write ``target``.
    """

    #: whether the result is a folder (archives) rather than a file
    makes_folder = False

    @abstractmethod
    def unpack(self, source: Path, target: Path) -> None:
        """Write the unpacked form of ``source`` at ``target`` (which does not exist yet)."""


class Copy(Unpacker):
    """``unpack: none``: the download is the file; it is renamed, not copied."""

    def unpack(self, source: Path, target: Path) -> None:
        os.replace(source, target)
