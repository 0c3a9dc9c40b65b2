"""datamaestro's rule from a definition's module and name to its dataset id, in one place.

A repository is a package whose ``config`` subpackage holds the definition modules; the id of
``Train`` in ``pkg.config.com.microsoft.msmarco.passage`` is the module path below ``config``,
lowercased, then the name split at its CamelCase humps: ``com.microsoft.msmarco.passage.train``
(``TrainWithrun`` gives ``train.withrun``, ``ProcessedMNIST`` ``processed.mnist``). ``@dataset``'s
``id=`` changes that: ``None`` keeps it; ``""`` gives the module path alone; a name without a dot,
or one starting with a dot, replaces the last component; anything else is the whole id.
"""

from __future__ import annotations

import re

__all__ = ["camel_to_dots", "dataset_id", "is_absolute"]

_HUMPS = (re.compile(r"([A-Z]+)([A-Z][a-z])"), re.compile(r"([a-z0-9])([A-Z])"))


def camel_to_dots(name: str) -> str:
    """``TrainTexttripleFull`` -> ``train.texttriple.full``; ``MNIST`` -> ``mnist``."""
    for pattern in _HUMPS:
        name = pattern.sub(r"\1.\2", name)
    return name.lower()


def is_absolute(declared: str | None) -> bool:
    """Whether ``@dataset(id=...)`` gives the whole id rather than part of it."""
    return bool(declared) and "." in str(declared) and not str(declared).startswith(".")


def dataset_id(module_path: str, name: str, declared: str | None = None) -> str | None:
    """The id of ``name`` defined in the module ``module_path`` (dotted, below ``config``).

    ``module_path`` is the module's path below its repository's ``config`` package (``""`` for
    the package itself). Returns None when the rule gives nothing (an empty path).
    """
    if is_absolute(declared):
        return declared
    modules = [part.lower() for part in module_path.split(".") if part]
    if declared is None:
        parts = [*modules, camel_to_dots(name)]
    elif declared == "":
        parts = modules
    else:
        parts = [*modules, declared[1:] if declared.startswith(".") else declared]
    return ".".join(parts) or None


def module_below_config(module: str) -> str | None:
    """``pkg.config.com.lecun`` -> ``com.lecun``; None outside a ``config`` package."""
    parts = module.split(".")
    if "config" not in parts[1:]:
        return None
    return ".".join(parts[parts.index("config", 1) + 1 :])
