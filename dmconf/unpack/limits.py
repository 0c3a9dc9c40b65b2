"""Limits on what unpacking may produce: total size, ratio to the download, member count.

They stop archive and compression bombs (a 40 kB zip that expands to petabytes, a tar of a
billion empty files) with a clear error before the disk fills. Defaults fit real datasets
(ImageNet's training tar: 1.28 million members, 147 GB, ratio ~1); each is overridden in the
settings (``unpack_max_size``, ``unpack_max_ratio``, ``unpack_max_members``) and per resource
(``max_unpacked_size``, ``max_ratio``, ``max_members``). The ratio only applies beyond
:data:`RATIO_FLOOR` of output, so small, very compressible files are never refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dmconf.errors import UnpackError

if TYPE_CHECKING:
    from dmconf.definition import Resource
    from dmconf.settings import Settings

__all__ = ["DEFAULT", "RATIO_FLOOR", "Limits"]

GiB = 1 << 30
RATIO_FLOOR = GiB


@dataclass(frozen=True)
class Limits:
    """What one unpacking may produce."""

    size: int = 4096 * GiB  # the settings' defaults repeat these (dmconf.settings)
    ratio: float = 1000.0
    members: int = 20_000_000

    @classmethod
    def of(cls, settings: Settings | None, resource: Resource | None = None) -> Limits:
        """The resource's own limits, else the settings', else the defaults."""
        base = cls() if settings is None else cls(
            settings.unpack_max_size, settings.unpack_max_ratio, settings.unpack_max_members)
        if resource is None:
            return base
        return cls(
            resource.max_unpacked_size or base.size, resource.max_ratio or base.ratio,
            resource.max_members or base.members,
        )

    def check(self, what: str, produced: int, consumed: int, members: int = 0) -> None:
        """Raise when ``produced`` bytes (from ``consumed`` bytes of input) or ``members``
        exceed a limit."""
        if produced > self.size:
            raise self._exceeded(what, f"it expands to more than {self.size} bytes",
                                 "max_unpacked_size", "unpack_max_size")
        if produced > RATIO_FLOOR and produced > self.ratio * max(consumed, 1):
            raise self._exceeded(
                what, f"it expands more than {self.ratio:g} times ({produced} bytes from "
                f"{consumed})", "max_ratio", "unpack_max_ratio")
        if members > self.members:
            raise self._exceeded(what, f"it has more than {self.members} members",
                                 "max_members", "unpack_max_members")

    @staticmethod
    def _exceeded(what: str, why: str, field: str, setting: str) -> UnpackError:
        return UnpackError(
            f"{what}: refusing to unpack: {why} (a compression bomb, or a dataset larger than "
            f"the limit); if the dataset really is that large, raise the resource's {field} "
            f"or the settings' {setting}", path=what, limit=field,
        )


DEFAULT = Limits()
