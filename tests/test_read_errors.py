"""Read commands where the SIT repository or the revision is not what it should be.

Each case says in one line what is wrong: no SIT repository on any ref ``status``
examines, a ``.sit`` that is a symbolic link or a file, a ``--rev`` naming a blob,
an ambiguous abbreviated object ID; and only the refs examined are warned about.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from tests.helpers import git, sit

SYMLINK = "is a symbolic link, which git-sit does not follow; no SIT repository (.sit) found."


def _commit(cwd: Path, message: str = "commit") -> None:
    git(cwd, "add", "-A")
    git(cwd, "commit", "-qm", message)


def _sit_repo(cwd: Path, summary: str = "an issue") -> None:
    """A SIT repository with one open issue, all committed."""
    assert sit(cwd, "init").code == 0
    assert sit(cwd, "issue", "new", "-s", summary).code == 0
    _commit(cwd, "issue")


def _fails(cwd: Path, *args: str) -> str:
    """The one line a command that must fail prints (exit 1, nothing on stdout)."""
    run = sit(cwd, *args)
    assert (run.code, run.out) == (1, ""), run
    assert run.err.count("\n") == 1 and "Traceback" not in run.err, run.err
    return run.err


# --- status when no ref has a SIT repository ---

NONE_ON_ONE = "Error: no SIT repository (.sit) found on the one ref examined.\n"


def test_status_in_a_repository_without_sit_is_an_error(workdir: Path):
    (workdir / "f").write_text("x\n")
    _commit(workdir)
    git(workdir, "branch", "other")
    assert _fails(workdir, "status") == \
        "Error: no SIT repository (.sit) found on any of the 2 refs examined.\n"
    assert _fails(workdir, "status", "--json") == \
        "Error: no SIT repository (.sit) found on any of the 2 refs examined.\n"
    assert _fails(workdir, "status", "--refs", "main") == NONE_ON_ONE


def test_status_with_sit_below_the_top_errors_where_it_is_not_found(workdir: Path, tmp_path: Path):
    (workdir / "proj").mkdir()
    (workdir / "other").mkdir()
    _sit_repo(workdir / "proj", "in proj")
    assert _fails(workdir, "status") == NONE_ON_ONE
    assert _fails(workdir / "other", "status") == NONE_ON_ONE
    run = sit(workdir / "proj", "status", "--json")
    assert run.code == 0 and run.err == "", run
    assert json.loads(run.out)["refs"]["refs/heads/main"] == \
        {"current": True, "open": 1, "closed": 0, "items": 1}
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(workdir), str(bare))
    assert _fails(bare, "status") == NONE_ON_ONE


def test_status_still_counts_a_tag_from_before_init_as_empty(workdir: Path):
    (workdir / "f").write_text("x\n")
    _commit(workdir)
    git(workdir, "tag", "v0")
    _sit_repo(workdir)
    run = sit(workdir, "status", "--json")
    assert run.code == 0 and run.err == "", run
    assert json.loads(run.out)["refs"] == {
        "refs/heads/main": {"current": True, "open": 1, "closed": 0, "items": 1},
        "refs/tags/v0": {"current": False, "open": 0, "closed": 0, "items": 0},
    }


def test_status_with_an_uncommitted_sit_in_the_work_tree_counts_zero(workdir: Path):
    (workdir / "f").write_text("x\n")
    _commit(workdir)
    assert sit(workdir, "init").code == 0
    run = sit(workdir, "status", "--json")
    assert run.code == 0 and run.err == "", run
    assert json.loads(run.out)["refs"] == {
        "refs/heads/main": {"current": True, "open": 0, "closed": 0, "items": 0}}


# --- a .sit that is no directory ---

def test_symlinked_sit_is_refused_in_the_work_tree(workdir: Path, tmp_path: Path):
    real = tmp_path / "real"
    real.mkdir()
    git(real, "init", "-q")
    _sit_repo(real)
    (workdir / ".sit").symlink_to(real / ".sit")
    expected = f"Error: work tree: .sit {SYMLINK}\n"
    assert _fails(workdir, "items") == expected
    assert _fails(workdir, "issue", "list") == expected
    (workdir / "sub").mkdir()
    assert _fails(workdir / "sub", "items") == expected
    (workdir / "f").write_text("x\n")
    git(workdir, "add", "f")
    git(workdir, "commit", "-qm", "no .sit")
    assert _fails(workdir, "status") == NONE_ON_ONE


def test_symlinked_sit_is_refused_at_a_revision(workdir: Path):
    os.symlink("elsewhere/.sit", workdir / ".sit")
    _commit(workdir, "a link")
    assert git(workdir, "ls-tree", "HEAD", ".sit").startswith("120000 blob ")
    assert _fails(workdir, "items", "--rev", "HEAD") == f"Error: revision HEAD: .sit {SYMLINK}\n"
    run = sit(workdir, "status")
    assert run.code == 1 and run.out == ""
    assert run.err == f"warning: ref refs/heads/main: revision refs/heads/main: .sit {SYMLINK}\n" \
        + NONE_ON_ONE


def test_sit_that_is_a_file_is_named_in_the_error(workdir: Path):
    (workdir / ".sit").write_text("not a directory\n")
    expected = "Error: work tree: .sit is a regular file, not a directory; no SIT repository (.sit) found.\n"
    assert _fails(workdir, "items") == expected
    (workdir / "sub").mkdir()
    assert _fails(workdir / "sub", "items") == expected
    _commit(workdir)
    assert _fails(workdir, "items", "--rev", "HEAD") == expected.replace("work tree", "revision HEAD")


def test_sit_file_or_link_in_a_subdirectory_is_passed_over(workdir: Path):
    """As SIT passes over a file; a link too, as warm reads (``storage.probe``) do."""
    _sit_repo(workdir)
    for name, make in (("file", lambda p: p.write_text("a file\n")),
                       ("link", lambda p: p.symlink_to("../elsewhere"))):
        (workdir / name).mkdir()
        make(workdir / name / ".sit")
        _commit(workdir, name)
        for rev in ([], ["--rev", "HEAD"], ["--rev", "HEAD"]):  # the second --rev read is warm
            run = sit(workdir / name, "items", "-q", "summary", *rev)
            assert (run.code, run.out, run.err) == (0, "an issue\n", ""), (name, rev)


def test_a_missing_sit_still_advises_init(workdir: Path):
    assert _fails(workdir, "items") == \
        "Error: work tree: no SIT repository (.sit) found; run 'git sit init'.\n"


# --- --rev naming something that is not a commit or tree ---

def test_rev_naming_a_blob_says_so(workdir: Path):
    _sit_repo(workdir)
    blob = git(workdir, "rev-parse", "HEAD:.sit/config.json").strip()
    git(workdir, "tag", "blobtag", blob)
    git(workdir, "tag", "-a", "-m", "annotated", "annotated", blob)
    for rev in (blob, blob[:10], "blobtag", "annotated", "HEAD:.sit/config.json"):
        assert _fails(workdir, "items", "--rev", rev) == \
            f"Error: revision {rev!r} is a blob, not a commit or tree.\n"
    assert _fails(workdir, "diff", "HEAD", "blobtag") == \
        "Error: revision 'blobtag' is a blob, not a commit or tree.\n"
    tree = git(workdir, "rev-parse", "HEAD^{tree}").strip()
    run = sit(workdir, "items", "--rev", tree, "-q", "summary")
    assert (run.code, run.out) == (0, "an issue\n"), run



ACCEPTS = "--rev takes a commit (a branch, tag, HEAD~3...) or a tree that holds .sit"


def test_rev_naming_the_sit_directory_says_what_rev_takes(workdir: Path):
    # "run 'git sit init'" was the advice for HEAD:.sit, which init cannot help.
    _sit_repo(workdir)
    (workdir / "sub").mkdir()
    assert sit(workdir / "sub", "init").code == 0
    _commit(workdir, "nested")
    none = "no SIT repository (.sit) found"
    sit_tree = git(workdir, "rev-parse", "HEAD:.sit").strip()
    for rev, use in (("HEAD:.sit", " HEAD"), ("HEAD:.sit/", " HEAD"), ("main@{0}:.sit", " main@{0}"),
                     ("HEAD:sub/.sit", " HEAD:sub"), (sit_tree, None)):
        advice = f"and this is a SIT directory itself: use --rev{use}." if use else \
            "and this is a SIT directory itself."
        assert _fails(workdir, "items", "--rev", rev) == f"Error: revision {rev}: {none}; {ACCEPTS}, {advice}\n"
    assert _fails(workdir, "items", "--rev", "HEAD:.sit/items") == \
        f"Error: revision HEAD:.sit/items: {none}; {ACCEPTS}, and this tree has none.\n"
    for rev in ("HEAD:sub", "HEAD@{0}"):  # what the advice names works
        assert sit(workdir / "sub", "items", "--rev", rev).code == 0


def _colliding_contents() -> tuple[str, bytes, bytes]:
    """Two blob contents whose git object IDs share their first 4 hex digits (the first such pair)."""
    seen: dict[str, bytes] = {}
    for n in range(100_000):
        data = f"blob {n}\n".encode()
        prefix = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()[:4]
        if prefix in seen:
            return prefix, seen[prefix], data
        seen[prefix] = data
    raise AssertionError("no collision")  # pragma: no cover - birthday bound: ~300 tries


def test_ambiguous_abbreviated_object_id(workdir: Path):
    _sit_repo(workdir)
    prefix, first, second = _colliding_contents()
    ids = [git(workdir, "hash-object", "-w", "--stdin", input=data.decode()).strip()
           for data in (first, second)]
    assert ids[0][:4] == ids[1][:4] == prefix and ids[0] != ids[1]
    probe = subprocess.run(["git", "cat-file", "-t", prefix], cwd=workdir, capture_output=True,
                           text=True, check=False)
    assert probe.returncode and "ambiguous" in probe.stderr  # git finds it ambiguous too
    expected = f"Error: revision {prefix!r} is ambiguous; give more characters.\n"
    assert _fails(workdir, "items", "--rev", prefix) == expected
    assert _fails(workdir, "diff", prefix, "HEAD") == expected
    # Unambiguous abbreviations still resolve; too short or unmatched ones are unknown.
    commit = git(workdir, "rev-parse", "HEAD").strip()
    assert sit(workdir, "items", "--rev", commit[:7], "-q", "summary").out == "an issue\n"
    assert _fails(workdir, "items", "--rev", ids[0][:8]) == \
        f"Error: revision {ids[0][:8]!r} is a blob, not a commit or tree.\n"
    assert _fails(workdir, "items", "--rev", "ab") == "Error: unknown revision 'ab'.\n"
    missing = next(p for p in ("0000", "ffff", "1234", "abcd") if not
                   any(i.startswith(p) for i in git(workdir, "rev-list", "--all", "--objects").split()))
    assert _fails(workdir, "items", "--rev", missing) == f"Error: unknown revision {missing!r}.\n"


# --- only the refs examined are warned about ---

BLOB_WARNING = "warning: ref refs/tags/blobtag skipped: it points at neither a commit nor a tree.\n"


def test_status_warns_only_about_refs_it_examines(workdir: Path):
    _sit_repo(workdir)
    git(workdir, "tag", "blobtag", git(workdir, "rev-parse", "HEAD:.sit/config.json").strip())
    for args in (["--refs", "refs/heads/*"], ["--refs", "main"], ["--no-tags"],
                 ["--refs", "refs/heads/*", "--no-tags"]):
        run = sit(workdir, "status", "--json", *args)
        assert run.code == 0 and run.err == "", (args, run)
        assert list(json.loads(run.out)["refs"]) == ["refs/heads/main"]
    for args in ([], ["--refs", "refs/tags/*", "--refs", "main"]):
        run = sit(workdir, "status", "--json", *args)
        assert run.code == 0 and run.err == BLOB_WARNING, (args, run)
    run = sit(workdir, "status", "--refs", "blob*")
    assert (run.code, run.out) == (1, "")
    assert run.err == BLOB_WARNING + \
        "Error: no branch or tag to examine; check --refs, --remotes and --tags.\n"
