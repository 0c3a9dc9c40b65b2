"""The part of experimaestro's declarative API that datamaestro data types are written with.

A ported plugin's data modules say ``class Documents(Base): count: Meta[Optional[int]]`` and
build objects with ``Documents.C(count=3)``; ``dmconf port`` rewrites their ``experimaestro``
imports to this module, where the same names make *pydantic* models (dmconf's data types):

- ``Param[T]``, ``Meta[T]``, ``Option[T]``, ``Constant[T]`` are ``Annotated[T, marker]``: a
  pydantic field of type ``T``. As in experimaestro, a field whose type admits ``None`` and has
  no default defaults to ``None``.
- ``field(default=..., default_factory=..., ignore_default=...)`` is ``pydantic.Field``.
- :class:`Config` (and ``Task``) is the base model: ``.C(**kwargs)`` builds it, and
  ``__arguments__()`` gives the arguments it was built with.

This module never imports experimaestro; :mod:`dmconf.xpm` is the real integration.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, ModelWrapValidatorHandler, model_validator
from tqdm import tqdm

from dmconf.data import Base

__all__ = [
    "Annotated", "Choices", "Config", "Constant", "Meta", "Option", "Param", "Task",
    "documentation", "field", "pathgenerator", "tqdm",
]


class _Marker:
    """``Param[T]``: the type ``T``, marked as what experimaestro would call it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __getitem__(self, annotation: Any) -> Any:
        return Annotated[annotation, self]

    def __repr__(self) -> str:
        return self.kind


Param = _Marker("Param")
Meta = _Marker("Meta")
Option = _Marker("Option")
Constant = _Marker("Constant")


class Choices:
    """experimaestro's ``Annotated[str, Choices([...])]``: documentation only here."""

    def __init__(self, choices: Any) -> None:
        self.choices = list(choices)


def field(
    *, default: Any = ..., default_factory: Any = None, ignore_default: Any = ...,
    ignore_generated: bool = False, **_: Any,
) -> Any:
    """experimaestro's ``field``: a pydantic field with a default.

    ``field(ignore_default=X)`` without ``default`` is experimaestro's older spelling of a
    default ``X`` left out of the identity (``field(ignore_default=False)`` defaults to False).
    """
    if default_factory is not None:
        return Field(default_factory=default_factory)
    if default is ... and ignore_default is not ...:
        default = ignore_default
    return Field(default=default)


def documentation(function: Any) -> Any:
    """experimaestro marks documented methods; nothing to do here."""
    return function


def pathgenerator(*args: Any, **kwargs: Any) -> Any:
    """Task output paths have no meaning in a data type: the field holds a path."""
    return Field(default=None)


def _admits_none(annotation: Any) -> bool:
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if annotation is None or annotation is type(None) or annotation is Any:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return type(None) in typing.get_args(annotation)
    return False


if TYPE_CHECKING:  # pydantic's metaclass has no public name
    from pydantic._internal._model_construction import ModelMetaclass
else:
    ModelMetaclass = type(Base)


class _ConfigMeta(ModelMetaclass):
    """experimaestro lets a subclass change a field's default without its annotation."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kw: Any
    ) -> type:
        annotations = namespace.setdefault("__annotations__", {})
        fields: dict[str, Any] = {}
        for base in bases:
            fields.update(getattr(base, "model_fields", {}))
        for attribute, value in namespace.items():
            if attribute.startswith("_") or attribute in annotations:
                continue
            if attribute in fields:  # a new default for an inherited field
                annotations[attribute] = fields[attribute].annotation
            elif not (inspect.isroutine(value) or isinstance(value, type)
                      or hasattr(value, "__get__")):
                annotations[attribute] = typing.ClassVar  # a plain class attribute
        cls = super().__new__(mcs, name, bases, namespace, **kw)
        setattr(cls, "__abstractmethods__", frozenset())  # noqa: B010 (experimaestro builds abstract ones)
        return cls


class Config(Base, metaclass=_ConfigMeta):
    """A data type written the experimaestro way, validated by pydantic."""

    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=False)

    @model_validator(mode="wrap")
    @classmethod
    def _optional_defaults(cls, values: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """A field that admits None and has no default is None, and not "set" (as in
        experimaestro: it is then no argument of ``__arguments__`` nor of a dump)."""
        unset = []
        if isinstance(values, dict):
            unset = [
                name for name, info in cls.model_fields.items()
                if info.is_required() and name not in values and _admits_none(info.annotation)
            ]
            values = {**values, **dict.fromkeys(unset)}
        built = handler(values)
        if unset and isinstance(built, Base):
            built.__pydantic_fields_set__.difference_update(unset)
        return built

    @classmethod
    def C(cls, **kwargs: Any) -> Any:
        """Build the object (experimaestro's configuration constructor)."""
        return cls(**kwargs)

    def __arguments__(self) -> dict[str, Any]:
        """The fields this object was built with, to build another one from them."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "id"}


Task = Config
