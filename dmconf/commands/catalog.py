"""``dmconf catalog``: where the catalogue's datasets come from, or (``--html``) its web site."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["register"]

log = logging.getLogger("dmconf")


def register(commands: Any) -> None:
    """Add the command to the CLI's subparsers."""
    catalog = commands.add_parser(
        "catalog", help="the catalogue's sources and their datasets, or --html: its web site")
    catalog.add_argument(
        "--html", metavar="OUT_DIR", type=Path,
        help="write a static site of the catalogue into OUT_DIR (an empty or new folder, or "
             "one written by this command, which is replaced)")
    catalog.add_argument(
        "--root", metavar="FOLDER", type=Path, action="append", default=[],
        help="also read definitions from this folder, before the others (repeatable)")
    catalog.add_argument(
        "--only-roots", action="store_true",
        help="only the datasets of the --root folders (not plugins nor the bundled catalogue)")
    catalog.add_argument(
        "--local", action="store_true",
        help="with --html: mark the datasets prepared in this data folder, with their disk use")
    catalog.set_defaults(func=_catalog)


def _catalog(args: argparse.Namespace) -> None:
    from dmconf.catalog import USER, Catalog, Root
    from dmconf.errors import SettingsError
    from dmconf.settings import load_settings

    settings = load_settings()
    for root in args.root:
        if not root.is_dir():
            raise SettingsError(f"--root {root}: not a folder of definitions")
    if args.only_roots and not args.root:
        raise SettingsError("--only-roots: name the folders with --root")
    if args.local and not args.html:
        raise SettingsError("--local marks datasets on the site: use it with --html OUT_DIR")
    roots = [p.expanduser().absolute() for p in args.root]
    if args.only_roots:
        catalog = Catalog([Root(p, "catalogue root (--root)", USER) for p in roots])
    else:  # the --root folders come first, as DMCONF_CATALOG's do
        settings = settings.model_copy(update={"catalogs": (*roots, *settings.catalogs)})
        catalog = Catalog.from_settings(settings)
    if args.html is None:
        _summary(catalog)
        return
    from dmconf.site import build_site

    built = build_site(args.html, catalog, settings, local=args.local)
    skipped = f"; {len(built.skipped)} skipped (see above)" if built.skipped else ""
    log.info("wrote %d dataset pages%s", built.datasets, skipped)
    sys.stdout.write(f"{built.path / 'index.html'}\n")


def _summary(catalog: Any) -> None:
    """One line per kind of place datasets come from, with how many it gives."""
    counts = Counter(entry.origin for entry in catalog.entries.values())
    for origin, count in counts.most_common():
        sys.stdout.write(f"{count:>6}  {origin}\n")
    sys.stdout.write(f"{sum(counts.values()):>6}  datasets in all\n")
