"""A small team end to end: a bare inbox server installed as the README says, and clones.

Each test plays a sequence a team would (file, push through the real hook, pull,
status) and pins what the user sees at the step that went wrong.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import Run, git, sit


def push(cwd: Path, *args: str) -> Run:
    result = subprocess.run(["git", "push", *args], cwd=cwd, capture_output=True, text=True, check=False)
    return Run(result.returncode, result.stdout, result.stderr)


def seed(tmp_path: Path, init: bool = True) -> Path:
    """The project's history (with `git sit init` committed if ``init``) as a bare server."""
    project = tmp_path / "project"
    git(tmp_path, "init", "-q", "-b", "main", str(project))
    (project / "README").write_text("A project\n")
    git(project, "add", "README")
    git(project, "commit", "-qm", "Initial commit")
    if init:
        assert sit(project, "init").code == 0
        git(project, "commit", "-qm", "Track issues with git-sit")
    server = tmp_path / "server.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(server))
    return server


def clone(tmp_path: Path, server: Path, name: str) -> Path:
    work = tmp_path / name.lower()
    git(tmp_path, "clone", "-q", str(server), str(work))
    git(work, "config", "user.name", name)
    git(work, "config", "user.email", f"{name.lower()}@example.com")
    return work


def test_install_warns_when_the_server_has_no_sit_repository(tmp_path):
    server = seed(tmp_path, init=False)
    run = sit(tmp_path, "inbox", "install", str(server))
    assert run.code == 0, run.err
    assert run.err.startswith("warning: no branch of ")
    assert "has .sit/config.json, so the inbox will reject every record" in run.err
    # ...and it is right: the first issue filed in a clone cannot be pushed.
    alice = clone(tmp_path, server, "Alice")
    assert sit(alice, "init").code == 0
    assert sit(alice, "issue", "new", "-s", "First").code == 0
    git(alice, "commit", "-qm", "File an issue")
    assert push(alice, "origin", "main").code != 0


def test_install_is_quiet_when_the_server_has_a_sit_repository(tmp_path):
    server = seed(tmp_path)
    run = sit(tmp_path, "inbox", "install", str(server))
    assert run.code == 0 and run.err == "", run.err
    alice = clone(tmp_path, server, "Alice")
    assert sit(alice, "issue", "new", "-s", "First").code == 0
    git(alice, "commit", "-qm", "File an issue")
    assert push(alice, "origin", "main").code == 0
