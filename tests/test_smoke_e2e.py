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


def test_bundled_demo_runs(tmp_path):
    """README's first command runs scripts/demo.sh; keep it true."""
    import subprocess

    from tests.helpers import ROOT
    run = subprocess.run([str(ROOT / "scripts" / "demo.sh"), str(tmp_path / "demo")],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    main = lines.index("== open issues on main (work tree):")
    release = lines.index("== open issues on release-1.0 (read from git objects, no checkout):")
    assert [line.split()[2] for line in lines[main + 1:release]] == ["Document"]
    assert sum("Crash on empty input" in line for line in lines[release:]) >= 2
    assert any(line.split()[1:3] == ["main", "closed"] for line in lines if line.startswith("*"))
    assert any(line.split()[:2] == ["release-1.0", "open"] for line in lines)
