"""Timestamps are instants: 0/3/6/9 fractional digits and offsets, never string order (§9.9)."""

from __future__ import annotations

import datetime

import pytest

from git_sit.instant import civil_from_days, days_from_civil, parse_instant, show_instant, sort_key

BASE = 1767323045 * 10**9  # 2026-01-02T03:04:05Z


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-02T03:04:05Z", BASE),
    ("2026-01-02T03:04:05.5Z", BASE + 500_000_000),
    ("2026-01-02T03:04:05.123Z", BASE + 123_000_000),
    ("2026-01-02T03:04:05.123456Z", BASE + 123_456_000),
    ("2026-01-02T03:04:05.123456789Z", BASE + 123_456_789),
    ("2026-01-02T04:04:05+01:00", BASE),
    ("2026-01-02T02:34:05-00:30", BASE),
    ("2026-01-02t03:04:05z", BASE),
    (" 2026-01-02T03:04:05Z\n", BASE),
    ("2026-01-02T03:04:05", None),
    ("2026-01-02T03:04:05.1234567890Z", None),
    ("2026-13-02T03:04:05Z", None),
    ("yesterday", None),
    ("", None),
    ("0000-01-01T00:00:00Z", -62167219200 * 10**9),  # RFC 3339's first instant: no traceback
    ("9999-12-31T23:59:59Z", 253402300799 * 10**9),
    ("2024-02-29T00:00:00Z", 1709164800 * 10**9),
    ("2023-02-29T00:00:00Z", None),  # not a leap year
    ("1900-02-29T00:00:00Z", None),  # nor a century that 400 does not divide
    ("2000-02-29T00:00:00Z", 951782400 * 10**9),
    ("2026-02-31T00:00:00Z", None),
    ("2026-04-31T00:00:00Z", None),
    ("2026-01-00T00:00:00Z", None),
    ("2026-01-02T24:00:00Z", None),
])
def test_parse_instant(text, expected):
    assert parse_instant(text) == expected


def test_order_is_by_instant_not_by_string():
    texts = ["2018-05-04T08:28:36Z", "2018-05-04T08:28:36.5Z", "2018-05-04T08:28:35.999999999Z"]
    assert sorted(texts, key=sort_key) == [texts[2], texts[0], texts[1]]
    assert sort_key(None) < sort_key("1970-01-01T00:00:00Z")
    assert sort_key("garbage") == sort_key(None)


def test_show_instant():
    assert show_instant("2026-01-02T04:04:05.9+01:00") == "2026-01-02 03:04"
    assert show_instant("2026-01-02T03:04:05Z", seconds=True) == "2026-01-02 03:04:05 UTC"
    assert show_instant("not a time") == "not a time"
    assert show_instant(None) == ""


@pytest.mark.parametrize("date", [
    datetime.date(1, 1, 1), datetime.date(1600, 2, 29), datetime.date(1969, 12, 31),
    datetime.date(1970, 1, 1), datetime.date(2000, 3, 1), datetime.date(2026, 12, 3),
    datetime.date(9999, 12, 31),
])
def test_calendar_arithmetic_matches_the_standard_library(date):
    days = (date - datetime.date(1970, 1, 1)).days
    assert days_from_civil(date.year, date.month, date.day) == days
    assert civil_from_days(days) == (date.year, date.month, date.day)


def test_show_instant_of_any_year():
    assert show_instant("0000-01-01T00:00:00Z", seconds=True) == "0000-01-01 00:00:00 UTC"
    assert show_instant("1969-12-31T23:59:59.5Z", seconds=True) == "1969-12-31 23:59:59 UTC"
    assert show_instant("9999-12-31T23:59:59Z") == "9999-12-31 23:59"
