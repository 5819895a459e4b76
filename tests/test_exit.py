"""How ``git sit`` ends: exit statuses, output and exit handlers survive the quick exit,
and what a run left in the cache's write-ahead log is there for the next process."""

from __future__ import annotations

import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from git_sit.statecache import cache_path
from tests.helpers import commit_files, record_files, sit, sit_tree_files


@pytest.fixture
def populated(repo, workdir):
    items = {f"item-{n:03}": [record_files(["SummaryChanged"], f"summary {n}", "A <a@b>",
                                           f"2024-05-{n % 28 + 1:02}T00:00:00Z")] for n in range(300)}
    files, _ = sit_tree_files(items)
    commit_files(repo, files, ref="main")
    return workdir


def _states_rows(workdir: Path) -> int:
    path = cache_path(str(workdir / ".git"))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # reads the log as well
    try:
        return int(conn.execute("SELECT count(*) FROM states").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(("args", "status", "stream", "text"), [
    (["items", "--rev", "main", "-q", "summary"], 0, "out", "summary 0"),
    (["items", "--rev", "no-such-rev"], 1, "err", "Error:"),
    (["items", "--no-such-option"], 2, "err", "No such option"),
    (["reduce", "not-an-item", "--rev", "main"], 1, "err", "Error:"),
])
def test_exit_status_and_output_are_kept(populated, args, status, stream, text):
    run = sit(populated, *args)
    assert run.code == status, run.err
    assert text in (run.out if stream == "out" else run.err)
    assert "Traceback" not in run.err


@pytest.mark.parametrize("args", [
    ["--no-such-option"], ["no-such-command"], ["items", "--no-such-option"], ["cache", "no-such"],
    ["issue", "label"],
])
def test_the_usage_hint_works_when_followed(populated, args):
    # git runs ``git sit --help`` as ``git help sit``, which looks for a man page
    run = sit(populated, *args)
    assert run.code == 2, run.err
    hints = [line for line in run.err.splitlines() if line.startswith("Try '")]
    assert len(hints) == 1, run.err
    command = shlex.split(hints[0].removeprefix("Try '").removesuffix("' for help."))
    assert command[:2] == ["git", "sit"]
    followed = sit(populated, *command[2:])
    assert followed.code == 0, followed.err
    assert followed.out.startswith("Usage: git sit")


def test_output_is_complete_when_it_is_large(populated):
    run = sit(populated, "items", "--rev", "main", "-q", "summary")
    assert run.code == 0
    assert run.out.splitlines() == [f"summary {n}" for n in range(300)]


def test_a_closed_pipe_ends_quietly(populated):
    proc = subprocess.Popen(["git", "sit", "items", "--rev", "main", "-q", "summary"], cwd=populated,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()  # like `| head -c 10`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) in (0, 1)  # click's status for a closed pipe; 0 if all fit in it first
    assert err == ""


def test_exit_handlers_run(populated):
    # One item's state is kept back and written by an exit handler (statecache's deferred batch).
    assert sit(populated, "reduce", "item-007", "--rev", "main").code == 0
    assert _states_rows(populated) == 1
    code = ("import atexit, sys\natexit.register(lambda: print('handler ran', file=sys.stderr))\n"
            "from git_sit.cli import main\nsys.argv[0] = 'git-sit'\nmain()\n")
    run = subprocess.run([sys.executable, "-c", code, "items", "--rev", "main", "-q", "summary"],
                         cwd=populated, capture_output=True, text=True, check=False)
    assert run.returncode == 0
    assert run.stderr.endswith("handler ran\n")
    assert len(run.stdout.splitlines()) == 300


@pytest.mark.parametrize(("args", "status"), [(["items", "--rev", "main", "-q", "summary"], 0),
                                             (["items", "--rev", "no-such-rev"], 1)])
def test_without_the_private_exit_hook_the_exit_is_the_usual_one(populated, args, status):
    # atexit._run_exitfuncs is private CPython API: without it, handlers and statuses still hold.
    code = ("import atexit, sys\ndel atexit._run_exitfuncs\n"
            "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
            "from git_sit.cli import main\nsys.argv[0] = 'git-sit'\nmain()\n")
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=populated, capture_output=True,
                         text=True, check=False)
    assert run.returncode == status, run.stderr
    assert run.stderr.endswith("handler ran\n")
    assert "Traceback" not in run.stderr
    assert len(run.stdout.splitlines()) == (300 if status == 0 else 0)


def test_what_one_run_wrote_is_read_by_the_next(populated):
    first = sit(populated, "items", "--rev", "main", "-q", "summary")
    assert Path(cache_path(str(populated / ".git")) + "-wal").exists()  # left as an interrupted run leaves it
    assert _states_rows(populated) == 300
    again = sit(populated, "items", "--rev", "main", "-q", "summary")
    assert again.out == first.out and again.err == first.err == ""


def test_a_profiler_still_gets_its_report(populated, tmp_path):
    # cProfile writes its statistics after the program returns: the exit must let it.
    stats = tmp_path / "profile.out"
    run = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "git_sit",
                          "items", "--rev", "main"], cwd=populated, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.splitlines()) == 300
    assert stats.stat().st_size > 0


