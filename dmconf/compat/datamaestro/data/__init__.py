"""datamaestro's ``datamaestro.data``: the core types, buildable the experimaestro way.

Each class is dmconf's own type (:mod:`dmconf.data`) with :class:`~dmconf.compat.experimaestro.
Config`'s ``.C(...)`` constructor, so a ported definition's ``File.C(path=...)`` gives a
``dmconf.data.File``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from dmconf import data as core
from dmconf.compat.experimaestro import Config

__all__ = ["Base", "File", "Folder", "Generic"]

Base = Config


class File(Config, core.File):
    """A data file."""

    def open(self, mode: str = "r") -> Any:
        return self.path.open(mode)


class Folder(Config, core.Folder):
    """A data folder."""


class Generic(Config, core.Generic):
    """Free-form fields (a placeholder type)."""

    model_config = ConfigDict(extra="allow")
