"""How wide text is on a terminal, for tables that line up whatever the script.

Summaries and branch names are any Unicode: East Asian wide and fullwidth characters
take two columns, combining marks and zero-width characters none, so padding by
``len`` misaligns every row after such a cell. Pure functions over strings that
follow ``wcwidth``'s main rules from Unicode's own data (``unicodedata``): a table's
looks are not worth a dependency.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ELLIPSIS = "…"
_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # combining marks, format characters


@lru_cache(maxsize=4096)
def char_width(char: str) -> int:
    """Columns one character takes: 0, 1 or 2."""
    if char == "\u200b" or unicodedata.category(char) in _ZERO_WIDTH_CATEGORIES:
        return 0
    if "\u1160" <= char <= "\u11ff":  # Hangul medial vowels and finals join the syllable
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal."""
    if text.isascii():
        return len(text)
    return sum(char_width(char) for char in text)


def cut(text: str, columns: int) -> str:
    """``text`` if it fits in ``columns``, else its start and ``…``, in at most ``columns``."""
    if width(text) <= columns:
        return text
    kept, used = [], 0
    for char in text:
        if used + char_width(char) > columns - 1:
            break
        kept.append(char)
        used += char_width(char)
    return "".join(kept) + ELLIPSIS


def ljust(text: str, columns: int) -> str:
    """``text`` padded with spaces on the right to ``columns``."""
    return text + " " * max(columns - width(text), 0)


def rjust(text: str, columns: int) -> str:
    """``text`` padded with spaces on the left to ``columns``."""
    return " " * max(columns - width(text), 0) + text
