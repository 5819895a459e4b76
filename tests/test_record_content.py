"""Odd record content end to end: written by ``git sit record``, read from disk and from git,
judged by the inbox hook.

Large files (several 4096-byte chunks), bytes that are not UTF-8, empty files, names
in NFC and NFD (different bytes, so different files, SIT-FORMAT §2.1), nested
directories and hundreds of files in one record. Every expected ID is either a
§2.4 vector or computed here by ``spec_id``, §2.2's reference recipe written out
again over raw bytes, so no git-sit code decides what is right.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pygit2
import pytest

from tests.gpgkeys import Keys, fixture_gpg_session, fixture_keys  # noqa: F401
from tests.helpers import Run, git, parse_blocks, sit

ITEM = "3f1c2a9e-8b7d-4e6f-a5c4-1d2e3f4a5b6c"
OTHER_ITEM = "9e8d7c6b-5a4f-4e3d-b2c1-0f9e8d7c6b5a"
NFC = "caf\u00e9".encode()  # é as one code point
NFD = "cafe\u0301".encode()  # e and a combining acute accent
Files = Mapping[bytes, bytes]


def spec_id(files: Files) -> str:
    """SIT-FORMAT §2.2's pseudocode over raw names (their byte order is the spec's order)."""
    h = hashlib.blake2b(digest_size=20)
    buf = bytearray(4096)
    for name, data in sorted(files.items()):
        h.update(name)
        for offset in range(0, len(data), 4096):
            chunk = data[offset:offset + 4096]
            buf[:len(chunk)] = chunk
            h.update(bytes(buf))
        h.update(bytes(buf))
    return base64.b32encode(h.digest()).decode("ascii").replace("=", "-")


def split(record_id: str) -> str:
    """§3.1's split path, again written out here."""
    return "/".join([record_id[i:i + 2] for i in range(0, len(record_id) - 2, 2)] + [record_id])


def test_spec_id_reproduces_the_spec_vectors():
    assert spec_id({b"test": b"hello"}) == "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"
    assert spec_id({}) == "GNCVESV7NO7BQCKESISLLFZMIF4QW3HS"
    assert spec_id({b"a": b"x" * 5000, b"b": b"hi"}) == "MLDQKW2QWKVD2VETOC5N5WMLX5Y6B7ZT"
    assert split("7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG") == "7T/VN/NJ/XP/VZ/PZ/FJ/W5/WO/UI/FY/CR/2X/TN/5T/" \
        "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"


# --- helpers: real files, real git, the real hook ------------------------------------------

def put(root: Path, files: Files) -> None:
    for name, data in files.items():
        path = os.path.join(os.fsencode(root), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)


def disk_files(directory: Path) -> dict[bytes, bytes]:
    """Every file below ``directory`` by raw relative name."""
    found = {}
    top = os.fsencode(directory)
    for dirpath, _, names in os.walk(top):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, top)] = handle.read()
    return found


def tree_files(tree: pygit2.Tree, prefix: bytes = b"") -> dict[bytes, bytes]:
    """Every blob below a git tree by raw relative name."""
    found: dict[bytes, bytes] = {}
    for entry in tree:
        name = prefix + (entry.raw_name or b"")
        if isinstance(entry, pygit2.Tree):
            found.update(tree_files(entry, name + b"/"))
        else:
            assert isinstance(entry, pygit2.Blob)
            found[name] = bytes(entry.data)
    return found


def committed_record(workdir: Path, record_id: str) -> dict[bytes, bytes]:
    tree = pygit2.Repository(str(workdir)).revparse_single("HEAD").peel(pygit2.Tree)
    below = tree / f".sit/records/{split(record_id)}"
    assert isinstance(below, pygit2.Tree)
    return tree_files(below)


@pytest.fixture
def work(workdir: Path) -> Path:
    """A work tree with a SIT repository (committed) and the empty item ``ITEM``."""
    assert sit(workdir, "init").code == 0
    git(workdir, "commit", "-qm", "SIT repository")
    assert sit(workdir, "item", "--id", ITEM).code == 0
    return workdir


@pytest.fixture
def server(tmp_path: Path, work: Path) -> Path:
    """A bare repository holding ``work``'s first commit, with the inbox hook installed."""
    server = tmp_path / "server.git"
    git(tmp_path, "init", "-q", "--bare", str(server))
    git(work, "push", "-q", str(server), "HEAD:refs/heads/main")
    run = sit(tmp_path, "inbox", "install", str(server))
    assert run.code == 0, run.err
    return server


def push(work: Path, server: Path) -> Run:
    result = subprocess.run(["git", "push", str(server), "HEAD:main"], cwd=work, capture_output=True,
                            text=True, check=False)
    return Run(result.returncode, result.stdout, result.stderr)


