"""Command modules load on demand: every command is mapped to its module, and one runs alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from git_sit.cli.base import COMMAND_MODULES, COMMANDS, cli, load_commands
from tests.helpers import commit_files, record_files, sit_tree_files


def test_every_command_is_mapped_to_the_module_that_defines_it():
    load_commands()
    defined = {name: command.callback.__module__ if command.callback else "" for name, command in cli.commands.items()}
    assert set(defined) == set(COMMANDS)
    for name, module in defined.items():
        assert module == f"git_sit.cli.{COMMANDS[name]}", name
    assert set(COMMANDS.values()) <= set(COMMAND_MODULES)


def _modules_after(args: list[str], prefix: str = "git_sit.cli.", cwd: Path | None = None) -> set[str]:
    code = ("import sys\nfrom git_sit.cli import cli\n"
            f"try:\n    cli.main({args!r}, prog_name='git sit')\nexcept SystemExit:\n    pass\n"
            f"print(' '.join(m for m in sys.modules if m.startswith({prefix!r})))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd)
    return set(run.stdout.splitlines()[-1].split())


def test_a_command_imports_only_its_own_module():
    loaded = _modules_after(["items", "-h"])
    assert "git_sit.cli.read" in loaded
    assert not loaded & {"git_sit.cli.issue", "git_sit.cli.inbox", "git_sit.cli.status"}


def test_help_lists_every_command():
    run = subprocess.run([sys.executable, "-m", "git_sit", "-h"], capture_output=True, text=True, check=True)
    listed = {line.split()[0] for line in run.stdout.split("Commands:")[1].splitlines() if line.strip()}
    load_commands()
    assert listed == {name for name in COMMANDS if not cli.commands[name].hidden}


SIGNING = {"git_sit.cli.sign", "git_sit.gpg", "git_sit.signature", "git_sit.signing"}


def test_reads_load_the_signing_modules_only_with_a_keyring(repo, workdir, tmp_path):
    files, _ = sit_tree_files({"item": [record_files(["SummaryChanged"], "hello")]})
    commit_files(repo, files, ref="main")
    for args in (["items", "--rev", "main"], ["reduce", "item", "--rev", "main"], ["items"]):
        loaded = _modules_after(["--no-cache", *args], "git_sit.", workdir)
        assert "git_sit.store" in loaded and not loaded & SIGNING, args
    keyring = tmp_path / "keys.gpg"
    keyring.write_bytes(b"")
    loaded = _modules_after(["items", "--rev", "main", "--trusted", str(keyring)], "git_sit.", workdir)
    assert loaded >= SIGNING
