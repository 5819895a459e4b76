"""Command modules load on demand: every command is mapped to its module, and one runs alone."""

from __future__ import annotations

import subprocess
import sys

from git_sit.cli.base import COMMAND_MODULES, COMMANDS, cli, load_commands


def test_every_command_is_mapped_to_the_module_that_defines_it():
    load_commands()
    defined = {name: command.callback.__module__ if command.callback else "" for name, command in cli.commands.items()}
    assert set(defined) == set(COMMANDS)
    for name, module in defined.items():
        assert module == f"git_sit.cli.{COMMANDS[name]}", name
    assert set(COMMANDS.values()) <= set(COMMAND_MODULES)


def _modules_after(args: list[str]) -> set[str]:
    code = ("import sys\nfrom git_sit.cli import cli\n"
            f"try:\n    cli.main({args!r}, prog_name='git sit')\nexcept SystemExit:\n    pass\n"
            "print(' '.join(m for m in sys.modules if m.startswith('git_sit.cli.')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
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
