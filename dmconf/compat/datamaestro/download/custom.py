"""datamaestro's ``custom_download``: a function of the plugin's that fills a folder."""

from __future__ import annotations

from typing import Any

from dmconf.compat.datamaestro.download import FolderResource

__all__ = ["custom_download"]


class custom_download(FolderResource):  # datamaestro's spelling
    def __init__(self, varname: str, downloader: Any, **kwargs: Any) -> None:
        super().__init__(varname, **kwargs)
        self.downloader = downloader
