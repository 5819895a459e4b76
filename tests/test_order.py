"""Ordering by generations with ascending-ID ties (SIT-FORMAT §5.2), table-driven."""

from __future__ import annotations

import pytest

from git_sit.order import flatten, from_roots, generations, leaves, reduction_order

CASES = [
    ("empty", {}, []),
    ("single", {"A": set()}, [["A"]]),
    ("chain", {"C": {"B"}, "B": {"A"}, "A": set()}, [["A"], ["B"], ["C"]]),
    ("ties sorted by id", {"B": set(), "A": set(), "C": {"A"}}, [["A", "B"], ["C"]]),
    ("dangling parent ignored", {"A": {"ZZZ"}, "B": {"A"}}, [["A"], ["B"]]),
    ("cross-item parent makes a root", {"X": {"OTHER"}, "Y": set()}, [["X", "Y"]]),
    ("longest path decides", {"A": set(), "B": {"A"}, "C": {"A", "B"}}, [["A"], ["B"], ["C"]]),
    ("join of two branches", {"A": set(), "B": {"A"}, "C": {"A"}, "D": {"B", "C"}},
     [["A"], ["B", "C"], ["D"]]),
    ("cycle never emitted", {"A": {"B"}, "B": {"A"}, "C": set()}, [["C"]]),
    ("self parent never emitted", {"A": {"A"}, "B": set()}, [["B"]]),
    ("4b16df8e vector", {"LGIJ": {"ZJE4"}, "2MEY": {"LGIJ"}, "NBO7": {"2MEY"}},
     [["LGIJ"], ["2MEY"], ["NBO7"]]),
    ("0a5c8b68 vector", {"46ZI": set(), "V7XC": {"46ZI"}, "JRJK": {"V7XC"}, "IS6J": {"V7XC"}},
     [["46ZI"], ["V7XC"], ["IS6J", "JRJK"]]),
]


@pytest.mark.parametrize(("parents", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_generations(parents, expected):
    assert generations(parents) == expected
    assert flatten(generations(parents)) == [r for g in expected for r in g]


@pytest.mark.parametrize(("parents", "expected"), [
    ({"A": set()}, ["A"]),
    ({"A": set(), "B": {"A"}, "C": {"A"}}, ["B", "C"]),
    ({"A": set(), "B": {"A"}, "C": {"B"}}, ["C"]),
    ({"A": {"OTHER"}, "B": set()}, ["A", "B"]),
])
def test_leaves(parents, expected):
    assert leaves(parents) == expected


JOIN = {"A": set(), "B": {"A"}, "C": {"A"}, "D": {"B", "C"}, "E": set(), "F": {"E", "C"}}


@pytest.mark.parametrize(("roots", "expected"), [
    ({"A"}, ["A", "B", "C", "D", "F"]),  # every descendant
    ({"B"}, ["B", "D"]),  # D is kept: one kept parent is enough
    ({"E"}, ["E", "F"]),
    ({"C", "E"}, ["E", "C", "D", "F"]),  # not A or B: nothing above a root
    ({"D"}, ["D"]),
    (set(), []),
    ({"NOT-THERE"}, []),
])
def test_fixed_roots_keep_the_roots_and_what_follows_them(roots, expected):
    groups = generations(JOIN)
    kept = from_roots(groups, JOIN, roots)
    assert flatten(kept) == expected
    assert [len(g) for g in kept] == [sum(r in expected for r in g) for g in groups]  # generations stay


def test_fixed_roots_follow_only_links_to_kept_records_of_the_container():
    parents = {"X": {"OTHER"}, "Y": {"X"}, "Z": {"OTHER"}}  # OTHER: another item's record
    assert flatten(from_roots(generations(parents), parents, {"X", "OTHER"})) == ["X", "Y"]


@pytest.mark.parametrize(("roots", "expected"), [
    (None, ["LGIJ", "2MEY", "NBO7"]),  # the §5.7 generations of item 4b16df8e
    ({"2MEY"}, ["2MEY", "NBO7"]),  # §5.1: a root, then what has a kept parent
    ({"ZJE4"}, []),  # another item's record is no root of this container
])
def test_reduction_order_of_the_4b16df8e_vector(roots, expected):
    assert reduction_order({"LGIJ": {"ZJE4"}, "2MEY": {"LGIJ"}, "NBO7": {"2MEY"}}, roots) == expected
