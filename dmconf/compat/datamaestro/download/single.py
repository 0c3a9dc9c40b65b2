"""``filedownloader``: one file, as in datamaestro's ``datamaestro.download.single``."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from dmconf.compat.datamaestro.download import Downloader, FileResource, Resource

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
        transforms: datamaestro's transforms: ``Gunzip()`` is ``unpack: gunzip``; with others
            the file is one dmconf does not make (a ``datamaestro://`` resource).
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
        from dmconf.compat.datamaestro.stream import only_gunzip

        if transforms is not None and only_gunzip(transforms):
            transforms, uncompress = None, True
            url_suffix_forced = ".gz"
        else:
            url_suffix_forced = None
        suffix = url_suffix_forced or posixpath.splitext(urlsplit(url).path)[1].lower()
        unpack = "none"
        if uncompress is not False and suffix in DECOMPRESSORS and not filename.endswith(suffix):
            unpack = DECOMPRESSORS[suffix]
        super().__init__(
            filename, varname or filename.split(".", 1)[0], url, unpack, checker=checker,
            sha256=sha256, size=size, mirrors=mirrors, transient=transient,
        )
        self.transforms = transforms  # other than Gunzip: datamaestro's code makes the file

    def model(self, dataset_id: str) -> Any:
        if self.transforms is not None:
            return Resource.model(self, dataset_id)
        return super().model(dataset_id)


FileDownloader = filedownloader  # datamaestro's class-attribute spelling


class ConcatDownloader(FileResource):
    """datamaestro concatenates an archive's files into one: dmconf does not (see the package)."""

    def __init__(
        self, filename: str, url: str, transforms: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(filename, **kwargs)
        self.url = url
        self.transforms = transforms


concatdownload = ConcatDownloader
