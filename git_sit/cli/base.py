"""The click group, the application context and the one SitError → exit 1 translation.

Command modules are imported when one of their commands runs (``COMMANDS``), or all of
them when the commands are listed: starting ``git sit items`` need not import the
modules of ``issue``, ``inbox`` or ``status``.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from git_sit import __version__, userconfig
from git_sit.errors import SitError
from git_sit.jsengine import Limits
from git_sit.options import MODES, Options, jobs_from_env
from git_sit.query import Expression, compile_expression, render

if TYPE_CHECKING:
    from git_sit.store import Store

F = TypeVar("F", bound=Callable[..., Any])
# A full disk or quota is an expected failure of any write, output included (nothing is
# left half-written: records are renamed into place whole).
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# Each command and the module of git_sit.cli that defines it (tests check this is complete).
COMMANDS = {
    "cache": "cache", "config": "read", "diff": "status", "inbox": "inbox", "inbox-hook": "inbox",
    "init": "write", "integrity": "read", "issue": "issue", "item": "write", "items": "read",
    "modules": "modules", "path": "read", "record": "write", "records": "read",
    "reduce": "read", "status": "status", "verify": "sign",
}
COMMAND_MODULES = ("cache", "inbox", "issue", "modules", "read", "sign", "status", "write")


def load_commands(names: Iterable[str] = COMMAND_MODULES) -> None:
    """Import command modules of ``git_sit.cli`` (each registers its commands on ``cli``)."""
    for name in names:
        importlib.import_module(f"git_sit.cli.{name}")


class HintedUsageError(click.UsageError):
    """A usage error whose hint names ``-h``: git runs ``git sit --help`` as ``git help sit``.

    Click's own hint names the longest help option, which for the top-level command sends
    the user to a man page that does not exist.
    """

    @classmethod
    def of(cls, exc: click.UsageError) -> HintedUsageError:
        return cls(exc.format_message(), exc.ctx)

    def show(self, file: IO[Any] | None = None) -> None:
        ctx = self.ctx
        color = ctx.color if ctx is not None else None
        if ctx is not None:
            names = ctx.command.get_help_option_names(ctx) if ctx.command.get_help_option(ctx) else []
            hint = f"Try '{ctx.command_path} {min(names, key=len)}' for help.\n" if names else ""
            click.echo(f"{ctx.get_usage()}\n{hint}", file=file, err=file is None, color=color)
        click.echo(f"Error: {self.format_message()}", file=file, err=file is None, color=color)


class SitGroup(click.Group):
    """Turns every ``SitError`` raised by a command into ``error: ...`` and exit status 1.

    A name that is not a command of git-sit runs an external ``sit-NAME``, as SIT does.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HintedUsageError:
            raise
        except click.UsageError as exc:
            raise HintedUsageError.of(exc) from None
        except SitError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            if exc.errno not in _DISK_FULL:
                raise
            raise click.ClickException(cannot_write(exc)) from None
        except UnicodeEncodeError as exc:
            if exc.encoding.replace("-", "").lower() == "utf8":
                raise  # not the output's encoding: a bug, which the traceback shows
            raise click.ClickException(_cannot_encode(exc)) from None

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except HintedUsageError:
            raise
        except click.UsageError as exc:  # an option of git-sit itself: ``git sit --bogus``
            raise HintedUsageError.of(exc) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            load_commands([COMMANDS[cmd_name]] if cmd_name in COMMANDS else COMMAND_MODULES)
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        from git_sit.cli.external import external_command  # only for names git-sit does not know

        return external_command(cmd_name)


