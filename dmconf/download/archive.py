"""``zipdownloader``, ``tardownloader``: :mod:`dmconf.compat.datamaestro.download.archive`."""

from dmconf.compat.datamaestro.download.archive import (
    TarDownloader,
    ZipDownloader,
    tardownloader,
    zipdownloader,
)

__all__ = ["TarDownloader", "ZipDownloader", "tardownloader", "zipdownloader"]
