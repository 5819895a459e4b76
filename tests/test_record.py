"""Record identity: SIT-FORMAT §2.4 vectors, §1.4 encoding, §3.1 split paths."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest

from git_sit.record import (
    Record,
    blake2b_hasher,
    compute_id,
    decode_id,
    encode_id,
    is_record_id,
    link_content,
    normalise_name,
    record_json,
    sha1_hasher,
    split_path,
)
from tests.helpers import FIXTURE

SYNTHETIC_VECTORS = [
    ({"test": b"hello"}, "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"),
    ({}, "GNCVESV7NO7BQCKESISLLFZMIF4QW3HS"),
    ({".type/SummaryChanged": b"", "text": b"Title"}, "OU6DLR5CV5V3RD62QIG5GXKWTQIWPHPR"),
    ({"a": b"x" * 5000, "b": b"hi"}, "MLDQKW2QWKVD2VETOC5N5WMLX5Y6B7ZT"),
    ({"test": b"\x01", "z/a": b"\x02"}, "N6EJF4URG4ASBPI3KJNNI5HXP4ROPWPM"),
    ({"z/a": b"\x02", "test": b"\x01"}, "N6EJF4URG4ASBPI3KJNNI5HXP4ROPWPM"),
]


@pytest.mark.parametrize(("files", "expected"), SYNTHETIC_VECTORS)
def test_synthetic_vectors(files, expected):
    assert compute_id(files.items()) == expected


def test_backslash_name_is_equivalent_after_normalisation():
    files = {normalise_name("z\\a"): b"\x02", "test": b"\x01"}
    assert compute_id(files.items()) == "N6EJF4URG4ASBPI3KJNNI5HXP4ROPWPM"


def test_sha1_vector():
    assert compute_id([("test", b"hello")], sha1_hasher) == "HI6ZIBPLSDVLIJORGNF3EQ4UB4YFW6CS"


def test_naive_recipe_is_not_what_we_compute():
    naive = hashlib.blake2b(b"test" + b"hello", digest_size=20).digest()
    assert encode_id(naive) == "IHJ2JOTMWC4MW4UQAJ6O2FCHP5YCFCOM"
    assert compute_id([("test", b"hello")]) != "IHJ2JOTMWC4MW4UQAJ6O2FCHP5YCFCOM"


def test_blake2b_is_a_parameterised_digest_not_a_truncation():
    digest = blake2b_hasher(20)()
    digest.update(b"testthat")
    assert digest.digest().hex() == "ef9ebcc4562d63642ef13cabe77a33a6994ead7f"


# Real records of SIT's tracker that are in the bundled sample (§2.4's table).
REAL_VECTORS = ["AO5EPIO5UCI4PWOYRJ5AZLKRVHBOGM45", "D5OELQSMF2HFUXQJKE7HYQGKSU3ZHJB6"]


def _read_record_dir(record_id: str) -> dict[str, bytes]:
    directory = FIXTURE / ".sit" / "records" / split_path(record_id)
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in directory.rglob("*") if path.is_file()
    }


@pytest.mark.parametrize("record_id", REAL_VECTORS)
def test_real_records_recompute_to_their_id(fixture_dir, record_id):
    files = _read_record_dir(record_id)
    assert ".timestamp" in files
    assert compute_id(files.items()) == record_id


def test_every_fixture_record_verifies(fixture_dir):
    records = [p for p in (fixture_dir / ".sit" / "records").glob("*/" * 16) if p.is_dir()]
    assert len(records) == 98
    for directory in records:
        assert Record(directory.name, _read_record_dir(directory.name)).verifies()


def test_split_path_vector():
    assert split_path("7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG") == (
        "7T/VN/NJ/XP/VZ/PZ/FJ/W5/WO/UI/FY/CR/2X/TN/5T/7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"
    )
    assert split_path("ABCDEFG") == "AB/CD/EF/ABCDEFG"  # odd length: the 1-char chunk is dropped too


def test_link_content_matches_sit():
    assert link_content("4P3OFKIXR6QIFRJWVZ34JHRE5MTY4WSU") == (
        b"../../records/4P/3O/FK/IX/R6/QI/FR/JW/VZ/34/JH/RE/5M/TY/4W/4P3OFKIXR6QIFRJWVZ34JHRE5MTY4WSU"
    )


@pytest.mark.parametrize(("text", "valid"), [
    ("7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG", True),
    ("7tvnnjxpvzpzfjw5wouifycr2xtn5tng", False),  # lower case
    ("7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TN", False),   # wrong length
    ("MY======", False),                          # '=' padding is not SIT's
    ("MY------", True),                           # one byte, '-' padding
    ("MZ------", False),                          # non-zero trailing bits
    ("", False),
    ("10a66894-5904-4625-9b64-a5032b07c3ac", False),
])
def test_strict_base32(text, valid):
    assert is_record_id(text) is valid
    assert (decode_id(text) is not None) is valid


@pytest.mark.parametrize(("name", "normal"), [
    ("a\\b", "a/b"), ("./a//b", "a/b"), ("a/../b", "b"), ("/a", "a"), ("git/x.patch", "git/x.patch"),
])
def test_normalise_name(name, normal):
    assert normalise_name(name) == normal


def test_record_properties_and_json():
    record = Record("X", {".type/Closed": b"", ".prev/A": b"", ".prev/B": b"", "text": b"hi", "bin": b"\xff"})
    assert record.types == {"Closed"}
    assert record.prev == {"A", "B"}
    assert record_json(record) == {
        "hash": "X",
        "files": {".type/Closed": "", ".prev/A": "", ".prev/B": "", "text": "hi", "bin": {"type": "binary"}},
    }


def _sit_recipe(files: dict[str, bytes], new_hasher=lambda: hashlib.blake2b(digest_size=20)) -> str:
    """SIT's hashing as §2.2 tells it: one 4096-byte buffer, read into until a read returns nothing."""
    h = new_hasher()
    buf = bytearray(4096)
    for name in sorted(files, key=lambda n: n.encode("utf-8")):
        h.update(name.encode("utf-8"))
        stream = io.BytesIO(files[name])
        while True:
            read = stream.readinto(buf)  # overwrites only the first `read` bytes
            h.update(buf)
            if not read:
                break
    return base64.b32encode(h.digest()).decode("ascii").replace("=", "-")


