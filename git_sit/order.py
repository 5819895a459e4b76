"""Reduction order: records in generations, ties broken by ascending ID (SIT-FORMAT §5.2).

A record's generation is the length of the longest chain of effective parents
above it; effective parents are only the ``.prev`` names that are records of the
same container, so cross-item and dangling links are ignored. Records on a cycle
(possible only with forged IDs) are never emitted, as in SIT. Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping


def generations(parents: Mapping[str, Collection[str]]) -> list[list[str]]:
    """Group record IDs into generations; each generation sorted by ascending ID."""
    children: dict[str, list[str]] = {record: [] for record in parents}
    waiting: dict[str, int] = {}
    for record, prev in parents.items():
        effective = {p for p in prev if p in children}
        waiting[record] = len(effective)
        for parent in effective:
            children[parent].append(record)
    current = sorted(record for record, count in waiting.items() if count == 0)
    result: list[list[str]] = []
    while current:
        result.append(current)
        ready: list[str] = []
        for record in current:
            for child in children[record]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        current = sorted(ready)
    return result


def from_roots(
    groups: Iterable[list[str]], parents: Mapping[str, Collection[str]], roots: Collection[str],
) -> list[list[str]]:
    """The generations kept with fixed roots (§5.1): a root, or a record with a kept parent.

    A parent is always in an earlier generation, so one pass in order decides each record.
    """
    kept: set[str] = set()
    result = []
    for group in groups:
        keep = [r for r in group if r in roots or any(p in kept for p in parents.get(r, ()))]
        kept.update(keep)
        result.append(keep)
    return result


def flatten(groups: Iterable[list[str]]) -> list[str]:
    """The processing order: generation by generation."""
    return [record for group in groups for record in group]


def reduction_order(
    parents: Mapping[str, Collection[str]], roots: Collection[str] | None = None,
) -> list[str]:
    """The records in processing order (§5.2); with ``roots``, only those kept (§5.1)."""
    groups = generations(parents)
    return flatten(groups if roots is None else from_roots(groups, parents, roots))


def leaves(parents: Mapping[str, Collection[str]]) -> list[str]:
    """Records that no other record of the container names as a parent (§5.2.3), sorted."""
    named = {p for prev in parents.values() for p in prev}
    return sorted(record for record in parents if record not in named)
