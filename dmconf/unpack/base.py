"""The unpack interface."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any


class Unpacker(ABC):
    """Turns a verified download into its materialised form at a temporary path.

    Two kinds: *streaming* unpackers (``streams = True``) decompress while the download runs
    (:meth:`open_stream`); the others work on the verified download (:meth:`unpack`). Either
    way the caller moves the temporary result into place with ``os.replace``, and removes it on
    failure, so an unpacker only writes where it is told.
    """

    #: whether the result is a folder (archives) rather than a file
    makes_folder = False
    #: whether the work happens while downloading (see :mod:`dmconf.unpack.stream`)
    streams = False

    def open_stream(self, target: Path) -> Any:
        """A writer fed with the downloaded bytes as they arrive (streaming unpackers only)."""
        raise NotImplementedError(f"{type(self).__name__} does not stream")

    @abstractmethod
    def unpack(self, source: Path, target: Path) -> str:
        """Write the unpacked form of ``source`` at ``target`` (which does not exist yet).

        Returns the sha256 of what was written (a tree digest for folders), which the state
        file records so that ``dmconf verify`` can check the materialised data later.
        """


class Copy(Unpacker):
    """``unpack: none``: the download is the file; it is renamed, not copied."""

    def unpack(self, source: Path, target: Path) -> str:
        os.replace(source, target)
        return ""  # the caller knows the sha256: it is the download's
