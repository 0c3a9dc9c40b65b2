"""A generated Hugging Face dataset repository, served by the loopback FileServer on the hub's
paths: ``/api/datasets/R/revision/REV`` (the commit), ``/api/datasets/R/tree/COMMIT`` (the
recursive listing, with LFS sha256) and ``/datasets/R/resolve/COMMIT/PATH`` (the bytes)."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass

from httpserver import FileServer


def parquet_bytes(rows: dict[str, list]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table(rows), sink)
    return sink.getvalue()


@dataclass
class HubRepo:
    repo: str
    commit: str
    files: dict[str, bytes]


def serve_repo(server: FileServer, repo: str, files: dict[str, bytes],
               lfs: set[str] | None = None) -> HubRepo:
    """Put ``files`` of ``repo`` on the server; ``lfs`` (default: all but .gitattributes and
    README.md) are listed with their sha256 as LFS files."""
    commit = hashlib.sha1(repr(sorted(files)).encode() + repo.encode()).hexdigest()
    lfs = lfs if lfs is not None else {p for p in files if p not in (".gitattributes", "README.md")}
    server.files[f"api/datasets/{repo}/revision/main"] = json.dumps({"sha": commit}).encode()
    server.files[f"api/datasets/{repo}/revision/{commit}"] = json.dumps({"sha": commit}).encode()
    tree = []
    folders = sorted({p.rsplit("/", 1)[0] for p in files if "/" in p})
    tree += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": f} for f in folders]
    for path, data in sorted(files.items()):
        entry = {"type": "file", "oid": hashlib.sha1(data).hexdigest(), "size": len(data),
                 "path": path}
        if path in lfs:
            entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                            "pointerSize": 130}
        tree.append(entry)
        server.files[f"datasets/{repo}/resolve/{commit}/{path}"] = data
    server.files[f"api/datasets/{repo}/tree/{commit}"] = json.dumps(tree).encode()
    return HubRepo(repo, commit, files)


def mnist_like_repo() -> dict[str, bytes]:
    """A small repository shaped like ylecun/mnist: one Parquet file per split."""
    image = {"bytes": b"\x89PNG fake", "path": None}
    train = parquet_bytes({"image": [image] * 6, "label": [0, 1, 2, 3, 4, 5]})
    test = parquet_bytes({"image": [image] * 3, "label": [7, 8, 9]})
    return {".gitattributes": b"*.parquet filter=lfs\n", "README.md": b"# mnist\n",
            "mnist/train-00000-of-00001.parquet": train,
            "mnist/test-00000-of-00001.parquet": test}
