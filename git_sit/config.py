"""A SIT repository's ``config.json``: parsing, validation and the default bytes.

SIT refuses a config without its required keys; git-sit assumes SIT's defaults for
missing ``hashing_algorithm``, ``encoding`` and ``id_generator`` (SIT-FORMAT §1.3),
rejects values it cannot honour, and never requires ``flat-records`` (legacy
layouts are read as they are). Pure: it takes bytes and returns values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from git_sit.errors import InvalidConfig
from git_sit.record import Hasher, blake2b_hasher, sha1_hasher

# Byte-identical to the file `sit init` writes: 2-space indent, no trailing newline.
DEFAULT_CONFIG_BYTES = b"""{
  "hashing_algorithm": {
    "blake2b": {
      "size": 20
    }
  },
  "encoding": "base32",
  "id_generator": "uuiv4",
  "version": "1",
  "features": [
    "flat-records"
  ]
}"""

FLAT_RECORDS = "flat-records"


@dataclass(frozen=True, slots=True)
class RepoConfig:
    """The parts of ``config.json`` that change how records are read and written."""

    digest: str = "blake2b"
    digest_size: int = 20
    features: tuple[str, ...] = (FLAT_RECORDS,)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def hasher(self) -> Hasher:
        """The hasher record IDs are computed with."""
        if self.digest == "sha1":
            return sha1_hasher
        return blake2b_hasher(self.digest_size)

    @property
    def flat_records(self) -> bool:
        """True if new records go to ``records/`` with link files (§3.1)."""
        return FLAT_RECORDS in self.features


def parse_config(data: bytes, where: str = "config.json") -> RepoConfig:
    """Parse and validate ``config.json`` bytes, raising ``InvalidConfig`` with the reason."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidConfig(f"{where} is not valid JSON: {exc}.") from None
    if not isinstance(raw, dict):
        raise InvalidConfig(f"{where} must hold a JSON object.")
    digest, size = _parse_hashing(raw.get("hashing_algorithm", {"blake2b": {"size": 20}}), where)
    if raw.get("encoding", "base32") != "base32":
        raise InvalidConfig(f"{where}: unsupported encoding {raw['encoding']!r}.")
    if raw.get("version", "1") != "1":
        raise InvalidConfig(f"{where}: unsupported repository version {raw['version']!r}.")
    features = raw.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise InvalidConfig(f"{where}: 'features' must be a list of strings.")
    return RepoConfig(digest, size, tuple(features), raw)


def _parse_hashing(value: object, where: str) -> tuple[str, int]:
    if value == "sha1":
        return "sha1", 20
    if isinstance(value, dict) and list(value) == ["blake2b"]:
        params = value["blake2b"]
        size = params.get("size") if isinstance(params, dict) else None
        if isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= 64:
            return "blake2b", size
    raise InvalidConfig(f"{where}: unsupported hashing_algorithm {json.dumps(value)}.")
