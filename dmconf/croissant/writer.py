"""A dmconf definition as Croissant 1.1 JSON-LD (``dmconf export croissant ID``).

Each resource is a ``cr:FileObject`` (its URL, size, sha256 and encoding format); a path of the
typed data inside an unpacked archive is a ``cr:FileSet`` contained in that archive; a ``table``,
``records`` or ``parquet`` object with known columns is a ``cr:RecordSet`` of typed fields. The
metadata (name, description, homepage, licence, citation, version, keywords) maps to the schema.org
properties Croissant uses. A definition with a resource that no sha256 pins is exported as a live
dataset (``isLiveDataset``), which is what Croissant allows for files without a checksum.
"""

from __future__ import annotations

import re
from typing import Any

from dmconf.definition import DatasetDefinition

__all__ = ["CONTEXT", "to_croissant"]

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
# The standard Croissant 1.1 context (as in the specification's examples).
CONTEXT: dict[str, Any] = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs",
    "column": "cr:column", "conformsTo": "dct:conformsTo", "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract",
    "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key",
    "md5": "cr:md5", "parentField": "cr:parentField", "path": "cr:path",
    "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex",
    "repeated": "cr:repeated", "replace": "cr:replace", "sc": "https://schema.org/",
    "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField",
    "transform": "cr:transform", "equivalentProperty": "cr:equivalentProperty",
    "samplingRate": "cr:samplingRate",
}
ENCODINGS = [
    ((".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"), "application/x-tar"),
    ((".zip",), "application/zip"), ((".csv", ".csv.gz"), "text/csv"),
    ((".tsv", ".tsv.gz"), "text/tab-separated-values"), ((".parquet",), "application/x-parquet"),
    ((".jsonl", ".jsonl.gz"), "application/jsonlines"), ((".json",), "application/json"),
    ((".txt", ".txt.gz"), "text/plain"), ((".wav",), "audio/wav"),
    ((".jpg", ".jpeg"), "image/jpeg"),
    ((".png",), "image/png"), ((".gz",), "application/gzip"), ((".bz2",), "application/x-bzip2"),
    ((".xz",), "application/x-xz"),
]
DTYPES = {"str": "sc:Text", "int": "sc:Integer", "int64": "sc:Integer", "int32": "sc:Integer",
          "float": "sc:Float", "float64": "sc:Float", "float32": "sc:Float",
          "bool": "sc:Boolean", "url": "sc:URL", "date": "sc:Date", "bytes": "sc:Text",
          "any": "sc:Text"}


def encoding_format(name: str, unpack: str = "none") -> str:
    """The MIME type Croissant records for a file, from its name (and how dmconf unpacks it)."""
    if unpack == "untar":
        return "application/x-tar"
    if unpack == "unzip":
        return "application/zip"
    lower = name.lower().split("?", 1)[0]
    for suffixes, mime in ENCODINGS:
        if lower.endswith(suffixes):
            return mime
    return "application/octet-stream"


