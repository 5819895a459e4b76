"""Read commands: items, reduce, records, integrity, path, config. All take ``--rev``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from git_sit import userconfig
from git_sit.cli.base import JMESPATH, App, cli, echo_values, pass_app, rev_option, trust_options
from git_sit.query import (
    ITEMS_DEFAULT_QUERY,
    RECORDS_DEFAULT_QUERY,
    REDUCE_DEFAULT_QUERY,
    Expression,
    compile_expression,
    plain_field,
    select,
)
from git_sit.record import Record, record_json

if TYPE_CHECKING:
    from git_sit.reduce import ReducerSet
    from git_sit.signature import Verify
    from git_sit.store import Store
    from git_sit.view import Node

# The signing and storage modules (pygit2) are imported by the commands that use
# them: a warm 'items --rev' is served from the cache without them.


_SINGULAR = {"queries": "query", "filters": "filter"}


def _pick(
    app: App, store: Store, given: Expression | None, name: str | None, where: tuple[str, str, str],
) -> Expression | None:
    """The expression from ``-f``/``-q``, or the named one from ``-F``/``-Q`` (repository first).

    None: the command's default (also for a name found nowhere, with a warning).
    """
    directory, kind, role = where
    singular = _SINGULAR[role]
    if given is not None and name is not None:
        raise click.UsageError(f"give either an expression or a named {singular}, not both.")
    if name is None:
        return given
    text = store.named_expression(directory, name)
    if text is None:
        text = userconfig.named(app.user_config(), kind, role, name)
    if text is None:
        # SIT falls back to the default silently (SIT-FORMAT §6); a typo in the name
        # would then go unnoticed, so say so.
        fallback = "nothing is filtered out" if role == "filters" else "the default query is used"
        app.warn(f"no {singular} named {name!r} in {directory}/ or the user config; {fallback}, as in SIT")
        return None
    return compile_expression(text)


def filter_options(func: Any) -> Any:
    func = click.option("-F", "--named-filter", metavar="NAME", help="Use a named filter.")(func)
    return click.option("-f", "--filter", "filter_", type=JMESPATH, help="JMESPath filter.")(func)


def query_options(func: Any) -> Any:
    func = click.option("-Q", "--named-query", metavar="NAME", help="Use a named query.")(func)
    return click.option("-q", "--query", type=JMESPATH, help="JMESPath query.")(func)


@cli.command()
@filter_options
@query_options
@rev_option
@trust_options
@pass_app
def items(
    app: App, filter_: Expression | None, named_filter: str | None,
    query: Expression | None, named_query: str | None, rev: str | None,
    trusted: str | None, explain: bool,
) -> None:
    """Reduce every item and print the query result of those that pass the filter."""
    plain = not trusted and named_filter is None and named_query is None
    if plain and _print_items(lambda field: app.warm_states(rev, field), filter_, query):
        return  # served from the cache without opening the repository
    store = app.read_store(rev, trusted, explain)
    flt = _pick(app, store, filter_, named_filter, (".items/filters", "items", "filters"))
    qry = _pick(app, store, query, named_query, (".items/queries", "items", "queries"))
    _print_items(store.states, flt, qry)


def _print_items(states: Callable[[str | None], Iterator[Any] | None], flt: Expression | None,
                 qry: Expression | None) -> bool:
    """Print the items of ``states(field)`` through the filter and query; False if it gave none."""
    qry = qry or compile_expression(ITEMS_DEFAULT_QUERY)
    # e.g. the default 'id': the field alone, without decoding whole states
    field = plain_field(qry) if flt is None else None
    found = states(field)
    if found is None:
        return False
    echo_values(found if field is not None else select(found, flt, qry))
    return True


class JsonObject(click.ParamType):
    """A JSON object given on the command line (``reduce --state``)."""

    name = "JSON-OBJECT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            self.fail(f"not JSON: {exc}", param, ctx)
        if not isinstance(parsed, dict):
            self.fail("not a JSON object", param, ctx)
        return parsed


@cli.command()
@click.argument("item", required=False)
@query_options
@click.option("-s", "--state", "initial", type=JsonObject(),
              help="Start from this state (ITEM's id is set on top).")
@click.option("-R", "--root", "roots", multiple=True, metavar="ID",
              help="Only these records and those that follow them (repeatable).")
@click.option("-r", "--reducer", "reducer_paths", multiple=True, metavar="PATH",
              help="Run these JavaScript reducers instead of the repository's: a file, a "
                   "directory .sit/reducers/PATH, or a directory (repeatable).")
@rev_option
@trust_options
@pass_app
def reduce(
    app: App, item: str | None, query: Expression | None, named_query: str | None,
    initial: dict[str, Any] | None, roots: tuple[str, ...], reducer_paths: tuple[str, ...],
    rev: str | None, trusted: str | None, explain: bool,
) -> None:
    """Reduce one item (or, without ITEM, every record of the repository) and print it."""
    if reducer_paths and app.reducers == "native":
        raise click.UsageError("--reducer runs JavaScript reducers; it cannot be used "
                               "with --reducers native.")
    store = app.read_store(rev, trusted, explain)
    if reducer_paths:
        store.reducers = _named_reducers(app, store, reducer_paths)
    fixed = frozenset(roots) if roots else None
    if item is None:
        where = (".queries", "items", "queries")
        qry = _pick(app, store, query, named_query, where)
        state = store.reduce_repository(initial, fixed)
    else:
        qry = _pick(app, store, query, named_query, (".items/queries", "items", "queries"))
        item_id = store.resolve_item(item)
        plain = initial is None and fixed is None and not reducer_paths
        state = store.reduce(item_id) if plain else store.reduce_from(item_id, initial or {}, fixed)
    echo_values(select([state], None, qry or compile_expression(REDUCE_DEFAULT_QUERY)))


def _named_reducers(app: App, store: Store, paths: tuple[str, ...]) -> ReducerSet:
    """``reduce -r``'s reducers, in place of the repository's (no built-in set, as in SIT)."""
    from git_sit.jsreduce import ScriptReducers, warn_unfollowed
    from git_sit.modules import REDUCERS_DIR, named_roots

    def in_sit(name: str) -> Node | None:
        return store.layout.lookup_parts([REDUCERS_DIR, *name.split("/")])

    roots = named_roots(paths, app.cwd, in_sit, store.layout.view)
    warn_unfollowed(roots, app.warn)
    return ScriptReducers(roots, [False] * len(roots), app.options().limits)


@cli.command()
@click.argument("item", required=False)
@filter_options
@query_options
@click.option("-v", "--verify", is_flag=True, help="Add each signed record's verification.")
@rev_option
@pass_app
def records(
    app: App, item: str | None, filter_: Expression | None, named_filter: str | None,
    query: Expression | None, named_query: str | None, verify: bool, rev: str | None,
) -> None:
    """List the records of ITEM (or of the repository) in reduction order."""
    store = app.store(rev)
    flt = _pick(app, store, filter_, named_filter, (".records/filters", "records", "filters"))
    qry = _pick(app, store, query, named_query, (".records/queries", "records", "queries"))
    if item is None:
        found, _ = store.repository_records()
    else:
        found = store.item_records(store.resolve_item(item))
    values = (record_json(record) for record in found)
    if verify:
        from git_sit.cli.sign import open_gpg

        check = open_gpg(app, None).verify
        values = (_with_verification(record_json(r), r, check, store) for r in found)
    echo_values(select(values, flt, qry or compile_expression(RECORDS_DEFAULT_QUERY)))


def _with_verification(value: dict[str, Any], record: Record, check: Verify,
                       store: Store) -> dict[str, Any]:
    """SIT's ``records --verify``: signed records get a ``verification`` entry."""
    from git_sit.signature import UNSIGNED, verification_json, verify_record

    verification = verify_record(record.files, check, store.config.hasher)
    if verification.status != UNSIGNED:
        value["verification"] = verification_json(verification)
    return value


