"""Talking to GnuPG: detached signatures over record messages, and keyrings of trusted keys.

gpg runs as a subprocess, as git runs it for signed commits: ``--status-fd`` lines
(``[GNUPG:] GOODSIG ...``) decide, the human-readable text is only passed on.
``Gpg`` is built lazily and nothing here runs unless signing or verifying was
asked for, so a machine without gpg reads and writes unsigned records unhindered.
A missing or broken program is a ``GpgError`` with one line saying what to do.
A ``.signature`` that is no detached signature at all (a clear-signed or
inline-signed message, say), over which gpg reports nothing, is a bad signature,
not a broken gpg: ``verify`` says so for every caller (the CLI and the inbox).

A trusted keyring (``--trusted KEYRING``) is imported into a private temporary
GnuPG home, and verification then runs against that home only, so "good" means
"good and by one of those keys", whatever else the user's own keyring holds.
Armoured (``gpg --export --armor``) and binary exports import directly; keyring
files (``pubring.gpg``, ``pubring.kbx``) are read with ``--keyring`` and exported
into it. The home lives until ``close()``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from git_sit.errors import SitError
from git_sit.openpgp import dearmor, packets
from git_sit.signature import (
    BAD,
    ERROR,
    EXPIRED_KEY,
    EXPIRED_SIGNATURE,
    GOOD,
    REVOKED_KEY,
    UNKNOWN_KEY,
    Check,
)

STATUS_PREFIX = "[GNUPG:] "
DEFAULT_PROGRAM = "gpg"
# gpg's ERRSIG return code for "no public key".
_NO_PUBKEY_RC = "9"
_SIGNATURE_PACKET = 2  # RFC 4880 packet tag
_OUTCOMES = {"GOODSIG": GOOD, "BADSIG": BAD, "EXPSIG": EXPIRED_SIGNATURE,
             "EXPKEYSIG": EXPIRED_KEY, "REVKEYSIG": REVOKED_KEY}


class GpgError(SitError):
    """gpg is missing, broken, or refused to sign."""


class NoSecretKey(GpgError):
    """gpg has no secret key to sign with: not the one named, or no default one."""


# gpg's "invalid signer" status, reason 9: "No secret key" (doc/DETAILS in GnuPG).
_NO_SECRET_KEY = re.compile(r"^\[GNUPG:\] INV_SGNR 9\b", re.MULTILINE)


def parse_status(status: str, output: str = "") -> Check | None:
    """A ``Check`` from gpg's ``--status-fd`` text; None if gpg reported nothing at all."""
    lines = [line[len(STATUS_PREFIX):].split(" ") for line in status.splitlines()
             if line.startswith(STATUS_PREFIX)]
    if not lines:
        return None
    values: dict[str, str | None] = {"status": None, "fingerprint": None,
                                     "primary_fingerprint": None, "key_id": None, "signer": None}
    for keyword, *args in lines:
        _absorb(values, keyword, args)
    status_value = values.pop("status") or BAD  # e.g. NODATA: no signature to speak of
    # Each signature gpg checks starts with NEWSIG and ends in one outcome line.
    found = max(sum(k == "NEWSIG" for k, *_ in lines),
                sum(k in _OUTCOMES or k == "ERRSIG" for k, *_ in lines))
    return Check(status_value, output=output, signatures=max(found, 1), **values)


def _absorb(values: dict[str, str | None], keyword: str, args: list[str]) -> None:
    """Fold one status line into ``values``; a BADSIG anywhere wins over everything."""
    if keyword == "NEWSIG" and args and not values["signer"]:
        values["signer"] = " ".join(args)
    elif keyword in _OUTCOMES:
        if values["status"] != BAD:
            values["status"] = _OUTCOMES[keyword]
        values["key_id"] = args[0] if args else None
        if len(args) > 1:
            values["signer"] = " ".join(args[1:])
    elif keyword == "VALIDSIG" and args:
        values["fingerprint"] = args[0]
        values["primary_fingerprint"] = args[9] if len(args) > 9 else args[0]
    elif keyword == "ERRSIG" and args:
        if values["status"] is None:
            values["status"] = UNKNOWN_KEY if len(args) > 5 and args[5] == _NO_PUBKEY_RC else ERROR
        values["key_id"] = args[0]
        if len(args) > 6 and args[6] != "-":
            values["fingerprint"] = args[6]


