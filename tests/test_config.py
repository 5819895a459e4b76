"""config.json parsing (SIT-FORMAT §1.3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from git_sit.config import DEFAULT_CONFIG_BYTES, parse_config
from git_sit.errors import InvalidConfig
from git_sit.record import compute_id
from tests.helpers import git, sit


def test_default_bytes_are_sits():
    assert DEFAULT_CONFIG_BYTES.endswith(b"}") and not DEFAULT_CONFIG_BYTES.endswith(b"\n")
    assert list(json.loads(DEFAULT_CONFIG_BYTES)) == [
        "hashing_algorithm", "encoding", "id_generator", "version", "features"]
    assert json.dumps(json.loads(DEFAULT_CONFIG_BYTES), indent=2).encode() == DEFAULT_CONFIG_BYTES


def test_fixture_config_is_byte_identical_to_default(fixture_dir):
    assert (fixture_dir / ".sit" / "config.json").read_bytes() == DEFAULT_CONFIG_BYTES


@pytest.mark.parametrize(("text", "digest", "size", "flat"), [
    (DEFAULT_CONFIG_BYTES.decode(), "blake2b", 20, True),
    ("{}", "blake2b", 20, False),
    ('{"hashing_algorithm": "sha1", "features": []}', "sha1", 20, False),
    ('{"hashing_algorithm": {"blake2b": {"size": 32}}}', "blake2b", 32, False),
])
def test_parse(text, digest, size, flat):
    config = parse_config(text.encode())
    assert (config.digest, config.digest_size, config.flat_records) == (digest, size, flat)


def test_hasher_follows_config():
    sha1 = parse_config(b'{"hashing_algorithm": "sha1"}')
    assert compute_id([("test", b"hello")], sha1.hasher) == "HI6ZIBPLSDVLIJORGNF3EQ4UB4YFW6CS"


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"hashing_algorithm": "md5"}', '{"hashing_algorithm": {"blake2b": {"size": 65}}}',
    '{"encoding": "base64"}', '{"version": "2"}', '{"features": "flat-records"}', b"\xff".decode("latin1"),
])
def test_invalid(text):
    with pytest.raises(InvalidConfig):
        parse_config(text.encode())


def test_a_missing_explicit_user_config_fails_every_command(workdir: Path, tmp_path: Path):
    assert sit(workdir, "init").code == 0
    git(workdir, "commit", "-qm", "init")
    missing = tmp_path / "nonexistent.json"
    for args in (["items"], ["config"], ["status"], ["issue", "list"], ["records"]):
        run = sit(workdir, "-c", str(missing), *args)
        assert (run.code, run.out, run.err) == (1, "", f"Error: user config {missing} does not exist.\n"), args


def test_config_user_takes_no_rev(workdir: Path):
    assert sit(workdir, "init").code == 0
    git(workdir, "commit", "-qm", "init")
    for rev in ("nonexistent", "HEAD"):
        run = sit(workdir, "config", "user", "--rev", rev)
        assert (run.code, run.out) == (2, "")
        assert run.err.endswith(
            "Error: --rev reads the repository's config.json; the user config has no revisions.\n")
    run = sit(workdir, "config", "repository", "--rev", "HEAD", "-q", "keys(hashing_algorithm)[0]")
    assert (run.code, run.out) == (0, "blake2b\n")
