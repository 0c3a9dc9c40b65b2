"""Dataset nodes: a definition as a Hydra config node, and a node back to a typed object.

A node holds every field of the definition (``id``, ``resources`` with URLs and checksums,
``type``, ``data``...) so that ``--cfg job`` shows them and any of them can be overridden, plus
one ``_target_``, the same for every dataset: ``hydra.utils.instantiate`` prepares the node, the
job-start callback finds dataset nodes by it, and a Hydra that asks for an allowlist of targets
needs only this one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegaconf import DictConfig
    from pydantic import BaseModel

    from dmconf.definition import DatasetDefinition

__all__ = ["TARGET", "dataset_nodes", "definition_node", "escape", "load_dataset"]

TARGET = "dmconf.hydra.load_dataset"
TARGET_KEY = "_target_"

# OmegaConf reads "${" in a string as an interpolation, and backslashes right before it as
# escapes; n literal backslashes then a literal "${" are written as 2n+1 backslashes then "${".
_INTERPOLATION = re.compile(r"(\\*)\$\{")


def escape(value: Any) -> Any:
    """``value`` with every string made literal for OmegaConf (no interpolation)."""
    if isinstance(value, str):
        return _INTERPOLATION.sub(lambda m: m.group(1) * 2 + "\\${", value)
    if isinstance(value, Mapping):
        return {key: escape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escape(item) for item in value]
    return value


def definition_node(definition: DatasetDefinition) -> dict[str, Any]:
    """The config node of a definition: ``_target_`` then every field, strings kept literal."""
    return {TARGET_KEY: TARGET, **escape(definition.model_dump(mode="json"))}


def load_dataset(**fields: Any) -> BaseModel:
    """Prepare the dataset a node describes and return its typed object.

    The ``_target_`` of dataset nodes: ``hydra.utils.instantiate(cfg.dataset)`` calls it with the
    node's fields (overrides applied); it is :func:`dmconf.load` under another signature.
    """
    from omegaconf import Container, OmegaConf

    from dmconf.api import load

    plain = {
        key: OmegaConf.to_container(value, resolve=True) if isinstance(value, Container) else value
        for key, value in fields.items()
    }
    return load(plain)


def dataset_nodes(cfg: DictConfig, target: str = TARGET) -> dict[str, DictConfig]:
    """Every dataset node of a config, by dotted key (``dataset``, ``pretrain_dataset``...):
    the nodes whose ``_target_`` is ``target``.

    Hydra's own ``hydra`` node is skipped; interpolations are left unresolved while searching.
    """
    from omegaconf import OmegaConf

    plain = OmegaConf.to_container(cfg, resolve=False)
    found: list[str] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, Mapping):
            if value.get(TARGET_KEY) == target:
                found.append(key)
                return
            for child, item in value.items():
                if not (key == "" and child == "hydra"):
                    walk(item, f"{key}.{child}" if key else str(child))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{key}[{index}]")

    walk(plain, "")
    return {key: OmegaConf.select(cfg, key) for key in found}
