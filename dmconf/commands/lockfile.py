"""``dmconf lock``: write or check ``dmconf.lock``, the exact data of an experiment."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

__all__ = ["register"]

log = logging.getLogger("dmconf")


def register(commands: Any) -> None:
    """Add the command to the CLI's subparsers."""
    lock = commands.add_parser(
        "lock", help="record the exact data of datasets in dmconf.lock (or --check it)")
    lock.add_argument("ids", nargs="*", metavar="ID")
    lock.add_argument("--from-hydra", metavar="CONFIG_DIR",
                      help="lock every dataset of a Hydra run's config (its .hydra folder)")
    lock.add_argument("--check", action="store_true",
                      help="exit non-zero when a locked definition no longer matches")
    lock.add_argument("--file", default="dmconf.lock",
                      help="the lock file (default: ./dmconf.lock)")
    lock.set_defaults(func=_lock)


def _lock(args: argparse.Namespace) -> None:
    from dmconf.catalog import Catalog
    from dmconf.errors import LockMismatch, SettingsError
    from dmconf.lockfile import check, lock
    from dmconf.settings import load_settings

    settings = load_settings()
    catalog = Catalog.from_settings(settings)
    path = Path(args.file)
    if args.check:
        problems = check(path, catalog)
        if problems:
            raise LockMismatch(f"{path}: " + "; ".join(problems), path=str(path))
        log.info("%s: every locked definition matches", path)
        return
    definitions = [catalog.find(dataset_id) for dataset_id in args.ids]
    if args.from_hydra:
        definitions += _hydra_definitions(Path(args.from_hydra))
    if not definitions:
        raise SettingsError("lock: name dataset ids, or a Hydra run with --from-hydra")
    entries = lock(definitions, path, settings)
    for definition in definitions:
        sys_out(f"{definition.id}@{entries[definition.id].manifest}")


def sys_out(text: str) -> None:
    import sys

    sys.stdout.write(text + "\n")


def _hydra_definitions(folder: Path) -> list[Any]:
    """The dataset nodes of a Hydra run's saved config (``DIR/config.yaml`` or ``DIR/.hydra``)."""
    from omegaconf import OmegaConf

    from dmconf.definition import DatasetDefinition
    from dmconf.errors import DefinitionError
    from dmconf.hydra.node import dataset_nodes

    config = next((p for p in (folder / "config.yaml", folder / ".hydra" / "config.yaml")
                   if p.is_file()), None)
    if config is None:
        raise DefinitionError("holds no config.yaml (give the run's .hydra folder)",
                              path=str(folder))
    nodes = dataset_nodes(OmegaConf.load(config))  # type: ignore[arg-type]
    if not nodes:
        raise DefinitionError("has no dataset node", path=str(config))
    found = []
    for key, node in nodes.items():
        plain = OmegaConf.to_container(node, resolve=True)
        assert isinstance(plain, dict)
        values = {k: v for k, v in plain.items() if not str(k).startswith("_")}
        found.append(DatasetDefinition.from_mapping(values, source=f"{config}: {key}"))
    return found
