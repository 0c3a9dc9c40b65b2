"""Croissant metadata to a dmconf definition.

``FileObject``\\ s become resources (sha256 pins them; an archive is unpacked), ``FileSet``\\ s
and ``FileObject``\\ s inside an archive become ``file-set`` / ``file`` data inside the unpacked
folder, files of a Hugging Face repository (a ``git+https`` FileObject on the hub) become
``hf://`` resources pinned by commit and sha256 (listed through the hub's tree API), and each
``RecordSet`` becomes ``records`` data with typed fields. What cannot be pinned (no sha256,
``isLiveDataset``) is reported and left unpinned: ``prepare`` prints the values to pin. What
dmconf cannot fetch at all (a git repository elsewhere, an ``s3://`` URL, a file set listed
inside another file) is a DefinitionError naming the construct.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

from dmconf.croissant.document import as_list, ref, short_type
from dmconf.croissant.licenses import spdx
from dmconf.errors import DefinitionError

__all__ = ["Imported", "to_definition"]

SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
BYTES = re.compile(r"^\s*(\d+)\s*(B|bytes?)?\s*$", re.IGNORECASE)
HUB_REPO = re.compile(r"^https?://[^/]+/datasets/([^/]+/[^/]+?)(?:/tree/([^/]+))?/?$")
FORMATS = {
    "text/csv": "csv", "text/tab-separated-values": "tsv", "application/json": "json",
    "application/jsonlines": "jsonl", "application/x-jsonlines": "jsonl",
    "application/jsonl": "jsonl", "application/x-ndjson": "jsonl",
    "application/x-parquet": "parquet", "application/parquet": "parquet",
    "application/vnd.apache.parquet": "parquet",
}
DTYPES = {
    "Text": "str", "Integer": "int", "Float": "float", "Number": "float", "Boolean": "bool",
    "URL": "url", "Date": "date", "DateTime": "date", "ImageObject": "bytes",
    "AudioObject": "bytes", "VideoObject": "bytes",
}


@dataclass
class Imported:
    """The definition (a mapping, ready for validation) and what the user must know."""

    definition: dict[str, Any]
    unpinned: list[str] = field(default_factory=list)  # "key: why"
    notes: list[str] = field(default_factory=list)  # constructs left out of the typed data


def key_of(name: str, taken: set[str]) -> str:
    """A resource key or data field name (a plain file name) made from a Croissant name."""
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-") or "file"
    key = key if re.match(r"^[A-Za-z0-9_]", key) else f"f_{key}"
    unique, number = key, 2
    while unique in taken:
        unique, number = f"{key}_{number}", number + 1
    taken.add(unique)
    return unique


def field_of(name: str, taken: set[str]) -> str:
    """A field name of the typed data (a Python identifier: ``ds.parquet_files``)."""
    return key_of(re.sub(r"\W", "_", name), taken)


def to_definition(document: dict[str, Any], base: str, dataset_id: str,
                  lister: Any = None) -> Imported:
    """Build the definition of a normalised Croissant document read from ``base``.

    ``lister(repo, revision)`` lists a Hugging Face repository (see
    :func:`dmconf.huggingface.importer.list_repository`): ``(commit, [(path, size, sha256)])``.
    """
    result = Imported({})
    where = f"Croissant {base}"
    live = bool(document.get("isLiveDataset"))
    meta = _metadata(document, dataset_id)
    builder = _Builder(where, base, live, result, lister)
    for item in as_list(document.get("distribution")):
        if isinstance(item, dict):
            builder.add(item)
    builder.finish()
    data: dict[str, Any] = {}
    taken: set[str] = {"files", "type", "id"}
    for record_set in as_list(document.get("recordSet")):
        if isinstance(record_set, dict):
            name = field_of(str(record_set.get("name") or record_set.get("@id") or "records"),
                            taken)
            typed = builder.record_set(record_set)
            if typed is not None:
                data[name] = typed
    data["files"] = {"type": "generic", **builder.files}
    result.definition = {
        **meta, "resources": builder.resources, "type": "generic", "data": data,
    }
    if live:
        result.unpinned.insert(0, "the dataset is live (isLiveDataset): its files may change")
    return result


def _metadata(document: dict[str, Any], dataset_id: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"id": dataset_id}
    if isinstance(document.get("name"), str):
        meta["name"] = document["name"]
    meta["description"] = str(document.get("description") or "")
    homepage = document.get("url") or document.get("sameAs")
    if isinstance(homepage, list):
        homepage = homepage[0] if homepage else None
    if isinstance(homepage, str) and "://" in homepage:
        meta["homepage"] = homepage
    licence = spdx(document.get("license"))
    if licence:
        meta["license"] = licence
    citation = document.get("citeAs") or document.get("citation")
    if isinstance(citation, list):
        citation = citation[0] if citation else None
    if isinstance(citation, str) and citation.strip():
        meta["citation"] = _bibtex(citation.strip(), dataset_id, meta.get("name"))
    version = document.get("version")
    if isinstance(version, str | int | float) and str(version).strip():
        meta["version"] = str(version)
    keywords = [str(k).strip() for k in as_list(document.get("keywords")) if isinstance(k, str)]
    if keywords:
        meta["tags"] = [k.lower() for k in keywords if k.strip() and ":" not in k][:20]
    return meta


def _bibtex(text: str, dataset_id: str, name: str | None) -> str:
    """The citation as one BibTeX entry: as given when it is one, else wrapped in @misc."""
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if re.match(r"^@[A-Za-z]+\s*\{\s*[^,\s]+\s*,", text) and depth == 0 and text.endswith("}"):
        return text
    plain = " ".join(text.replace("{", "(").replace("}", ")").split())
    key = re.sub(r"[^A-Za-z0-9]+", "_", name or dataset_id).strip("_") or "dataset"
    title = (name or dataset_id).replace("{", "(").replace("}", ")")
    return f"@misc{{{key},\n  title = {{{title}}},\n  note = {{{plain}}}\n}}"


class _Builder:
    """Resources and file data from the ``distribution``; typed records from record sets."""

    def __init__(self, where: str, base: str, live: bool, result: Imported, lister: Any) -> None:
        self.where, self.base, self.live = where, base, live
        self.result, self.lister = result, lister
        self.resources: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}  # data entries of files, by key
        self.items: dict[str, dict[str, Any]] = {}  # distribution @id -> its item
        self.paths: dict[str, dict[str, Any]] = {}  # distribution @id -> data entry
        self.repos: dict[str, tuple[str, str]] = {}  # @id of a hub repository -> (repo, rev)
        self.keys: set[str] = set()
        self.names: set[str] = {"type", "id"}
        self.pending: list[dict[str, Any]] = []

    def _fail(self, item: dict[str, Any], message: str) -> DefinitionError:
        name = item.get("@id") or item.get("name")
        kind = "/".join(sorted(short_type(item.get("@type")))) or "item"
        return DefinitionError(f"{kind} {name!r}: {message}", path=self.where)

    def add(self, item: dict[str, Any]) -> None:
        ident = str(item.get("@id") or item.get("name") or "")
        self.items[ident] = item
        kinds = short_type(item.get("@type"))
        if "FileObject" in kinds and not item.get("containedIn"):
            self._file_object(ident, item)
        elif kinds & {"FileObject", "FileSet"}:
            self.pending.append(item)  # inside an archive or repository: after those
        else:
            raise self._fail(item, "unsupported construct in distribution (expected "
                             "cr:FileObject or cr:FileSet)")

    def _file_object(self, ident: str, item: dict[str, Any]) -> None:
        url = item.get("contentUrl")
        formats = {str(f).lower() for f in as_list(item.get("encodingFormat"))}
        if not isinstance(url, str) or not url:
            raise self._fail(item, "has no contentUrl")
        if "git+https" in formats:
            match = HUB_REPO.match(url)
            on_hub = (urlparse(url).hostname or "").endswith("huggingface.co") or url.startswith(
                _endpoint())
            if not match or not on_hub:
                raise self._fail(item, f"unsupported construct: a git repository ({url}) "
                                 "cannot be fetched; only Hugging Face dataset repositories can")
            self.repos[ident] = (match[1], unquote(match[2]) if match[2] else "main")
            return
        url = urljoin(self.base, url)
        scheme = urlparse(url).scheme
        if scheme not in ("http", "https", "file", "hf"):
            raise self._fail(item, f"unsupported construct: URL scheme of {url} (dmconf "
                             "fetches http, https, hf and file URLs)")
        if scheme == "file" and not self.base.startswith("file://"):
            # metadata from the network may not make prepare copy this machine's files
            raise self._fail(item, f"{url}: metadata read from {self.base} may not name local "
                             "files")
        key = key_of(str(item.get("name") or ident), self.keys)
        resource: dict[str, Any] = {"url": url}
        sha256 = item.get("sha256")
        md5 = item.get("md5")
        if isinstance(sha256, str) and SHA256.match(sha256) and not self.live:
            resource["sha256"] = sha256.lower()
        elif isinstance(md5, str) and re.fullmatch(r"[0-9a-fA-F]{32}", md5) and not self.live:
            resource["md5"] = md5.lower()  # checked; the sha256 is recorded at the download
        else:
            why = "isLiveDataset" if self.live else "md5 only" if item.get("md5") else "no sha256"
            self.result.unpinned.append(f"{key}: {why}")
        size = BYTES.match(str(item.get("contentSize") or ""))
        if size and not self.live:
            resource["size"] = int(size[1])
        resource["unpack"] = _unpack(url, formats)
        self.resources[key] = resource
        kind = "folder" if resource["unpack"] in ("untar", "unzip") else "file"
        self.paths[ident] = {"type": kind, "path": key}
        self.files[field_of(key, self.names)] = self.paths[ident]

    def finish(self) -> None:
        for item in self.pending:
            ident = str(item.get("@id") or item.get("name") or "")
            container = item.get("containedIn")
            if isinstance(container, dict) and container.get("transform"):
                raise self._fail(item, "unsupported construct: a file set listed inside another "
                                 "file (containedIn with a transform)")
            parents = ref(container)
            includes = [str(p) for p in as_list(item.get("includes"))] or (
                [str(item["contentUrl"])] if isinstance(item.get("contentUrl"), str) else [])
            if not parents:
                self._local_files(ident, item, includes)
                continue
            if any(p in self.repos for p in parents):
                self._hub_files(ident, item, [self.repos[p] for p in parents if p in self.repos],
                                includes)
                continue
            folders = []
            for parent in parents:
                entry = self.paths.get(parent)
                if entry is None or entry["type"] != "folder":
                    raise self._fail(item, f"containedIn {parent!r}, which is not an archive "
                                     "of this dataset")
                folders.append(entry["path"])
            kinds = short_type(item.get("@type"))
            if "FileObject" in kinds:
                entry = {"type": "file", "path": f"{folders[0]}/{includes[0]}"}
            else:
                entry = {"type": "file-set", "path": folders[0], "includes": includes}
                if len(folders) > 1:  # one file set across archives: one entry per archive
                    self.result.notes.append(f"{ident}: read from {folders[0]} only")
            self.paths[ident] = entry
            self.files[field_of(str(item.get("name") or ident), self.names)] = entry

    def _local_files(self, ident: str, item: dict[str, Any], includes: list[str]) -> None:
        """A file set beside a local metadata file: each matching file is a file:// resource."""
        from pathlib import Path
        from urllib.request import url2pathname

        if not self.base.startswith("file://"):
            raise self._fail(item, "unsupported construct: a file set with no containedIn "
                             "(files beside metadata read from a URL cannot be listed)")
        folder = Path(url2pathname(urlparse(self.base).path)).parent
        found = sorted({p for pattern in includes for p in folder.glob(pattern) if p.is_file()
                        and p.resolve().is_relative_to(folder.resolve())})
        if not found:
            raise self._fail(item, f"matches no file beside the metadata ({includes})")
        keys = []
        for path in found:
            key = key_of(path.relative_to(folder).as_posix().replace("/", "_"), self.keys)
            self.resources[key] = {"url": path.as_uri()}
            self.result.unpinned.append(f"{key}: a local file without sha256")
            keys.append(key)
        self.paths[ident] = {"type": "records-files", "paths": keys}

    def _hub_files(self, ident: str, item: dict[str, Any], repos: list[tuple[str, str]],
                   includes: list[str]) -> None:
        if self.lister is None:
            raise self._fail(item, "lists files of a Hugging Face repository; import it with "
                             "network access to the hub")
        repo, revision = repos[0]
        commit, listing = self.lister(repo, revision)
        paths = []
        for path, size, sha256 in listing:
            if not any(fnmatch.fnmatchcase(path, pattern) for pattern in includes):
                continue
            key = key_of(path.replace("/", "_"), self.keys)
            resource: dict[str, Any] = {"url": f"hf://datasets/{repo}/{path}", "revision": commit}
            if sha256:
                resource["sha256"] = sha256
            else:
                self.result.unpinned.append(f"{key}: the hub gives no sha256 (not an LFS file)")
            if size is not None:
                resource["size"] = size
            self.resources[key] = resource
            paths.append(key)
        if not paths:
            raise self._fail(item, f"matches no file of {repo} at {revision} ({includes})")
        self.paths[ident] = {"type": "records-files", "paths": paths}  # for record sets
        formats = {str(f) for f in as_list(item.get("encodingFormat"))}
        if {FORMATS.get(f) for f in formats} == {"parquet"}:
            name = field_of(str(item.get("name") or ident), self.names)
            self.files[name] = {"type": "parquet", "paths": paths}

    def record_set(self, record_set: dict[str, Any]) -> dict[str, Any] | None:
        """The ``records`` data of a record set, or None (noted) when it cannot be typed."""
        name = str(record_set.get("name") or record_set.get("@id"))
        fields: dict[str, dict[str, Any]] = {}
        sources: set[str] = set()
        prefix = f"{record_set.get('@id') or name}/"
        inline = record_set.get("data")
        for item in as_list(record_set.get("field")):
            if not isinstance(item, dict):
                continue
            full = str(item.get("name") or item.get("@id") or "")
            short = full[len(prefix):] if full.startswith(prefix) else full.rsplit("/", 1)[-1]
            spec, source, problem = _field(item)
            if problem and inline is None:
                self.result.notes.append(f"record set {name!r}, field {short!r}: {problem}")
                continue
            if inline is not None:  # inline rows are keyed by the field's full name
                spec["column"] = full
            fields[field_of(short, set(fields))] = spec
            if source:
                sources.add(source)
        if inline is not None:
            rows = [r for r in as_list(inline) if isinstance(r, dict)]
            return {"type": "records", "rows": rows, "fields": fields}
        if not fields:
            self.result.notes.append(f"record set {name!r}: no field dmconf can read; left out")
            return None
        if len(sources) != 1:
            self.result.notes.append(
                f"record set {name!r}: fields from {len(sources)} sources (a join); left out")
            return None
        source = sources.pop()
        entry, item = self.paths.get(source), self.items.get(source, {})
        encodings = map(str, as_list(item.get("encodingFormat")))
        formats = [FORMATS[f] for f in encodings if f in FORMATS]
        if entry is None or not formats:
            self.result.notes.append(
                f"record set {name!r}: its files ({source}) are not CSV, TSV, JSON or Parquet; "
                "left out (the files are under data.files)")
            return None
        records: dict[str, Any] = {"type": "records", "format": formats[0], "fields": fields}
        if entry["type"] == "file-set":
            records["file_set"] = entry
        elif entry["type"] == "records-files":
            records["paths"] = entry["paths"]
        else:
            records["paths"] = [entry["path"]]
        return records


