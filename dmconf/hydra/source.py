"""How every Hydra app sees dmconf's config groups: a config source for the ``dmconf://``
scheme, put on each app's search path by a search-path plugin.

Hydra imports every module of the ``hydra_plugins`` namespace package when an app starts,
registers the ``ConfigSource`` subclasses it finds there by their scheme, and lets each
``SearchPathPlugin`` edit the search path; ``hydra_plugins/dmconf_plugin`` re-exports the two
classes below. The source answers for two groups:

- ``dataset``: one option per catalogue id (dots and all: ``dataset=com.lecun.mnist``). Listing
  the options reads file names only; Hydra loads the chosen option alone, and only its YAML is
  read. The node is :func:`dmconf.hydra.node.definition_node` of the definition.
- ``dmconf``: dmconf's own options, the YAML files of ``conf/dmconf/`` (``prepare``).

The source comes after the app's own config folder, so an app's ``conf/dataset/NAME.yaml``
adds options beside the catalogue's, and wins on a shared name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.errors import ConfigCompositionException
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin

if TYPE_CHECKING:
    from dmconf.catalog import Catalog

__all__ = ["DATASET_GROUP", "OWN_GROUP", "SCHEME", "DmconfConfigSource", "DmconfSearchPathPlugin"]

SCHEME = "dmconf"
DATASET_GROUP = "dataset"
OWN_GROUP = "dmconf"
SUFFIX = ".yaml"


class DmconfSearchPathPlugin(SearchPathPlugin):
    """Appends ``dmconf://`` to every Hydra app's config search path."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        search_path.append(provider="dmconf", path=f"{SCHEME}://")


class DmconfConfigSource(ConfigSource):
    """The groups ``dataset`` (the catalogue) and ``dmconf`` (dmconf's own options)."""

    def __init__(self, provider: str, path: str) -> None:
        super().__init__(provider=provider, path=path)
        self._catalog: Catalog | None = None
        self._ids: frozenset[str] | None = None

    @staticmethod
    def scheme() -> str:
        return SCHEME

    def available(self) -> bool:
        return True

    def is_group(self, config_path: str) -> bool:
        return config_path.strip("/") in ("", DATASET_GROUP, OWN_GROUP)

    def is_config(self, config_path: str) -> bool:
        group, name = _split(config_path)
        if group == DATASET_GROUP:
            return name in self._dataset_ids()
        if group == OWN_GROUP:
            return _own_file(name).is_file()
        return False

    def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
        path = config_path.strip("/")
        if path == "":
            groups = [DATASET_GROUP, OWN_GROUP]
            return [] if results_filter == ObjectType.CONFIG else groups
        if results_filter == ObjectType.GROUP:
            return []
        if path == DATASET_GROUP:
            return sorted(self._dataset_ids())
        if path == OWN_GROUP:
            return sorted(p.stem for p in _own_folder().glob(f"*{SUFFIX}"))
        return []

    def load_config(self, config_path: str) -> ConfigResult:
        from omegaconf import OmegaConf

        group, name = _split(config_path)
        if group == DATASET_GROUP and name in self._dataset_ids():
            from dmconf.hydra.node import definition_node

            with _reported(f"dataset={name}"):
                node = definition_node(self.catalog.find(name))
            return ConfigResult(
                config=OmegaConf.create(node),
                path=self.full_path(),
                provider=self.provider,
                header={"package": None},
            )
        if group == OWN_GROUP and _own_file(name).is_file():
            text = _own_file(name).read_text(encoding="utf-8")
            return ConfigResult(
                config=OmegaConf.create(text),
                path=self.full_path(),
                provider=self.provider,
                header=ConfigSource._get_header_dict(text),
            )
        raise ConfigLoadError(f"Config not found: {self.full_path()}{config_path}")

    @property
    def catalog(self) -> Catalog:
        """The catalogue, built on first use: one per source, i.e. per Hydra composition."""
        if self._catalog is None:
            from dmconf.catalog import Catalog

            self._catalog = Catalog.from_settings()
        return self._catalog

    def _dataset_ids(self) -> frozenset[str]:
        if self._ids is None:
            with _reported(f"the options of group {DATASET_GROUP!r}"):
                self._ids = frozenset(self.catalog.ids())  # file names only; no YAML is read
        return self._ids


@contextmanager
def _reported(what: str) -> Iterator[None]:
    """dmconf's errors as Hydra's compact ones: one message, no Hydra stack trace."""
    from dmconf.errors import DmconfError

    try:
        yield
    except DmconfError as exc:
        raise ConfigCompositionException(f"dmconf cannot provide {what}: {exc}") from exc


def _split(config_path: str) -> tuple[str, str]:
    """``dataset/com.lecun.mnist[.yaml]`` -> (``dataset``, ``com.lecun.mnist``)."""
    group, _, name = config_path.strip("/").rpartition("/")
    return group, name.removesuffix(SUFFIX)


def _own_folder() -> Path:
    from dmconf.catalog import bundled_folder

    return bundled_folder("conf") / OWN_GROUP


def _own_file(name: str) -> Path:
    return _own_folder() / f"{name}{SUFFIX}"
