"""datamaestro's resources at their seed path: :mod:`dmconf.compat.datamaestro.download`."""

from dmconf.compat.datamaestro.download import (
    Downloader,
    FileResource,
    FilesCopy,
    FolderResource,
    Resource,
    reference,
)

__all__ = ["Downloader", "FileResource", "FilesCopy", "FolderResource", "Resource", "reference"]
