"""``filedownloader``: one file, as in datamaestro's ``datamaestro.download.single``."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from dmconf.download import Downloader
from dmconf.errors import DefinitionError

__all__ = ["filedownloader"]

# A compressed download is decompressed when the file name does not keep the extension.
DECOMPRESSORS = {".gz": "gunzip", ".bz2": "bunzip2", ".xz": "unxz"}


class filedownloader(Downloader):  # datamaestro's spelling
    """Download ``url`` into the file ``filename`` of the dataset's folder.

    The function receives the file's path in the parameter named by ``filename`` up to its first
    dot (``train_images.idx`` gives ``train_images``). A URL ending in ``.gz`` (``.bz2``,
    ``.xz``) is decompressed unless ``filename`` ends the same way or ``uncompress=False``.

    Args:
        filename: the file's name in the dataset's folder (the resource key).
        url: where to download it from.
        size: the size of the download in bytes, if known.
        transforms: datamaestro's custom transforms; not supported (an error).
        checker: a sha256 string, or datamaestro's ``HashCheck(value, hashlib.sha256)``.
        uncompress: decompress ``.gz``/``.bz2``/``.xz`` downloads (default: as above).
        sha256: the sha256 of the downloaded bytes; without it, the first download logs it.
        mirrors: other URLs serving the same bytes, tried in order.
    """

    def __init__(
        self, filename: str, url: str, size: int | bool | None = None, transforms: Any = None,
        checker: Any = None, *, uncompress: bool | None = None, sha256: str | None = None,
        mirrors: Iterable[str] = (),
    ) -> None:
        if isinstance(size, bool):  # an older datamaestro had `uncompress` in third place
            uncompress, size = size, None
        if transforms is not None:
            raise DefinitionError(
                f"filedownloader({filename!r}): custom transforms are not supported; download "
                "the file as is (or decompressed) and read it in the data type instead"
            )
        suffix = posixpath.splitext(urlsplit(url).path)[1].lower()
        unpack = "none"
        if uncompress is not False and suffix in DECOMPRESSORS and not filename.endswith(suffix):
            unpack = DECOMPRESSORS[suffix]
        varname = filename.split(".", 1)[0]
        super().__init__(
            filename, varname, url, unpack, checker=checker, sha256=sha256, size=size,
            mirrors=mirrors,
        )
