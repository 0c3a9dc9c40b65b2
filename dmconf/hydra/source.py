"""How every Hydra app sees dmconf's config groups: a config source for the ``dmconf://``
scheme, put on each app's search path by a search-path plugin.

Hydra imports every module of the ``hydra_plugins`` namespace package when an app starts,
registers the ``ConfigSource`` subclasses it finds there by their scheme, and lets each
``SearchPathPlugin`` edit the search path; ``hydra_plugins/dmconf_plugin`` re-exports the two
classes below. The source answers for two groups:

- the dataset group (``dataset``, or the name the ``hydra_group`` setting gives; off when it is
  empty or ``off``): one option per catalogue id (``dataset=com.lecun.mnist``). Listing the
  options reads file names only (from the catalogue index, :mod:`dmconf.catalog_index`);
  Hydra loads the chosen option alone, and only its YAML is read.
  The node is :func:`dmconf.hydra.node.definition_node` of the definition. An option may also
  name a version and variant (``dataset=org.x.ds@2.1:small``, :mod:`dmconf.refs`): Hydra's
  grammar takes ``@`` and ``:`` unquoted in values; ``+`` for ``:`` keeps ``:`` (escaped as
  ``\\:``) out of folders named after ``hydra.job.override_dirname``. Listed options, and so
  ``glob()``, are the plain ids: declaring variants never adds jobs to an existing sweep.
- ``dmconf``: dmconf's own options, the YAML files of ``conf/dmconf/`` (``prepare``).

Installing dmconf changes nothing else in an app (:mod:`dmconf.hydra.composition` tells the
source who is asking):

- a group the app's primary config already defines as a plain key (``dataset: cifar10``, not
  ``???``) and does not choose in its defaults list is left to the app: the source is not
  that group, so ``dataset=cifar10`` stays a value override;
- an option another source has (the app's config folder, ``hydra.searchpath``, the
  ConfigStore) wins over the catalogue id of the same name, as if dmconf's source came last;
- dmconf's own trouble (a broken settings file, an unreadable catalogue root, a broken plugin)
  is one warning line, and the group lists what could be read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.errors import ConfigCompositionException
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin

from dmconf.hydra.composition import Composition, composition_of

if TYPE_CHECKING:
    from dmconf.catalog import Catalog

__all__ = [
    "OWN_GROUP",
    "SCHEME",
    "DmconfConfigSource",
    "DmconfSearchPathPlugin",
    "configured_group",
]

SCHEME = "dmconf"
OWN_GROUP = "dmconf"
SUFFIX = ".yaml"
_MAX_ROOT_CONFIGS = 32  # configs merged at the root read to find the app's own keys

_warned: set[str] = set()


class DmconfSearchPathPlugin(SearchPathPlugin):
    """Appends ``dmconf://`` to every Hydra app's config search path, and puts
    ``dmconf-own://`` (:mod:`dmconf.hydra.own`) first.

    This runs in the process the user started, before Hydra changes directory or a launcher
    starts jobs, so it is also where relative ``DMCONF_*`` paths are made absolute.
    """

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from dmconf.hydra.own import OWN_SCHEME
        from dmconf.settings_sources import anchor_paths

        anchor_paths(os.environ, os.getcwd())
        search_path.append(provider="dmconf", path=f"{SCHEME}://")
        search_path.prepend(provider="dmconf", path=f"{OWN_SCHEME}://")


class DmconfConfigSource(ConfigSource):
    """The dataset group (the catalogue) and ``dmconf`` (dmconf's own options)."""

    def __init__(self, provider: str, path: str) -> None:
        super().__init__(provider=provider, path=path)
        self._catalog: Catalog | None = None
        self._ids: frozenset[str] | None = None
        self._dataset_group: str | None = configured_group()
        # (repository, config name) -> the groups the app's primary config keeps for itself.
        self._owned: tuple[object, str | None, frozenset[str]] | None = None
        self._reading_primary = False

    @staticmethod
    def scheme() -> str:
        return SCHEME

    def available(self) -> bool:
        return True

    def is_group(self, config_path: str) -> bool:
        path = config_path.strip("/")
        return path == "" or path in self._groups()

    def is_config(self, config_path: str) -> bool:
        group, name = _split(config_path)
        if group not in self._groups():
            return False
        found = _own_file(name).is_file() if group == OWN_GROUP else self._is_dataset(name)
        return found and not self._elsewhere(config_path)

    def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
        path = config_path.strip("/")
        groups = self._groups()
        if path == "":
            return [] if results_filter == ObjectType.CONFIG else sorted(groups)
        if results_filter == ObjectType.GROUP or path not in groups:
            return []
        if path == OWN_GROUP:
            return sorted(p.stem for p in _own_folder().glob(f"*{SUFFIX}"))
        return sorted(self._dataset_ids())

    def load_config(self, config_path: str) -> ConfigResult:
        from omegaconf import OmegaConf

        group, name = _split(config_path)
        if group == OWN_GROUP and _own_file(name).is_file():
            text = _own_file(name).read_text(encoding="utf-8")
            return ConfigResult(
                config=OmegaConf.create(text),
                path=self.full_path(),
                provider=self.provider,
                header=ConfigSource._get_header_dict(text),
            )
        if group == self._dataset_group and self._is_dataset(name):
            from dmconf.hydra.node import definition_node

            with _reported(f"{group}={name}"):
                node = definition_node(self.catalog.find(name))
            return ConfigResult(
                config=OmegaConf.create(node),
                path=self.full_path(),
                provider=self.provider,
                header={"package": None},
            )
        raise ConfigLoadError(f"Config not found: {self.full_path()}{config_path}")

    @property
    def catalog(self) -> Catalog:
        """The catalogue, built on first use: one per source, i.e. per Hydra composition.

        What cannot be read is left out with one warning: the settings file (then the
        environment alone is used), plugins and roots (then the bundled catalogue alone).
        """
        if self._catalog is None:
            self._catalog = _readable_catalog(self._dataset_group or "dataset")
        return self._catalog

    def _dataset_ids(self) -> frozenset[str]:
        if self._ids is None:
            self._ids = frozenset(self.catalog.ids())  # file names only; no YAML is read
        return self._ids

    def _is_dataset(self, name: str) -> bool:
        """Whether ``name`` is a catalogue id, or a reference to a version or variant of one
        (``org.x.ds@2.1:small``, ``org.x.ds+small``): loading it says what is wrong with it."""
        from dmconf.refs import base_id

        return base_id(name) in self._dataset_ids()

    def _groups(self) -> frozenset[str]:
        """The groups this source is, in the composition asking (see the module's docstring)."""
        mine = frozenset(g for g in (self._dataset_group, OWN_GROUP) if g)
        composition = None if self._reading_primary else composition_of(self)
        if composition is None:
            return mine
        return mine - self._kept_by_app(composition, mine)

    def _kept_by_app(self, composition: Composition, mine: frozenset[str]) -> frozenset[str]:
        """The groups the app's primary config defines as plain keys without choosing them."""
        key = (composition.repository, composition.config_name)
        if self._owned is not None and self._owned[:2] == key:
            return self._owned[2]
        self._reading_primary = True  # loading configs asks this source too: answer plainly
        try:
            primary = composition.primary()
            kept = frozenset(_plain_keys(composition, primary, mine) if primary else ())
        finally:
            self._reading_primary = False
        self._owned = (*key, kept)
        return kept

    def _elsewhere(self, config_path: str) -> bool:
        """Whether another source of the composition has this option (it then wins)."""
        composition = composition_of(self)
        if composition is None:
            return False
        from dmconf.hydra.own import OwnOptionSource

        others = composition.others(DmconfConfigSource, OwnOptionSource)
        return any(s.is_config(config_path) for s in others)


def configured_group() -> str | None:
    """The dataset group's name: ``DMCONF_HYDRA_GROUP``, else the settings file's
    ``hydra_group``, else ``dataset``; ``None`` when switched off. Costs no pydantic.

    A settings file that cannot be read leaves the default name (with one warning); a name
    Hydra cannot use switches the group off (with one warning).
    """
    from dmconf.errors import SettingsError
    from dmconf.settings_sources import (
        DEFAULT_HYDRA_GROUP,
        ENV_HYDRA_GROUP,
        ENV_SETTINGS,
        hydra_group,
        read_settings_file,
        settings_file,
    )

    value: object = os.environ.get(ENV_HYDRA_GROUP)
    where = ENV_HYDRA_GROUP
    if value is None:
        path = settings_file()
        try:
            content = read_settings_file(path, explicit=bool(os.environ.get(ENV_SETTINGS)))
        except SettingsError as exc:
            warn_once(exc, f"Hydra group {DEFAULT_HYDRA_GROUP!r} lacks what could not be read")
            return DEFAULT_HYDRA_GROUP
        value = content.get("hydra_group", DEFAULT_HYDRA_GROUP)
        where = f"hydra_group in settings file {path}"
    try:
        return hydra_group(value)
    except ValueError as exc:
        warn_once(f"{where}: {exc}", "dmconf adds no Hydra group")
        return None


def warn_once(cause: object, consequence: str) -> None:
    """One warning line on stderr, once per cause and process.

    Written directly: Hydra may have sent logging to stdout, where ``--cfg`` prints YAML.
    """
    text = " ".join(str(cause).split())  # YAML's errors span lines
    if text not in _warned:
        _warned.add(text)
        sys.stderr.write(f"dmconf: warning: {text}; {consequence}\n")


def _readable_catalog(group: str) -> Catalog:
    from dmconf.catalog import Catalog, Root, bundled_root
    from dmconf.errors import DmconfError
    from dmconf.settings import Settings, load_settings
    from dmconf.settings_sources import ENV_SETTINGS

    lacking = f"Hydra group {group!r} lacks what could not be read"
    settings: Settings | None
    try:
        settings = load_settings()
    except DmconfError as exc:
        warn_once(exc, lacking)
        try:  # the environment alone, as if there were no settings file
            settings = load_settings(environ={**os.environ, ENV_SETTINGS: os.devnull})
        except DmconfError:
            settings = None
    def skipped(problem: str) -> None:
        warn_once(problem, lacking)

    bundled = Catalog([Root(bundled_root(), "bundled catalogue")], on_problem=skipped)
    tries = [lambda: bundled]
    if settings is not None:
        tries[:0] = [
            lambda: Catalog.from_settings(settings, on_problem=skipped),
            lambda: Catalog.from_settings(settings, plugins=False, on_problem=skipped),
        ]
    catalog: Catalog = bundled
    failure: Exception | None = None
    for attempt in tries:
        try:
            candidate = attempt()
            candidate.ids()
            catalog = candidate
            break
        except Exception as exc:  # a broken plugin may raise anything; this app may not use it
            failure = failure or exc
    if failure is not None:
        warn_once(_cause(failure), lacking)
    return catalog


def _plain_keys(
    composition: Composition, primary: ConfigResult, groups: frozenset[str]
) -> Iterator[str]:
    """The groups that the primary config, or a config its defaults list merges at the root
    (``- base``), has as a set key (not ``???``), and that no defaults list chooses."""
    from hydra.core.default_element import ConfigDefault, GroupDefault
    from omegaconf import DictConfig, OmegaConf

    configs: list[DictConfig] = []
    chosen: set[str] = set()
    pending = [primary]
    while pending and len(configs) < _MAX_ROOT_CONFIGS:
        result = pending.pop()
        if isinstance(result.config, DictConfig):
            configs.append(result.config)
        for default in result.defaults_list or ():
            if isinstance(default, GroupDefault):
                chosen.add(default.group or "")
            elif (
                isinstance(default, ConfigDefault)
                and default.path
                and not default.is_self()
                and not default.package  # merged at the root, where the group's key would be
            ):
                loaded = composition.load(default.path.lstrip("/"))
                pending += [loaded] if loaded is not None else []
    for group in groups - chosen:
        if any(group in c and not OmegaConf.is_missing(c, group) for c in configs):
            yield group


@contextmanager
def _reported(what: str) -> Iterator[None]:
    """The chosen option's trouble as Hydra's compact errors: one message, no stack trace."""
    try:
        yield
    except Exception as exc:
        raise ConfigCompositionException(f"dmconf cannot provide {what}: {_cause(exc)}") from exc


def _cause(exc: Exception) -> str:
    """dmconf's errors say what they are; anything else is named by its type."""
    from dmconf.errors import DmconfError

    return str(exc) if isinstance(exc, DmconfError) else f"{type(exc).__name__}: {exc}"


def _split(config_path: str) -> tuple[str, str]:
    """``dataset/com.lecun.mnist[.yaml]`` -> (``dataset``, ``com.lecun.mnist``)."""
    group, _, name = config_path.strip("/").rpartition("/")
    return group, name.removesuffix(SUFFIX)


def _own_folder() -> Path:
    from dmconf.catalog import bundled_folder

    return bundled_folder("conf") / OWN_GROUP


def _own_file(name: str) -> Path:
    return _own_folder() / f"{name}{SUFFIX}"
