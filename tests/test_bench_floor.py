"""The benchmark's verifying floor hashes records as SIT-FORMAT §2.2 says (its own code, from the spec)."""

from __future__ import annotations

import sys
from pathlib import Path

import pygit2
import pytest

from git_sit.record import split_path
from tests.helpers import ROOT, commit_files, record_files, sit_tree_files

sys.path.insert(0, str(ROOT / "scripts"))
import bench_floor  # type: ignore[import-not-found]

# SIT-FORMAT §2.4, synthetic vectors (BLAKE2b-160, base32).
VECTORS = [
    ([(b"test", b"hello")], "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"),
    ([], "GNCVESV7NO7BQCKESISLLFZMIF4QW3HS"),
    ([(b".type/SummaryChanged", b""), (b"text", b"Title")], "OU6DLR5CV5V3RD62QIG5GXKWTQIWPHPR"),
    ([(b"a", b"x" * 5000), (b"b", b"hi")], "MLDQKW2QWKVD2VETOC5N5WMLX5Y6B7ZT"),
    ([(b"z/a", b"\x02"), (b"test", b"\x01")], "N6EJF4URG4ASBPI3KJNNI5HXP4ROPWPM"),
]


@pytest.mark.parametrize("files, expected", VECTORS)
def test_record_id_matches_the_spec_vectors(files, expected):
    assert bench_floor.record_id(files) == expected


def test_the_naive_recipe_is_not_what_it_computes():
    assert bench_floor.record_id([(b"test", b"hello")]) != "IHJ2JOTMWC4MW4UQAJ6O2FCHP5YCFCOM"


def test_verify_counts_records_and_catches_a_tampered_one(repo: pygit2.Repository, workdir: Path):
    items = {f"item-{n}": [record_files(["SummaryChanged"], f"summary {n}", "A <a@b>"),
                           record_files(["Commented"], f"{n} " + "x" * 9000)] for n in range(3)}
    files, ids = sit_tree_files(items)
    commit_files(repo, files, ref="main")
    assert bench_floor.verify(str(workdir), "main") == (6, 0)
    victim = ids["item-1"][0]
    commit_files(repo, {f".sit/records/{split_path(victim)}/text": b"changed"}, ref="main")
    assert bench_floor.verify(str(workdir), "main") == (6, 1)
