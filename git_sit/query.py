"""JMESPath filters and queries over reduced states and records (SIT-FORMAT §6), and output.

A filter keeps a value iff it evaluates to ``true``; anything but a boolean is an
error (SIT's CLI crashed on it). A query's result prints raw when it is a string
and as pretty JSON with sorted keys otherwise (§5.5). Pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter

from git_sit.errors import BadExpression

ITEMS_DEFAULT_QUERY = "id"
RECORDS_DEFAULT_QUERY = "hash"
REDUCE_DEFAULT_QUERY = "@"
# What ParsedResult.search builds anew for every value (with a table of every function);
# it keeps no state between searches, so one serves every search.
_INTERPRETER = TreeInterpreter()


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled JMESPath expression and its source text."""

    text: str
    parsed: ParsedResult

    def search(self, value: Any) -> Any:
        try:
            return _INTERPRETER.visit(self.parsed.parsed, value)
        except jmespath.exceptions.JMESPathError as exc:
            raise BadExpression(f"expression {self.text!r} failed: {_one_line(exc)}.") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def compile_expression(text: str) -> Expression:
    """Compile JMESPath text; ``BadExpression`` with the parser's reason if it is invalid."""
    try:
        return Expression(text, jmespath.compile(text.strip()))
    except jmespath.exceptions.JMESPathError as exc:
        raise BadExpression(f"invalid JMESPath expression {text!r}: {_one_line(exc)}") from None


def plain_field(expression: Expression) -> str | None:
    """The field name if the expression is just one top-level field (like ``id``), else ``None``."""
    node = expression.parsed.parsed
    if node.get("type") == "field" and not node.get("children") and isinstance(node.get("value"), str):
        return str(node["value"])
    return None


def keep(filter_: Expression | None, value: Any) -> bool:
    """True if ``value`` passes the filter (no filter passes everything)."""
    if filter_ is None:
        return True
    result = filter_.search(value)
    if not isinstance(result, bool):
        raise BadExpression(
            f"filter {filter_.text!r} returned {json.dumps(result)}, not true or false."
        )
    return result


def select(
    values: Iterable[Any], filter_: Expression | None, query: Expression
) -> Iterator[Any]:
    """Query results of the values that pass the filter, lazily."""
    for value in values:
        if keep(filter_, value):
            yield query.search(value)


def render(value: Any) -> str:
    """A query result as SIT prints it: strings raw, everything else pretty JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
