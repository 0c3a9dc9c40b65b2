"""What the site shows of one dataset: its page's content and its row in the search index.

Everything here is data for the templates (which escape it) and for the index (which the page's
script puts into the document as text, never as HTML). Links are made only of ``http``,
``https`` and ``ftp`` URLs: a definition is input, and a ``javascript:`` home page must stay text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dmconf.progress import human_size

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition
    from dmconf.site.structure import Node

__all__ = [
    "DOMAINS", "Local", "domain_of", "index_row", "link", "page_context", "page_name", "snippets",
]

# The domains of dmconf.data (one module each); a dataset's domain is the first of its tags that
# names one, else the domain module of its type, else "other".
DOMAINS = ("image", "text", "tabular", "audio", "ir", "embeddings", "tensor")
TAG_DOMAINS = {"ir_datasets": "ir"}  # ir_datasets ids (dmconf.compat.irds) are all IR
LINKED_SCHEMES = ("http", "https", "ftp")
SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Local:
    """A dataset's state in this machine's data folder (``--local``)."""

    prepared: bool
    size: int | None  # bytes its folder uses
    store: str | None = None  # the read-only store it is prepared in (None: the data folder)


def link(url: str | None) -> str | None:
    """``url`` if it is safe to make a link of (http, https, ftp), else ``None``."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in LINKED_SCHEMES and url.isprintable() else None


def page_name(dataset_id: str, taken: set[str]) -> str:
    """The file name of a dataset's page: the id, made safe and unique where needed.

    Ids are file names already (:data:`dmconf.ids.ID_PATTERN`); anything else (a newer id
    syntax), and ids differing only in case (one file on macOS and Windows), get a short hash.
    """
    safe = SAFE_NAME.sub("_", dataset_id)
    if safe != dataset_id or safe.lower() in taken:
        safe = f"{safe}-{hashlib.sha256(dataset_id.encode()).hexdigest()[:10]}"
    taken.add(safe.lower())
    return f"{safe}.html"


def domain_of(definition: DatasetDefinition) -> str:
    for tag in definition.tags:
        name = TAG_DOMAINS.get(tag.lower(), tag.lower())
        if name in DOMAINS:
            return name
    from dmconf.data.registry import SHORT_NAMES

    kind = definition.type or ""  # a Croissant definition may leave its type to the metadata
    module = SHORT_NAMES.get(kind, kind).split(":")[0]
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["dmconf", "data"] and parts[2] in DOMAINS:
        return parts[2]
    return "other"


def snippets(dataset_id: str, hydra_group: str | None) -> list[dict[str, str]]:
    """Copy-ready ways to use the dataset: CLI, Python, Hydra override, experimaestro."""
    found = [
        {"key": "cli", "label": "Command line", "text": f"dmconf prepare {dataset_id}"},
        {"key": "python", "label": "Python",
         "text": f'from dmconf import prepare_dataset\n\nds = prepare_dataset("{dataset_id}")'},
    ]
    if hydra_group:
        found.append({"key": "hydra", "label": "Hydra override",
                      "text": f"{hydra_group}={dataset_id}"})
    found.append({"key": "xpm", "label": "experimaestro parameter", "text":
                  f'from dmconf.xpm import Dataset\n\ndataset = Dataset.C(id="{dataset_id}")'})
    return found


def index_row(definition: DatasetDefinition, page: str, local: Local | None) -> dict[str, Any]:
    """The dataset's entry in ``search-index.json`` (short keys: 10,000 of them are loaded)."""
    # The whole description: the page searches what `dmconf search` searches.
    description = " ".join(definition.description.split())
    row: dict[str, Any] = {
        "i": definition.id, "n": definition.title, "d": description, "p": page,
        "g": domain_of(definition), "t": definition.tags, "k": definition.tasks,
        "l": definition.license or "", "s": definition.download_size,
    }
    if local is not None:
        row["u"] = local.size if local.prepared else None
    return row


def page_context(
    definition: DatasetDefinition, *, origin: str, structure: Node, hydra_group: str | None,
    local: Local | None,
) -> dict[str, Any]:
    """What ``dataset.html`` shows."""
    resources = [
        {
            "key": key, "url": r.url, "href": link(r.url), "manual": r.manual,
            "filename": r.filename,
            "mirrors": [{"url": m, "href": link(m)} for m in r.mirrors if m != r.url],
            "size": _size(r.size), "sha256": r.sha256, "md5": r.md5, "unpack": r.unpack,
        }
        for key, r in definition.resources.items()
    ]
    license_ = definition.license or ""
    return {
        "d": definition,
        "domain": domain_of(definition),
        "homepage": definition.homepage, "homepage_href": link(definition.homepage),
        "terms_href": link(definition.terms),
        "license_href": _spdx_link(license_),
        "paragraphs": [" ".join(p.split()) for p in re.split(r"\n\s*\n", definition.description)
                       if p.strip()],
        "download": _size(definition.download_size),
        "disk": _size(definition.disk_size),
        "origin": origin,
        "resources": resources,
        "snippets": snippets(definition.id, hydra_group),
        "structure": structure,
        "local": local,
        "local_size": _size(local.size) if local is not None else None,
    }


def _size(size: int | None) -> str | None:
    if size is None:
        return None
    return human_size(size) if size < 1024 else f"{human_size(size)} ({size:,} bytes)"


def _spdx_link(expression: str) -> str | None:
    """SPDX's page of a single listed licence id; expressions and LicenseRef-s get none."""
    if not expression or " " in expression or expression.startswith("LicenseRef-"):
        return None
    if not re.fullmatch(r"[A-Za-z0-9.+-]+", expression):
        return None
    return f"https://spdx.org/licenses/{expression}.html"