@pytest.mark.parametrize("sizes", [(0,), (1,), (4095, 0), (4096,), (4097, 3), (8192, 1), (8193, 9000)])
def test_chunk_boundaries_follow_the_recipe(sizes):
    files = {f"f{i}": bytes((i * 7 + j) % 251 for j in range(size)) for i, size in enumerate(sizes)}
    assert compute_id(files.items()) == _sit_recipe(files)


def test_fast_base32_of_20_bytes_is_base32():
    for seed in range(200):
        digest = hashlib.sha1(str(seed).encode()).digest()
        assert encode_id(digest) == base64.b32encode(digest).decode("ascii")
        assert decode_id(encode_id(digest)) == digest


def test_records_sharing_a_first_file_hash_as_the_recipe_says():
    """The state after a record's first file is reused across records: never across hashers."""
    import random

    rng = random.Random(5)
    hashers = [blake2b_hasher(20), blake2b_hasher(32), sha1_hasher,
               lambda: hashlib.blake2b(digest_size=20, key=b"k")]
    firsts = [(".authors", b"A <a@b>"), (".authors", b""), (".authors", b"B" * 4096), (".a", b"x" * 5000)]
    for _ in range(120):
        name, data = rng.choice(firsts)
        files = {name: data, "text": bytes(rng.randrange(256) for _ in range(rng.randrange(0, 5000))),
                 ".type/Commented": b""}
        if rng.random() < 0.5:
            files[".timestamp"] = str(rng.random()).encode()
        new_hasher = rng.choice(hashers)
        assert compute_id(files.items(), new_hasher) == _sit_recipe(files, new_hasher)