def record(work: Path, payload: Files, *options: str) -> Run:
    """``git sit record -n OPTIONS ITEM`` of the payload's top-level names, written into ``work`` first."""
    put(work, payload)
    tops = sorted({os.fsdecode(name.split(b"/")[0]) for name in payload})
    return sit(work, "record", "-n", *options, ITEM, *tops)


def commit_record(work: Path, message: str = "a record") -> None:
    """Commit what ``record`` staged, leaving the payload files out."""
    git(work, "commit", "-qm", message)
    git(work, "clean", "-qfdx", "--exclude=.sit")


def assert_integrity(work: Path, broken: list[str]) -> None:
    """``integrity`` on disk and at HEAD lists exactly ``broken`` (as ``ITEM RECORD`` lines)."""
    for args in ([], ["--rev", "HEAD"]):
        run = sit(work, "integrity", *args)
        assert (run.code, run.out.split("\n")[:-1]) == (1 if broken else 0, [f"{ITEM} {r}" for r in broken]), \
            (args, run.out, run.err)


# --- the spec's vectors, written by the CLI ----------------------------------------------

VECTORS = {  # §2.4 synthetic vectors that `git sit record -n` can write: (types, payload, ID)
    "hello": ((), {b"test": b"hello"}, "7TVNNJXPVZPZFJW5WOUIFYCR2XTN5TNG"),
    "5000 bytes then a short file": ((), {b"a": b"x" * 5000, b"b": b"hi"}, "MLDQKW2QWKVD2VETOC5N5WMLX5Y6B7ZT"),
    "nested directory": ((), {b"test": b"\x01", b"z/a": b"\x02"}, "N6EJF4URG4ASBPI3KJNNI5HXP4ROPWPM"),
    "typed": (("SummaryChanged",), {b"text": b"Title"}, "OU6DLR5CV5V3RD62QIG5GXKWTQIWPHPR"),
}


@pytest.mark.parametrize(("types", "payload", "expected"), VECTORS.values(), ids=VECTORS.keys())
def test_spec_vectors_written_read_and_judged(work, server, types, payload, expected):
    options = ["-t", ",".join(types)] if types else []
    run = record(work, payload, *options)
    assert (run.code, run.out) == (0, f"{expected}\n"), run.err
    files = {**payload, **{b".type/" + t.encode(): b"" for t in types}}
    assert disk_files(work / ".sit" / "records" / split(expected)) == files
    commit_record(work)
    assert committed_record(work, expected) == files
    assert_integrity(work, [])
    for args in ([], ["--rev", "HEAD"]):
        assert sit(work, "records", ITEM, "-q", "hash", *args).out == f"{expected}\n"
    # §8.3 rule 4: a new record must have a .type/* file.
    run = push(work, server)
    if types:
        assert run.code == 0, run.err
    else:
        assert run.code == 1 and "record has no .type/* file" in run.err, run.err


# --- one record with every odd kind of content ---------------------------------------------

def odd_payload() -> dict[bytes, bytes]:
    rng = random.Random(7)
    files = {
        b"big": bytes(rng.randrange(256) for _ in range(3 * 4096 + 5)),  # four chunks, the last short
        b"binary": b"\xff\xfe\x00\x80 not UTF-8 \xc3\x28",
        b"empty": b"",
        b"names/" + NFC: b"composed",
        b"names/" + NFD: b"decomposed",
        b"nested/a/b/c/leaf": b"deep\n",
        b"text": b"A record with odd content\n",
    }
    files.update({b"many/%03d" % i: b"%d\n" % i for i in range(300)})
    return files


ODD_TYPES = {b".type/Commented": b""}

# Per file, its length and the sum of its bytes, as a JavaScript reducer sees them.
SIZES_JS = """module.exports = function (state, record) {
    var sizes = {};
    Object.keys(record.files).forEach(function (name) {
        var data = record.files[name], sum = 0;
        for (var i = 0; i < data.length; i++) { sum += data[i]; }
        sizes[name] = [data.length, sum];
    });
    state.sizes = sizes;
    return state;
};
"""