@dataclass
class Gpg:
    """One gpg program, optionally confined to one GnuPG home (a trusted keyring)."""

    program: str = DEFAULT_PROGRAM
    home: str | None = None
    fingerprint: str = ""  # identifies the trusted keyring's content; "" for the user's keyring
    owns_home: bool = False

    def _base(self) -> list[str]:
        if self.home is None:
            return [self.program]
        return [self.program, "--homedir", self.home, "--no-autostart", "--batch"]

    def _run(self, args: Sequence[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run([*self._base(), *args], input=stdin, capture_output=True,
                                  check=False)
        except OSError as exc:
            raise GpgError(
                f"cannot run gpg program {self.program!r} ({exc.strerror}); install GnuPG "
                "or point git config gpg.program at it."
            ) from None

    def sign(self, message: bytes, key: str | None = None) -> bytes:
        """An ASCII-armoured detached signature over ``message`` (``key``: gpg's default if None)."""
        args = ["--status-fd=2", "--sign", "--armor", "--detach-sign"]
        if key:
            args += ["--local-user", key]
        result = self._run(args, message)
        stderr = result.stderr.decode("utf-8", errors="replace")
        if result.returncode or f"{STATUS_PREFIX}SIG_CREATED " not in stderr:
            error = NoSecretKey if _NO_SECRET_KEY.search(stderr) else GpgError
            raise error(f"gpg failed to sign the record: {_last_line(stderr)}")
        return result.stdout

    def verify(self, message: bytes, signature: bytes) -> Check:
        """What gpg says about ``signature`` (armoured, detached) over ``message``.

        Bad if gpg reported nothing because it is no detached signature; ``GpgError``
        if gpg reported nothing about one that is.
        """
        with tempfile.NamedTemporaryFile(prefix="git-sit-", suffix=".asc") as handle:
            handle.write(signature)
            handle.flush()
            result = self._run(["--status-fd=1", "--verify", handle.name, "-"], message)
        output = result.stderr.decode("utf-8", errors="replace")
        check = parse_status(result.stdout.decode("utf-8", errors="replace"), output)
        if check is not None:
            return check
        # gpg says "not a detached signature" on stderr only, for a clear-signed or
        # inline-signed message: the signer's mistake, not a broken gpg.
        if not is_detached_signature(signature):
            return Check(BAD, output=output or "not a detached OpenPGP signature\n")
        raise GpgError(f"gpg failed to verify a signature: {_last_line(output)}")

    def close(self) -> None:
        """Remove the trusted keyring's private home, if this object made one."""
        if self.owns_home and self.home:
            shutil.rmtree(self.home, ignore_errors=True)


def is_detached_signature(signature: bytes) -> bool:
    """Whether ``signature`` starts with an OpenPGP signature packet (armoured or binary)."""
    start = signature.find(b"-----BEGIN PGP ")
    if start < 0:
        data: bytes | None = signature
    elif signature.startswith(b"-----BEGIN PGP SIGNATURE-----", start):
        data = dearmor(signature[start:])
    else:
        return False  # PGP SIGNED MESSAGE (clear-signed), PGP MESSAGE (inline-signed), keys...
    first = next(packets(data or b""), None)
    return first is not None and first[0] == _SIGNATURE_PACKET


def trusted(keyring: str, program: str = DEFAULT_PROGRAM) -> Gpg:
    """A ``Gpg`` that knows only the public keys in the file ``keyring``."""
    try:
        with open(keyring, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SitError(f"cannot read the trusted keyring {keyring}: {exc.strerror}.") from None
    home = tempfile.mkdtemp(prefix="git-sit-trusted-")
    gpg = Gpg(program, home, "keyring:sha256:" + hashlib.sha256(data).hexdigest(), owns_home=True)
    try:
        if not _import(gpg, data, keyring):
            raise SitError(f"{keyring} holds no OpenPGP public keys; export them with "
                           "'gpg --export --armor KEY... > FILE'.")
    except BaseException:
        gpg.close()
        raise
    return gpg


def _import(gpg: Gpg, data: bytes, keyring: str) -> bool:
    """Import an export (armoured or binary); else read ``keyring`` as a keyring file."""
    result = gpg._run(["--status-fd=1", "--import"], data)
    if STATUS_PREFIX.encode() not in result.stdout:  # gpg reports status even on garbage input
        detail = _last_line(result.stderr.decode("utf-8", errors="replace"))
        raise GpgError(f"gpg program {gpg.program!r} failed to import {keyring}: {detail}")
    if _imported(result):
        return True
    exported = gpg._run(["--no-default-keyring", "--keyring", os.path.abspath(keyring),
                         "--export"], b"")
    return bool(exported.stdout) and _imported(gpg._run(["--status-fd=1", "--import"],
                                                         exported.stdout))


def _imported(result: subprocess.CompletedProcess[bytes]) -> bool:
    for line in result.stdout.decode("utf-8", errors="replace").splitlines():
        if line.startswith(f"{STATUS_PREFIX}IMPORT_RES "):
            fields = line.split()
            return len(fields) > 2 and fields[2] != "0"
    return False


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith(STATUS_PREFIX)]
    return lines[-1].strip() if lines else "no output"
