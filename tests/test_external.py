"""External commands: ``git sit NAME`` runs ``sit-NAME`` from .sit/cli, modules' cli/, then PATH (§7.3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import sit, sit_tree_files
from tests.module_helpers import write_files

HELLO = b"""#!/bin/sh
echo "hello from $0: $*"
echo "SIT_DIR=$SIT_DIR"
$SIT path
exit 3
"""


def script(path: Path, body: bytes, executable: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    path.chmod(0o755 if executable else 0o644)


def repo_with_items(workdir: Path) -> Path:
    files, _ = sit_tree_files({})
    write_files(workdir, files)
    return workdir / ".sit"


def test_hello_runs_with_the_right_environment(workdir: Path):
    sit_dir = repo_with_items(workdir)
    script(sit_dir / "cli/sit-hello", HELLO)
    (workdir / "sub").mkdir()
    ran = sit(workdir / "sub", "hello", "a b", "-h", "--rev", "x")
    assert ran.code == 3, ran.err
    assert ran.out.splitlines() == [
        f"hello from {sit_dir}/cli/sit-hello: a b -h --rev x",
        f"SIT_DIR={sit_dir}",
        str(sit_dir),
    ]


def test_search_order_local_then_modules_then_path_then_sh(workdir: Path, tmp_path: Path):
    sit_dir = repo_with_items(workdir)
    bin_dir = tmp_path / "bin"
    for name in ("one", "two", "three"):
        script(bin_dir / f"sit-{name}", f"#!/bin/sh\necho path {name}\n".encode())
    script(sit_dir / "cli/sit-one", b"#!/bin/sh\necho local one\n")
    script(sit_dir / "modules/b/cli/sit-two", b"#!/bin/sh\necho module b two\n")
    script(sit_dir / "modules/a/cli/sit-two", b"#!/bin/sh\necho module a two\n")
    script(sit_dir / "modules/a/cli/sit-four.sh", b"echo sh four $1\n", executable=False)
    script(sit_dir / "cli/sit-five", b"#!/bin/sh\necho not executable\n", executable=False)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    assert sit(workdir, "one", env=env).out == "local one\n"
    assert sit(workdir, "two", env=env).out == "module a two\n"
    assert sit(workdir, "three", env=env).out == "path three\n"
    assert sit(workdir, "four", "x", env=env).out == "sh four x\n"
    script(bin_dir / "sit-six", b"#!/bin/sh\necho path six\n")
    script(sit_dir / "cli/sit-six", b"#!/bin/sh\necho not executable\n", executable=False)
    assert sit(workdir, "six", env=env).out == "path six\n"  # a sit-NAME that cannot run is passed over


@pytest.mark.parametrize(("make", "why"), [
    (lambda p: script(p, b"#!/bin/sh\necho hi\n", executable=False),
     "is not executable: chmod +x it, or rename it sit-hi.sh to run it with sh"),
    (lambda p: p.symlink_to(p.parent / "nowhere"), "is a symbolic link to nothing"),
    (lambda p: p.mkdir(mode=0o755), "is a directory, not a program"),
], ids=["not-executable", "dangling-symlink", "directory"])
def test_a_sit_name_that_cannot_run_says_why(workdir: Path, make, why):
    sit_dir = repo_with_items(workdir)
    (sit_dir / "cli").mkdir()
    make(sit_dir / "cli" / "sit-hi")
    run = sit(workdir, "hi")
    assert (run.code, run.out, run.err) == (1, "", f"Error: {sit_dir}/cli/sit-hi {why}.\n")


def test_unknown_commands_are_usage_errors(workdir: Path):
    repo_with_items(workdir)
    ran = sit(workdir, "frobnicate")
    assert (ran.code, ran.out) == (2, "")
    assert "Error: No such command 'frobnicate'." in ran.err
    assert sit(workdir, "items").code == 0  # built-in commands are never shadowed
