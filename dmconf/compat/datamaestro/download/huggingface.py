"""datamaestro's Hugging Face hub resources.

``hf_download("dataset", "org/repo", data_files="file.jsonl.gz", split="train")``, one file of a
dataset repository, is fetched by dmconf as ``hf://datasets/org/repo/file.jsonl.gz`` (verified,
resumed, mapped by the settings' ``mirrors:`` like any URL; a ``.gz`` file is decompressed) and
read from there (:class:`~dmconf.compat.datamaestro.data.huggingface.HuggingFaceDataset`'s
``local_path``). A whole repository, a configuration ``name``, a pattern of files or a branch
``revision`` is what the ``datasets`` library resolves: such a resource keeps a
``datamaestro://HFDownloader/ID/KEY`` URL, and the data is loaded by ``datasets`` on use.
Either way ``prepare()`` gives datamaestro's mapping of the ``HuggingFaceDataset`` fields.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from dmconf.compat.datamaestro.download import Downloader, FolderResource, Resource

__all__ = ["HFDownloader", "HFSnapshotDownloader", "hf_download"]


def _one_file(data_files: Any) -> str | None:
    """``data_files`` when it names one file of the repository (no pattern, no list)."""
    if not isinstance(data_files, str) or any(c in data_files for c in "*?[{"):
        return None
    normal = posixpath.normpath(data_files)
    return None if normal.startswith(("/", "..")) or normal == "." else normal


class HFDownloader(Downloader):
    """``HFDownloader("data", "org/repo", name=..., data_files=..., split=...)``."""

    def __init__(
        self, varname: str, repo_id: str, *, name: str | None = None,
        data_files: str | None = None, split: str | None = None, revision: str | None = None,
        streaming: bool = False, local_path: Path | str | None = None, transient: bool = False,
        **_: Any,
    ) -> None:
        from dmconf.compat.datamaestro.download.single import DECOMPRESSORS
        from dmconf.definition import COMMIT_PATTERN

        path = _one_file(data_files)
        pinned = revision is None or COMMIT_PATTERN.match(revision)
        self.fetched = bool(path and name is None and not streaming and local_path is None
                            and pinned)
        suffix = posixpath.splitext(path or "")[1]
        super().__init__(
            varname, varname, f"hf://datasets/{repo_id}/{path}", DECOMPRESSORS.get(suffix, "none"),
            transient=transient,
        )
        if revision is not None and self.fetched:
            self.fields["revision"] = revision
        self.repo_id = repo_id
        self.options = {"name": name, "data_files": data_files, "split": split,
                        "revision": revision, "streaming": streaming,
                        "local_path": str(local_path) if local_path is not None else None}

    def model(self, dataset_id: str) -> Any:
        if not self.fetched:
            return Resource.model(self, dataset_id)
        return super().model(dataset_id)

    def prepare(self) -> Any:
        """datamaestro's mapping: the repository, the options, and where the file lies."""
        local = self.key if self.fetched else self.options["local_path"]
        return {"repo_id": self.repo_id, **self.options, "local_path": local}


hf_download = HFDownloader


class HFSnapshotDownloader(FolderResource):
    """The files of a hub repository, as a folder."""

    def __init__(self, varname: str, repo_id: str, **options: Any) -> None:
        super().__init__(varname, transient=bool(options.pop("transient", False)))
        self.repo_id = repo_id
        self.options = options
