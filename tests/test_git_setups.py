"""git-sit in unusual git layouts: separate work trees, relative git directories, and the like.

Every test builds its layout with real git and runs ``git ... sit`` through git's
dispatch, so the environment git hands to the extension is the real one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pygit2
import pytest

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.storage.repo import safe_on_command_line
from tests.helpers import Run, commit_files, git, record_files, sit, sit_tree_files


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


def test_work_tree_option_gives_a_bare_repository_its_files(tmp_path: Path):
    bare, files = tmp_path / "dots.git", tmp_path / "home"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    files.mkdir()
    opts = [f"--git-dir={bare}", f"--work-tree={files}"]
    assert git_sit(files, *opts, "sit", "init").code == 0
    run = git_sit(files, *opts, "sit", "issue", "new", "-s", "Dotfiles issue")
    assert run.code == 0, run.err
    assert (files / ".sit" / "config.json").is_file()
    assert ".sit/config.json" in staged(files, *opts)
    assert git_sit(tmp_path, *opts, "sit", "items", "-q", "summary").out == "Dotfiles issue\n"
    git(files, *opts, "commit", "-qm", "issue")
    assert git_sit(tmp_path, f"--git-dir={bare}", "sit", "items", "-q", "summary").out == "Dotfiles issue\n"


def test_work_tree_that_does_not_exist_is_one_line(tmp_path: Path):
    git(tmp_path, "init", "-q", "--bare", "dots.git")
    run = git_sit(tmp_path, "--git-dir=dots.git", "--work-tree=nowhere", "sit", "items")
    assert run.code == 1
    assert run.err == f"Error: the work tree {tmp_path / 'nowhere'} (GIT_WORK_TREE, git --work-tree) is not a directory.\n"


def test_init_outside_a_core_worktree_goes_to_its_top(workdir: Path):
    tree = workdir.parent / "files"
    tree.mkdir()
    git(workdir, "config", "core.worktree", str(tree))
    run = sit(workdir, "init")
    assert run.code == 0, run.err
    assert run.out == f"Repository {tree / '.sit'} initialized\n"
    assert not (workdir / ".sit").exists()
    assert staged(workdir) == [".sit/config.json"]


def owned_by_someone_else(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a repository to another user")
    for entry in [path, *path.rglob("*")]:
        os.lchown(entry, 54321, 54321)


def test_repository_of_another_user_says_how_to_trust_it(workdir: Path):
    commit_files(pygit2.Repository(str(workdir)), sit_tree_files({"a1": [record_files(["SummaryChanged"], "Theirs")]})[0])
    git(workdir, "reset", "-q", "--hard")
    owned_by_someone_else(workdir)
    run = sit(workdir, "items", "-q", "summary")
    assert run.code == 1
    assert run.err == (f"Error: the git repository at {workdir} is owned by someone else; if you trust it, "
                       f"run 'git config --global --add safe.directory {workdir}'.\n")
    assert git_sit(workdir, "-c", "safe.directory=*", "sit", "items", "-q", "summary").out == "Theirs\n"
    trusted = git_sit(workdir, "-c", f"safe.directory={workdir}", "sit", "items", "--rev", "HEAD", "-q", "summary")
    assert trusted.out == "Theirs\n"
    reset = git_sit(workdir, "-c", f"safe.directory={workdir}", "-c", "safe.directory=", "sit", "items")
    assert reset.code == 1 and "owned by someone else" in reset.err


@pytest.mark.parametrize(("values", "safe"), [
    ([], False), (["*"], True), (["/srv/repo"], True), (["/srv/repo/"], True), (["/srv/other"], False),
    (["/srv/*"], True), (["/srv/repo/*"], False), (["*", ""], False), (["", "/srv/repo"], True),
])
def test_safe_directory_on_the_command_line(values: list[str], safe: bool):
    environ = {"GIT_CONFIG_COUNT": str(len(values))}
    for n, value in enumerate(values):
        environ.update({f"GIT_CONFIG_KEY_{n}": "safe.directory", f"GIT_CONFIG_VALUE_{n}": value})
    assert safe_on_command_line("/srv/repo", environ) is safe


@pytest.mark.parametrize(("args", "message"), [
    (["items", "--rev", "HEAD"], "revision 'HEAD' is branch 'main', which has no commit yet."),
    (["items", "--rev", "main"], "branch 'main' has no commit yet."),
    (["diff", "HEAD", "@"], "revision 'HEAD' is branch 'main', which has no commit yet."),
    (["items", "--rev", "HEAD~1"], "unknown revision 'HEAD~1'."),
    (["status"], "no branch or tag to examine (branch 'main' has no commit yet); "
                 "check --refs, --remotes and --tags."),
])
def test_unborn_head_says_there_is_no_commit_yet(workdir: Path, args: list[str], message: str):
    assert sit(workdir, "init").code == 0
    assert sit(workdir, "issue", "new", "-s", "Before any commit").code == 0
    assert sit(workdir, "items", "-q", "summary").out == "Before any commit\n"
    run = sit(workdir, *args)
    assert (run.code, run.err) == (1, f"Error: {message}\n")


def test_bare_repository_without_commits_says_so(tmp_path: Path):
    git(tmp_path, "init", "-q", "--bare", "-b", "trunk", "empty.git")
    run = sit(tmp_path / "empty.git", "issue", "list")
    assert (run.code, run.err) == (1, "Error: revision 'HEAD' is branch 'trunk', which has no commit yet.\n")


def test_sha256_repository_is_one_clear_line(tmp_path: Path):
    init = subprocess.run(["git", "init", "-q", "--object-format=sha256", "sha"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    if init.returncode:
        pytest.skip("this git cannot create SHA-256 repositories")
    for args in (["items"], ["items", "--rev", "HEAD"], ["issue", "new", "-s", "x"], ["init"]):
        run = sit(tmp_path / "sha", *args)
        assert run.code == 1
        assert run.err.startswith(f"Error: the git repository at {tmp_path / 'sha' / '.git'} uses sha256 "
                                  "object IDs, which git-sit cannot read")
        assert run.err.count("\n") == 1
    assert not (tmp_path / "sha" / ".sit").exists()


def partial_clone(repo: pygit2.Repository, dest: Path) -> Path:
    """A ``--filter=blob:none`` clone of ``repo`` without a checkout: no SIT file is there."""
    source = Path(repo.workdir or repo.path)
    commit_files(repo, sit_tree_files({"a1": [record_files(["SummaryChanged"], "Far away")]})[0])
    git(source, "config", "uploadpack.allowFilter", "true")
    git(dest.parent, "clone", "-q", "--no-checkout", "--filter=blob:none", source.as_uri(), str(dest))
    return dest


def test_partial_clone_without_blobs_is_unreadable_not_absent(repo: pygit2.Repository, tmp_path: Path):
    clone = partial_clone(repo, tmp_path / "partial")
    items = sit(clone, "items", "--rev", "HEAD")
    assert items.code == 1
    assert items.err.startswith("Error: git object ") and items.err.count("\n") == 1
    status = sit(clone, "status")
    assert status.code == 1
    assert status.err.endswith("Error: no SIT repository could be read on the one ref examined; "
                               "the warnings above say why.\n")
    assert "warning: ref refs/heads/main skipped: git object " in status.err


def test_partial_clone_names_the_fetch_that_fills_it_in(repo: pygit2.Repository, tmp_path: Path):
    # The error only guessed "partial or damaged clone?"; it now names the command, which works.
    commit_files(repo, sit_tree_files({"a1": [record_files(["SummaryChanged"], "Far away")]})[0])
    server = tmp_path / "server.git"
    git(tmp_path, "clone", "-q", "--bare", Path(repo.workdir or repo.path).as_uri(), str(server))
    git(server, "config", "uploadpack.allowFilter", "true")
    git(tmp_path, "clone", "-q", "--bare", "--filter=blob:none", server.as_uri(), "partial.git")
    clone = tmp_path / "partial.git"
    git(clone, "remote", "rename", "origin", "upstream")
    command = "git fetch --refetch --no-filter upstream"
    run = sit(clone, "items", "--rev", "HEAD", "-q", "summary")
    assert run.code == 1 and run.err.count("\n") == 1, run.err
    assert run.err.startswith("Error: git object ")
    assert run.err.endswith(f" is missing (partial clone; '{command}' fetches the missing objects)\n")
    git(clone, *command.split()[1:])
    assert sit(clone, "items", "--rev", "HEAD", "-q", "summary").out == "Far away\n"


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_ref_whose_sit_tree_is_unreadable_is_left_out_not_counted_empty(repo: pygit2.Repository,
                                                                          damage: str):
    # With a .sit in the work tree, the ref showed as 0 open, 0 closed, 0 items (a missing
    # .sit tree even read as ".sit has no config.json"); the corrupt one was a traceback
    # once past config.json.
    workdir = sit_branches(repo)
    files, _ = sit_tree_files({"b2": [record_files(["SummaryChanged"], "Elsewhere")]})
    commit_files(repo, files, ref="refs/heads/broken", parents=[repo.head.peel(pygit2.Commit).id])
    tree = git(workdir, "rev-parse", "broken:.sit").strip()
    loose = workdir / ".git" / "objects" / tree[:2] / tree[2:]
    if damage == "missing":
        loose.unlink()
    else:
        loose.chmod(0o644)
        loose.write_bytes(b"not zlib data")
    assert (workdir / ".sit" / "config.json").is_file()
    warning = "warning: ref refs/heads/broken skipped: cannot look up config.json: "
    run = sit(workdir, "status", "--json")
    assert run.code == 0 and run.err.startswith(warning) and run.err.count("\n") == 1, run.err
    assert list(json.loads(run.out)["refs"]) == ["refs/heads/main"]
    table = sit(workdir, "status")
    assert (table.code, table.err) == (0, run.err)
    assert [line.split() for line in table.out.splitlines()] == [
        ["REF", "OPEN", "CLOSED", "ITEMS"], ["*", "main", "1", "0", "1"]]
    alone = sit(workdir, "status", "--refs", "broken")
    assert (alone.code, alone.out) == (1, "")
    assert alone.err == run.err + "Error: no SIT repository could be read on the one ref examined; " \
                                  "the warnings above say why.\n"


def test_revision_beyond_a_shallow_clone_says_it_is_shallow(repo: pygit2.Repository, tmp_path: Path):
    commit_files(repo, sit_tree_files({"a1": [record_files(["SummaryChanged"], "Old")]})[0])
    commit_files(repo, sit_tree_files({"b2": [record_files(["SummaryChanged"], "New")]})[0])
    git(tmp_path, "clone", "-q", "--depth=1", Path(repo.workdir or "").as_uri(), "shallow")
    shallow = tmp_path / "shallow"
    assert sit(shallow, "items", "--rev", "HEAD", "-q", "summary").out == "Old\nNew\n"
    hint = "; this is a shallow clone, and 'git fetch --deepen=N' (or --unshallow) fetches older history.\n"
    for args, rev in ((["items", "--rev", "HEAD~1"], "HEAD~1"), (["diff", "HEAD^", "HEAD"], "HEAD^")):
        run = sit(shallow, *args)
        assert (run.code, run.err) == (1, f"Error: unknown revision {rev!r}{hint}")
    assert sit(shallow, "items", "--rev", "nope").err == "Error: unknown revision 'nope'.\n"


def sit_branches(repo: pygit2.Repository, *branches: str) -> Path:
    """``main`` with a SIT repository and one item, and ``branches`` at the same commit."""
    commit_files(repo, sit_tree_files({"a1": [record_files(["SummaryChanged"], "Shared")]})[0])
    workdir = Path(repo.workdir or "")
    git(workdir, "reset", "-q", "--hard")
    for branch in branches:
        git(workdir, "branch", branch)
    return workdir


def test_on_refuses_a_branch_checked_out_in_a_missing_work_tree(repo: pygit2.Repository, tmp_path: Path):
    workdir = sit_branches(repo, "feat")
    git(workdir, "worktree", "add", "-q", str(tmp_path / "gone"), "feat")
    shutil.rmtree(tmp_path / "gone")  # unmounted, say: git still counts it
    tip = git(workdir, "rev-parse", "feat")
    run = sit(workdir, "issue", "new", "-s", "Elsewhere", "--on", "feat")
    assert (run.code, run.err) == (1, f"Error: branch 'feat' is in use by the work tree {tmp_path / 'gone'}, "
                                      "which is missing ('git worktree prune' forgets it); name another branch.\n")
    assert git(workdir, "rev-parse", "feat") == tip
    git(workdir, "worktree", "prune")
    assert sit(workdir, "issue", "new", "-s", "Elsewhere", "--on", "feat").code == 0


def test_on_refuses_a_branch_being_rebased(repo: pygit2.Repository):
    workdir = sit_branches(repo)
    git(workdir, "commit", "-q", "--allow-empty", "-m", "one more")
    git(workdir, "rebase", "-q", "--exec", "false", "HEAD~1", check=False)  # stops: a rebase in progress
    assert (workdir / ".git" / "rebase-merge" / "head-name").read_text().strip() == "refs/heads/main"
    tip = git(workdir, "rev-parse", "main")
    run = sit(workdir, "issue", "new", "-s", "Mid-rebase", "--on", "main")
    assert (run.code, run.err) == (1, "Error: branch 'main' is in use by a rebase in progress in the main "
                                      "work tree; name another branch.\n")
    assert git(workdir, "rev-parse", "main") == tip


def test_malformed_git_file_is_one_line(tmp_path: Path):
    (tmp_path / ".git").write_text("not a gitdir line\n")
    for args in (["items"], ["items", "--rev", "HEAD"], ["status"], ["cache", "path"], ["init"]):
        run = sit(tmp_path, *args)
        assert (run.code, run.err) == (1, f"Error: cannot find the git repository of {tmp_path}: "
                                          f"the `.git` file at '{tmp_path / '.git'}' is malformed.\n")
    assert not (tmp_path / ".sit").exists()


def test_corrupted_head_file_marks_no_current_branch(repo: pygit2.Repository):
    workdir = sit_branches(repo)
    (workdir / ".git" / "HEAD").write_text("garbage\n")
    run = sit(workdir, "status")
    assert (run.code, run.err) == (0, "")
    assert run.out.splitlines()[1].split() == ["main", "1", "0", "1"]
    assert sit(workdir, "items", "--rev", "main", "-q", "summary").out == "Shared\n"
    assert sit(workdir, "items", "--rev", "HEAD").err == "Error: unknown revision 'HEAD'.\n"


def test_corrupted_packed_refs_is_one_line(repo: pygit2.Repository):
    workdir = sit_branches(repo, "feat")
    git(workdir, "pack-refs", "--all")
    with open(workdir / ".git" / "packed-refs", "a") as handle:
        handle.write("not a ref line\n")
    run = sit(workdir, "status")
    assert (run.code, run.err) == (1, f"Error: cannot list the refs of {workdir / '.git'}: "
                                      "corrupted packed references file.\n")


def _corrupt(lines: list[str], how: str) -> list[str]:
    header, refs = lines[0], lines[1:]
    if how == "appended":
        return [*lines, "not a ref line"]
    if how == "inserted":  # in a file marked sorted, a lookup by name bisects into it
        return [header, refs[0], "not a ref line", *refs[1:]]
    return [header, *(("zz" + line[2:]) if line.endswith(" refs/heads/feat") else line for line in refs)]


@pytest.mark.parametrize("how", ["appended", "inserted", "bad object ID"])
def test_corrupted_packed_refs_is_one_line_for_writes_on_a_branch(repo: pygit2.Repository, how: str):
    # --on looked the branch up by name: "no branch 'feat'", "branch 'feat' moved while the
    # records were written" or a traceback, depending on where the bad line was.
    workdir = sit_branches(repo, "feat", "other")
    git(workdir, "pack-refs", "--all")
    packed = workdir / ".git" / "packed-refs"
    lines = packed.read_text().splitlines()
    assert "sorted" in lines[0] and len(lines) == 4
    packed.write_text("\n".join(_corrupt(lines, how)) + "\n")
    before = packed.read_bytes()
    expected = f"Error: cannot list the refs of {workdir / '.git'}: corrupted packed references file.\n"
    for branch in ("feat", "other", "main", "nope"):
        run = sit(workdir, "issue", "new", "-s", "On a branch", "--on", branch)
        assert (run.code, run.out, run.err) == (1, "", expected), branch
    assert packed.read_bytes() == before
    assert sorted(p.name for p in (workdir / ".git" / "refs" / "heads").iterdir()) == []


@pytest.mark.parametrize(("rev", "why"), [
    ("@{u}", "branch 'main' has no upstream; set one with 'git branch --set-upstream-to'."),
    ("main@{upstream}", "branch 'main' has no upstream; set one with 'git branch --set-upstream-to'."),
    ("nope@{u}", "there is no branch 'nope'."),
])
def test_upstream_that_is_not_there_says_why(repo: pygit2.Repository, rev: str, why: str):
    workdir = sit_branches(repo)
    run = sit(workdir, "items", "--rev", rev)
    assert (run.code, run.err) == (1, f"Error: unknown revision {rev!r}: {why}\n")


def test_upstream_of_a_detached_head(repo: pygit2.Repository):
    workdir = sit_branches(repo)
    git(workdir, "checkout", "-q", "--detach")
    run = sit(workdir, "items", "--rev", "@{u}")
    assert (run.code, run.err) == (1, "Error: unknown revision '@{u}': HEAD is detached, so it has no upstream.\n")
    git(workdir, "checkout", "-q", "main")
    git(workdir, "remote", "add", "origin", str(workdir))
    git(workdir, "fetch", "-q", "origin")
    git(workdir, "branch", "-q", "--set-upstream-to=origin/main")
    assert sit(workdir, "items", "--rev", "@{u}", "-q", "summary").out == "Shared\n"


def test_init_never_replaces_a_config_left_out_by_a_sparse_checkout(repo: pygit2.Repository):
    files, _ = sit_tree_files({"a1": [record_files(["SummaryChanged"], "Sparse")]})
    files[".sit/config.json"] = b'{"hashing_algorithm": {"blake2b": {"size": 20}}, "encoding": "base32", ' \
                                b'"id_generator": "uuiv4", "version": "1", "features": ["flat-records"], ' \
                                b'"id_length": 20}'
    files["src/main.c"] = b"int main;\n"
    commit_files(repo, files)
    workdir = Path(repo.workdir or "")
    git(workdir, "reset", "-q", "--hard")
    git(workdir, "sparse-checkout", "set", "src")
    assert not (workdir / ".sit").exists()
    run = sit(workdir, "init")
    assert (run.code, run.err) == (1, "Error: .sit/config.json is in the git index but not in the work tree; "
                                      "restore it with 'git checkout -- .sit/config.json' "
                                      "(or 'git sparse-checkout add .sit').\n")
    assert git(workdir, "status", "--short") == ""
    assert not (workdir / ".sit").exists()


def test_reads_and_writes_outside_a_sparse_checkout_say_so(repo: pygit2.Repository):
    files, _ = sit_tree_files({"a1": [record_files(["SummaryChanged"], "Sparse")]})
    commit_files(repo, {**files, "src/main.c": b"int main;\n"})
    workdir = Path(repo.workdir or "")
    git(workdir, "reset", "-q", "--hard")
    git(workdir, "sparse-checkout", "set", "src")
    expected = ("Error: work tree: .sit/config.json is in the git index but not on disk (a sparse checkout?); "
                "read it with --rev HEAD, or check it out with 'git sparse-checkout add .sit'.\n")
    for args in (["items"], ["issue", "list"], ["issue", "new", "-s", "x"], ["item"]):
        for cwd in (workdir, workdir / "src"):
            run = sit(cwd, *args)
            assert (run.code, run.err) == (1, expected)
    assert sit(workdir, "items", "--rev", "HEAD", "-q", "summary").out == "Sparse\n"
    assert git(workdir, "status", "--short") == ""
