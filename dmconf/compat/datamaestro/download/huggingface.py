"""datamaestro's Hugging Face hub resources: kept in the definition, fetched by datamaestro only.

The definition has a ``datamaestro://HFDownloader/ID/KEY`` resource (map it with ``mirrors:``);
``prepare()`` gives the repository id, as datamaestro's does.
"""

from __future__ import annotations

from typing import Any

from dmconf.compat.datamaestro.download import FolderResource, Resource

__all__ = ["HFDownloader", "HFSnapshotDownloader", "hf_download"]


class HFDownloader(Resource):
    """``HFDownloader("data", "org/repo", name=..., split=...)``."""

    def __init__(self, varname: str, repo_id: str, **options: Any) -> None:
        super().__init__(varname, transient=bool(options.pop("transient", False)))
        self.repo_id = repo_id
        self.options = options

    def prepare(self) -> Any:
        return self.repo_id


hf_download = HFDownloader


class HFSnapshotDownloader(FolderResource):
    """The files of a hub repository, as a folder."""

    def __init__(self, varname: str, repo_id: str, **options: Any) -> None:
        super().__init__(varname, transient=bool(options.pop("transient", False)))
        self.repo_id = repo_id
        self.options = options
