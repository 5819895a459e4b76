"""Signing and trust settings: from git config (and SIT's user config) to gpg, writers and the store.

Signing follows git's settings for signed commits: ``user.signingkey`` picks the
key and ``gpg.openpgp.program``/``gpg.program`` the program; ``sit.sign`` turns
signing on by default, as ``commit.gpgSign`` does for commits. SIT's user config
keys (``signing.enabled``, ``signing.key``, ``signing.gnupg``) are the fallback.
``TrustPolicy`` is the store's record filter for ``--trusted KEYRING``: only
records with a good signature by a key of that keyring are reduced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from git_sit.errors import SitError
from git_sit.gpg import DEFAULT_PROGRAM, Gpg, NoSecretKey
from git_sit.record import Hasher, Record
from git_sit.signature import Sign, Verification, Verify, skip_reason, verify_record

GitConfig = Callable[[str], str | None]

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")


def parse_bool(value: str | None, key: str) -> bool | None:
    """A git config boolean (``true``/``yes``/``on``/``1`` and their opposites); None if unset."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SitError(f"git config {key} is {value!r}, not a boolean; use true or false.")


def _section(user_config: Mapping[str, Any]) -> Mapping[str, Any]:
    section = user_config.get("signing")
    return section if isinstance(section, dict) else {}


def gpg_program(git_config: GitConfig, user_config: Mapping[str, Any]) -> str:
    """The gpg program: git's ``gpg.openpgp.program``, ``gpg.program``, SIT's ``signing.gnupg``."""
    for key in ("gpg.openpgp.program", "gpg.program"):
        value = git_config(key)
        if value:
            return value
    value = _section(user_config).get("gnupg")
    return value if isinstance(value, str) and value else DEFAULT_PROGRAM


@dataclass(frozen=True, slots=True)
class SigningSettings:
    """Whether a new record is signed, with which key (None: gpg's default) and program."""

    enabled: bool
    key: str | None
    program: str


def signing_settings(sign: bool | None, key: str | None, git_config: GitConfig,
                     user_config: Mapping[str, Any]) -> SigningSettings:
    """``--sign``/``--no-sign`` and ``--signing-key`` over ``sit.sign`` and ``user.signingkey``."""
    section = _section(user_config)
    if sign is None:
        sign = True if key else parse_bool(git_config("sit.sign"), "sit.sign")
    if sign is None:
        sign = section.get("enabled") is True
    if not key:
        configured = git_config("user.signingkey") or section.get("key")
        key = configured if isinstance(configured, str) and configured else None
    return SigningSettings(sign, key, gpg_program(git_config, user_config))


def signer(settings: SigningSettings) -> Sign:
    """A function that signs a record message as the settings say."""
    gpg = Gpg(settings.program)

    def sign(message: bytes) -> bytes:
        try:
            return gpg.sign(message, settings.key)
        except NoSecretKey as exc:
            which = f" (key {settings.key!r})" if settings.key else ""
            raise NoSecretKey(f"{exc}{which}; sign with a key gpg has ('gpg --list-secret-keys'): "
                              "--signing-key KEY or git config user.signingkey; or write unsigned "
                              "with --no-sign.") from None

    return sign


Explain = Callable[[str], None]


def _silent(message: str) -> None:
    pass


@dataclass
class TrustPolicy:
    """The store's record filter: a record counts only if a trusted key signed it well.

    ``fingerprint`` names the trusted keyring's content; any cache of reduced states
    must include it in its key. Verifications are memoised per record ID (records
    are content-addressed), and each skipped record is explained once per item.
    """

    verify: Verify
    hasher: Hasher
    fingerprint: str
    explain: Explain = _silent
    _seen: dict[str, Verification] = field(default_factory=dict, repr=False)
    _explained: set[tuple[str | None, str]] = field(default_factory=set, repr=False)

    def verification(self, record: Record) -> Verification:
        """The record's verification against the trusted keys (memoised)."""
        found = self._seen.get(record.id)
        if found is None:
            found = self._seen[record.id] = verify_record(record.files, self.verify, self.hasher)
        return found

    def __call__(self, record: Record, item_id: str | None) -> bool:
        reason = skip_reason(self.verification(record))
        if reason is None:
            return True
        if (item_id, record.id) not in self._explained:
            self._explained.add((item_id, record.id))
            where = f" of item {item_id}" if item_id else ""
            self.explain(f"record {record.id}{where}: skipped: {reason}")
        return False