@dataclass
class App:
    """What every command needs: where it runs and the global options."""

    cwd: str
    integrity: bool = True
    user_config_path: str | None = None
    reducers: str = "auto"
    use_cache: bool = True
    _user_config: dict[str, Any] | None = field(default=None, repr=False)

    def warn(self, message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    def options(self, rev: str | None = None) -> Options:
        """How stores are opened for this command (revision, integrity, reducers, limits)."""
        jobs_from_env(os.environ)  # said at once, even when a read is served from the cache
        return Options(rev, self.integrity, self.warn, self.reducers, Limits.from_env(os.environ),
                       cache=self.use_cache)

    def store(self, rev: str | None = None) -> Store:
        from git_sit.locate import open_store  # imports pygit2, which a warm read does without

        return open_store(self.cwd, self.options(rev))

    def read_store(self, rev: str | None, trusted: str | None, explain: bool) -> Store:
        """The store of a read command; with ``trusted``, only trusted signed records count.

        The signing modules (``cli.sign``: gpg, signatures, trust policies) are imported
        only when a keyring is given.
        """
        if not trusted:
            return self.store(rev)
        from git_sit.cli.sign import trusted_store

        return trusted_store(self, rev, trusted, explain)

    def warm_states(self, rev: str | None, field: str | None) -> Iterator[Any] | None:
        """Every item's state (or ``field``) at ``rev`` from the cache alone, if it can be (``warm``)."""
        from git_sit import warm

        opened: list[Store] = []

        def reduce(item_id: str) -> dict[str, Any]:
            if not opened:
                opened.append(self.store(rev))
            return opened[0].reduce(item_id)

        return warm.cached_states(self.cwd, self.options(rev), field, reduce)

    def user_config(self) -> dict[str, Any]:
        if self._user_config is None:
            self._user_config = userconfig.load(self.user_config_path)
        return self._user_config


pass_app = click.make_pass_decorator(App)


@click.group(cls=SitGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    # Not click's envvar: SIT disables the check when SIT_DISABLE_INTEGRITY_CHECK is set to
    # anything (0 and the empty string too), where click would parse a boolean.
    "-i", "--disable-integrity-check", is_flag=True,
    help="Reduce records even if their content does not match their ID ('integrity' still checks; "
         "also: SIT_DISABLE_INTEGRITY_CHECK set to anything).",
)
@click.option("-c", "--config", "config_path", metavar="FILE", help="User config file.")
@click.option(
    "--reducers", type=click.Choice(MODES), default="auto", envvar="GIT_SIT_REDUCERS",
    help="Reducers to run: the repository's own (js), the built-in port (native), or auto.",
)
@click.option(
    "--no-cache", is_flag=True, envvar="GIT_SIT_NO_CACHE",
    help="Neither read nor fill the cache of reduced states (in the git directory).",
)
@click.version_option(__version__, "--version", prog_name="git-sit")
@click.pass_context
def cli(
    ctx: click.Context, disable_integrity_check: bool, config_path: str | None, reducers: str,
    no_cache: bool,
) -> None:
    """SIT issue records stored in git: read them at any revision, write new ones.

    Run as 'git sit COMMAND'. Every read command takes --rev REV to read a branch,
    tag or commit straight from git objects; without it, the files in the work tree.
    """
    if config_path is not None and not os.path.exists(config_path):
        raise SitError(f"user config {config_path} does not exist.")  # not only when first read
    disable_integrity_check = disable_integrity_check or "SIT_DISABLE_INTEGRITY_CHECK" in os.environ
    ctx.obj = App(os.getcwd(), not disable_integrity_check, config_path, reducers, not no_cache)


class JMESPathType(click.ParamType):
    """A JMESPath expression, compiled while the arguments are parsed (bad → exit 2)."""

    name = "EXPR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Expression):
            return value
        try:
            return compile_expression(str(value))
        except SitError as exc:
            self.fail(str(exc), param, ctx)


JMESPATH = JMESPathType()


def _set_reducers(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    app = ctx.find_object(App)
    if value is not None and app is not None:
        app.reducers = value


class KeyringPath(click.Path):
    """``--trusted KEYRING``: a file, and never empty: an unset variable must not turn trust off."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str | bytes) and not value:
            self.fail("the file name is empty; name a file of trusted public keys.", param, ctx)
        return super().convert(value, param, ctx)


def trust_options(func: F) -> F:
    """``--trusted KEYRING`` and ``--explain`` (see ``App.read_store``)."""
    func = click.option(
        "--explain", is_flag=True,
        help="Say on stderr which records --trusted skipped, and why.",
    )(func)
    return click.option(
        "--trusted", metavar="KEYRING", type=KeyringPath(),
        help="Reduce only records with a good signature by a key in KEYRING "
             "(exported public keys, armoured or binary, or a keyring file).",
    )(func)


def rev_option(func: F) -> F:
    """``--rev REV``: read from git objects at REV instead of the work tree (and ``--reducers``)."""
    func = click.option(
        "--reducers", type=click.Choice(MODES), expose_value=False, callback=_set_reducers,
        help="Reducers to run: the repository's own (js), the built-in port (native), or auto.",
    )(func)
    return click.option(
        "--rev", metavar="REV",
        help="Read the repository at this branch, tag or commit (bare repositories: HEAD).",
    )(func)


ECHO_BATCH = 256  # values per write: one write per value costs more than rendering them


def echo_values(values: Iterable[Any]) -> None:
    """Print query results as SIT does, one block each, as they are produced (in small batches).

    Through ``click.echo``, as every other output, so that an ASCII locale gets UTF-8 here too.
    """
    lines: list[str] = []
    try:
        for value in values:
            lines.append(render(value))
            if len(lines) == ECHO_BATCH:
                click.echo("\n".join(lines), color=True)  # color: keep any escape codes as they are
                lines.clear()
    finally:
        if lines:  # what was produced before an error is printed too
            click.echo("\n".join(lines), color=True)
        sys.stdout.flush()


def cannot_write(exc: OSError) -> str:
    return f"cannot write: {exc.strerror}."


def _cannot_encode(exc: UnicodeEncodeError) -> str:
    # Records hold UTF-8 text; an output encoding that cannot show it is set by the user
    # (PYTHONIOENCODING, a locale), so say which and how to fix it rather than mangle text.
    text = exc.object[exc.start:exc.end]
    return (f"cannot write {text!a} in the output's encoding ({exc.encoding}); "
            "use a UTF-8 locale or PYTHONIOENCODING=utf-8.")
