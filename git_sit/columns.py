"""What ``status`` and ``diff`` keep of many refs: each distinct state once, and a column per ref.

A ``Table`` holds what a command needs of each distinct state (a projection, e.g. status
and summary), once per exact state key (``cachekey``). A ref leaves only a ``Column``:
its item IDs and, per item, a slot in that table. ``rows`` merges the columns into
one row per item, in ascending item order, so memory grows with the distinct states
and the refs' item lists, not with refs times states. Pure data, no I/O.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from git_sit.reduce import State

V = TypeVar("V")


class Table(Generic[V]):
    """What a command keeps of each distinct state (``project(state)``), by exact state key.

    A state without a key (its item had problems or warnings) gets a slot of its own.
    """

    def __init__(self, project: Callable[[State], V]) -> None:
        self.project = project
        self.values: list[V] = []
        self.keys: list[bytes | None] = []
        self._slots: dict[bytes, int] = {}

    def find(self, key: bytes) -> int | None:
        """The slot of the state with this key, if it is in the table."""
        return self._slots.get(key)

    def add(self, key: bytes | None, state_json: str | bytes) -> int:
        """The slot of a state (given as JSON), added unless its key is already there."""
        if key is not None:
            slot = self._slots.get(key)
            if slot is not None:
                return slot
            self._slots[key] = len(self.values)
        self.values.append(self.project(json.loads(state_json)))
        self.keys.append(key)
        return len(self.values) - 1


@dataclass(slots=True)
class Column:
    """One ref's item IDs (ascending) and the table slot of each item's state."""

    name: str
    items: list[str] = field(default_factory=list)
    slots: array[int] = field(default_factory=lambda: array("i"))


def rows(columns: Sequence[Column]) -> Iterator[tuple[str, list[int | None]]]:
    """Every item of any column, ascending, with its slot in each column (``None``: absent)."""
    union = sorted(set().union(*(column.items for column in columns)))
    at = [0] * len(columns)
    for item in union:
        row: list[int | None] = []
        for i, column in enumerate(columns):
            position = at[i]
            if position < len(column.items) and column.items[position] == item:
                row.append(column.slots[position])
                at[i] = position + 1
            else:
                row.append(None)
        yield item, row
