"""datamaestro's records: a bundle of typed items (``record[IDItem].id``)."""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["Item", "Record", "RecordType", "record_type"]

T = TypeVar("T")


class Item:
    """Base of the items a record holds; a record is indexed by an item's base class."""

    @classmethod
    def __get_base__(cls) -> type:
        base: type = cls
        for klass in cls.__mro__:
            if Item in klass.__bases__:
                base = klass
        return base


def _base(cls: type) -> type:
    getter = getattr(cls, "__get_base__", None)
    return getter() if callable(getter) else cls


class RecordType:
    """The set of item types a record holds."""

    def __init__(self, *item_types: type) -> None:
        self.item_types = frozenset(item_types)
        self.mapping = {_base(t): t for t in item_types}

    def __repr__(self) -> str:
        return f"RecordType({', '.join(t.__name__ for t in self.item_types)})"

    def contains(self, other: RecordType) -> bool:
        return all(self.has(t) for t in other.item_types)

    def sub(self, *item_types: type) -> RecordType:
        return RecordType(*self.item_types, *item_types)

    def __call__(self, *items: Any) -> Record:
        return Record(*items)

    def has(self, itemtype: type) -> bool:
        return _base(itemtype) in self.mapping

    def validate(self, record: Record) -> Record:
        return record


def record_type(*item_types: type) -> RecordType:
    return RecordType(*item_types)


class Record:
    """Items keyed by their base type."""

    def __init__(self, *items: Any, override: bool = False) -> None:
        self.items: dict[type, Any] = {}
        for item in items:
            if isinstance(item, dict):
                self.items.update(item)
            else:
                self.items[_base(type(item))] = item

    def __repr__(self) -> str:
        return f"Record({', '.join(map(repr, self.items.values()))})"

    def get(self, key: type[T]) -> T | None:
        return self.items.get(_base(key))

    def has(self, key: type) -> bool:
        return _base(key) in self.items

    def __getitem__(self, key: type[T]) -> T:
        found: T = self.items[_base(key)]
        return found

    def update(self, *items: Any, target: Any = None) -> Record:
        record = Record(self.items)
        for item in items:
            record.items[_base(type(item))] = item
        return record
