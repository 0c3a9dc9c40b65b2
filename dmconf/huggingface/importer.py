"""A Hugging Face dataset repository at one commit, as a dmconf definition.

``dmconf import hf OWNER/NAME [--revision R]`` resolves R (default ``main``) to its commit, lists
the repository's files with the tree API (``/api/datasets/OWNER/NAME/tree/COMMIT?recursive=1``,
following its ``Link: rel="next"`` pages) and writes one ``hf://`` resource per data file, pinned
by the commit and by the sha256 the hub gives for LFS files. Parquet files named after a split
(``data/train-00000-of-00002.parquet``, ``default/test/0000.parquet``) become one ``parquet``
table per split.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from dmconf.croissant.reader import Imported, field_of, key_of
from dmconf.errors import DownloadError
from dmconf.huggingface.hub import api_get, check_path, check_repo, endpoint

__all__ = ["import_repository", "list_repository"]

DATA_SUFFIXES = (
    ".parquet", ".csv", ".tsv", ".json", ".jsonl", ".txt", ".arrow", ".zip", ".tar", ".gz",
    ".bz2", ".xz", ".zst", ".npy", ".npz", ".h5", ".hdf5", ".wav", ".mp3", ".flac", ".png",
    ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".xml", ".tar.gz", ".tgz",
)
SPLITS = ("train", "validation", "valid", "dev", "test")
SPLIT_OF = re.compile(rf"(?:^|[/_.-])({'|'.join(SPLITS)})(?=$|[/_.-])")
MAX_PAGES = 1000


def list_repository(repo: str, revision: str = "main") -> tuple[str, list[tuple[str, int | None,
                                                                          str | None]]]:
    """The commit of ``revision`` and the repository's files: ``(path, size, sha256 or None)``."""
    check_repo(repo)
    info, _ = api_get(f"/api/datasets/{repo}/revision/{quote(revision, safe='')}", repo)
    commit = info.get("sha") if isinstance(info, dict) else None
    if not isinstance(commit, str) or not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise DownloadError(f"{endpoint()}: the hub gave no commit for {repo} at {revision}")
    files: list[tuple[str, int | None, str | None]] = []
    page: str | None = f"/api/datasets/{repo}/tree/{commit}?recursive=true&expand=false"
    for _ in range(MAX_PAGES):
        if page is None:
            break
        entries, response = api_get(page, repo)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("type") != "file":
                continue
            path = str(entry.get("path"))
            check_path(path, f"{repo} tree")
            given = entry.get("lfs")
            lfs: dict[str, Any] = given if isinstance(given, dict) else {}
            sha256 = lfs.get("oid") if re.fullmatch(r"[0-9a-f]{64}", str(lfs.get("oid"))) else None
            size = entry.get("size")
            files.append((path, size if isinstance(size, int) and size >= 0 else None, sha256))
        nxt = response.links.get("next", {}).get("url")
        page = nxt if nxt and nxt.startswith(endpoint()) else None
    return commit, files


def import_repository(repo: str, revision: str, dataset_id: str) -> Imported:
    """The definition of a repository's data files at ``revision``."""
    commit, files = list_repository(repo, revision)
    result = Imported({})
    resources: dict[str, dict[str, Any]] = {}
    splits: dict[str, list[str]] = {}
    keys: set[str] = set()
    for path, size, sha256 in files:
        lower = path.lower()
        if not lower.endswith(DATA_SUFFIXES) or path.startswith("."):
            continue
        key = key_of(path.replace("/", "_"), keys)
        resource: dict[str, Any] = {"url": f"hf://datasets/{repo}/{path}", "revision": commit}
        if sha256:
            resource["sha256"] = sha256
        else:
            result.unpinned.append(f"{key}: the hub gives no sha256 (not an LFS file)")
        if size is not None:
            resource["size"] = size
        resources[key] = resource
        split = SPLIT_OF.search(lower.rsplit(".", 1)[0])
        if lower.endswith(".parquet"):
            splits.setdefault(split[1] if split else "data", []).append(key)
    if not resources:
        raise DownloadError(f"{repo} at {revision} has no data file dmconf recognises")
    data: dict[str, Any] = {name: {"type": "parquet", "paths": keys_}
                            for name, keys_ in splits.items()}
    names: set[str] = set()
    data["files"] = {"type": "generic", **{
        field_of(k, names): {"type": "file", "path": k} for k in resources}}
    result.definition = {
        "id": dataset_id,
        "name": repo,
        "description": f"Files of the Hugging Face dataset {repo} at commit {commit} "
                       f"(revision {revision}).",
        "homepage": f"{endpoint()}/datasets/{repo}",
        "resources": resources, "type": "generic", "data": data,
    }
    return result
