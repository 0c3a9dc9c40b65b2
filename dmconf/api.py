"""The Python entry points: find, search, prepare and load datasets."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from dmconf.catalog import Catalog
from dmconf.definition import DatasetDefinition
from dmconf.preparation import prepare
from dmconf.settings import Settings

__all__ = ["find", "list_ids", "load", "prepare_dataset", "search"]


def prepare_dataset(dataset_id: str, *, settings: Settings | None = None) -> BaseModel:
    """The founding README's name for :func:`dmconf.prepare`."""
    return prepare(dataset_id, settings=settings)


def find(dataset_id: str, *, settings: Settings | None = None) -> DatasetDefinition:
    """The definition of a dataset id (raises DatasetNotFound with suggestions)."""
    return Catalog.from_settings(settings).find(dataset_id)


def list_ids(*, settings: Settings | None = None) -> list[str]:
    """Every known dataset id, sorted."""
    return Catalog.from_settings(settings).ids()


def search(
    query: str = "", *, tags: Iterable[str] = (), tasks: Iterable[str] = (),
    settings: Settings | None = None,
) -> list[str]:
    """Ids matching every word of ``query`` (in id, name, description, tags, tasks)."""
    return Catalog.from_settings(settings).search(query, tags=tags, tasks=tasks)


def load(node: Any, *, settings: Settings | None = None) -> BaseModel:
    """Prepare the dataset a config node describes and return its typed object.

    ``node`` is a dataset id, a definition, or a mapping of one (a Hydra ``cfg.dataset``, with
    any overrides applied). Hydra's own keys (``_target_``...) are ignored.
    """
    if isinstance(node, str | DatasetDefinition):
        return _prepare_and_record(node, settings)
    # A DictConfig is a Mapping whose nested values are DictConfigs: convert it whole (they would
    # reach the definition's `data` and change its content digest). One exists only if omegaconf
    # was imported, so plain callers do not pay for importing it.
    omegaconf = sys.modules.get("omegaconf")
    if omegaconf is not None and isinstance(node, omegaconf.DictConfig):
        node = omegaconf.OmegaConf.to_container(node, resolve=True)
    if not isinstance(node, Mapping):
        raise TypeError(f"dmconf.load expects a dataset id or mapping, got {type(node).__name__}")
    values = {k: v for k, v in node.items() if not _is_framework_key(str(k))}
    return _prepare_and_record(DatasetDefinition.from_mapping(values), settings)


def _prepare_and_record(dataset: str | DatasetDefinition, settings: Settings | None) -> BaseModel:
    """Prepare; inside a Hydra job, also add the dataset's lock entry next to its config."""
    typed = prepare(dataset, settings=settings)
    hydra_config = sys.modules.get("hydra.core.hydra_config")  # no Hydra imported: no job
    if hydra_config is not None and hydra_config.HydraConfig.initialized():
        from dmconf.lockfile import record_in_hydra_run
        from dmconf.preparation import resolve_definition
        from dmconf.settings import load_settings

        settings = settings or load_settings()
        record_in_hydra_run(resolve_definition(dataset, settings=settings), settings)
    return typed


def _is_framework_key(key: str) -> bool:
    """Hydra's reserved keys (``_target_``, ``_partial_``...) are not definition fields."""
    return key.startswith("_") and key.endswith("_")