@pytest.mark.parametrize("args", [
    ["items", "--rev", "main", "-q", "summary"],  # output written while it is produced
    ["reduce", "item-007", "--rev", "main"],  # output that fits the buffer: written at the exit
    ["issue", "list", "--rev", "main"],
])
def test_a_full_disk_is_one_line_and_status_1(populated, args):
    with open("/dev/full", "w") as full:
        run = subprocess.run(["git", "sit", *args], cwd=populated, stdout=full, stderr=subprocess.PIPE,
                             text=True, check=False)
    assert run.returncode == 1
    assert run.stderr.splitlines() == ["Error: cannot write: No space left on device."]


@pytest.mark.parametrize(("redirect", "status"), [(">&-", 0), ("--rev nope 2>&-", 1), ("<&- >&- 2>&-", 0)])
def test_a_closed_standard_stream_is_not_a_crash(populated, redirect, status):
    # Not through git, which opens /dev/null on closed descriptors itself. As git and
    # click.echo do, a closed output prints nothing, and errors never go to standard output.
    run = subprocess.run(f"{sys.executable} -m git_sit items --rev main {redirect}", shell=True,
                         cwd=populated, capture_output=True, text=True, check=False)
    assert run.returncode == status
    assert run.stdout == "" and run.stderr == ""


def test_closed_standard_descriptors_get_dev_null_which_children_inherit(tmp_path):
    code = ("import os, subprocess\nfrom git_sit.cli.process import _open_standard_fds\n"
            "_open_standard_fds()\n"
            "print(os.path.samestat(os.fstat(2), os.stat(os.devnull)), os.get_inheritable(2), flush=True)\n"
            "subprocess.run(['sh', '-c', 'echo child >&2 && echo ok'])\n")
    run = subprocess.run(f"{sys.executable} -c {shlex.quote(code)} 2>&-", shell=True, cwd=tmp_path,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "True", "ok"]  # the child could write to its stderr


@pytest.mark.parametrize("args", [
    ["items", "--rev", "main", "-q", "summary"],
    ["reduce", "item-000", "--rev", "main"],
    ["issue", "list", "--rev", "main"],
    ["issue", "show", "item-000", "--rev", "main"],
])
def test_output_the_encoding_cannot_show_is_utf8_or_one_line(repo, workdir, args):
    files, _ = sit_tree_files({"item-000": [record_files(["SummaryChanged"], "Grüße 世界", "A <a@b>",
                                                         "2024-05-01T00:00:00Z")]})
    commit_files(repo, files, ref="main")
    expected = sit(workdir, *args, env={"PYTHONIOENCODING": "utf-8"})
    assert expected.code == 0 and "世界" in expected.out, expected.err
    # As click.echo does, ASCII (a misconfigured locale) gets UTF-8 ...
    assert sit(workdir, *args, env={"PYTHONIOENCODING": "ascii"}) == expected
    # ... and an encoding chosen on purpose is kept: what it cannot show is one error line.
    run = sit(workdir, *args, env={"PYTHONIOENCODING": "latin-1"})
    assert (run.code, run.err.splitlines()) == (1, [
        "Error: cannot write '\\u4e16\\u754c' in the output's encoding (latin-1); use a UTF-8 locale or "
        "PYTHONIOENCODING=utf-8."])


def test_query_results_are_printed_as_they_are(repo, workdir):
    """Strings are printed raw, as SIT does; escape codes too (click would strip them in a pipe)."""
    summary = "\x1b[31mred\x1b[0m tab\there"
    files, _ = sit_tree_files({f"item-{n:03}": [record_files(["SummaryChanged"], f"{summary} {n}", "A <a@b>",
                                                             "2024-05-01T00:00:00Z")] for n in range(300)})
    commit_files(repo, files, ref="main")
    run = sit(workdir, "items", "--rev", "main", "-q", "summary")  # more than one batch of output
    assert run.out == "".join(f"{summary} {n}\n" for n in range(300))
