"""What the sdist and the wheel ship, checked by building and installing them.

The sdist must be the whole source tree (the README's first command runs
``scripts/demo.sh`` in it); the wheel, installed into a fresh virtual environment
and run from elsewhere, must work without the source tree: ``sandbox.js`` for
JavaScript reducers, the inbox hooks, the demo. ``python -m build`` fetches
setuptools into its isolated build environment as ``pip install .`` does; the
wheel is installed without its dependencies, which the fresh environment
borrows from this one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, git

VERSION = "0.1.0"


def _source_files() -> list[str]:
    """The files of the source tree, as a fresh checkout (plus files not yet added) holds them."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the source tree's files are not known")
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    return sorted(name for name in listed if name and (ROOT / name).is_file())


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` of a copy of the source tree: an sdist, and a wheel built from it."""
    pytest.importorskip("build", reason="the test extras install PyPA's build")
    src = tmp_path_factory.mktemp("src")
    for name in _source_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)  # the work tree is left alone
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def _sdist(dist: Path) -> Path:
    (sdist,) = dist.glob("*.tar.gz")  # git-sit-0.1.0 or git_sit-0.1.0: setuptools' choice
    return sdist


@pytest.mark.slow  # the build, shared with the next test: about 7 s
def test_sdist_is_the_whole_source_tree(dist):
    sdist = _sdist(dist)
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as tar:
        members = {m.name.removeprefix(f"{top}/"): m for m in tar.getmembers() if m.isfile()}
    missing = [name for name in _source_files() if name not in members]
    assert not missing, f"not in the sdist: {missing}"
    for name in ("scripts/demo.sh", "hooks/pre-receive"):
        assert members[name].mode & 0o111, f"{name} lost its executable bit"


def _fresh_venv(path: Path) -> Path:
    """A virtual environment with no packages of its own; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def _borrow_dependencies(python: Path) -> None:
    """Let the fresh environment import this one's packages (click, pygit2...), as a .pth path.

    A path listed in a .pth file is not itself a site directory, so this environment's
    editable install of git-sit (a .pth hook there) stays out.
    """
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    paths = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(purelib, "borrowed-dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(paths)))


@pytest.mark.slow
def test_installed_wheel_works_outside_the_source_tree(dist, tmp_path):
    sdist = _sdist(dist)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path / "unpacked", filter="tar")
    tree = tmp_path / "unpacked" / sdist.name.removesuffix(".tar.gz")
    (wheel,) = dist.glob("*.whl")  # built from the sdist, as `pip install .` in the unpacked sdist would
    with zipfile.ZipFile(wheel) as archive:  # the sdist's tests/ and scripts/ stay out of site-packages
        assert {name.split("/")[0] for name in archive.namelist()} == {"git_sit", f"git_sit-{VERSION}.dist-info"}
    venv = tmp_path / "venv"
    python = _fresh_venv(venv)
    run = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                          "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    _borrow_dependencies(python)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)

    def run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, check=False)

    where = run_in(elsewhere, str(python), "-c", "import git_sit; print(git_sit.__file__)")
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    installed = Path(where.stdout.strip()).parent
    shipped = [name for name in _source_files() if name.startswith("git_sit/")]
    assert [n for n in shipped if not (installed / n.removeprefix("git_sit/")).is_file()] == []
    assert run_in(elsewhere, "git", "sit", "--version").stdout == f"git-sit, version {VERSION}\n"

    # The README's first command, in the unpacked sdist; the demo repository goes elsewhere.
    demo = run_in(tree, "scripts/demo.sh", str(elsewhere / "demo"))
    assert demo.returncode == 0, demo.stderr
    assert "== open issues on release-1.0 (read from git objects, no checkout):" in demo.stdout

    # JavaScript reducers need sandbox.js; the inbox needs its hooks.
    work = elsewhere / "demo"
    (work / ".sit" / "reducers").mkdir()
    shutil.copy(ROOT / "tests" / "data" / "tagger" / "tagger.js", work / ".sit" / "reducers")
    reduced = run_in(work, "git", "sit", "items", "--reducers", "js", "-q", "tagged")
    counts = reduced.stdout.split()
    assert reduced.returncode == 0 and len(counts) == 2 and all(c.isdigit() for c in counts), \
        reduced.stdout + reduced.stderr
    server = elsewhere / "server.git"
    assert run_in(elsewhere, "git", "init", "-q", "--bare", str(server)).returncode == 0
    assert run_in(work, "git", "push", "-q", str(server), "main~1:refs/heads/main").returncode == 0
    install = run_in(elsewhere, "git", "sit", "inbox", "install", str(server))
    assert install.returncode == 0, install.stderr
    assert f"INSTALL_PYTHON={python}\n" in (server / "hooks" / "pre-receive").read_text()
    accepted = run_in(work, "git", "push", str(server), "main:main")
    assert accepted.returncode == 0, accepted.stderr
    git(work, "add", ".sit/reducers")
    git(work, "commit", "-qm", "a reducer")
    rejected = run_in(work, "git", "push", str(server), "main:main")
    assert rejected.returncode != 0 and "pre-receive hook declined" in rejected.stderr, rejected.stderr
    assert "outside .sit/records and .sit/items" in rejected.stderr
