"""JMESPath filters, queries and SIT's output format (SIT-FORMAT §5.5, §6)."""

from __future__ import annotations

import pytest

from git_sit.errors import BadExpression
from git_sit.query import compile_expression, keep, plain_field, render, select

STATES = [{"id": "a", "state": "open", "n": 1}, {"id": "b", "state": "closed", "n": 2}]


@pytest.mark.parametrize(("flt", "query", "expected"), [
    (None, "id", ["a", "b"]),
    ("state == 'open'", "id", ["a"]),
    ("state != 'closed'", "join(' | ', [id, state])", ["a | open"]),
    (None, "n", [1, 2]),
    ("n > `1`", "@", [STATES[1]]),
])
def test_select(flt, query, expected):
    filter_ = compile_expression(flt) if flt else None
    assert list(select(STATES, filter_, compile_expression(query))) == expected


@pytest.mark.parametrize("flt", ["id", "n", "missing", "[state]"])
def test_non_boolean_filter_is_an_error(flt):
    with pytest.raises(BadExpression, match="not true or false"):
        keep(compile_expression(flt), STATES[0])


@pytest.mark.parametrize("text", ["state ==", "[", "join(", "foo(@)"])
def test_invalid_expression(text):
    with pytest.raises(BadExpression):
        compile_expression(text).search({})


@pytest.mark.parametrize(("value", "text"), [
    ("raw string", "raw string"),
    (None, "null"),
    (3, "3"),
    ({"b": 1, "a": "é"}, '{\n  "a": "é",\n  "b": 1\n}'),
    ([1, "x"], '[\n  1,\n  "x"\n]'),
    ({}, "{}"),
])
def test_render(value, text):
    assert render(value) == text


@pytest.mark.parametrize(("text", "field"), [
    ("id", "id"), ("summary", "summary"), ('"odd name"', "odd name"), ("id.x", None), ("@", None),
    ("[id]", None), ("comments[0]", None), ("length(id)", None), ("id || summary", None),
])
def test_plain_field(text, field):
    assert plain_field(compile_expression(text)) == field
