"""Write commands: init, item, record. They write into the work tree and stage in the index."""

from __future__ import annotations

import contextlib
import os
import shutil

import click

from git_sit import userconfig
from git_sit.cli.base import App, cli, pass_app
from git_sit.cli.sign import record_signer, sign_options
from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.errors import NotARepository, SitError
from git_sit.locate import sit_dir_on_disk
from git_sit.signature import signed_files
from git_sit.storage import GitRepo
from git_sit.target import write_staged
from git_sit.writer import check_payload_names, compose, create_item, read_payload, utc_timestamp


@cli.command()
@pass_app
def init(app: App) -> None:
    """Create .sit/config.json (SIT's default) in the current directory and stage it.

    From outside the work tree (core.worktree, --work-tree), at the top of the work tree.
    """
    repo = GitRepo.discover(app.cwd)
    if repo.workdir is None:
        raise NotARepository("'git sit init' needs a work tree; this repository is bare.")
    # Outside the work tree (core.worktree or --work-tree names another directory), the
    # other commands read the SIT repository at its top, so that is where it goes.
    outside = not _inside(app.cwd, repo.workdir) and not _inside(app.cwd, repo.git_dir)
    sit_dir = os.path.join(repo.workdir if outside else app.cwd, ".sit")
    config_path = os.path.join(sit_dir, "config.json")
    if os.path.islink(sit_dir):
        raise SitError(f"{sit_dir} is a symbolic link, which git-sit does not follow; remove it first.")
    if os.path.lexists(sit_dir) and not os.path.isdir(sit_dir):
        raise SitError(f"{sit_dir} is not a directory; remove it first.")
    if os.path.exists(config_path):
        click.echo(f"Repository {sit_dir} already exists")
        return
    if _inside(app.cwd, repo.git_dir):
        raise SitError(f"{app.cwd} is inside the git directory; run 'git sit init' in the work tree.")
    tracked = os.path.relpath(config_path, repo.workdir).replace(os.sep, "/")
    if repo.in_index(tracked):  # deleted, or left out by a sparse checkout: never replace it
        sparse = f"git sparse-checkout add {os.path.dirname(tracked)}"
        raise SitError(f"{tracked} is in the git index but not in the work tree; restore it with "
                       f"'git checkout -- {tracked}' (or '{sparse}').")
    held = _held(sit_dir)
    if held:
        # SIT leaves such a directory alone, and discovery then stops at it (SIT-FORMAT
        # §1.2, §1.3): writing a default config.json would turn somebody's files into
        # a repository with settings (e.g. the hash) that may not be theirs.
        raise SitError(f"{sit_dir} already holds {held} but no config.json; restore its config.json, "
                       f"or move the directory aside and run 'git sit init' again.")
    existed = os.path.isdir(sit_dir)
    try:
        os.makedirs(os.path.join(sit_dir, "records"), exist_ok=True)
        with open(config_path, "xb") as handle:
            handle.write(DEFAULT_CONFIG_BYTES)
    except FileExistsError:
        raise SitError(f"{config_path} was created meanwhile; nothing was changed.") from None
    except OSError as exc:
        _undo_init(sit_dir, config_path, existed)
        raise SitError(f"cannot create {config_path}: {exc.strerror}.") from None
    try:
        repo.stage([os.path.relpath(config_path, repo.workdir)])
    except BaseException:  # the index is locked, or an interrupt: leave nothing half made
        _undo_init(sit_dir, config_path, existed)
        raise
    click.echo(f"Repository {sit_dir} initialized")


def _held(sit_dir: str) -> str:
    """The entries of ``sit_dir`` with a file somewhere below, named for a message ("" if none).

    Empty directories do not count: git does not track them, and init makes ``records/``.
    """
    try:
        names = sorted(os.listdir(sit_dir))
    except (FileNotFoundError, NotADirectoryError):
        return ""
    except OSError as exc:
        raise SitError(f"cannot list {sit_dir}: {exc.strerror}.") from None
    held = [name for name in names if _has_a_file(os.path.join(sit_dir, name))]
    shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
    return shown


def _has_a_file(path: str) -> bool:
    if os.path.islink(path) or not os.path.isdir(path):
        return True
    return any(files for _, _, files in os.walk(path, onerror=_raise))


def _raise(exc: OSError) -> None:
    raise SitError(f"cannot list {exc.filename}: {exc.strerror}.")


def _undo_init(sit_dir: str, config_path: str, existed: bool) -> None:
    with contextlib.suppress(OSError):
        if existed:
            os.remove(config_path)
        else:
            shutil.rmtree(sit_dir)


def _inside(path: str, directory: str) -> bool:
    path, directory = os.path.realpath(path), os.path.realpath(directory)
    return os.path.commonpath([path, directory]) == directory


@cli.command()
@click.option("--id", "item_id", metavar="ID", help="Item ID (default: a new UUID v4).")
@pass_app
def item(app: App, item_id: str | None) -> None:
    """Create a new, empty item and print its ID."""
    _, sit_dir = sit_dir_on_disk(app.cwd)
    app.store()  # the repository's config.json must be one git-sit can write records for
    click.echo(create_item(sit_dir, item_id))


def _split_types(value: tuple[str, ...]) -> list[str]:
    types = [t.strip() for chunk in value for t in chunk.split(",") if t.strip()]
    for name in types:
        if "/" in name or "\\" in name or name in (".", ".."):
            raise click.BadParameter(f"invalid record type {name!r}.", param_hint="'-t'")
    return types


@cli.command()
@click.option("-t", "--type", "types", multiple=True, metavar="T1,T2", help="Record types.")
@click.option("--no-author", is_flag=True, help="Do not write .authors.")
@click.option("--no-timestamp", is_flag=True, help="Do not write .timestamp.")
@click.option("-n", "--no-aux", is_flag=True, help="Neither .authors nor .timestamp.")
@sign_options
@click.argument("item_id", metavar="ITEM")
@click.argument("files", nargs=-1, type=click.Path())
@pass_app
def record(
    app: App, types: tuple[str, ...], no_author: bool, no_timestamp: bool, no_aux: bool,
    sign: bool | None, signing_key: str | None, item_id: str, files: tuple[str, ...],
) -> None:
    """Record FILES (paths below the current directory) as a new record of ITEM."""
    repo, sit_dir = sit_dir_on_disk(app.cwd)
    store = app.store()
    item_id = store.resolve_item(item_id)
    authors = None
    if not (no_author or no_aux):
        authors = userconfig.author(app.user_config(), repo.config_value)
        if authors is None:
            raise SitError("no author: set git config user.name (and user.email), or use --no-author.")
    payload = read_payload(app.cwd, files)
    timestamp = None if (no_timestamp or no_aux) else utc_timestamp()
    check_payload_names(payload, authors is not None, timestamp is not None)
    files_map = compose(payload, _split_types(types), authors, timestamp, store.item_leaves(item_id))
    sign_with = record_signer(app, sign, signing_key)
    if sign_with is not None:
        files_map = signed_files(files_map, sign_with, store.config.hasher)
    (written,) = write_staged(repo, sit_dir, store.config, [(item_id, files_map)])
    click.echo(written.record_id)