def _name(text: str) -> str:
    """A Croissant name: letters, digits and ``_-.``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "item"


def to_croissant(definition: DatasetDefinition) -> dict[str, Any]:
    """The Croissant 1.1 JSON-LD document of a definition (a JSON-ready dict)."""
    document: dict[str, Any] = {
        "@context": CONTEXT, "@type": "sc:Dataset", "name": _name(definition.id),
        "description": (definition.description or definition.title).strip() or definition.id,
        "conformsTo": CONFORMS_TO,
        "url": definition.homepage or f"https://pypi.org/project/dmconf/#{definition.id}",
    }
    if definition.name:
        document["alternateName"] = definition.name
    if definition.license:
        document["license"] = _license_url(definition.license)
    if definition.citation:
        document["citeAs"] = definition.citation
    if definition.version:
        document["version"] = definition.version
    keywords = [*definition.tags, *definition.tasks]
    if keywords:
        document["keywords"] = keywords
    if definition.unpinned:
        document["isLiveDataset"] = True
    distribution: list[dict[str, Any]] = []
    for key, resource in definition.resources.items():
        item: dict[str, Any] = {
            "@type": "cr:FileObject", "@id": key, "name": key, "contentUrl": resource.origin,
            "encodingFormat": encoding_format(resource.url or resource.local_name, resource.unpack),
        }
        if resource.size is not None:
            item["contentSize"] = f"{resource.size} B"
        if resource.sha256:
            item["sha256"] = resource.sha256
        elif resource.md5:
            item["md5"] = resource.md5
        distribution.append(item)
    record_sets: list[dict[str, Any]] = []
    _walk(definition.data, "", definition, distribution, record_sets)
    document["distribution"] = distribution
    if record_sets:
        document["recordSet"] = record_sets
    return document


def _license_url(expression: str) -> str | list[str]:
    ids = [p for p in re.split(r"\s+(?:AND|OR|WITH)\s+|[()]", expression) if p.strip()]
    urls = [f"https://spdx.org/licenses/{i.strip()}.html" for i in ids
            if not i.startswith("LicenseRef-")]
    refs = [i for i in ids if i.startswith("LicenseRef-")]
    found = urls + refs
    return found[0] if len(found) == 1 else found


def _file_source(path: str, definition: DatasetDefinition,
                 distribution: list[dict[str, Any]], name: str) -> str | None:
    """The @id of the FileObject or FileSet holding ``path`` (adding a FileSet when needed)."""
    key, _, inner = path.partition("/")
    resource = definition.resources.get(key)
    if resource is None:
        return None
    if not inner:
        return key
    ident = f"{name}-files"
    if any(d["@id"] == ident for d in distribution):
        return ident
    distribution.append({
        "@type": "cr:FileSet", "@id": ident, "name": ident, "containedIn": {"@id": key},
        "includes": inner, "encodingFormat": encoding_format(inner),
    })
    return ident


def _walk(node: Any, where: str, definition: DatasetDefinition,
          distribution: list[dict[str, Any]], record_sets: list[dict[str, Any]]) -> None:
    """Record sets for the typed parts whose columns are known; FileSets for archive members."""
    if not isinstance(node, dict):
        return
    name = _name(where or "data")
    taken = {d["@id"] for d in distribution} | {r["@id"] for r in record_sets}
    while name in taken:  # @ids are one namespace: a record set may not reuse a file's
        name = f"{name}_records"
    columns = _columns(node)
    paths = node.get("paths") or ([node["path"]] if isinstance(node.get("path"), str) else [])
    if columns and paths and isinstance(paths[0], str):
        source = _file_source(paths[0], definition, distribution, name)
        if source is not None:
            kind = "fileSet" if source != paths[0].partition("/")[0] else "fileObject"
            record_sets.append({
                "@type": "cr:RecordSet", "@id": name, "name": name,
                "field": [{
                    "@type": "cr:Field", "@id": f"{name}/{_name(column)}",
                    "name": f"{name}/{_name(column)}", "dataType": DTYPES.get(dtype, "sc:Text"),
                    "source": {kind: {"@id": source}, "extract": {"column": column}},
                } for column, dtype in columns.items()],
            })
            return
    elif paths and isinstance(paths[0], str) and "/" in paths[0]:
        _file_source(paths[0], definition, distribution, name)
    for child, value in node.items():
        if isinstance(value, dict):
            _walk(value, f"{where}_{child}" if where else child, definition, distribution,
                  record_sets)


def _columns(node: dict[str, Any]) -> dict[str, str]:
    """Column name to dtype of a tabular node, when the definition names its columns."""
    kind = node.get("type")
    if kind == "records" and isinstance(node.get("fields"), dict) and not node.get("rows"):
        return {str(f.get("column") or n): str(f.get("dtype", "str"))
                for n, f in node["fields"].items()
                if isinstance(f, dict) and not f.get("file_property")}
    if kind in ("table", "text-table", "csv"):
        given = node.get("dtypes")
        dtypes: dict[str, Any] = given if isinstance(given, dict) else {}
        names = node.get("columns") or list(dtypes)
        return {str(c): str(dtypes.get(c, "str")) for c in names}
    if kind == "parquet" and node.get("columns"):
        return {str(c): "str" for c in node["columns"]}
    return {}
