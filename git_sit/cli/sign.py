"""Signed records in the CLI: ``verify``, and the options other commands share.

``trusted_store`` opens a read command's store with the filter of its
``--trusted KEYRING`` (``base.trust_options``) in place; ``sign_options`` and
``record_signer`` do the same for writing commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import click

from git_sit import gpg
from git_sit.cli.base import App, KeyringPath, cli, echo_values, pass_app, rev_option
from git_sit.errors import SitError
from git_sit.record import Record
from git_sit.signature import (
    BAD,
    TAMPERED,
    Sign,
    Verification,
    Verify,
    describe,
    tampered,
    verification_json,
    verify_record,
)
from git_sit.signing import GitConfig, TrustPolicy, gpg_program, signer, signing_settings
from git_sit.storage import GitRepo
from git_sit.store import Store

F = Callable[..., Any]


def git_config(app: App) -> GitConfig:
    """Read git config of the repository the command runs in."""
    return GitRepo.discover(app.cwd).config_value


def _warn_explain(message: str) -> None:
    click.echo(f"explain: {message}", err=True)


def open_gpg(app: App, trusted: str | None) -> gpg.Gpg:
    """The gpg to verify with: confined to ``trusted`` if given; removed when the command ends."""
    program = gpg_program(git_config(app), app.user_config())
    tool = gpg.trusted(trusted, program) if trusted else gpg.Gpg(program)
    click.get_current_context().call_on_close(tool.close)
    return tool


def trust_applier(app: App, trusted: str | None, explain: bool) -> Callable[[Store], None] | None:
    """With ``trusted``: a function that makes a store count only trusted signed records."""
    if not trusted:
        return None
    tool = open_gpg(app, trusted)
    report = _warn_explain if explain else _silent

    def apply(store: Store) -> None:
        store.record_filter = TrustPolicy(tool.verify, store.config.hasher, tool.fingerprint, report)

    return apply


def trusted_store(app: App, rev: str | None, trusted: str | None, explain: bool) -> Store:
    """The store for a read command; with ``trusted``, only trusted signed records count."""
    store = app.store(rev)
    apply = trust_applier(app, trusted, explain)
    if apply is not None:
        apply(store)
    return store


def _silent(message: str) -> None:
    pass


def _signing_key(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--signing-key`` implies signing: an empty one (an unset variable) must not mean "unsigned"."""
    if value is not None and not value.strip():
        raise click.BadParameter("the key is empty; name a gpg key, or leave the option out.",
                                 ctx, param)
    return value


def sign_options(func: F, short: bool = True) -> F:
    """``-s/--sign/--no-sign`` and ``--signing-key KEY`` for commands that write records.

    ``short=False`` leaves out ``-s``, for commands where it means something else.
    """
    func = click.option(
        "--signing-key", metavar="KEY", callback=_signing_key,
        help="Sign with this gpg key (implies --sign; default: git config user.signingkey).",
    )(func)
    names = ["-s", "--sign/--no-sign"] if short else ["--sign/--no-sign"]
    return click.option(
        *names, default=None,
        help="Sign the record with gpg (default: git config sit.sign).",
    )(func)


def record_signer(app: App, sign: bool | None, signing_key: str | None) -> Sign | None:
    """The signer for a new record, or None when it is not to be signed."""
    settings = signing_settings(sign, signing_key, git_config(app), app.user_config())
    return signer(settings) if settings.enabled else None


def verifications(store: Store, records: list[Record], verify: Verify, memo: dict[str, Verification],
                  check_ids: bool = True) -> Iterator[tuple[Record, Verification]]:
    """Each record with its verification (memoised by record ID).

    A record whose content does not match its ID is ``tampered`` (``check_ids``), or
    verified as it is, unmemoised: two copies under one ID may differ.
    """
    hasher = store.config.hasher
    for record in records:
        if not record.verifies(hasher):
            yield record, tampered() if check_ids else verify_record(record.files, verify, hasher)
            continue
        if record.id not in memo:
            memo[record.id] = verify_record(record.files, verify, hasher)
        yield record, memo[record.id]


@cli.command()
@click.argument("items", nargs=-1, metavar="[ITEM]...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.option("--trusted", metavar="KEYRING", type=KeyringPath(),
              help="Verify against the keys in KEYRING only.")
@rev_option
@pass_app
def verify(app: App, items: tuple[str, ...], as_json: bool, trusted: str | None,
           rev: str | None) -> None:
    """List each record's signature: unsigned, good (variant, key, signer) or bad (exit 1).

    A record whose content does not match its ID is listed as tampered (exit 1), or
    with -i checked as it is. A record that cannot be read is named in a warning and
    in the closing error (exit 1): it was not verified.
    """
    store = app.store(rev)
    store.integrity = False  # list records that fail it, rather than skip them with a warning
    tool = open_gpg(app, trusted)
    memo: dict[str, Verification] = {}
    groups: list[tuple[str | None, list[Record]]]
    if items:
        # An item given twice (or by two prefixes) is listed once, where first given.
        item_ids = dict.fromkeys(store.resolve_item(x) for x in items)
        groups = [(i, store.item_records(i)) for i in item_ids]
    else:
        groups = [(None, store.repository_records()[0])]
    any_bad = False
    for item_id, records in groups:
        for record, v in verifications(store, records, tool.verify, memo, app.integrity):
            any_bad = any_bad or v.status in (BAD, TAMPERED)
            if as_json:
                echo_values([{"item": item_id, "record": record.id,
                              "verification": verification_json(v)}])
            else:
                click.echo(" ".join(x for x in (item_id, record.id, describe(v)) if x))
    if store.unreadable:
        # Each was named with its reason in a warning; unchecked is not verified.
        unread = sorted(store.unreadable)
        raise SitError(f"{len(unread)} record{'s' if len(unread) > 1 else ''} could not be read, "
                       f"so not verified: {', '.join(unread)}.")
    if any_bad:
        raise SystemExit(1)
