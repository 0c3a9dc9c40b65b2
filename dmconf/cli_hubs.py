"""``dmconf import croissant|hf`` and ``dmconf export croissant``: datasets from and to the hubs.

An import writes a definition (to stdout, or into a catalogue root with ``--out``) after
validating it and its typed data; what no checksum pins is listed on stderr and in a comment at
the top of the file, and ``prepare`` prints the values to pin.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_commands"]

log = logging.getLogger("dmconf")


def add_commands(commands: Any) -> None:
    """Add ``import`` and ``export`` to the CLI's subcommands."""
    imports = commands.add_parser("import", help="write a definition from Croissant or the hub")
    kinds = imports.add_subparsers(dest="kind", required=True, metavar="KIND")
    croissant = kinds.add_parser("croissant", help="from Croissant metadata (a file or URL)")
    croissant.add_argument("source", metavar="FILE_OR_URL")
    hub = kinds.add_parser("hf", help="from a Hugging Face dataset repository")
    hub.add_argument("repo", metavar="OWNER/NAME")
    hub.add_argument("--revision", default="main", help="branch, tag or commit (default main)")
    for parser in (croissant, hub):
        parser.add_argument("--id", help="the dataset id (default: derived from the source)")
        parser.add_argument("--out", type=Path, metavar="ROOT",
                            help="write ROOT/<id path>.yaml (default: print the YAML)")
        parser.add_argument("--force", action="store_true",
                            help="replace a definition already at that place")
        parser.set_defaults(func=_import)
    exports = commands.add_parser("export", help="write a dataset's metadata in another format")
    formats = exports.add_subparsers(dest="format", required=True, metavar="FORMAT")
    out = formats.add_parser("croissant", help="Croissant 1.1 JSON-LD")
    out.add_argument("id")
    out.add_argument("--out", type=Path, metavar="FILE", help="write FILE (default: stdout)")
    out.set_defaults(func=_export)


def _derived_id(source: str, name: str | None, homepage: str | None) -> str:
    from urllib.parse import urlparse

    host = urlparse(homepage or source).hostname or "local"
    parts = [p for p in reversed(host.split(".")) if p and p != "www"]
    tail = re.sub(r"[^A-Za-z0-9_-]+", "-", (name or Path(source).stem)).strip("-").lower()
    return ".".join([*parts, tail or "dataset"])


def _import(args: argparse.Namespace) -> None:
    from dmconf.croissant.reader import Imported
    from dmconf.definition import DatasetDefinition
    from dmconf.errors import DefinitionError
    from dmconf.settings import load_settings

    settings = load_settings()
    imported: Imported
    if args.kind == "hf":
        from dmconf.huggingface.importer import import_repository

        dataset_id = args.id or "co.huggingface." + re.sub(
            r"[^A-Za-z0-9_.-]+", "-", args.repo.replace("/", ".")).lower()
        imported = import_repository(args.repo, args.revision, dataset_id)
        source = f"{args.repo}@{args.revision}"
    else:
        from dmconf.croissant.resolve import imported_definition

        imported = imported_definition(args.source, args.id or "imported.dataset",
                                       offline=settings.offline)
        if args.id is None:
            meta = imported.definition
            imported.definition["id"] = _derived_id(
                args.source, meta.get("name"), meta.get("homepage"))
        source = args.source
    definition = DatasetDefinition.from_mapping(imported.definition, source=source)
    _check_data(definition)
    header = [f"# Imported by dmconf from {source}"]
    if imported.unpinned:
        header.append("# UNPINNED: prepare prints the sha256 to pin for these resources:")
        header += [f"#   {line}" for line in imported.unpinned]
    header += [f"# not typed: {note}" for note in imported.notes]
    for line in imported.unpinned:
        log.warning("%s: unpinned: %s", definition.id, line)
    for note in imported.notes:
        log.warning("%s: not typed: %s", definition.id, note)
    text = "\n".join(header) + "\n" + definition.to_yaml()
    if args.out is None:
        sys.stdout.write(text)
        return
    target = args.out.joinpath(*definition.id.split(".")).with_suffix(".yaml")
    if target.exists() and not args.force:
        raise DefinitionError(f"{target} exists; give --force to replace it, or another --id",
                              dataset=definition.id, path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    log.info("%s: written to %s", definition.id, target)


def _check_data(definition: Any) -> None:
    """Build the typed object in a scratch folder: a wrong type or data fails at import."""
    import tempfile

    from dmconf.preparation import build_object

    with tempfile.TemporaryDirectory() as scratch:
        build_object(definition, Path(scratch))


def _export(args: argparse.Namespace) -> None:
    from dmconf.catalog import Catalog
    from dmconf.croissant.writer import to_croissant
    from dmconf.preparation import resolve_definition
    from dmconf.settings import load_settings

    settings = load_settings()
    definition = resolve_definition(args.id, settings=settings,
                                    catalog=Catalog.from_settings(settings))
    text = json.dumps(to_croissant(definition), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
