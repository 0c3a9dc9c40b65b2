"""What dmconf's config source learns about the Hydra composition that is asking it.

Hydra hands a ``ConfigSource`` its own path and nothing else, yet two promises need more:

- an app whose primary config already has a plain ``dataset`` key keeps it: dmconf's source
  must decline to be that group, which needs the primary config;
- the app's own options (its config folder, ``hydra.searchpath``, its ConfigStore) win over
  catalogue ids of the same name, although Hydra appends ``hydra.searchpath`` entries *after*
  the plugins' ones: dmconf's source must know the other sources to step aside.

Hydra always asks a source from its ``ConfigRepository`` (the sources in search-path order),
and the frames of a composition hold the primary config's name (``config_name``, in Hydra
1.1 to 1.3). This module reads both from the call stack, read-only. Where Hydra's internals
differ, it finds nothing and the source behaves as a plain one (the group stays, and the
settings can still rename or switch it off).
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from hydra.plugins.config_source import ConfigResult, ConfigSource

__all__ = ["Composition", "composition_of"]

# Deep enough for any Hydra entry point (run, multirun, --help, --cfg, compose, completion).
_MAX_DEPTH = 80


class Composition:
    """The repository that asked a source, and the primary config's name (if there is one)."""

    def __init__(self, repository: Any, config_name: str | None) -> None:
        self.repository = repository
        self.config_name = config_name

    def others(self, *kinds: type[ConfigSource]) -> list[ConfigSource]:
        """The repository's sources but those of ``kinds`` (dmconf's), in search-path order."""
        return [s for s in self.repository.sources if not isinstance(s, kinds)]

    def primary(self) -> ConfigResult | None:
        """The primary config as Hydra loads it (``None`` without one, or if it is missing)."""
        return self.load(self.config_name) if self.config_name else None

    def load(self, config_path: str) -> ConfigResult | None:
        """A config as Hydra loads it, with its parsed defaults list (``None`` if missing)."""
        try:
            result: ConfigResult | None = self.repository.load_config(config_path)
            return result
        except Exception:  # a broken config is Hydra's to report, not ours
            return None


def composition_of(source: ConfigSource) -> Composition | None:
    """The composition that is asking ``source`` a question, read from the call stack."""
    frame: FrameType | None = sys._getframe(1)
    repository: Any = None
    config_name: str | None = None
    depth = 0
    while frame is not None and depth < _MAX_DEPTH:
        if frame.f_globals.get("__name__", "").startswith("hydra."):
            owner = frame.f_locals.get("self")
            if repository is None and _holds(owner, source):
                repository = owner
            name = frame.f_locals.get("config_name")
            # A listing for --help passes config_name=None below the frame that has the name.
            if repository is not None and isinstance(name, str) and name:
                config_name = name
                break
        frame = frame.f_back
        depth += 1
    return Composition(repository, config_name) if repository is not None else None


def _holds(owner: Any, source: ConfigSource) -> bool:
    """Whether ``owner`` is Hydra's ConfigRepository (known by name: the class is private) and
    ``source`` one of its sources."""
    return type(owner).__name__ == "ConfigRepository" and any(
        s is source for s in getattr(owner, "sources", ())
    )
