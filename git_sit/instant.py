"""RFC 3339 timestamps as instants: parsed, compared and shown, never string-compared.

``.timestamp`` files carry 0, 3, 6 or 9 fractional digits (SIT-FORMAT §4, §9.9),
so ``…:36Z`` sorts *after* ``…:36.5Z`` as a string; everything that orders or
displays timestamps goes through ``parse_instant``. Pure.
"""

from __future__ import annotations

import re

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d\d):(\d\d))"
)
NS = 1_000_000_000
DAY = 86400


def parse_instant(text: str) -> int | None:
    """Nanoseconds since the epoch for an RFC 3339 timestamp, ``None`` if it is not one.

    Any year RFC 3339 can write (0000-9999) parses; a day its month does not have does not.
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zulu, sign, off_h, off_m = match.groups()[6:]
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return None
    if not (hour <= 23 and minute <= 59 and second <= 60):  # 60: a leap second
        return None
    seconds = days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second
    if not zulu:
        offset = int(off_h) * 3600 + int(off_m) * 60
        seconds -= offset if sign == "+" else -offset
    return seconds * NS + int((fraction or "").ljust(9, "0"))


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


# The proleptic Gregorian calendar in whole arithmetic (H. Hinnant's algorithms): unlike
# calendar.timegm and time.gmtime, any year works, the year 0 a pushed record may carry too.
def days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a date."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The date (year, month, day) ``days`` after 1970-01-01."""
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + (3 if month_index < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


def sort_key(text: object) -> tuple[int, int]:
    """A key that orders timestamps by instant; missing or invalid ones come first."""
    instant = parse_instant(text) if isinstance(text, str) else None
    return (0, 0) if instant is None else (1, instant)


def show_instant(text: object, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:MM`` (``:SS UTC`` with ``seconds``) for display; raw text if it does not parse."""
    instant = parse_instant(text) if isinstance(text, str) else None
    if instant is None:
        return text if isinstance(text, str) else ""
    days, rest = divmod(instant // NS, DAY)
    year, month, day = civil_from_days(days)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    shown = f"{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}"
    return f"{shown}:{second:02} UTC" if seconds else shown
