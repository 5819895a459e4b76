"""Terminal widths of text: wide, combining and zero-width characters, and cutting to a width."""

from __future__ import annotations

import pytest

from git_sit import tables, textwidth
from git_sit.issueview import table


@pytest.mark.parametrize(("text", "columns"), [
    ("", 0),
    ("plain", 5),
    ("Grüße", 5),  # precomposed: one column each
    ("Gru\u0308ße", 5),  # u + combining diaeresis
    ("日本語", 6),
    ("ｆｕｌｌ", 8),  # fullwidth Latin
    ("한국어", 6),
    ("\u1100\u1161", 2),  # a conjoining Hangul syllable: lead (wide) and vowel (none)
    ("a\u200bb", 2),  # zero-width space
    ("a\u200db", 2),  # zero-width joiner (a format character)
    ("🐛 bug", 6),
])
def test_width(text, columns):
    assert textwidth.width(text) == columns


@pytest.mark.parametrize(("text", "columns", "expected"), [
    ("short", 10, "short"),
    ("exactly10!", 10, "exactly10!"),
    ("a bit too long", 10, "a bit too…"),
    ("日本語のタイトル", 16, "日本語のタイトル"),
    ("日本語のタイトル", 9, "日本語の…"),  # 8 columns and the ellipsis
    ("日本語のタイトル", 8, "日本語…"),  # a wide character never straddles the edge
    ("x", 0, "…"),
])
def test_cut(text, columns, expected):
    assert textwidth.cut(text, columns) == expected
    assert textwidth.width(expected) <= max(columns, 1)


def test_pads_by_columns():
    assert textwidth.ljust("日本", 6) == "日本  "
    assert textwidth.rjust("日本", 6) == "  日本"
    assert textwidth.ljust("too wide", 3) == "too wide"


def test_issue_table_lines_up_wide_summaries():
    states = [
        {"id": "52ab4844-0000", "state": "open", "summary": "日本語のタイトル", "labels": ["x"],
         "last_updated_timestamp": "2026-12-03T05:41:00Z"},
        {"id": "e0adaeae-0000", "state": "open", "summary": "plain",
         "last_updated_timestamp": "2026-12-03T05:41:00Z"},
    ]
    assert table(states, 8) == [
        "52ab4844  open  日本語のタイトル  x  2026-12-03 05:41",
        "e0adaeae  open  plain                2026-12-03 05:41",
    ]
    long = [dict(states[0], summary="日本語のタイトル" * 4), states[1]]
    cut = table(long, 8, width=60)  # the summary column gets 60 - 37 = 23 columns
    assert cut == [
        "52ab4844  open  日本語のタイトル日本語…  x  2026-12-03 05:41",
        "e0adaeae  open  plain" + " " * 23 + "2026-12-03 05:41",  # 18 to 23 columns, an empty label
    ]


def test_status_columns_line_up_wide_names():
    assert tables.align([["REF", "OPEN"], ["機能", "1"], ["main", "10"]], right=frozenset({1})) == [
        "REF   OPEN",
        "機能     1",
        "main    10",
    ]


@pytest.mark.parametrize(("text", "keep", "expected"), [
    ("plain text", "", "plain text"),
    ("esc\x1b[31mred", "", "esc^[[31mred"),
    ("osc \x1b]0;PWNED\x07 title", "", "osc ^[]0;PWNED^G title"),
    ("tab\there", "", "tab^Ihere"),
    ("line\nbreak\ttab", "\n\t", "line\nbreak\ttab"),
    ("del\x7f c1\x9b", "", "del^? c1<U+009B>"),
    ("日本語 Grüße", "", "日本語 Grüße"),
])
def test_printable_shows_control_characters(text, keep, expected):
    assert textwidth.printable(text, keep) == expected


def test_issue_text_cannot_send_escape_sequences():
    from git_sit.issueview import show

    evil = {"id": "52ab4844-0000", "state": "open", "summary": "osc \x1b]0;PWNED\x07 title",
            "labels": ["\x07bell"], "milestone": "\x1b[2J", "authors": "A \x1b[8m<a@b>",
            "details": "line one\n\tindented \x1b[31m",
            "comments": [{"text": "a comment \x1b]52;c;Zm9v\x07 here\n", "authors": "B"}]}
    lines = [*table([evil], 8), show(evil)]
    assert not any(char in "".join(lines) for char in "\x1b\x07")
    assert lines[0] == "52ab4844  open  osc ^[]0;PWNED^G title  ^Gbell"
    assert "milestone: ^[[2J" in lines[1] and "    \tindented ^[[31m" in lines[1]
    assert "a comment ^[]52;c;Zm9v^G here" in lines[1]


def test_status_and_diff_tables_show_control_characters():
    assert tables.align([["\x1b[2Jref", "1"]]) == ["^[[2Jref  1"]
