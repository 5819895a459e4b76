"""Commands across refs: ``status`` (per branch and tag) and ``diff`` (between two revisions)."""

from __future__ import annotations

import json
from typing import Any

import click

from git_sit.cli.base import App, cli, pass_app, trust_options
from git_sit.cli.sign import trust_applier
from git_sit.errors import SitError
from git_sit.refstore import RefReader, RefStore, matching_items, ref_states, store_changes
from git_sit.status import (
    Overview,
    brief,
    diff_json,
    labels,
    overview_json,
    resolve_prefix,
    select_refs,
    sort_changes,
    status_table,
)
from git_sit.storage import RefKind
from git_sit.tables import diff_lines, item_lines, overview_lines


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _reader(app: App, trusted: str | None, explain: bool) -> RefReader:
    reader = RefReader.discover(app.cwd, app.options())
    reader.configure = trust_applier(app, trusted, explain)
    return reader


def _ref_stores(
    reader: RefReader, patterns: tuple[str, ...], remotes: bool, tags: bool,
) -> list[RefStore]:
    kinds = [RefKind.BRANCH, *([RefKind.REMOTE] if remotes else []), *([RefKind.TAG] if tags else [])]
    refs = reader.refs(kinds, lambda name: bool(select_refs([name], patterns)))
    if not refs:
        unborn = reader.repo.unborn_branch()
        why = f" (branch {unborn!r} has no commit yet)" if unborn is not None else ""
        raise SitError(f"no branch or tag to examine{why}; check --refs, --remotes and --tags.")
    ref_stores = reader.ref_stores(refs)
    # An unreadable ref is left out (warned about): zero counts would read as "no issues".
    readable = [rs for rs in ref_stores if not rs.unreadable]
    if all(rs.store is None for rs in readable) and not (readable and reader.work_tree_has_sit()):
        # Likewise zero counts everywhere; a ref from before 'git sit init' (or
        # uncommitted records) is fine as long as the work tree has them.
        if len(readable) < len(ref_stores):  # e.g. a partial clone without the blobs
            raise SitError(f"no SIT repository could be read on {_examined(len(ref_stores))}; "
                           "the warnings above say why.")
        raise SitError(f"no SIT repository (.sit) found on {_examined(len(ref_stores))}.")
    return readable


def _examined(count: int) -> str:
    return "the one ref examined" if count == 1 else f"any of the {count} refs examined"


@cli.command()
@click.argument("items", nargs=-1, metavar="[ITEM]...")
@click.option("--refs", "patterns", multiple=True, metavar="PATTERN",
              help="Only refs matching this fnmatch pattern (full or short name); repeatable.")
@click.option("--remotes", is_flag=True, help="Include remote-tracking branches.")
@click.option("--tags/--no-tags", default=True, show_default=True, help="Include tags.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@trust_options
@pass_app
def status(
    app: App, items: tuple[str, ...], patterns: tuple[str, ...], remotes: bool, tags: bool,
    as_json: bool, trusted: str | None, explain: bool,
) -> None:
    """The state of ITEMs (or counts and differing items) on every branch and tag.

    Reads each ref's tree from git objects: nothing is checked out. An item whose
    records are the same on several refs is reduced only once (also with --no-cache).
    """
    reader = _reader(app, trusted, explain)
    ref_stores = _ref_stores(reader, patterns, remotes, tags)
    current = reader.current_ref(rs.ref for rs in ref_stores)
    names = labels([rs.name for rs in ref_stores])
    if items:
        found = matching_items(ref_stores, items)
        where = _examined(len(ref_stores))
        wanted = list(dict.fromkeys(resolve_prefix(text, found, where) for text in items))
        states = dict(ref_states(ref_stores, brief, reader.options.warn, set(wanted)))
        if as_json:
            _echo_json(status_table({item: states[item] for item in wanted}))
            return
        blocks = [item_lines(item, states[item], names, current) for item in wanted]
        click.echo("\n\n".join("\n".join(block) for block in blocks))
        return
    overview = Overview([rs.name for rs in ref_stores])
    for item, per_ref in ref_states(ref_stores, brief, reader.options.warn):
        overview.add(item, per_ref)
    if as_json:
        _echo_json(overview_json(overview.counts(), current, overview.table))
        return
    click.echo("\n".join(overview_lines(overview.counts(), names, current, overview.table,
                                        overview.states)))


@cli.command()
@click.argument("rev1", metavar="REV1")
@click.argument("rev2", metavar="REV2")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@trust_options
@pass_app
def diff(app: App, rev1: str, rev2: str, as_json: bool, trusted: str | None, explain: bool) -> None:
    """Items that appeared, were closed, reopened, changed or disappeared from REV1 to REV2."""
    reader = _reader(app, trusted, explain)
    before, after = reader.rev_store(rev1), reader.rev_store(rev2)
    if before is None and after is None:
        raise SitError(f"no SIT repository (.sit) at {rev1} or {rev2}.")
    changes = sort_changes(store_changes(before, after, reader.options.warn))
    if as_json:
        _echo_json(diff_json(rev1, rev2, changes))
    elif changes:
        click.echo("\n".join(diff_lines(changes)))

