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
agree. In a ported datamaestro repository (group ``dmconf.repositories``) the id follows
datamaestro's rule (:mod:`dmconf.compat.datamaestro.ids`).

Class-based datasets (``@dataset class X(Dataset)`` with downloaders as class attributes and a
``config()`` method) build the same definition: the class is instantiated, ``config()`` is
called with each downloader's ``path`` relative to the dataset's folder, and a ``reference`` to
another dataset becomes a ``{_dataset: ID}`` node of ``data`` (:mod:`.references`).
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from dmconf.compat.datamaestro import building, ids
from dmconf.compat.experimaestro import Meta, Option, Param
from dmconf.definition import DatasetDefinition, Resource
from dmconf.errors import DefinitionError

__all__ = [
    "AbstractDataset", "Dataset", "Meta", "Option", "Param", "PythonDataset", "argument", "data",
    "dataset", "datatags", "datatasks", "metadata", "metadataset",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Download:
    """One resource contributed by a downloader decorator.

    ``key`` names the resource (the file or folder in the dataset's folder), ``varname`` the
    function parameter that receives it, and ``placeholder`` the relative path it receives.
    """

    key: str
    varname: str
    resource: Resource | DefinitionError | None  # None: not fetched (a reference)
    placeholder: Any
    origin: Any = None  # the resource object that gave it


class PythonDataset:
    """What ``@dataset`` returns: a function plus what the decorators said about it."""

    def __init__(
        self, function: Callable[..., Any], base: type[BaseModel] | None, *, id: str | None,
        url: str | None,
    ) -> None:
        self.function = function
        self.base = base
        self.declared_id = id  # as written in @dataset(id=...): maybe relative
        self.url = url
        self.agreements: list[str] = []  # data-use terms (dmconf.compat.datamaestro.annotations)
        self.tags: list[str] = []
        self.tasks: list[str] = []
        self.downloads: list[Download] = []  # in the order they are written, top to bottom
        self.linked: list[Any] = []  # links(...): the dataset is derived from other ones
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
            elif other.varname == download.varname and not isinstance(self, ClassDataset):
                what = f"the parameter {download.varname!r} ({download.key!r}, {other.key!r})"
            else:
                continue
            raise DefinitionError(
                f"two downloaders give {what}; give each its own name", path=self.where
            )
        self.downloads.insert(0, download)

    @property
    def full_id(self) -> str | None:
        """The id datamaestro's rule gives (module below ``config``, name, ``id=``), if any."""
        below = ids.module_below_config(self.__module__)
        if below is None:
            return self.declared_id if ids.is_absolute(self.declared_id) else None
        return ids.dataset_id(below, self.__name__, self.declared_id)

    @property
    def id(self) -> str | None:
        """The whole id when it is known from the code (datamaestro's ``wrapper.id``)."""
        return self.full_id or self.declared_id

    def definition(self, dataset_id: str | None = None) -> DatasetDefinition:
        """The definition, with ``dataset_id`` (an entry point's name) as its id."""
        from dmconf.compat.datamaestro import references

        if dataset_id is None or ids.module_below_config(self.__module__) is not None:
            declared = self.full_id
        else:
            declared = self.declared_id
        if dataset_id is not None and declared is not None and declared != dataset_id:
            raise DefinitionError(
                f"@dataset(id={self.declared_id!r}) does not match the id {dataset_id!r} it is "
                "registered under (the dmconf.datasets entry point name); make them equal, or "
                "drop id=",
                dataset=dataset_id, path=self.where, field="id",
            )
        the_id = dataset_id or declared
        if the_id is None:
            raise DefinitionError(
                "has no id: register it under the dmconf.datasets entry point group "
                '("com.example.name" = "module:object") or give @dataset(id=...)',
                path=self.where,
            )
        name, description = split_docstring(inspect.cleandoc(self.function.__doc__ or ""))
        from dmconf.data.registry import dump, type_name

        with references.collecting() as found:
            root = self._call(the_id)
            data = dump(root, f"{self.where}: returned data", reference=found.node)
        tags, tasks = inherited_labels(type(root))
        values = {
            "id": the_id, "name": name, "description": description, "url": self.url,
            "tags": [*self.tags, *(t for t in tags if t not in self.tags)],
            "tasks": [*self.tasks, *(t for t in tasks if t not in self.tasks)],
            "resources": self._resources(the_id),
            "type": type_name(type(root)),
            "data": data,
        }
        if self.agreements:
            values["terms"] = "\n\n".join(self.agreements)
        if self.linked:
            values["derive"] = self._derive(the_id, bool(values["resources"]))
        definition = DatasetDefinition.from_mapping(values, dataset_id=the_id, source=self.where)
        # the code of resources built by code (dmconf.derive.resource): attached here only
        definition._builders = {d.key: building.builder(d.origin) for d in self.downloads
                                if building.builds(type(d.origin))
                                and d.key in definition.resources}
        return definition

    def _resources(self, dataset_id: str) -> dict[str, Resource]:
        """The ``resources`` entries; one built by code that declares no dependency (it reads
        them through closures) is built after every resource written before it (a dataset it
        reads through a ``reference`` is prepared when the code asks for it)."""
        ordered = self.downloads[::-1] if isinstance(self, ClassDataset) else self.downloads
        resources: dict[str, Resource] = {}
        for download in ordered:
            found = _checked(download.resource)
            if found is None:
                continue
            origin = download.origin
            if building.builds(type(origin)) and building.closure_style(origin):
                found = origin.built(dataset_id, list(resources), [])
            resources[download.key] = found
        return {d.key: resources[d.key] for d in self.downloads if d.key in resources}

    def _derive(self, dataset_id: str, resources: bool) -> dict[str, Any]:
        """The ``derive:`` block of a dataset made of others (one ``links(...)``)."""
        if len(self.linked) > 1 or resources:
            raise DefinitionError(
                "links(...) makes a dataset derived from the linked ones: dmconf accepts one "
                "links(...) and no other downloaded resource beside it",
                dataset=dataset_id, path=self.where)
        return dict(self.linked[0].derive())

    def data_object(self) -> BaseModel:
        """The typed root with paths relative to the dataset's folder (for references)."""
        return self._call(self.id or self.where)

    def _invoke(self, arguments: dict[str, Any]) -> Any:
        return self.function(**arguments)

    def _call(self, dataset_id: str) -> BaseModel:
        """Call the function with the relative path of each resource; return the typed root."""
        arguments = {} if isinstance(self, ClassDataset) else {
            d.varname: _argument(d.placeholder) for d in self.downloads
        }
        try:
            if not isinstance(self, ClassDataset):
                inspect.signature(self.function).bind(**arguments)
        except TypeError as exc:
            raise DefinitionError(
                f"{self.__name__}{inspect.signature(self.function)} cannot take the resources "
                f"its downloaders give ({', '.join(arguments) or 'none'}): {exc}",
                dataset=dataset_id, path=self.where,
            ) from None
        try:
            result = self._invoke(arguments)
        except DefinitionError:
            raise
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


class ClassDataset(PythonDataset):
    """A class-based dataset: downloaders are class attributes, ``config()`` gives the data."""

    def __init__(self, cls: type, base: type[BaseModel] | None, **kwargs: Any) -> None:
        super().__init__(cls, base, **kwargs)
        for name, value in vars(cls).items():
            bind = getattr(value, "bind_to_class", None)
            if callable(bind):
                bind(name, self)

    def _invoke(self, arguments: dict[str, Any]) -> Any:
        instance = self.function()
        return instance.config()


def _checked(resource: Any) -> Any:
    """A resource, or the error its downloader met (raised when the definition is built)."""
    if isinstance(resource, DefinitionError):
        raise resource
    return resource


def _argument(placeholder: Any) -> Any:
    """What a function receives for a resource: a path, or a referenced dataset's data."""
    return placeholder() if callable(placeholder) else placeholder


def _base_of(target: Any, declared: Any) -> type[BaseModel] | None:
    """The data type a definition returns: declared, or read from its return annotation."""
    base = getattr(getattr(declared, "__dmconf_metadataset__", None), "base", declared)
    if base is not None:
        return base if isinstance(base, type) and issubclass(base, BaseModel) else None
    function = getattr(target, "config", None) if isinstance(target, type) else target
    try:
        annotation = inspect.signature(function, eval_str=True).return_annotation  # type: ignore[arg-type]
    except (NameError, TypeError, SyntaxError, ValueError):  # only a type checker sees it
        return None
    annotation = typing_origin(annotation)
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return annotation if is_model else None


def typing_origin(annotation: Any) -> Any:
    import typing

    return typing.get_origin(annotation) or annotation


class dataset:  # lowercase: datamaestro's spelling, kept for seed compatibility
    """Make a function (or a :class:`Dataset` class) a dataset definition.

    Args:
        base: the data type returned (a dmconf data model); default: the return annotation of
            the function (of ``config()`` for a class), or the type of the object it returns.
        id: the dataset id. With the ``dmconf.datasets`` group it must equal the entry point
            name; in a ported repository it follows datamaestro's rule (``""``, ``"name"``,
            ``".suffix"`` or a whole id).
        url: the dataset's home page.
        timestamp, size, doi, as_prepare, variants: accepted for compatibility, not used.
    """

    def __init__(
        self, base: Any = None, *, timestamp: Any = None, id: str | None = None,
        url: str | None = None, size: Any = None, doi: str | None = None,
        as_prepare: bool = False, variants: Any = None,
    ) -> None:
        meta = getattr(base, "__dmconf_metadataset__", None)
        if meta is not None:
            url = url or meta.url
        elif base is not None and not (isinstance(base, type) and issubclass(base, BaseModel)):
            raise DefinitionError(
                f"@dataset({base!r}): the base must be a dmconf data type (a pydantic model "
                "such as dmconf.data.image.ImageClassification)"
            )
        self.base = base
        self.id = id
        self.url = url
        self.shared = meta

    def __call__(self, target: Any) -> Any:
        wrapper = self._wrap(target)
        if self.shared is not None:
            found = getattr(wrapper, "__dataset__", wrapper)
            found.tags += [t for t in self.shared.tags if t not in found.tags]
            found.tasks += [t for t in self.shared.tasks if t not in found.tasks]
        return wrapper

    def _wrap(self, target: Any) -> Any:
        base = _base_of(target, self.base)
        if isinstance(target, type):
            if not callable(getattr(target, "config", None)):
                raise DefinitionError(
                    f"@dataset on class {target.__qualname__}: a class-based dataset derives "
                    "from Dataset and has a config() method returning the data"
                )
            wrapper = ClassDataset(target, base, id=self.id, url=self.url)
            setattr(target, "__dataset__", wrapper)  # noqa: B010 (datamaestro's attribute)
            return target
        if not callable(target):
            raise DefinitionError(f"@dataset decorates a function or a class, not {target!r}")
        return PythonDataset(target, base, id=self.id, url=self.url)


class _DataPath:
    """``SomeDataset.data_path``: that dataset's folder, as a path ``_dataset=ID`` that preparing
    resolves (see :func:`dmconf.data.registry.build`)."""

    def __get__(self, obj: Any, owner: type) -> Path:
        wrapper = getattr(owner, "__dataset__", None)
        if not isinstance(wrapper, PythonDataset):
            raise DefinitionError(f"{owner.__qualname__} is not a @dataset: it has no data_path")
        from dmconf.data.registry import REFERENCE_PATH

        return Path(f"{REFERENCE_PATH}{wrapper.id}")


class Dataset:
    """Base of class-based datasets: downloaders as class attributes, ``config()`` the data."""

    __dataset__: ClassDataset
    data_path = _DataPath()

    def config(self) -> BaseModel:
        raise NotImplementedError(f"{type(self).__qualname__}.config() gives the data")


AbstractDataset = PythonDataset


class metadataset:  # datamaestro's spelling
    """Information several datasets share: ``@dataset(Shared)`` takes its base, url and labels."""

    def __init__(self, base: Any = None, url: str | None = None) -> None:
        self.base = base
        self.url = url
        self.tags: list[str] = []
        self.tasks: list[str] = []

    def __call__(self, target: T) -> T:
        target.__dmconf_metadataset__ = self  # type: ignore[attr-defined]
        return target


def wrapper_of(decorator: str, target: Any) -> PythonDataset:
    """The dataset a decorator applies to: a @dataset function, or a @dataset class."""
    found = getattr(target, "__dataset__", target) if isinstance(target, type) else target
    if not isinstance(found, PythonDataset):
        raise DefinitionError(
            f"@{decorator} applies to a @dataset definition: put it above @dataset "
            f"(got {target!r})"
        )
    return found


def inherited_labels(cls: type) -> tuple[list[str], list[str]]:
    """Tags and tasks that @datatags/@datatasks put on a data type and its bases."""
    tags: list[str] = []
    tasks: list[str] = []
    for klass in cls.__mro__:
        for field, into in (("tags", tags), ("tasks", tasks)):
            for value in vars(klass).get(f"__dmconf_{field}__", ()):
                if value not in into:
                    into.append(value)
    return tags, tasks


def _tagging(decorator: str, field: str) -> Callable[..., Callable[[T], T]]:
    def labels(*values: str) -> Callable[[T], T]:
        def annotate(target: T) -> T:
            shared = getattr(target, "__dmconf_metadataset__", None)
            if isinstance(shared, metadataset):  # labels of every dataset using it
                setattr(shared, field, [*values, *getattr(shared, field)])
                return target
            if isinstance(target, type) and not hasattr(target, "__dataset__"):
                # On a data type: every dataset giving this type inherits the labels.
                known = list(vars(target).get(f"__dmconf_{field}__", ()))
                setattr(target, f"__dmconf_{field}__", [*values, *known])
                return target
            wrapper = wrapper_of(decorator, target)
            known = getattr(wrapper, field)
            setattr(wrapper, field, [*values, *(v for v in known if v not in values)])
            return target

        return annotate

    labels.__name__ = labels.__qualname__ = decorator
    labels.__doc__ = f"Add {field} (searched with ``{field[:-1]}:X``) to a dataset or data type."
    return labels


datatags = _tagging("datatags", "tags")
datatasks = _tagging("datatasks", "tasks")


def metadata(tags: str | list[str] | None = None, tasks: str | list[str] | None = None) -> Any:
    """datamaestro's ``@metadata(tags=..., tasks=...)``: ``@datatags`` and ``@datatasks``."""

    def annotate(target: T) -> T:
        for decorator, values in ((datatags, tags), (datatasks, tasks)):
            if values:
                target = decorator(*([values] if isinstance(values, str) else values))(target)
        return target

    return annotate


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

