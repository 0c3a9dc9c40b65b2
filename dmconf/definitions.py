"""Datasets defined in Python with datamaestro's decorators (``@dataset``, ``@filedownloader``).

A datamaestro definition works after replacing the import prefix ``datamaestro`` with
``dmconf`` (and ``datamaestro_image.data`` with ``dmconf.data.image``)::

    @filedownloader("train_images.idx", "http://yann.lecun.com/.../train-images-idx3-ubyte.gz")
    @dataset(ImageClassification, url="http://yann.lecun.com/exdb/mnist/")
    def MNIST(train_images):
        \"\"\"The MNIST database

        The MNIST database of handwritten digits...
        \"\"\"
        return {"train": LabelledImages(images=IDXImage(path=train_images), ...)}

The decorators build nothing but the one model of a definition,
:class:`~dmconf.definition.DatasetDefinition`, the same one a YAML file gives: each downloader
adds a resource, the docstring gives the name (first line) and description, and ``data`` is
what the function returns when called with each resource's path *relative to the dataset's
folder*, dumped with ``type`` tags. Prepare, ``info``, Hydra and experimaestro therefore need no
special case, and ``dmconf info ID --yaml`` prints the YAML equivalent.

The function must only *describe* where things are (paths it is given, joined with names); it is
called once, without the files, when the definition is built.

The id is the name of the entry point that registers the object (group ``dmconf.datasets``,
``"com.lecun.mnist" = "mypkg.mnist:MNIST"``); ``@dataset(id=...)`` may repeat it, and must then
agree. Ids are never derived from module or function names.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from dmconf.definition import DatasetDefinition, Resource
from dmconf.errors import DefinitionError

__all__ = ["PythonDataset", "argument", "data", "dataset", "datatags", "datatasks"]

T = TypeVar("T")


@dataclass(frozen=True)
class Download:
    """One resource contributed by a downloader decorator.

    ``key`` names the resource (the file or folder in the dataset's folder), ``varname`` the
    function parameter that receives it, and ``placeholder`` the relative path it receives.
    """

    key: str
    varname: str
    resource: Resource
    placeholder: Path


class PythonDataset:
    """What ``@dataset`` returns: a function plus what the decorators said about it."""

    def __init__(
        self, function: Callable[..., Any], base: type[BaseModel] | None, *, id: str | None,
        url: str | None,
    ) -> None:
        self.function = function
        self.base = base
        self.id = id
        self.url = url
        self.tags: list[str] = []
        self.tasks: list[str] = []
        self.downloads: list[Download] = []  # in the order they are written, top to bottom
        self.__doc__ = function.__doc__
        self.__name__ = getattr(function, "__name__", "dataset")
        self.__qualname__ = getattr(function, "__qualname__", self.__name__)
        self.__module__ = getattr(function, "__module__", __name__)
        self.__wrapped__ = function

    def __repr__(self) -> str:
        return f"<dmconf dataset {self.where}>"

    @property
    def where(self) -> str:
        """``module:function``, for messages."""
        return f"{self.__module__}:{self.__qualname__}"

    def add_download(self, download: Download) -> None:
        """Register a resource; decorators apply bottom-up, so each one goes first."""
        for other in self.downloads:
            if other.key == download.key:
                what = f"the file {download.key!r}"
            elif other.varname == download.varname:
                what = f"the parameter {download.varname!r} ({download.key!r}, {other.key!r})"
            else:
                continue
            raise DefinitionError(
                f"two downloaders give {what}; give each its own name", path=self.where
            )
        self.downloads.insert(0, download)

    def definition(self, dataset_id: str | None = None) -> DatasetDefinition:
        """The definition, with ``dataset_id`` (an entry point's name) as its id."""
        if dataset_id is not None and self.id is not None and self.id != dataset_id:
            raise DefinitionError(
                f"@dataset(id={self.id!r}) does not match the id {dataset_id!r} it is registered "
                "under (the dmconf.datasets entry point name); make them equal, or drop id=",
                dataset=dataset_id, path=self.where, field="id",
            )
        the_id = dataset_id or self.id
        if the_id is None:
            raise DefinitionError(
                "has no id: register it under the dmconf.datasets entry point group "
                '("com.example.name" = "module:object") or give @dataset(id=...)',
                path=self.where,
            )
        name, description = split_docstring(inspect.cleandoc(self.function.__doc__ or ""))
        root = self._call(the_id)
        from dmconf.data.registry import dump, type_name

        values = {
            "id": the_id, "name": name, "description": description, "url": self.url,
            "tags": self.tags, "tasks": self.tasks,
            "resources": {d.key: d.resource for d in self.downloads},
            "type": type_name(type(root)),
            "data": dump(root, f"{self.where}: returned data"),
        }
        return DatasetDefinition.from_mapping(values, dataset_id=the_id, source=self.where)

    def _call(self, dataset_id: str) -> BaseModel:
        """Call the function with the relative path of each resource; return the typed root."""
        arguments = {d.varname: d.placeholder for d in self.downloads}
        try:
            inspect.signature(self.function).bind(**arguments)
        except TypeError as exc:
            raise DefinitionError(
                f"{self.__name__}{inspect.signature(self.function)} cannot take the resources "
                f"its downloaders give ({', '.join(arguments) or 'none'}): {exc}",
                dataset=dataset_id, path=self.where,
            ) from None
        try:
            result = self.function(**arguments)
        except Exception as exc:  # the plugin's own code: say where, and what it may not do
            raise DefinitionError(
                f"{self.__name__}({', '.join(f'{k}={str(v)!r}' for k, v in arguments.items())}) "
                f"failed ({type(exc).__name__}: {exc}). The function is called with each "
                "resource's path relative to the dataset's folder, before any download, to learn "
                "where the data lies: it may join paths but not open files",
                dataset=dataset_id, path=self.where,
            ) from exc
        base = self.base
        if isinstance(result, dict) and base is not None:
            from pydantic import ValidationError

            from dmconf.errors import describe_validation

            try:
                result = base(**result)
            except ValidationError as exc:
                raise DefinitionError(
                    f"the returned mapping is not a {base.__name__}: "
                    f"{describe_validation(exc.errors())}",
                    dataset=dataset_id, path=self.where,
                ) from None
        if not isinstance(result, BaseModel) or (base is not None and not isinstance(result, base)):
            expected = base.__name__ if base is not None else "a dmconf data object"
            raise DefinitionError(
                f"returned {type(result).__name__}, expected {expected} (or a mapping of its "
                "fields with the base type given to @dataset)",
                dataset=dataset_id, path=self.where,
            )
        return result

    def prepare(self, **kwargs: Any) -> BaseModel:
        """Download what is missing and return the typed object (see :func:`dmconf.prepare`)."""
        from dmconf.preparation import prepare

        return prepare(self.definition(), **kwargs)


def split_docstring(text: str) -> tuple[str | None, str]:
    """The name (first line) and description (the rest) of a cleaned docstring."""
    first, _, rest = text.partition("\n")
    return first.strip() or None, rest.strip()


class dataset:  # lowercase: datamaestro's spelling, kept for seed compatibility
    """Make a function a dataset definition (innermost decorator, under the downloaders).

    Args:
        base: the data type returned (a dmconf data model); default: the function's return
            annotation, or the type of the object it returns.
        id: the dataset id; it must equal the ``dmconf.datasets`` entry point name.
        url: the dataset's home page.
        timestamp, size, doi: accepted for compatibility with datamaestro, not used.
    """

    def __init__(
        self, base: type[BaseModel] | None = None, *, timestamp: Any = None, id: str | None = None,
        url: str | None = None, size: Any = None, doi: str | None = None,
    ) -> None:
        if base is not None and not (isinstance(base, type) and issubclass(base, BaseModel)):
            raise DefinitionError(
                f"@dataset({base!r}): the base must be a dmconf data type (a pydantic model "
                "such as dmconf.data.image.ImageClassification)"
            )
        self.base = base
        self.id = id
        self.url = url

    def __call__(self, function: Callable[..., Any]) -> PythonDataset:
        if isinstance(function, type) or not callable(function):
            raise DefinitionError(
                f"@dataset decorates a function returning the data, not {function!r}; "
                "class-based datamaestro datasets are not supported",
            )
        base = self.base
        if base is None:
            try:
                annotation = inspect.signature(function, eval_str=True).return_annotation
            except (NameError, TypeError, SyntaxError):  # an annotation only a type checker sees
                annotation = None
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                base = annotation
        return PythonDataset(function, base, id=self.id, url=self.url)


def _dataset_only(decorator: str, target: Any) -> PythonDataset:
    if not isinstance(target, PythonDataset):
        raise DefinitionError(
            f"@{decorator} applies to a @dataset definition: put it above @dataset "
            f"(got {target!r})"
        )
    return target


def _tagging(decorator: str, field: str) -> Callable[..., Callable[[PythonDataset], PythonDataset]]:
    def labels(*values: str) -> Callable[[PythonDataset], PythonDataset]:
        def annotate(target: PythonDataset) -> PythonDataset:
            target = _dataset_only(decorator, target)
            known = getattr(target, field)
            setattr(target, field, [*values, *(v for v in known if v not in values)])
            return target

        return annotate

    labels.__name__ = labels.__qualname__ = decorator
    labels.__doc__ = f"Add {field} (searched with ``{field[:-1]}:X``) to a dataset."
    return labels


datatags = _tagging("datatags", "tags")
datatasks = _tagging("datatasks", "tasks")


def data(description: str | None = None) -> Callable[[T], T]:
    """datamaestro's marker for data types; dmconf's data types are plain pydantic models."""

    def mark(cls: T) -> T:
        if description and isinstance(cls, type) and not cls.__doc__:
            cls.__doc__ = description
        return cls

    return mark


def argument(
    name: str, type: Any = Any, default: Any = ..., help: str | None = None, **_: Any
) -> Callable[[type[BaseModel]], type[BaseModel]]:
    """datamaestro's ``@argument(name, type=...)`` on a data type: adds a pydantic field.

    The decorated class is replaced by a subclass with the same name and module that has the
    field, which is what the module's name for it then refers to.
    """
    from pydantic import Field, create_model

    def add(cls: type[BaseModel]) -> type[BaseModel]:
        if not (isinstance(cls, builtins.type) and issubclass(cls, BaseModel)):
            raise DefinitionError(f"@argument({name!r}) applies to a data type, not {cls!r}")
        field = Field(default=default, description=help)
        model: type[BaseModel] = create_model(  # type: ignore[call-overload]
            cls.__name__, __base__=cls, __module__=cls.__module__, **{name: (type, field)}
        )
        model.__qualname__ = cls.__qualname__
        model.__doc__ = cls.__doc__
        return model

    return add

