"""``git sit modules``: the repository's modules, one resolved path per line."""

from __future__ import annotations

import os

import click

from git_sit.cli.base import App, cli, pass_app, rev_option
from git_sit.locate import locate
from git_sit.modules import find_modules


@cli.command()
@rev_option
@pass_app
def modules(app: App, rev: str | None) -> None:
    """Print the repository's modules (directories, links, submodules), one path per line."""
    found = locate(app.cwd, rev)
    for module in find_modules(found.site):
        if rev is None and found.repo.workdir is not None:
            click.echo(os.path.join(found.repo.workdir, module.path))
        else:
            click.echo(found.label + module.path)
