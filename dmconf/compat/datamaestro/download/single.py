"""``filedownloader``: one file, as in datamaestro's ``datamaestro.download.single``."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from dmconf.compat.datamaestro.download import Downloader, Resource

__all__ = ["ConcatDownloader", "FileDownloader", "concatdownload", "filedownloader"]

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
        transforms: datamaestro's transforms: ``Gunzip()`` is ``unpack: gunzip``, then
            ``Replace``/``Filter`` are ``lines`` steps; with others the file is one dmconf
            does not make (a ``datamaestro://`` resource).
        checker: a sha256 string, or datamaestro's ``HashCheck`` (sha256 or md5).
        uncompress: decompress ``.gz``/``.bz2``/``.xz`` downloads (default: as above).
        sha256: the sha256 of the downloaded bytes; without it, the first download logs it.
        mirrors: other URLs serving the same bytes, tried in order.
    """

    def __init__(
        self, filename: str, url: str, size: int | bool | None = None, transforms: Any = None,
        checker: Any = None, *, uncompress: bool | None = None, sha256: str | None = None,
        mirrors: Iterable[str] = (), varname: str | None = None, transient: bool = False,
    ) -> None:
        if isinstance(size, bool):  # an older datamaestro had `uncompress` in third place
            uncompress, size = size, None
        from dmconf.compat.datamaestro.stream import line_steps

        # datamaestro's own transforms replace its guess from the URL: Gunzip (then Replace
        # and Filter, as `lines` steps) is what dmconf does; others stay datamaestro's
        mapped = None if transforms is None else line_steps(transforms)
        lines: list[dict[str, str]] = []
        if mapped is not None:
            (gunzip, lines), transforms = mapped, None
            uncompress = gunzip or (False if lines else uncompress)
        suffix = posixpath.splitext(urlsplit(url).path)[1].lower()
        if mapped is not None and mapped[0]:
            suffix = ".gz"
        unpack = "none"
        if uncompress is not False and suffix in DECOMPRESSORS and not filename.endswith(suffix):
            unpack = DECOMPRESSORS[suffix]
        super().__init__(
            filename, varname or filename.split(".", 1)[0], url, unpack, checker=checker,
            sha256=sha256, size=size, mirrors=mirrors, transient=transient, lines=lines,
        )
        self.transforms = transforms  # not None: datamaestro's code makes the file

    def model(self, dataset_id: str) -> Any:
        if self.transforms is not None:
            return Resource.model(self, dataset_id)
        return super().model(dataset_id)


FileDownloader = filedownloader  # datamaestro's class-attribute spelling


class ConcatDownloader(Downloader):
    """An archive's files joined into the file ``filename`` (``unpack: concat``).

    As datamaestro's: each regular file of the tar archive at ``url``, in archive order, a
    ``.gz`` one decompressed. datamaestro's line transforms (``Replace``, ``Filter``, after a
    ``Gunzip`` that concat does for ``.gz`` members) become ``lines`` steps, applied to the
    joined file; with other transforms the file stays a ``datamaestro://`` resource.
    """

    def __init__(
        self, filename: str, url: str, transforms: Any = None, *, checker: Any = None,
        sha256: str | None = None, mirrors: Iterable[str] = (), varname: str | None = None,
        transient: bool = False,
    ) -> None:
        from dmconf.compat.datamaestro.stream import line_steps

        mapped = None if transforms is None else line_steps(transforms)
        super().__init__(
            filename, varname or filename.split(".", 1)[0], url, "concat", checker=checker,
            sha256=sha256, mirrors=mirrors, transient=transient,
            lines=mapped[1] if mapped else [],
        )
        self.transforms = None if mapped else transforms

    def model(self, dataset_id: str) -> Any:
        if self.transforms is not None:
            return Resource.model(self, dataset_id)
        return super().model(dataset_id)


concatdownload = ConcatDownloader