def _field(item: dict[str, Any]) -> tuple[dict[str, Any], str | None, str | None]:
    """(field spec, source id, problem) of one Croissant field."""
    kinds = sorted(short_type(item.get("dataType")))
    dtype = next((DTYPES[t] for t in kinds if t in DTYPES), "str")
    spec: dict[str, Any] = {"dtype": dtype}
    if item.get("subField"):
        return spec, None, "nested fields (subField) are not supported"
    source = item.get("source")
    if not isinstance(source, dict):
        return spec, None, "no source"
    origin = ref(source.get("fileObject")) or ref(source.get("fileSet"))
    if not origin:
        return spec, None, "its source is another record set (not supported)"
    given = source.get("extract")
    extract: dict[str, Any] = given if isinstance(given, dict) else {}
    if "column" in extract:
        spec["column"] = str(extract["column"])
    elif "jsonPath" in extract and re.match(r"^\$\.[A-Za-z0-9_]+$", str(extract["jsonPath"])):
        spec["column"] = str(extract["jsonPath"])[2:]
    elif extract.get("fileProperty") in ("filename", "fullpath"):
        spec["file_property"] = extract["fileProperty"]
    else:
        return spec, None, f"extract {sorted(extract) or 'nothing'} is not supported"
    for transform in as_list(source.get("transform")):
        if not isinstance(transform, dict):
            continue
        if set(transform) == {"regex"}:
            spec["regex"] = str(transform["regex"])
        elif set(transform) == {"jsonPath"} and re.match(r"^[A-Za-z0-9_]+$",
                                                          str(transform["jsonPath"])):
            spec["key"] = str(transform["jsonPath"])
        else:
            return spec, None, f"transform {sorted(transform)} is not supported"
    return spec, origin[0], None


def _unpack(url: str, formats: set[str]) -> str:
    path = urlparse(url).path.lower()
    if "application/zip" in formats or path.endswith(".zip"):
        return "unzip"
    if formats & {"application/x-tar", "application/x-gtar"} or path.endswith(
            (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        return "untar"
    return "none"


def _endpoint() -> str:
    from dmconf.huggingface.hub import endpoint

    return endpoint()
