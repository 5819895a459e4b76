"""How wide text is on a terminal, and text made safe to print there.

Summaries and branch names are any Unicode: East Asian wide and fullwidth characters
take two columns, combining marks and zero-width characters none, so padding by
``len`` misaligns every row after such a cell. Pure functions over strings that
follow ``wcwidth``'s main rules from Unicode's own data (``unicodedata``): a table's
looks are not worth a dependency. Issue text comes from anyone who can push a record,
so what people read (``printable``) shows control characters instead of sending them:
an escape sequence could retitle the terminal, rewrite the screen or set the clipboard.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ELLIPSIS = "…"
_C1 = range(0x80, 0xA0)
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


def printable(text: str, keep: str = "") -> str:
    """``text`` with control characters shown as ``^[``, ``^G``, ``^?`` or ``<U+009B>``.

    Characters in ``keep`` (say newlines and tabs of a comment's body) stay as they are.
    """
    if text.isprintable() or not any(_is_control(char) and char not in keep for char in text):
        return text
    return "".join(_shown(char) if _is_control(char) and char not in keep else char for char in text)


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or code == 0x7F or code in _C1


def _shown(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return "^" + chr(code + 0x40)
    return "^?" if code == 0x7F else f"<U+{code:04X}>"
