"""The process around a command: the console-script entry point and how it exits.

``main`` makes the standard descriptors safe, rejects arguments that are not UTF-8, runs
the click group and turns however it ends (a usage error, a ``SitError``, a closed pipe,
a full disk while flushing) into one exit status, leaving without the interpreter's
slow teardown once output is flushed and the exit handlers have run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn

import click

from git_sit.cli.base import cannot_write, cli


def main() -> None:
    """Console-script entry point."""
    _open_standard_fds()
    try:
        _check_arguments(sys.argv[1:])
        cli(prog_name="git sit")
    except BrokenPipeError:
        _quiet_pipe()
        _leave(141)
    except SystemExit as exc:  # click ends every run with one, errors included
        _leave(_exit_status(exc.code))


def _check_arguments(args: list[str]) -> None:
    """Every argument must be UTF-8: names, text and IDs go into records and states as UTF-8.

    Python hands bytes that are not UTF-8 over as lone surrogates, which fail much later,
    when they are encoded.
    """
    for position, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            click.echo(f"Error: argument {position} ({arg!r}) is not valid UTF-8.", err=True)
            raise SystemExit(1) from None


def _open_standard_fds() -> None:
    """Put /dev/null on a closed descriptor 0, 1 or 2, as git does, and streams on them.

    Otherwise the next file opened (a pack, a record being written) takes its number,
    and whatever a child process or library then prints there lands in that file; and
    click would print errors on standard output when standard error is closed.
    """
    fd = os.open(os.devnull, os.O_RDWR)
    while fd <= 2:
        os.set_inheritable(fd, True)  # child processes get it too
        fd = os.open(os.devnull, os.O_RDWR)
    os.close(fd)
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives until exit
    if sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - lives until exit
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


def _quiet_pipe() -> None:
    """Output piped into `head` and the like: stop quietly, as git does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _exit_status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives (a message is printed, as Python does)."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1


def _leave(status: int) -> NoReturn:
    """Exit once output is flushed and exit handlers ran, without tearing the interpreter down.

    The teardown is measured at 40-70 ms of a 0.3 s read: freeing every object one by
    one, and closing the cache database, which checkpoints its write-ahead log into the
    database file with two fsyncs and deletes the log, so the next process creates it
    again (another fsync, of the directory). Left open, the log stays as after any
    interrupted process, which SQLite is built for: committed batches are in it, the
    next process reads them from it, and SQLite checkpoints it when it grows. Under a
    profiler or tracer (``python -m cProfile``, a debugger, coverage), which report
    after the program returns, the exit is the usual one; so it is on a Python without
    ``atexit._run_exitfuncs`` (private, though typeshed declares it).
    """
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if sys.getprofile() is not None or sys.gettrace() is not None or run_exit_handlers is None:
        raise SystemExit(status)
    status = _flush_output(status)
    run_exit_handlers()  # e.g. the cache's deferred batch (statecache)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None: closed
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    os._exit(status)


def _flush_output(status: int) -> int:
    """Write what standard output still buffers; the exit status if that fails."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()
        return status or 141
    except OSError as exc:
        if status == 0:  # else the command has reported its own failure
            click.echo(f"Error: {cannot_write(exc)}", err=True)  # as click prints a ClickException
        return status or 1
    return status
