"""``croissant: URL`` in a definition: the resources, type and data it leaves out, read from the
Croissant metadata when the dataset is prepared (and cached, so a prepared dataset needs no
network: ``$DMCONF_CACHE/croissant/``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from dmconf.definition import DatasetDefinition
from dmconf.settings import Settings

if TYPE_CHECKING:
    from dmconf.croissant.reader import Imported

__all__ = ["imported_definition", "resolve_croissant"]

log = logging.getLogger("dmconf")


def resolve_croissant(definition: DatasetDefinition, settings: Settings) -> DatasetDefinition:
    """The definition completed from its ``croissant:`` metadata; the definition's own fields
    win (its resources are added to, or replace, the imported ones of the same key)."""
    if definition.croissant is None:
        return definition
    from dmconf.entrypoints import index_file

    imported = imported_definition(
        definition.croissant, definition.id, cache=index_file().parent / "croissant",
        offline=settings.offline)
    for line in imported.unpinned:
        log.warning("%s: unpinned (%s): %s", definition.id, definition.croissant, line)
    values = dict(imported.definition)
    # A Hydra node holds every field, unset ones as None or empty: only given values win.
    own = {k: v for k, v in definition.model_dump(exclude_unset=True).items()
           if v not in (None, "", [], {})}
    values.update({k: v for k, v in own.items() if k not in ("resources", "croissant")})
    values["resources"] = {**values.get("resources", {}), **own.get("resources", {})}
    return DatasetDefinition.from_mapping(values, source=definition.source)


def imported_definition(source: str, dataset_id: str, *, cache: Path | None = None,
                        offline: bool = False) -> Imported:
    """Read Croissant metadata (path or URL) and convert it (see :mod:`.reader`)."""
    from dmconf.croissant.document import load_document
    from dmconf.croissant.reader import to_definition
    from dmconf.huggingface.importer import list_repository

    document, base = load_document(source, cache=cache, offline=offline)
    return to_definition(document, base, dataset_id, lister=list_repository)