@cli.command()
@rev_option
@pass_app
def integrity(app: App, rev: str | None) -> None:
    """Recompute every record's ID; list 'ITEM RECORD' and 'RECORD' lines that fail (exit 1).

    The global -i/--disable-integrity-check does not apply: checking is this command's job.
    """
    store = app.store(rev)
    store.integrity = True
    failed = False
    seen: set[str] = set()
    for item_id in store.item_ids():
        loaded = store.load_item(item_id)
        seen.update(loaded.records)
        for record_id in sorted(loaded.bad):
            click.echo(f"{item_id} {record_id}")
            failed = True
    _, bad = store.repository_records()
    for record_id in bad:
        if record_id not in seen:
            click.echo(record_id)
            failed = True
    if failed:
        raise SystemExit(1)


@cli.command()
@click.option("-r", "--record", "record_id", metavar="ID", help="Print this record's directory.")
@rev_option
@pass_app
def path(app: App, record_id: str | None, rev: str | None) -> None:
    """Print the SIT repository's path (or a record's directory)."""
    store = app.store(rev)
    if record_id is None:
        click.echo(store.path)
        return
    click.echo(f"{store.path}/{store.record_path(record_id)}")


@cli.command()
@click.argument("which", type=click.Choice(["user", "repository"]), default="user")
@click.option("-q", "--query", type=JMESPATH, help="JMESPath query over the config.")
@rev_option
@pass_app
def config(app: App, which: str, query: Expression | None, rev: str | None) -> None:
    """Print the user config (default) or the repository's config.json."""
    if which == "user" and rev is not None:
        raise click.UsageError("--rev reads the repository's config.json; the user config has no revisions.")
    value: Any = app.user_config() if which == "user" else dict(app.store(rev).config.raw)
    echo_values(select([value], None, query or compile_expression("@")))
