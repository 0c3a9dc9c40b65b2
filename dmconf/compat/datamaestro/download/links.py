"""datamaestro's ``links``, ``linkfolder``, ``linkfile``: data the user has, other datasets.

``linkfolder("documents", [DatafolderPath("edu.upenn.ldc.aquaint", "APW")])`` is a folder of the
user's (a licensed corpus nobody may download). dmconf never links to a folder outside its data
folder: the resource is that folder as a tar archive at ``datamaestro://datafolder/ID/PATH``,
which the settings' ``mirrors:`` map to where the user keeps it (a ``file://`` path, a lab
server), unpacked into the dataset's folder. ``linkfile`` is the same for one file.

``links("documents", apw=Apw, nyt=Nyt)`` (a collection made of other datasets) makes the
dataset a derived one: the bundled step ``link-datasets`` (:mod:`dmconf.derive.links`) links
each of those datasets' folders, prepared first, under its name in the dataset's folder, which
is what ``path`` gives (as datamaestro's, the dataset's folder itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dmconf.compat.datamaestro.context import DatafolderPath
from dmconf.compat.datamaestro.definitions import PythonDataset
from dmconf.compat.datamaestro.download import Downloader, Resource, reference

__all__ = ["GlobChecker", "Links", "linkfile", "linkfolder", "linkpath", "links"]


class GlobChecker:
    """datamaestro's checksum over the files a glob matches (not verified by dmconf)."""

    def __init__(self, glob: str, md5: str | None = None) -> None:
        self.glob = glob
        self.md5 = md5


class linkpath(Downloader):  # datamaestro's spelling
    """A path of the user's, among ``proposals`` (``DatafolderPath`` or paths): the first one
    that names a ``DatafolderPath`` gives the URL, as a tar archive of it (see the module)."""

    unpack = "untar"

    def __init__(
        self, varname: str, proposals: Any, *, transient: bool = False, checker: Any = None,
    ) -> None:
        self.proposals = list(proposals)
        url = next((p.url for p in self.proposals if isinstance(p, DatafolderPath)),
                   f"datamaestro://datafolder/{varname}")
        super().__init__(varname, varname, url, self.unpack, transient=transient,
                         unwrap=self.unpack == "untar")
        self.checker = checker  # GlobChecker: an md5 over files datamaestro lists; not dmconf's


class linkfolder(linkpath):  # datamaestro's spelling
    """A folder of the user's."""


class linkfile(linkpath):  # datamaestro's spelling
    """A file of the user's."""

    unpack = "none"


class links(Resource):  # datamaestro's spelling
    """Several other datasets under one folder: ``links("documents", apw=Apw, nyt=Nyt)``.

    The dataset becomes a derived one (step ``link-datasets``); ``path`` and ``prepare()`` give
    its folder, where each target's folder is linked under its name (as datamaestro does).
    """

    def __init__(self, varname: str, *, transient: bool = False, **targets: Any) -> None:
        super().__init__(varname, transient=transient)
        self.targets = {name: reference(target, varname=name) for name, target in targets.items()}

    @property
    def path(self) -> Path:
        return Path(".")

    def model(self, dataset_id: str) -> None:
        return None

    def _attach(self, target: PythonDataset, lazy: bool = False) -> None:
        super()._attach(target, lazy)
        target.linked.append(self)

    def derive(self) -> dict[str, Any]:
        """The ``derive:`` block: each target dataset an input, named as in ``links(...)``."""
        inputs = {}
        for name, ref in self.targets.items():
            found = ref.target()
            inputs[name] = found.id or found.where
        return {"inputs": inputs, "step": "link-datasets", "version": 1}


Links = links