def test_odd_content_written_read_and_judged(work, server):
    payload = odd_payload()
    files = {**payload, **ODD_TYPES}
    expected = spec_id(files)
    run = record(work, payload, "-t", "Commented")
    assert (run.code, run.out) == (0, f"{expected}\n"), run.err
    assert disk_files(work / ".sit" / "records" / split(expected)) == files  # NFC and NFD both kept
    commit_record(work)
    assert committed_record(work, expected) == files
    assert_integrity(work, [])

    shown = {name.decode(): ({"type": "binary"} if name in (b"big", b"binary") else data.decode())
             for name, data in files.items()}
    for args in ([], ["--rev", "HEAD"]):
        run = sit(work, "records", ITEM, "-q", "@", *args)
        assert run.code == 0, run.err
        assert parse_blocks(run.out) == [{"hash": expected, "files": shown}], args

    run = push(work, server)
    assert run.code == 0, run.err
    assert sit(server, "records", ITEM, "-q", "hash").out == f"{expected}\n"  # a bare repository: HEAD
    # A new item linking the record, which the hook then reads back from the server's objects.
    put(work / ".sit" / "items" / OTHER_ITEM, {expected.encode(): f"../../records/{split(expected)}".encode()})
    git(work, "add", ".sit/items")
    git(work, "commit", "-qm", "the record in a second item")
    run = push(work, server)
    assert run.code == 0, run.err

    (work / ".sit" / "reducers").mkdir()
    (work / ".sit" / "reducers" / "sizes.js").write_text(SIZES_JS)
    sizes = {name.decode(): [len(data), sum(data)] for name, data in files.items()}
    run = sit(work, "reduce", ITEM, "--reducers", "js", "-q", "sizes")
    assert run.code == 0 and json.loads(run.out) == sizes, run.err
    git(work, "add", ".sit/reducers")
    git(work, "commit", "-qm", "a reducer")
    run = sit(work, "reduce", ITEM, "--reducers", "js", "-q", "sizes", "--rev", "HEAD")
    assert run.code == 0 and json.loads(run.out) == sizes, run.err


def _flip_in_last_chunk(directory: bytes) -> None:
    path = os.path.join(directory, b"big")
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    data[2 * 4096 + 3] ^= 0xFF
    with open(path, "wb") as handle:
        handle.write(data)


TAMPERED = {  # what a file system or a person did to a written record, and what is left
    "a byte in the last chunk of a large file": (
        {b"big": b"a" * 4096 + b"b" * 4096 + b"c" * 10, b"tail": b"t"},
        _flip_in_last_chunk,
        lambda files: {**files, b"big": files[b"big"][:8195] + b"\x9c" + files[b"big"][8196:]},
    ),
    "an NFC name stored as NFD (as macOS does)": (
        {NFC: b"x"},
        lambda d: os.rename(os.path.join(d, NFC), os.path.join(d, NFD)),
        lambda files: {(NFD if name == NFC else name): data for name, data in files.items()},
    ),
}


@pytest.mark.parametrize(("payload", "change", "after"), TAMPERED.values(), ids=TAMPERED.keys())
def test_tampered_content_fails_everywhere(work, server, payload, change, after):
    run = record(work, payload, "-t", "Commented")
    assert run.code == 0, run.err
    record_id = run.out.strip()
    files = {**payload, **ODD_TYPES}
    assert record_id == spec_id(files)
    directory = os.fsencode(work / ".sit" / "records" / split(record_id))
    change(directory)
    tampered = after(files)
    assert disk_files(Path(os.fsdecode(directory))) == tampered
    git(work, "add", "-A", ".sit")
    commit_record(work)
    assert_integrity(work, [record_id])
    run = push(work, server)
    assert run.code == 1, run.err
    assert f"record content hashes to {spec_id(tampered)}, not to its directory name" in run.err


def test_non_utf8_file_name(work, server):
    bad = {b"text": b"x", b"sub/caf\xe9": b"latin-1"}
    put(work, bad)
    for args in (["text", os.fsdecode(b"sub/caf\xe9")], ["sub"]):
        run = sit(work, "record", "-n", "-t", "Commented", ITEM, *args)
        assert run.code == 1 and "not valid UTF-8" in run.err and len(run.err.splitlines()) == 1, run.err
        assert not (work / ".sit" / "records").exists() or disk_files(work / ".sit" / "records") == {}
    # Made by hand: SIT panics on such a name (§2.1), git-sit reports the record invalid.
    run = record(work, {b"text": b"x"}, "-t", "Commented")
    record_id = run.out.strip()
    put(work / ".sit" / "records" / split(record_id), {b"caf\xe9": b"latin-1"})
    git(work, "add", "-A", ".sit")
    commit_record(work)
    assert_integrity(work, [record_id])
    run = push(work, server)
    assert run.code == 1 and "file name is not valid UTF-8" in run.err, run.err


def test_signed_odd_content_verifies_on_disk_and_in_git(work, keys: Keys):
    payload = odd_payload()
    run = record(work, payload, "-t", "Commented", "--sign", "--signing-key", keys.alice)
    assert run.code == 0, run.err
    record_id = run.out.strip()
    files = disk_files(work / ".sit" / "records" / split(record_id))
    assert set(files) == {*payload, *ODD_TYPES, b".signature"} and record_id == spec_id(files)
    commit_record(work)
    for args in ([], ["--rev", "HEAD"]):
        run = sit(work, "verify", *args)
        assert run.code == 0 and run.out == f"{record_id} good (A) key {keys.alice} " \
            "Alice Maintainer <alice@example.com>\n", (args, run.out, run.err)
