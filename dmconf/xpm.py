"""experimaestro integration: a dmconf dataset as a task parameter, with identity from content.

>>> from experimaestro import Param, Task
>>> from dmconf.xpm import Dataset
>>> class Train(Task):                                    # doctest: +SKIP
...     dataset: Param[Dataset]
...     def execute(self):
...         mnist = self.dataset.load()                   # the prepared, typed object
>>> Train.C(dataset=Dataset.C(id="com.lecun.mnist"))     # doctest: +SKIP

**Identity.** A :class:`Dataset` has three parameters: ``id``, an optional ``part``, and
``digest``, the definition's :meth:`~dmconf.definition.DatasetDefinition.content_digest` (the
id, the type, the ``data`` tree, and each resource's sha256 and unpacking). ``Dataset.C(id=...)``
reads the catalogue and fills ``digest`` itself. ``id`` may name a version and variant
(``org.x.ds@2:small``, :mod:`dmconf.refs`); it is stored as the canonical id (the exact version,
defaults left out), so ``id="org.x.ds@2.1.0"`` where 2.1.0 is the default has the identity of
``id="org.x.ds"``, and declaring variants later changes no identifier. Task identifiers
therefore change when a checksum or the data structure changes, and never when the data folder
moves, a mirror is added, a URL changes or a description is edited. A resource without a
sha256 has no content identity, so such a dataset is refused here with a message saying how to
pin it.

**Data changed under a job.** ``load()`` in the job re-reads the catalogue and raises
:class:`~dmconf.errors.DatasetChanged` if the digest differs from the one the job was built
with: the job's identity promises that content, and running on other data would file results
under the wrong identity. Re-running the experiment gives the job a new identity.

**Where jobs find the data.** ``Dataset.C(...)`` records the driver's ``DMCONF_*`` environment
variables in ``environ``, a ``Meta`` field (stored with the job, not part of its identity), paths
made absolute. In the job, each variable set in the job's own environment wins (unless it is a
relative path, meaningless in the job's folder); the recorded one fills the gaps.
experimaestro's local launcher passes the driver's environment on, but a ``launcher.setenv(...)``
(or a workspace ``env:``) replaces it entirely, and remote connectors start from the node's:
the recorded values make the job look where the driver prepared the data in every case.

**When to download.** ``dataset.prepare()`` in the driver (before ``submit()``) downloads and
verifies there; jobs then only check a few files. Without it, the first job that calls
``load()`` downloads on the compute node, under the per-dataset lock, so concurrent jobs
download once.
"""

import os
from collections.abc import Mapping
from typing import Any, Dict, Optional  # noqa: UP035 - experimaestro reads these annotations

try:
    from experimaestro import Config, Meta, Param, field
except ImportError as exc:  # experimaestro is the optional extra dmconf[xpm]
    raise ImportError(
        "dmconf.xpm needs experimaestro, which is not installed (or fails to import: "
        f"{exc}); install it with: pip install 'dmconf[xpm]'",
        name=__name__,
    ) from exc

from pydantic import BaseModel

from dmconf.definition import DatasetDefinition
from dmconf.errors import DatasetChanged, DefinitionError
from dmconf.settings import Settings

__all__ = ["Dataset", "DatasetChanged"]

ENV_PREFIX = "DMCONF_"
# Variables holding paths (os.pathsep-separated for catalogues).
PATH_VARIABLES = ("DMCONF_DATA", "DMCONF_CATALOG", "DMCONF_SETTINGS")


class Dataset(Config):
    """A dmconf dataset as an experimaestro parameter: ``Dataset.C(id="com.lecun.mnist")``.

    ``part`` selects an attribute path of the prepared object (``"train"``,
    ``"train.images"``); it is part of the identity. ``digest`` and ``environ`` are filled by
    ``Dataset.C(...)``: do not pass them.
    """

    # Fixed, so that moving this class to another module never changes task identifiers.
    __xpmid__ = "dmconf.xpm.dataset"

    id: Param[str]
    """qualified dataset id, e.g. com.lecun.mnist, or ID@VERSION:VARIANT (stored canonical)"""

    part: Param[Optional[str]]  # noqa: UP045 - experimaestro reads this annotation
    """dotted attribute path of the prepared object to return (None: all of it)"""

    digest: Param[Optional[str]]  # noqa: UP045
    """content digest of the definition (filled from the catalogue by Dataset.C)"""

    environ: Meta[Dict[str, str]] = field(default_factory=dict)  # type: ignore[assignment]  # noqa: UP006
    """the driver's DMCONF_* variables (not part of the identity)"""

    def prepare(self) -> "Dataset":
        """Download and verify the dataset now, in this process (the driver); return ``self``.

        Jobs then find it prepared and only check a few files. Call it before ``submit()``
        when the data is reachable from the driver; skip it to download on the compute node.
        """
        self.load()
        return self

    def load(self) -> BaseModel:
        """Prepare the dataset (if needed) and return its typed object, or the selected part.

        Raises:
            DatasetChanged: the catalogue's definition no longer has the digest this
                configuration was built with.
        """
        from dmconf.catalog import Catalog
        from dmconf.preparation import prepare

        settings = job_settings(self.environ or {})
        definition = Catalog.from_settings(settings).find(self.id)
        current = content_digest(definition)
        if self.digest is not None and current != self.digest:
            raise DatasetChanged(
                dataset=self.id, expected=self.digest, actual=current, path=definition.source
            )
        return select(prepare(definition, settings=settings), self.part, self.id)


