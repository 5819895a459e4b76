"""``git sit cache``: manage the cache of reduced item states in the git directory."""

from __future__ import annotations

import click

from git_sit.cli.base import App, cli, pass_app
from git_sit.statecache import StateCache, cache_path
from git_sit.storage import GitRepo


@cli.group()
def cache() -> None:
    """The cache of reduced item states (GIT_DIR/sit-cache); it never changes a result."""


@cache.command()
@pass_app
def clear(app: App) -> None:
    """Delete the cache; the next read rebuilds it."""
    path = cache_path(GitRepo.discover(app.cwd).common_dir)
    if StateCache(path, app.warn).clear():
        click.echo(f"Removed {path}")
    else:
        click.echo("No cache to remove")


@cache.command()
@pass_app
def path(app: App) -> None:
    """Print where the cache is."""
    click.echo(cache_path(GitRepo.discover(app.cwd).common_dir))
