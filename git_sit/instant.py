"""RFC 3339 timestamps as instants: parsed, compared and shown, never string-compared.

``.timestamp`` files carry 0, 3, 6 or 9 fractional digits (SIT-FORMAT §4, §9.9),
so ``…:36Z`` sorts *after* ``…:36.5Z`` as a string; everything that orders or
displays timestamps goes through ``parse_instant``. Pure.
"""

from __future__ import annotations

import calendar
import re
import time

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d\d):(\d\d))"
)
NS = 1_000_000_000


def parse_instant(text: str) -> int | None:
    """Nanoseconds since the epoch for an RFC 3339 timestamp, ``None`` if it is not one."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zulu, sign, off_h, off_m = match.groups()[6:]
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
        return None
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if not zulu:
        offset = int(off_h) * 3600 + int(off_m) * 60
        seconds -= offset if sign == "+" else -offset
    return seconds * NS + int((fraction or "").ljust(9, "0"))


def sort_key(text: object) -> tuple[int, int]:
    """A key that orders timestamps by instant; missing or invalid ones come first."""
    instant = parse_instant(text) if isinstance(text, str) else None
    return (0, 0) if instant is None else (1, instant)


def show_instant(text: object, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:MM`` (``:SS UTC`` with ``seconds``) for display; raw text if it does not parse."""
    instant = parse_instant(text) if isinstance(text, str) else None
    if instant is None:
        return text if isinstance(text, str) else ""
    pattern = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M"
    return time.strftime(pattern, time.gmtime(instant // NS))
