"""Hermetic test environment: no developer config leaks in, dates are fixed.

HOME, XDG_CONFIG_HOME and GNUPGHOME point at temporary directories, the system
git config is ignored, and git's identity and dates are pinned. The directory of
the running interpreter goes first on PATH so that ``git sit`` dispatches to the
``git-sit`` installed next to it (the one under test).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from tests.helpers import FIXTURE

FIXED_DATE = "2026-01-02T03:04:05+00:00"


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    (home / ".config").mkdir()
    gnupg = home / ".gnupg"
    gnupg.mkdir(mode=0o700)
    for name in list(os.environ):
        if name.startswith(("GIT_", "SIT_")):
            monkeypatch.delenv(name)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GNUPGHOME": str(gnupg),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.com",
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
        "GIT_EDITOR": "false",
        "EDITOR": "false",
        "LC_ALL": "C.UTF-8",
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = user@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    for level in (pygit2.enums.ConfigLevel.GLOBAL, pygit2.enums.ConfigLevel.XDG,
                  pygit2.enums.ConfigLevel.SYSTEM):
        pygit2.settings.search_path[level] = str(home)
    yield home


@pytest.fixture
def fixture_dir() -> Path:
    if not FIXTURE.is_dir():
        pytest.skip("../shared/fixtures/sit-sample is not available")
    return FIXTURE


@pytest.fixture
def repo(tmp_path: Path) -> pygit2.Repository:
    """An empty non-bare repository (branch ``main``) at ``tmp_path/repo``."""
    return pygit2.init_repository(str(tmp_path / "repo"), initial_head="main")


@pytest.fixture
def workdir(repo: pygit2.Repository) -> Path:
    assert repo.workdir is not None
    return Path(repo.workdir)
