"""git-sit in unusual git layouts: separate work trees, relative git directories, and the like.

Every test builds its layout with real git and runs ``git ... sit`` through git's
dispatch, so the environment git hands to the extension is the real one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from git_sit.config import DEFAULT_CONFIG_BYTES
from tests.helpers import Run, git, sit


def git_sit(cwd: Path, *args: str) -> Run:
    """Run ``git ARGS`` where ARGS include ``sit`` after git's own options."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    return Run(result.returncode, result.stdout, result.stderr)


def staged(cwd: Path, *options: str) -> list[str]:
    """The paths in the index, listed by ``git [OPTIONS] ls-files``."""
    return git(cwd, *options, "ls-files").split()


def test_relative_git_dir_from_outside_stages_in_that_repository(workdir: Path):
    parent = workdir.parent
    opts = [f"--git-dir={workdir.name}/.git", f"--work-tree={workdir.name}"]
    assert sit(workdir, "init").code == 0
    run = git_sit(parent, *opts, "sit", "issue", "new", "-s", "Filed from outside")
    assert run.code == 0, run.err
    assert any(path.startswith(".sit/items/") for path in staged(workdir))
    assert sit(workdir, "items", "-q", "summary").out == "Filed from outside\n"


def test_core_worktree_elsewhere_writes_and_stages_there(workdir: Path):
    tree = workdir.parent / "files"
    tree.mkdir()
    git(workdir, "config", "core.worktree", str(tree))
    (tree / ".sit").mkdir()
    (tree / ".sit" / "config.json").write_bytes(DEFAULT_CONFIG_BYTES)
    run = sit(workdir, "issue", "new", "-s", "In a separate work tree")
    assert run.code == 0, run.err
    assert any(path.startswith(".sit/items/") for path in staged(workdir))
    assert not (workdir / ".sit").exists()
    assert sit(workdir, "issue", "list").code == 0
    assert sit(workdir, "items", "-q", "summary").out == "In a separate work tree\n"
