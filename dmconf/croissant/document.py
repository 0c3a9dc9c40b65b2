"""Reading a Croissant document: from a path or URL, with its JSON-LD prefixes removed.

Croissant files are JSON-LD in compact form under the standard context, so their keys are plain
names (``contentUrl``) or prefixed ones (``cr:includes``, ``sc:name``). The reader works on the
compact form with prefixes dropped rather than expanding the JSON-LD (which would need a JSON-LD
processor and, for remote contexts, the network): every published Croissant uses the standard
context, which maps those names one to one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from dmconf.errors import DefinitionError, DownloadError

__all__ = ["as_list", "load_document", "normalise", "ref", "short_type"]

MAX_BYTES = 64 << 20  # a Croissant file is metadata: more than this is not one
PREFIXES = ("cr:", "sc:", "schema:", "dct:", "rai:")


def _strip(name: str) -> str:
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def normalise(value: Any) -> Any:
    """The document with ``cr:``/``sc:``/``dct:`` key prefixes removed (``@context`` dropped)."""
    if isinstance(value, dict):
        return {_strip(k): normalise(v) for k, v in value.items() if k != "@context"}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def short_type(value: Any) -> set[str]:
    """``{"FileObject"}`` for ``cr:FileObject``, ``sc:FileObject`` or a full IRI."""
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in as_list(value)}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def ref(value: Any) -> list[str]:
    """The ids a reference names: ``{"@id": "x"}``, ``"x"`` or a list of them."""
    ids = []
    for item in as_list(value):
        if isinstance(item, dict) and isinstance(item.get("@id"), str):
            ids.append(item["@id"])
        elif isinstance(item, str):
            ids.append(item)
    return ids


def load_document(source: str, *, offline: bool = False,
                  timeout: tuple[float, float] = (10, 60)) -> tuple[dict[str, Any], str]:
    """The normalised document and its base URL (where relative ``contentUrl``\\ s point).

    ``source`` is a path, a ``file://`` URL or an http(s) URL.
    """
    if "://" not in source or source.startswith("file://"):
        path = Path(url2pathname(urlparse(source).path) if "://" in source else source)
        try:
            with open(path, "rb") as stream:
                text = stream.read(MAX_BYTES + 1)
        except OSError as exc:
            raise DefinitionError(f"cannot be read: {exc.strerror}", path=str(path)) from None
        return _parse(text, str(path)), path.resolve().as_uri()
    if not source.startswith(("http://", "https://")):
        raise DefinitionError(f"{source}: Croissant metadata is read from a path or an http(s) URL")
    if offline:
        raise DownloadError(
            f"{source}: the Croissant metadata is not cached and DMCONF_OFFLINE forbids the "
            "network; prepare the dataset once where the network is reachable", url=source)
    return _parse(_download(source, timeout), source), source


def _download(url: str, timeout: tuple[float, float]) -> bytes:
    import requests

    from dmconf.fetch.http import HEADERS

    try:
        with requests.get(url, headers=HEADERS, timeout=timeout, stream=True) as response:
            if response.status_code >= 400:
                raise DownloadError(
                    f"{url}: the server answered HTTP {response.status_code}", url=url,
                    status=response.status_code)
            body = bytearray()
            for chunk in response.iter_content(1 << 20):
                body += chunk
                if len(body) > MAX_BYTES:
                    break
    except requests.RequestException as exc:
        raise DownloadError(f"{url}: {exc}", url=url) from None
    return bytes(body)


def _parse(text: bytes, where: str) -> dict[str, Any]:
    if len(text) > MAX_BYTES:
        raise DefinitionError(f"is larger than {MAX_BYTES >> 20} MiB: not Croissant metadata",
                              path=where)
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise DefinitionError(f"is not JSON ({exc})", path=where) from None
    document = normalise(raw)
    if not isinstance(document, dict) or "Dataset" not in short_type(document.get("@type")):
        raise DefinitionError("is not Croissant metadata (no @type sc:Dataset)", path=where)
    return document
