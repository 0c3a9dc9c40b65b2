"""datamaestro's ``Gunzip`` transform."""

from dmconf.compat.datamaestro.stream import Transform

__all__ = ["Gunzip"]


class Gunzip(Transform):
    """Decompress gzip."""
