"""The app's own dataset options without ``_target_``: ``instantiate`` says what line to add.

An option of the app's own dataset folder (``conf/dataset/mine.yaml``, or one of
``hydra.searchpath``) comes from the app's config source, not dmconf's: dmconf never loads it.
When it is a definition (``resources`` and ``type``) without ``_target_``,
``hydra.utils.instantiate`` would silently return a ``DictConfig``. So a second, narrow source
(``dmconf-own://``) is put first on the search path. It has no group and lists nothing; it
answers for ``<group>/<option>`` alone, in a composition where dmconf's source is that group,
when the source Hydra would otherwise use is a folder (not the ConfigStore) whose option is such
a definition. It then hands back that same config (header, path, provider) with one entry put
first in its defaults list, ``/dmconf_dataset_without_target@_here_``: ``_target_`` set to
:func:`without_target`, which raises one error naming the option, its file and the line to add.
Being first in the option's defaults, it is the weakest part of the node: a ``_target_`` from
the option's own defaults (``/dmconf_dataset_schema@_here_``), the primary config or the
command line wins. For any other question the source answers no, and Hydra goes on as before.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from omegaconf import DictConfig

from dmconf.hydra.composition import composition_of
from dmconf.hydra.node import TARGET, TARGET_KEY

__all__ = [
    "OWN_SCHEME",
    "WITHOUT_TARGET",
    "WITHOUT_TARGET_NAME",
    "OwnOptionSource",
    "store_without_target",
    "without_target",
    "without_target_message",
]

OWN_SCHEME = "dmconf-own"
WITHOUT_TARGET = "dmconf.hydra.without_target"
WITHOUT_TARGET_NAME = "dmconf_dataset_without_target"  # in Hydra's ConfigStore
_FIRST_DEFAULT = f"/{WITHOUT_TARGET_NAME}@_here_"
_SCHEMA_LINE = "defaults: [/dmconf_dataset_schema@_here_, _self_]"

# dataset id -> "dataset=mine (file /app/conf/dataset/mine.yaml)", for the error's wording:
# the options this process composed, as a node's fields do not say where they came from.
_composed: dict[str | None, list[str]] = {}


class OwnOptionSource(ConfigSource):
    """Answers only for the app's own dataset options that are definitions without
    ``_target_`` (see the module's docstring)."""

    def __init__(self, provider: str, path: str) -> None:
        super().__init__(provider=provider, path=path)
        from dmconf.hydra.source import configured_group

        self._group = configured_group()
        self._found: dict[str, ConfigResult] = {}

    @staticmethod
    def scheme() -> str:
        return OWN_SCHEME

    def available(self) -> bool:
        return True

    def is_group(self, config_path: str) -> bool:
        return False

    def is_config(self, config_path: str) -> bool:
        result = self._own_without_target(config_path)
        if result is not None:
            self._found[config_path] = result
        return result is not None

    def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
        return []

    def load_config(self, config_path: str) -> ConfigResult:
        result = self._found.pop(config_path, None) or self._own_without_target(config_path)
        if result is None:
            raise ConfigLoadError(f"Config not found: {self.full_path()}{config_path}")
        return result

    def _own_without_target(self, config_path: str) -> ConfigResult | None:
        from dmconf.hydra.source import DmconfConfigSource, _split

        group, name = _split(config_path)
        if not self._group or group != self._group:
            return None  # the only question most compositions ask: answered without a look
        composition = composition_of(self)
        if composition is None:
            return None
        dmconf = [s for s in composition.repository.sources if isinstance(s, DmconfConfigSource)]
        if not dmconf or not dmconf[0].is_group(group):
            return None  # the app keeps a plain `dataset` key: the group is not dmconf's here
        owner = next(
            (s for s in composition.others(DmconfConfigSource, OwnOptionSource)
             if s.is_config(config_path)),
            None,
        )
        if owner is None or owner.scheme() == "structured":
            return None  # the catalogue's (it has the target), or a ConfigStore node
        try:
            loaded = owner.load_config(config_path)
        except Exception:  # Hydra reports it when it loads the option itself
            return None
        if not _is_definition_without_target(loaded):
            return None
        config = copy.deepcopy(loaded.config)  # the owner's result may be cached: not changed
        assert isinstance(config, DictConfig)  # checked above
        config.defaults = [_FIRST_DEFAULT, *(config.get("defaults") or ["_self_"])]
        _remember(config.get("id"), f"{group}={name}", _file_of(loaded.path, group, name))
        return ConfigResult(
            config=config, path=loaded.path, provider=loaded.provider, header=loaded.header
        )


def _is_definition_without_target(loaded: ConfigResult) -> bool:
    config = loaded.config
    return (
        isinstance(config, DictConfig)
        and TARGET_KEY not in config
        and isinstance(config.get("resources"), Mapping)
        and isinstance(config.get("type"), str)
        and loaded.header.get("package") in (None, "_group_")
    )


def _file_of(source_path: str, group: str, name: str) -> str:
    """``file:///app/conf`` -> ``/app/conf/dataset/mine.yaml``; other schemes keep theirs."""
    root = source_path.removeprefix("file://")
    return f"{root.rstrip('/')}/{group}/{name}.yaml"


def _remember(dataset: object, option: str, file: str) -> None:
    where = f"{option} (file {file})"
    seen = _composed.setdefault(dataset if isinstance(dataset, str) else None, [])
    if where not in seen:
        seen.append(where)


def without_target_message(fields: Mapping[str, Any], node: str | None = None) -> str:
    """What is wrong with an own option's node (``fields``) and which line fixes it; ``node``
    is its key in the config, when known (Hydra's own error adds it as ``full_key``)."""
    dataset = fields.get("id")
    known = _composed.get(dataset if isinstance(dataset, str) else None) or []
    where = f"option {' or '.join(known)}" if known else "an option of your own folder"
    if node:
        named = f"{dataset}, " if isinstance(dataset, str) else ""
        where = f"dataset node {node!r} ({named}{where})"
    return (
        f"{where} has no {TARGET_KEY}, so it cannot be instantiated nor prepared: add the "
        f"line '{TARGET_KEY}: {TARGET}' to that file, or start it with '{_SCHEMA_LINE}'"
    )


def without_target(**fields: Any) -> Any:
    """The ``_target_`` dmconf gives an own option that lacks one: instantiating it fails
    with the line to add (rather than a silent ``DictConfig``)."""
    from dmconf.errors import DefinitionError

    dataset = fields.get("id")
    raise DefinitionError(
        without_target_message(fields), dataset=dataset if isinstance(dataset, str) else None
    )


def store_without_target() -> None:
    """Put the node ``{_target_: dmconf.hydra.without_target}`` in Hydra's ConfigStore."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(
        name=WITHOUT_TARGET_NAME, node={TARGET_KEY: WITHOUT_TARGET}, provider="dmconf"
    )
