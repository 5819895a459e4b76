"""End to end through git's own dispatch: `git sit` finds the installed console script."""

from __future__ import annotations

from tests.helpers import expected_states, git, parse_blocks, sit


def test_git_dispatches_to_git_sit(workdir):
    run = sit(workdir, "-h")
    assert run.code == 0
    assert "Usage: git sit" in run.out
    assert "items" in run.out


def test_fixture_reduces_as_sit_does(fixture_dir, workdir):
    from tests.helpers import copy_fixture
    copy_fixture(workdir)
    git(workdir, "add", ".")
    git(workdir, "commit", "-qm", "fixture")
    expected = expected_states()
    for args in (["items", "-q", "@"], ["items", "--rev", "HEAD", "-q", "@"]):
        run = sit(workdir, *args)
        assert run.code == 0, run.err
        assert parse_blocks(run.out) == expected
