"""Real gpg keys for tests: generated once per session, copied into each test's GNUPGHOME.

Alice is the maintainer whose public key makes up the trusted keyring; Mallory is
anyone else. Both secret keys (no passphrase) are in every test's home, so either
can sign; trust comes only from the keyring files. Import the fixtures into a test
module with ``from tests.gpgkeys import fixture_gpg_session, fixture_keys  # noqa: F401``
(they are named ``gpg_session`` and ``keys``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ALICE = "Alice Maintainer <alice@example.com>"
MALLORY = "Mallory Outsider <mallory@example.com>"


@dataclass(frozen=True)
class Keys:
    """Fingerprints and exported public keys of the two test identities."""

    alice: str
    mallory: str
    alice_asc: Path  # armoured export of Alice's public key: the trusted keyring
    alice_gpg: Path  # the same, binary
    mallory_asc: Path
    both_asc: Path
    home: Path  # the session's GnuPG home (keyring files live here)


def _gpg(home: Path, *args: str, input: bytes | None = None) -> bytes:
    result = subprocess.run(["gpg", "--homedir", str(home), "--batch", *args], input=input,
                            capture_output=True, check=False)
    if result.returncode:
        raise AssertionError(f"gpg {' '.join(args)} failed: {result.stderr.decode()}")
    return result.stdout


def _fingerprint(home: Path, uid: str) -> str:
    listing = _gpg(home, "--with-colons", "--list-keys", uid).decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def kill_agent(home: Path | str) -> None:
    """Stop the gpg-agent that signing started for ``home`` (only that one)."""
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
                   capture_output=True, check=False)


@pytest.fixture(name="gpg_session", scope="session")
def fixture_gpg_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    home = tmp_path_factory.mktemp("gnupg-keys")
    home.chmod(0o700)
    for uid in (ALICE, MALLORY):
        _gpg(home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
    out = home.parent
    keys = Keys(_fingerprint(home, ALICE), _fingerprint(home, MALLORY), out / "alice.asc",
                out / "alice.gpg", out / "mallory.asc", out / "both.asc", home)
    keys.alice_asc.write_bytes(_gpg(home, "--armor", "--export", keys.alice))
    keys.alice_gpg.write_bytes(_gpg(home, "--export", keys.alice))
    keys.mallory_asc.write_bytes(_gpg(home, "--armor", "--export", keys.mallory))
    keys.both_asc.write_bytes(_gpg(home, "--armor", "--export"))
    yield keys
    kill_agent(home)


@pytest.fixture(name="keys")
def fixture_keys(gpg_session: Keys, hermetic: Path) -> Iterator[Keys]:
    """Both secret keys in this test's own GNUPGHOME; its agent is stopped afterwards."""
    home = Path(os.environ["GNUPGHOME"])
    for name in ("pubring.kbx", "trustdb.gpg"):
        shutil.copy2(gpg_session.home / name, home / name)
    shutil.copytree(gpg_session.home / "private-keys-v1.d", home / "private-keys-v1.d")
    yield gpg_session
    kill_agent(home)
