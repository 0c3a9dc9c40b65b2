"""Steps: the registered functions that make derived datasets.

A step is a function ``(inputs, output, params) -> None`` decorated with :func:`step`: it reads
``inputs`` (name -> the typed object of each input, or its part), writes files into ``output``
(an empty temporary folder, renamed into place once the step returns), and takes its
parameters as an instance of a pydantic model::

    from pydantic import BaseModel
    from dmconf.derive import step

    class Lowercase(BaseModel):
        strip: bool = True

    @step(version=1, params=Lowercase)
    def lowercase(inputs, output, params):
        ...

A definition names a step by its import path (``mypkg.steps:lowercase`` or
``mypkg.steps.lowercase``) or by a short name: the bundled ones (:data:`BUNDLED`), or an entry
point of the group ``dmconf.steps`` (name -> ``module:function``). Only decorated functions
run: a definition cannot call an arbitrary function. Bump ``version`` whenever the step's
output changes: the version is part of every output's key. The step's source (its module
file) is hashed too, but only to warn when it changed without a version bump.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from dmconf.errors import DefinitionError, describe_validation

__all__ = ["BUNDLED", "STEP_GROUP", "NoParams", "Step", "find_step", "step"]

STEP_GROUP = "dmconf.steps"
#: dmconf's own steps, by short name (the same form as an entry point's value)
BUNDLED = {
    "idx-to-npy": "dmconf.derive.idx_npy:idx_to_npy",
    "csv-to-parquet": "dmconf.derive.csv_parquet:csv_to_parquet",
}

F = TypeVar("F", bound=Callable[..., None])


class NoParams(BaseModel):
    """The parameters of a step that takes none."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Step:
    """A registered step: its function, parameter model, version and import path."""

    function: Callable[[dict[str, Any], Path, Any], None]
    params: type[BaseModel]
    version: int
    path: str  # module:qualname, the name that enters output keys

    def validate(self, values: Mapping[str, Any], *, dataset: str, source: str | None
                 ) -> BaseModel:
        """The definition's ``params`` as the step's model (defaults filled in)."""
        try:
            return self.params.model_validate(dict(values))
        except ValidationError as exc:
            raise DefinitionError(
                f"parameters of step {self.path}: {describe_validation(exc.errors())}",
                dataset=dataset, path=source, field="derive.params",
            ) from None

    def source_sha256(self) -> str | None:
        """sha256 of the module file that defines the step (None where there is none)."""
        try:
            where = inspect.getsourcefile(self.function)
            return hashlib.sha256(Path(where).read_bytes()).hexdigest() if where else None
        except (OSError, TypeError):
            return None


def step(*, version: int, params: type[BaseModel] = NoParams) -> Callable[[F], F]:
    """Register a function as a dmconf step (see the module's documentation)."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise TypeError(f"step version must be a non-negative integer, got {version!r}")
    if not (isinstance(params, type) and issubclass(params, BaseModel)):
        raise TypeError(f"step params must be a pydantic model class, got {params!r}")

    def register(function: F) -> F:
        path = f"{function.__module__}:{function.__qualname__}"
        function.__dmconf_step__ = Step(function, params, version, path)  # type: ignore[attr-defined]
        return function

    return register


def find_step(name: str, *, dataset: str, source: str | None = None) -> Step:
    """The step a definition names: a short name (bundled, or an entry point of
    ``dmconf.steps``) or an import path; it must be decorated with :func:`step`."""
    target = BUNDLED.get(name) or _entry_point(name) or name
    module_name, _, attribute = target.partition(":")
    if not attribute:  # mypkg.steps.lowercase
        module_name, _, attribute = target.rpartition(".")
    if not module_name or not attribute:
        raise _bad(f"{name!r} is neither a known step name ({', '.join(sorted(BUNDLED))}, or an "
                   f"entry point of {STEP_GROUP}) nor an import path (package.module:function)",
                   dataset, source)
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except ImportError as exc:
        raise _bad(f"step {name!r}: module {module_name!r} cannot be imported ({exc}); install "
                   "the package that provides it", dataset, source) from None
    except AttributeError:
        raise _bad(f"step {name!r}: {module_name} has no {attribute!r}", dataset, source) from None
    registered = getattr(found, "__dmconf_step__", None)
    if not isinstance(registered, Step):
        raise _bad(f"{target} is not a dmconf step: decorate it with @dmconf.derive.step(...)",
                   dataset, source)
    return registered


def _entry_point(name: str) -> str | None:
    if ":" in name or "." in name:
        return None  # an import path, never an entry point name
    from importlib.metadata import entry_points

    for ep in entry_points().select(group=STEP_GROUP):
        if ep.name == name:
            return str(ep.value)
    return None


def _bad(message: str, dataset: str, source: str | None) -> DefinitionError:
    return DefinitionError(message, dataset=dataset, path=source, field="derive.step")