def _fill(config: Any) -> None:
    """Compute the digest and record the DMCONF_* environment of a ``Dataset.C(...)``."""
    dataset_id = config.id
    filled_for = (dataset_id, config.part)
    if dataset_id is None or config.__dict__.get("_dmconf_filled_for") == filled_for:
        return
    from dmconf.api import find

    definition = find(dataset_id)
    from dmconf.agreements import require_accepted
    from dmconf.settings import load_settings

    # A job must never wait for an answer: unaccepted terms fail here, in the driver.
    require_accepted(definition, load_settings())
    digest = content_digest(definition)
    given = config.digest
    if given is not None and given != digest and "_dmconf_filled_for" not in config.__dict__:
        raise DatasetChanged(
            dataset=dataset_id, expected=given, actual=digest, path=definition.source
        )
    if config.part is not None:
        check_part(definition, config.part)
    if definition.id != dataset_id:  # `@2`, a default spelled out: the canonical id
        config.__xpm__.set("id", definition.id, bypass=True)
    config.__xpm__.set("digest", digest, bypass=True)
    if not config.environ:
        config.__xpm__.set("environ", settings_environ(), bypass=True)
    config.__dict__["_dmconf_filled_for"] = (definition.id, config.part)


def _config_init(self: Any, **kwargs: Any) -> None:
    _plain_init(self, **kwargs)
    # experimaestro rebuilds stored configurations with no arguments, then sets their fields:
    # only a user's Dataset.C(id=...) computes the digest here.
    if "id" in kwargs:
        _fill(self)


def _config_validate(self: Any) -> None:
    # Runs on submit: catches an id or part set or changed after Dataset.C(...).
    _fill(self)


# Dataset.C is the class experimaestro generates for configurations of Dataset. Its bases put
# ConfigMixin first, whose __init__ and (empty) __validate__ would shadow methods defined on
# Dataset: install these two on the generated class itself.
_plain_init = Dataset.C.__init__
Dataset.C.__init__ = _config_init
Dataset.C.__validate__ = _config_validate


def content_digest(definition: DatasetDefinition) -> str:
    """The definition's content digest, refused when a resource has no sha256.

    Without a checksum, nothing says what the resource contains: two different files would get
    one identity. Catalogue entries always carry checksums; local definitions may not.
    """
    if definition.croissant is not None:  # its content is what the Croissant metadata lists
        from dmconf.croissant.resolve import resolve_croissant
        from dmconf.settings import load_settings

        definition = resolve_croissant(definition, load_settings())
    unpinned = sorted(key for key, r in definition.resources.items() if r.sha256 is None)
    if unpinned:
        raise DefinitionError(
            f"dataset {definition.id} has resources without sha256 ({', '.join(unpinned)}), "
            "so experimaestro identities cannot depend on their content; pin each one "
            f"(`dmconf prepare {definition.id}` prints the sha256 it downloaded)",
            dataset=definition.id, path=definition._source, field="resources",
        )
    return definition.content_digest()


def check_part(definition: DatasetDefinition, part: str) -> None:
    """Raise a clear error when ``part`` does not name a node of the definition's ``data``."""
    node: Any = definition.data
    for depth, name in enumerate(names := part.split(".")):
        if not isinstance(node, Mapping):
            return  # a leaf given as a plain value: the prepared object will tell
        known = sorted(k for k in node if k != "type")
        if name not in known:
            where = ".".join(names[:depth]) or "the dataset's data"
            there = ", ".join(known) or "nothing"
            raise DefinitionError(
                f"part {part!r}: {name!r} is not in {where} (there: {there})",
                dataset=definition.id, path=definition._source, field="part",
            )
        node = node[name]


def select(obj: BaseModel, part: Optional[str], dataset_id: str) -> Any:  # noqa: UP045
    """The attribute path ``part`` of a prepared object (the object itself when None)."""
    value: Any = obj
    for name in part.split(".") if part else []:
        if not hasattr(value, name) or getattr(value, name) is None:
            raise DefinitionError(
                f"part {part!r}: the prepared object has no {name!r}",
                dataset=dataset_id, field="part",
            )
        value = getattr(value, name)
    return value


def settings_environ() -> Dict[str, str]:  # noqa: UP006
    """This process's DMCONF_* variables, paths made absolute: what a Dataset records for jobs.

    Jobs run in experimaestro's workspace folder, where a relative path means something else.
    """
    recorded = _own_environ()
    for name in PATH_VARIABLES:
        if name in recorded:
            recorded[name] = os.pathsep.join(
                os.path.abspath(os.path.expanduser(p)) if p else p
                for p in recorded[name].split(os.pathsep)
            )
    return recorded


def job_settings(recorded: Dict[str, str]) -> Settings:  # noqa: UP006
    """Settings for a job: its own DMCONF_* variables, then the ones recorded in the driver.

    A relative path in the job's own environment (inherited from a driver started with
    ``DMCONF_DATA=data``) would point into the job's working folder: the driver's recorded,
    absolute value wins over it.
    """
    from dmconf.settings import load_settings

    own = _own_environ()
    for name in PATH_VARIABLES:
        if name in own and name in recorded and not _all_absolute(own[name]):
            del own[name]
    return load_settings(environ={**recorded, **own})


def _own_environ() -> Dict[str, str]:  # noqa: UP006
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIX)}


def _all_absolute(value: str) -> bool:
    return all(os.path.isabs(os.path.expanduser(p)) for p in value.split(os.pathsep) if p)
