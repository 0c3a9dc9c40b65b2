"""``croissant: URL`` in a definition: the resources, type and data it leaves out, read from the
Croissant metadata when the dataset is prepared (and cached, so a prepared dataset needs no
network: ``$DMCONF_CACHE/croissant/``)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from dmconf.croissant.reader import Imported
from dmconf.definition import DatasetDefinition
from dmconf.settings import Settings

__all__ = ["imported_definition", "resolve_croissant"]

log = logging.getLogger("dmconf")


def resolve_croissant(definition: DatasetDefinition, settings: Settings) -> DatasetDefinition:
    """The definition completed from its ``croissant:`` metadata; the definition's own fields
    win (its resources are added to, or replace, the imported ones of the same key)."""
    if definition.croissant is None:
        return definition
    kept = _cache_file(definition.croissant)
    try:
        imported = Imported(**json.loads(kept.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        imported = imported_definition(definition.croissant, definition.id,
                                       offline=settings.offline)
        _keep(kept, imported)
    for line in imported.unpinned:
        log.warning("%s: unpinned (%s): %s", definition.id, definition.croissant, line)
    values = {**imported.definition, "id": definition.id}
    # A Hydra node holds every field, unset ones as None or empty: only given values win.
    own = {k: v for k, v in definition.model_dump(exclude_unset=True).items()
           if v not in (None, "", [], {})}
    values.update({k: v for k, v in own.items() if k not in ("resources", "croissant")})
    values["resources"] = {**values.get("resources", {}), **own.get("resources", {})}
    return DatasetDefinition.from_mapping(values, source=definition.source)


def _cache_file(source: str) -> Path:
    """Where the conversion of ``source`` is kept: by URL (a local file: by path and version),
    so the hub listing it needed and the commit ``main`` was at are read once."""
    from dmconf.entrypoints import index_file

    key = source
    if "://" not in source or source.startswith("file://"):
        path = Path(url2pathname(urlparse(source).path) if "://" in source else source)
        with contextlib.suppress(OSError):
            info = path.stat()
            key = f"{path.resolve()}:{info.st_size}:{info.st_mtime_ns}"
    name = hashlib.sha256(key.encode()).hexdigest()
    return index_file().parent / "croissant" / f"{name}.json"


def _keep(path: Path, imported: Imported) -> None:
    with contextlib.suppress(OSError):  # a read-only cache costs a new conversion, no more
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(dataclasses.asdict(imported)), encoding="utf-8")
        os.replace(temporary, path)


def imported_definition(source: str, dataset_id: str, *, offline: bool = False) -> Imported:
    """Read Croissant metadata (path or URL) and convert it (see :mod:`.reader`)."""
    from dmconf.croissant.document import load_document
    from dmconf.croissant.reader import to_definition
    from dmconf.huggingface.importer import list_repository

    document, base = load_document(source, offline=offline)
    return to_definition(document, base, dataset_id, lister=list_repository)
