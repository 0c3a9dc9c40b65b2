"""datamaestro's resources: what a dataset fetches, as decorators or as class attributes.

Each resource adds one entry to the definition's ``resources`` (or, for :class:`reference`, a
``{_dataset: ID}`` node to its ``data``). Used as a decorator above ``@dataset`` it hands the
function the resource's path; as a class attribute of a ``Dataset`` its ``path`` (and
``prepare()``) give that path, relative to the dataset's folder, to ``config()``.

:class:`Downloader` resources are fetched by dmconf (:mod:`.single`, :mod:`.archive`, a
``linkfolder`` of :mod:`.links`, one file of :mod:`.huggingface`); ``links`` makes the dataset a
derived one (:mod:`.links`); ``Replace``/``Filter`` transforms become ``lines`` steps. A
resource whose class defines datamaestro's ``_download(destination)`` (a document store
builder, :class:`FilesCopy`...) is built by that code once the resources it reads are prepared
(a ``build:`` entry, :mod:`dmconf.compat.datamaestro.building`). The others (other transforms,
whole Hugging Face repositories) keep their place in the definition with a
``datamaestro://KIND/ID/KEY`` URL, which the settings' ``mirrors:`` can map to a ``file://``
copy; without one, preparing says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dmconf.compat.datamaestro.definitions import Download, PythonDataset, wrapper_of
from dmconf.definition import Resource as ResourceModel
from dmconf.errors import DefinitionError

__all__ = [
    "Download", "Downloader", "FileResource", "FilesCopy", "FolderResource", "Resource",
    "reference",
]


class Resource:
    """One thing a dataset needs; subclasses say how it becomes a ``resources`` entry."""

    def __init__(self, varname: str | None = None, *, transient: bool = False, **_: Any) -> None:
        self.name = varname
        self.transient = transient
        self.dataset: PythonDataset | None = None
        self._dependencies: list[Resource] = []

    @property
    def key(self) -> str:
        """The file or folder name in the dataset's folder."""
        if self.name is None:
            raise DefinitionError(f"{type(self).__name__} has no name: give varname=...")
        return self.name

    @property
    def varname(self) -> str:
        """The parameter that receives it, for a decorated function."""
        return self.key.split(".", 1)[0]

    @property
    def path(self) -> Path:
        """Its path, relative to the dataset's folder (absolute while dmconf builds one of
        the dataset's resources)."""
        from dmconf.compat.datamaestro.building import located

        return located(self, Path(self.key))

    @property
    def definition(self) -> Any:
        """datamaestro's dataset, for ``definition.datapath``: only while it is built."""
        from types import SimpleNamespace

        from dmconf.compat.datamaestro.building import datapath

        return SimpleNamespace(datapath=datapath(self))

    @property
    def context(self) -> Any:
        """datamaestro's context, for ``context.downloadURL`` while this resource is built."""
        from dmconf.compat.datamaestro.context import Context

        return Context(self)

    def prepare(self) -> Any:
        return self.path

    def model(self, dataset_id: str) -> ResourceModel | None:
        """The ``resources`` entry: built by its code when it has some, else a resource only
        datamaestro can make (a ``datamaestro://`` URL)."""
        from dmconf.compat.datamaestro.building import builds

        if builds(type(self)):
            return self.built(dataset_id, [d.name for d in self._dependencies
                                           if not isinstance(d, reference) and d.name], [])
        return ResourceModel(url=f"datamaestro://{type(self).__name__}/{dataset_id}/{self.key}")

    def built(self, dataset_id: str, inputs: list[str], datasets: list[str]) -> ResourceModel:
        """The ``build:`` entry of a resource made by its code, reading ``inputs`` (other
        resources) and ``datasets``."""
        from pydantic import ValidationError

        from dmconf.compat.datamaestro.building import block
        from dmconf.errors import describe_validation

        datasets = [*datasets, *(d.target().id or d.target().where for d in self._dependencies
                                 if isinstance(d, reference))]
        try:
            return ResourceModel(build=block(self, inputs, datasets))
        except ValidationError as exc:
            raise DefinitionError(f"{type(self).__name__}({self.key!r}): "
                                  f"{describe_validation(exc.errors())}", dataset=dataset_id
                                  ) from None

    def _placeholder(self) -> Any:
        return self.prepare

    def _attach(self, target: PythonDataset, lazy: bool = False) -> None:
        self.dataset = target
        try:
            model: Any = self.model(target.id or target.where)
        except DefinitionError as exc:
            if not lazy:
                raise
            model = exc  # a class attribute: reported when this dataset is built, not on import
        target.add_download(Download(self.key, self.varname, model, self._placeholder(), self))

    def bind_to_class(self, name: str, target: PythonDataset) -> None:
        """A class attribute of a ``Dataset``: named after the attribute unless named."""
        if self.name is None:
            self.name = name
        self._attach(target, lazy=True)

    def __call__(self, target: Any) -> Any:
        """Used as a decorator above ``@dataset``."""
        self._attach(wrapper_of(type(self).__name__, target))
        return target


