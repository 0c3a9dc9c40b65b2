"""datamaestro's ``links``, ``linkfolder``, ``linkfile``: data the user already has.

``linkfolder("documents", [DatafolderPath("edu.upenn.ldc.aquaint", "APW")])`` links a folder of
the user's (licensed corpora nobody may download). The definition keeps a
``datamaestro://linkfolder/ID/KEY`` resource; map it to a ``file://`` copy with ``mirrors:``.
``links("documents", apw=Apw, ...)`` is the data of other datasets: each one a reference.
"""

from __future__ import annotations

from typing import Any

from dmconf.compat.datamaestro.download import FolderResource, Resource, reference

__all__ = ["GlobChecker", "Links", "linkfile", "linkfolder", "linkpath", "links"]


class GlobChecker:
    """datamaestro's checksum over the files a glob matches (not verified by dmconf)."""

    def __init__(self, glob: str, md5: str | None = None) -> None:
        self.glob = glob
        self.md5 = md5


class linkpath(FolderResource):  # datamaestro's spelling
    """A path of the user's, among ``proposals`` (``DatafolderPath`` or paths)."""

    def __init__(
        self, varname: str, proposals: Any, *, transient: bool = False, checker: Any = None,
    ) -> None:
        super().__init__(varname, transient=transient)
        self.proposals = list(proposals)
        self.checker = checker


class linkfolder(linkpath):  # datamaestro's spelling
    """A folder of the user's."""


class linkfile(linkpath):  # datamaestro's spelling
    """A file of the user's."""


class links(Resource):  # datamaestro's spelling
    """Several other datasets under one name: ``links("documents", apw=Apw, nyt=Nyt)``.

    datamaestro makes a folder of links to their folders; dmconf keeps a ``datamaestro://``
    resource for it (``prepare()`` gives the datasets' data, as datamaestro's does).
    """

    def __init__(self, varname: str, *, transient: bool = False, **targets: Any) -> None:
        super().__init__(varname, transient=transient)
        self.targets = {name: reference(target, varname=name) for name, target in targets.items()}

    def prepare(self) -> Any:
        return {name: ref.prepare() for name, ref in self.targets.items()}

    def _placeholder(self) -> Any:
        return self.prepare


Links = links
