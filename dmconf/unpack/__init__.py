"""Unpack steps: how a verified download becomes the materialised file or folder.

One module per kind: :mod:`~dmconf.unpack.stream` for single-file decompressors (``gunzip``,
``bunzip2``, ``unxz``, fed while downloading), :mod:`~dmconf.unpack.tar` (``untar``) and
:mod:`~dmconf.unpack.zip` (``unzip``) for archives, whose member checks live in
:mod:`~dmconf.unpack.members`. :func:`unpacker_for` returns the step for a definition's
``unpack``.
"""

from __future__ import annotations

from dmconf.errors import DefinitionError
from dmconf.unpack.base import Unpacker

__all__ = ["Unpacker", "unpacker_for"]


def unpacker_for(method: str) -> Unpacker:
    """The unpack step named by a resource's ``unpack`` field."""
    if method in ("gunzip", "bunzip2", "unxz"):
        from dmconf.unpack.stream import StreamDecompressor

        return StreamDecompressor(method)
    if method == "untar":
        from dmconf.unpack.tar import Untar

        return Untar()
    if method == "unzip":
        from dmconf.unpack.zip import Unzip

        return Unzip()
    if method == "none":
        from dmconf.unpack.base import Copy

        return Copy()
    raise DefinitionError(f"unpack method {method!r} is not supported", field="unpack")
