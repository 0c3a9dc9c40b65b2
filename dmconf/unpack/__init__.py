"""Unpack steps: how a verified download becomes the materialised file or folder.

One module per kind: :mod:`~dmconf.unpack.stream` for single-file decompressors (``gunzip``,
``bunzip2``, ``unxz``, fed while downloading), :mod:`~dmconf.unpack.tar` (``untar``) and
:mod:`~dmconf.unpack.zip` (``unzip``) for archives, which write through
:mod:`~dmconf.unpack.extraction` (name checks in :mod:`~dmconf.unpack.members`); the size,
ratio and member limits of every kind are :mod:`~dmconf.unpack.limits`;
:mod:`~dmconf.unpack.concat` (``concat``) joins an archive's files into one file;
:mod:`~dmconf.unpack.lines` rewrites or filters a file's lines after any of the file kinds.
:func:`unpacker_for` returns the step for a definition's ``unpack``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dmconf.errors import DefinitionError
from dmconf.unpack.base import Unpacker
from dmconf.unpack.limits import DEFAULT, Limits

if TYPE_CHECKING:
    from dmconf.unpack.lines import LineStep

__all__ = ["Limits", "Unpacker", "unpacker_for"]


def unpacker_for(method: str, limits: Limits = DEFAULT, lines: Sequence[LineStep] = ()
                 ) -> Unpacker:
    """The unpack step named by a resource's ``unpack`` field, within ``limits``, followed by
    its ``lines`` steps if it has some."""
    if lines:
        from dmconf.unpack.lines import Lines

        return Lines(unpacker_for(method, limits), lines, limits)
    if method in ("gunzip", "bunzip2", "unxz"):
        from dmconf.unpack.stream import StreamDecompressor

        return StreamDecompressor(method, limits)
    if method == "untar":
        from dmconf.unpack.tar import Untar

        return Untar(limits=limits)
    if method == "unzip":
        from dmconf.unpack.zip import Unzip

        return Unzip(limits)
    if method == "concat":
        from dmconf.unpack.concat import Concat

        return Concat(limits)
    if method == "none":
        from dmconf.unpack.base import Copy

        return Copy()
    raise DefinitionError(f"unpack method {method!r} is not supported", field="unpack")
