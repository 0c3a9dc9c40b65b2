"""``__repr__`` and ``__eq__`` made from a class's field names as ``@dataclass`` makes them,
for the classes that ``dmconf list`` builds (catalogue roots, entries, indexes):
``dataclasses`` imports ``inspect`` (with ``dis``, ``ast``, ``tokenize``), ~10 ms of that
command."""

from __future__ import annotations


class Record:
    """Shown by the attributes named in ``_shown``, equal to an object of the same class whose
    attributes named in ``_compared`` are equal; unhashable (as a dataclass that is not frozen)."""

    _shown: tuple[str, ...] = ()
    _compared: tuple[str, ...] = ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Record):
            return NotImplemented
        return self._values() == other._values()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._compared)