class FileResource(Resource):
    """A resource that is one file, ``filename`` in the dataset's folder."""

    def __init__(self, filename: str, *, varname: str | None = None, **kwargs: Any) -> None:
        super().__init__(filename, **kwargs)
        self._varname = varname

    @property
    def varname(self) -> str:
        return self._varname or self.key.split(".", 1)[0]


class FolderResource(Resource):
    """A resource that is a folder."""


class FilesCopy(FolderResource):
    """Files copied out of another resource's folder: ``FilesCopy(ARCHIVE, {"test.tsv":
    "qrels/test.tsv"})`` is a folder holding ``test.tsv``, a copy of ``qrels/test.tsv`` of the
    folder ``ARCHIVE`` (built by dmconf once ``ARCHIVE`` is prepared)."""

    build_version = 1

    def __init__(self, source: Resource, files: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.files = dict(files)
        self._dependencies.append(source)

    def _download(self, destination: Path) -> None:
        import os
        import shutil

        root = os.path.realpath(self.source.path)
        for name, relative in self.files.items():
            source = os.path.realpath(os.path.join(root, relative))
            target = destination / name
            if os.path.commonpath([root, source]) != root or not os.path.isfile(source):
                raise FileNotFoundError(f"{relative!r} is not a file of {self.source.name}")
            if os.path.dirname(os.path.normpath(name)) or name in (".", ".."):
                raise ValueError(f"{name!r} must be a plain file name")
            shutil.copyfile(source, target)


class Downloader(FileResource):
    """A resource dmconf fetches: a URL, its checksum, how to unpack it."""

    def __init__(
        self, key: str, varname: str, url: str, unpack: str, *, checker: Any = None,
        sha256: str | None = None, size: int | None = None, mirrors: Iterable[str] = (),
        placeholder: Path | None = None, transient: bool = False, unwrap: bool = False,
        lines: list[dict[str, str]] | None = None,
    ) -> None:
        from dmconf.compat.datamaestro.utils import checksums

        super().__init__(key, varname=varname, transient=transient)
        self.placeholder = placeholder or Path(key)
        self.fields = {
            "url": url, "mirrors": list(mirrors), **checksums(sha256, checker, key),
            "size": size, "unpack": unpack, **({"unwrap": True} if unwrap else {}),
            **({"lines": lines} if lines else {}),
        }

    @property
    def path(self) -> Path:
        from dmconf.compat.datamaestro.building import located

        return located(self, self.placeholder)

    def model(self, dataset_id: str) -> ResourceModel:
        from dmconf.definition import KEY_PATTERN

        where = f"@{type(self).__name__}({self.key!r})"
        if not KEY_PATTERN.match(self.key):
            raise DefinitionError(
                f"{where}: the name must be a plain file name (letters, digits, '_', '-', '.'; "
                "not starting with '.')",
                dataset=dataset_id,
            )
        from pydantic import ValidationError

        from dmconf.errors import describe_validation

        try:
            return ResourceModel.model_validate(self.fields)
        except ValidationError as exc:
            raise DefinitionError(
                f"{where}: {describe_validation(exc.errors())}", dataset=dataset_id
            ) from None


class reference(Resource):  # datamaestro's spelling
    """Another dataset's data: ``reference(varname="train", reference=Train)``.

    ``prepare()`` (or the function's parameter) gives that dataset's data object; the
    definition records it as ``{_dataset: ID}`` and preparing prepares that dataset first.
    """

    def __init__(
        self, reference: Any = None, *, varname: str | None = None, **kwargs: Any
    ) -> None:
        if isinstance(reference, str):  # an older spelling: reference("name", Dataset)
            reference, varname = kwargs.pop("reference", None), reference
        super().__init__(varname, **kwargs)
        self.reference = reference

    @property
    def varname(self) -> str:
        return self.key

    def model(self, dataset_id: str) -> None:
        return None

    def target(self) -> PythonDataset:
        found = getattr(self.reference, "__dataset__", self.reference)
        if not isinstance(found, PythonDataset):
            raise DefinitionError(
                f"reference({self.name!r}) names {self.reference!r}, which is not a @dataset"
            )
        return found

    def prepare(self) -> Any:
        from dmconf.compat.datamaestro.building import prepared_reference
        from dmconf.compat.datamaestro.references import mark

        target = self.target()
        prepared = prepared_reference(self, target.id or target.where)  # while built
        if prepared is not None:
            return prepared
        return mark(target.data_object(), target.id or target.where)

    config = prepare  # datamaestro's other name for it

    def _placeholder(self) -> Any:
        return self.prepare
