"""Where settings come from: the ``DMCONF_*`` variables and the settings file, read as plain
values (:mod:`dmconf.settings` validates them).

Kept apart so that reading them costs no pydantic: every Hydra app asks dmconf's config source
for the name of its group, which the settings may set, and dmconf's Hydra plugin anchors
relative paths of the environment before Hydra changes directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dmconf.errors import SettingsError

TYPE_CHECKING = False  # `typing` is not imported: the warm path stays cheap
if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping
    from typing import Any

__all__ = [
    "DEFAULT_HYDRA_GROUP",
    "ENV_CACHE",
    "ENV_CATALOG",
    "ENV_DATA",
    "ENV_HYDRA_GROUP",
    "ENV_OFFLINE",
    "ENV_SETTINGS",
    "anchor_paths",
    "cache_folder",
    "hydra_group",
    "read_settings_file",
    "settings_file",
]

ENV_DATA = "DMCONF_DATA"
ENV_CATALOG = "DMCONF_CATALOG"
ENV_OFFLINE = "DMCONF_OFFLINE"
ENV_SETTINGS = "DMCONF_SETTINGS"
ENV_CACHE = "DMCONF_CACHE"
ENV_HYDRA_GROUP = "DMCONF_HYDRA_GROUP"
DEFAULT_HYDRA_GROUP = "dataset"
# One level of Hydra group: dotted option names are fine, but "/", "@", "=" mean something else.
_GROUP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def settings_file(environ: Mapping[str, str] | None = None) -> Path:
    """The settings file in use: ``$DMCONF_SETTINGS`` or the user config folder's."""
    explicit = (os.environ if environ is None else environ).get(ENV_SETTINGS)
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("dmconf", appauthor=False)) / "settings.yaml"


def cache_folder(environ: Mapping[str, str] | None = None) -> Path:
    """The user's cache folder: ``$DMCONF_CACHE`` or the user cache folder's ``dmconf``."""
    explicit = (os.environ if environ is None else environ).get(ENV_CACHE)
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("dmconf", appauthor=False))


def read_settings_file(path: Path, explicit: bool) -> dict[str, Any]:
    """The settings file's keys, unvalidated; ``{}`` when there is none and none was asked for."""
    from dmconf.yamlfile import UnreadableYaml, read_yaml

    # Any readable non-folder will do: DMCONF_SETTINGS=/dev/null means "no settings file".
    if not os.path.lexists(path) or path.is_dir():
        if explicit:
            raise SettingsError(
                f"{ENV_SETTINGS} names {path}, which is not a file; create it or unset the variable"
            )
        return {}
    try:
        content = read_yaml(path)
    except UnreadableYaml as exc:
        raise SettingsError(f"settings file {path}: {exc}") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise SettingsError(f"settings file {path}: expected a mapping of keys, got {content!r}")
    return content


def hydra_group(value: Any) -> str | None:
    """The Hydra config group that lists the catalogue, as a setting names it.

    ``None`` means switched off: an empty value or ``off`` (YAML reads a bare ``off`` as false).
    A name Hydra could not use is a ``ValueError``.
    """
    if value is None or value is False or str(value).strip().lower() in ("", "off"):
        return None
    name = str(value).strip()
    if not _GROUP_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a Hydra group name; use letters, digits, '_' or '-' "
            "(or 'off' to switch the group off)"
        )
    return name


def anchor_paths(environ: MutableMapping[str, str], start: str) -> None:
    """Make the relative paths of the ``DMCONF_*`` path variables absolute, against ``start``.

    A relative ``DMCONF_DATA=data`` means the folder the user started the program from; Hydra
    jobs change directory (``hydra.job.chdir``) and launchers start jobs elsewhere, and they
    all inherit the environment, so it is rewritten once, where the program starts.
    """
    for name in (ENV_DATA, ENV_SETTINGS, ENV_CACHE, ENV_CATALOG):
        value = environ.get(name)
        if not value:
            continue
        # DMCONF_CATALOG and DMCONF_DATA (a list of stores) are os.pathsep-separated
        parts = value.split(os.pathsep) if name in (ENV_CATALOG, ENV_DATA) else [value]
        anchored = os.pathsep.join(_anchored(p, start) for p in parts)
        if anchored != value:
            environ[name] = anchored


def _anchored(path: str, start: str) -> str:
    if not path or os.path.isabs(os.path.expanduser(path)):
        return path  # absolute or ~/...: the same from any directory
    return os.path.normpath(os.path.join(start, path))
