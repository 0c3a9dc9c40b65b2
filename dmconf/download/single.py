"""``filedownloader``: :mod:`dmconf.compat.datamaestro.download.single`."""

from dmconf.compat.datamaestro.download.single import (
    ConcatDownloader,
    FileDownloader,
    concatdownload,
    filedownloader,
)

__all__ = ["ConcatDownloader", "FileDownloader", "concatdownload", "filedownloader"]
