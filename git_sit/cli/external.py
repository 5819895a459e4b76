"""``git sit NAME ARGS...`` for names git-sit does not know: a click command running ``sit-NAME``."""

from __future__ import annotations

import os
import subprocess

import click

from git_sit.external import locate_external

PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def external_command(name: str) -> click.Command | None:
    """A command that runs the external ``sit-NAME``, or ``None`` if there is none."""
    found = locate_external(name, os.getcwd())
    if found is None:
        return None
    argv, env = found

    @click.command(name=name, context_settings=PASS_THROUGH, add_help_option=False,
                   help=f"External command {argv[-1]}.")
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_context
    def run(ctx: click.Context, args: tuple[str, ...]) -> None:
        try:
            code = subprocess.call([*argv, *args], env=env)
        except OSError as exc:
            raise click.ClickException(f"cannot run {argv[-1]}: {exc.strerror}.") from None
        ctx.exit(code if code >= 0 else 128 - code)

    return run
