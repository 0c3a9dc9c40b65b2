"""``dmconf paths ID [PART]``: where the items of a prepared dataset are, for other engines."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the command to the CLI's subparsers."""
    paths = commands.add_parser(
        "paths", help="absolute paths (and file:// URIs) of a dataset's items, prepared first")
    paths.add_argument("id", metavar="ID", help="a dataset id, ID@VERSION:VARIANT accepted")
    paths.add_argument("part", nargs="?", metavar="PART",
                       help="only the items below this part (train, train.images)")
    paths.add_argument("--json", action="store_true",
                       help="id, folder and every item's part, type, kind, path, uri, bytes")
    paths.set_defaults(func=_paths)


def _paths(args: argparse.Namespace) -> None:
    from dmconf.catalog import Catalog
    from dmconf.cli import _out, logs_above_bars
    from dmconf.engines.paths import item_paths
    from dmconf.preparation import prepare
    from dmconf.settings import load_settings

    settings = load_settings(progress=False) if args.quiet else load_settings()
    definition = Catalog.from_settings(settings).find(args.id)
    with logs_above_bars(settings):
        typed = prepare(definition, settings=settings)
    items = item_paths(typed, args.part, dataset_id=definition.id)
    if not args.json:
        _out("\n".join(item.path for item in items))
        return
    folder = Path(os.path.abspath(settings.dataset_folder(definition)))
    _out(json.dumps({
        "id": definition.id, "part": args.part, "folder": str(folder),
        "folder_uri": folder.as_uri(), "items": [item.model_dump() for item in items],
    }, indent=2))
