"""Where the user's own dmconf files are: the settings file and the cache folder.

Kept apart from :mod:`dmconf.settings` so that the paths are known without importing pydantic
(the warm path of ``prepare`` reads neither settings nor definitions when nothing changed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ENV_CACHE", "ENV_SETTINGS", "cache_folder", "settings_file"]

ENV_SETTINGS = "DMCONF_SETTINGS"
ENV_CACHE = "DMCONF_CACHE"


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
