"""Where reducers come from: .sit/reducers, module directories, links and submodules (§3.4, §5.3)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from git_sit.locate import Options, open_store
from git_sit.modules import parse_gitmodules
from tests.helpers import expected_states, git, parse_blocks, record_files, sit, sit_tree_files
from tests.module_helpers import add_submodule, module_files, module_repository, write_files


def order(name: str) -> bytes:
    """A reducer that appends ``name`` to ``state.order``."""
    return (f"module.exports = function (s) {{ s.order = (s.order || []).concat([{json.dumps(name)}]);"
            " return s; };").encode()


def states(cwd: Path, rev: str | None = None, mode: str = "auto", warnings: list[str] | None = None) -> list:
    store = open_store(str(cwd), Options(rev=rev, reducers=mode, warn=(warnings if warnings is not None
                                                                          else []).append))
    return list(store.states())


def one_item_repo(workdir: Path) -> None:
    files, _ = sit_tree_files({"item": [record_files(["SummaryChanged"], text="Title")]})
    write_files(workdir, files)


def test_reducers_run_local_first_then_modules_by_entry_name(workdir: Path):
    one_item_repo(workdir)
    write_files(workdir, {
        ".sit/reducers/b.js": order("local b"), ".sit/reducers/a.js": order("local a"),
        ".sit/reducers/notes.txt": b"not a reducer", ".sit/reducers/lib/c.js": order("never: not top-level"),
        ".sit/modules/zeta/reducers/z.js": order("zeta"),
        ".sit/modules/alpha/reducers/2.js": order("alpha 2"),
        ".sit/modules/alpha/reducers/10.js": order("alpha 10"),
        ".sit/modules/alpha/cli/sit-x": b"#!/bin/sh\n",
        ".sit/modules/linked": b"../../vendor/mod\n",
        "vendor/mod/reducers/m.js": order("linked m"),
        ".sit/modules/webonly/web/index.html": b"<html>",
    })
    os.symlink("../../vendor/other", workdir / ".sit/modules/symlinked")
    write_files(workdir, {"vendor/other/reducers/o.js": order("symlinked o")})
    expected = [{"id": "item", "order": ["local a", "local b", "alpha 10", "alpha 2", "linked m",
                                         "symlinked o", "zeta"]}]
    assert states(workdir) == expected
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "modules")
    shutil.rmtree(workdir / "vendor")  # --rev reads the commit, not the work tree
    assert states(workdir, rev="HEAD") == expected
    listed = sit(workdir, "modules", "--rev", "HEAD")
    assert listed.out.splitlines() == [f"HEAD:{p}" for p in (
        ".sit/modules/alpha", "vendor/mod", "vendor/other", ".sit/modules/webonly", ".sit/modules/zeta")]


def test_a_broken_module_entry_is_an_error(workdir: Path):
    one_item_repo(workdir)
    write_files(workdir, {".sit/modules/gone": b"../../nowhere\n"})
    ran = sit(workdir, "items")
    assert ran.code == 1
    assert ran.err.startswith("Error: module .sit/modules/gone points to '../../nowhere'")
    assert len(ran.err.splitlines()) == 1
    assert sit(workdir, "records", "item").code == 0  # only reduction needs the reducers
    native = sit(workdir, "--reducers", "native", "items")  # the built-in set needs no module
    assert (native.code, native.err, native.out) == (0, "", "item\n")


def test_modules_lists_resolved_paths_on_disk(workdir: Path):
    one_item_repo(workdir)
    write_files(workdir, {".sit/modules/b/reducers/x.js": order("b"), ".sit/modules/a": b"../../vendor/a"})
    write_files(workdir, {"vendor/a/cli/sit-a": b""})
    ran = sit(workdir / ".sit", "modules")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [str(workdir / "vendor/a"), str(workdir / ".sit/modules/b")]


def test_parse_gitmodules():
    text = '[submodule "its"]\n\tpath = .sit/modules/issue-tracking\n\turl = ../its\n[core]\n\tpath = x\n'
    assert parse_gitmodules(text) == {".sit/modules/issue-tracking": "its"}


@pytest.fixture
def with_submodule(tmp_path: Path, workdir: Path, fixture_dir: Path) -> tuple[Path, str]:
    """SIT's sample with the issue-tracking-style module as a real git submodule, committed."""
    module = module_repository(tmp_path / "its-module")
    git(workdir, "init", "-q", "-b", "main")
    shutil.copytree(fixture_dir / ".sit", workdir / ".sit")
    for path in [workdir / ".sit", *(workdir / ".sit").rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    commit = add_submodule(workdir, module, ".sit/modules/issue-tracking")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "SIT data with its module")
    return module, commit


def test_submodule_reducers_are_read_from_the_submodule_repository(with_submodule, workdir: Path):
    expected = expected_states()
    assert states(workdir, mode="js") == expected
    assert states(workdir, rev="HEAD", mode="js") == expected
    # The work tree reads the submodule's files on disk; --rev reads its pinned commit.
    activity = workdir / ".sit/modules/issue-tracking/reducers/activity.js"
    activity.write_text("module.exports = function (s) { s.changed = true; return s; };")
    assert all(s["changed"] for s in states(workdir, mode="js"))
    assert states(workdir, rev="HEAD", mode="js") == expected
    ran = sit(workdir, "modules", "--rev", "HEAD")
    assert ran.out == "HEAD:.sit/modules/issue-tracking\n"


def test_unavailable_submodule_falls_back_to_native_with_a_warning(with_submodule, tmp_path: Path,
                                                                     workdir: Path):
    _, commit = with_submodule
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(workdir), str(clone))
    assert not any((clone / ".sit/modules/issue-tracking").iterdir())
    for rev in (None, "HEAD"):
        warnings: list[str] = []
        assert states(clone, rev=rev, warnings=warnings) == expected_states()
        assert warnings == [
            f"module .sit/modules/issue-tracking (submodule at {commit[:12]}) is not available; "
            "using the built-in issue-tracking reducers instead."
        ]
    ran = sit(clone, "items", "-q", "@")
    assert ran.code == 0 and parse_blocks(ran.out) == expected_states()
    assert ran.err == (f"warning: module .sit/modules/issue-tracking (submodule at {commit[:12]}) is not "
                       "available; using the built-in issue-tracking reducers instead.\n")
    forced = sit(clone, "items", "--reducers", "js")
    assert forced.code == 1 and "cannot run (run 'git submodule update --init'" in forced.err
    assert sit(clone, "items", "--reducers", "native").err == ""
    git(clone, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init")
    for rev in (None, "HEAD"):
        warnings = []
        assert states(clone, rev=rev, mode="js", warnings=warnings) == expected_states()
        assert warnings == []
    # Only the superproject's own modules directory is left: --rev still finds the pinned commit.
    shutil.rmtree(clone / ".sit/modules/issue-tracking")
    (clone / ".sit/modules/issue-tracking").mkdir()
    assert states(clone, rev="HEAD", mode="js") == expected_states()


def test_in_tree_module_with_local_reducers_mixes_with_unavailable_submodule(with_submodule, tmp_path: Path,
                                                                             workdir: Path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(workdir), str(clone))
    write_files(clone, module_files(".sit/reducers", source=Path(__file__).parent / "data" / "tagger"))
    warnings: list[str] = []
    store = open_store(str(clone), Options(warn=warnings.append))
    got = list(store.states())
    assert len(warnings) == 1
    assert [s.pop("tagged") for s in got] == [len(store.item_records(i)) for i in store.item_ids()]
    assert got == expected_states()


def test_native_segment_of_a_mixed_set_applies_git_sit_extensions(with_submodule, tmp_path: Path,
                                                                   workdir: Path):
    """The issue-tracking part of a mixed reducer set is the native port, extensions included."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(workdir), str(clone))
    write_files(clone, module_files(".sit/reducers", source=Path(__file__).parent / "data" / "tagger"))
    labels = record_files(["LabelsChanged"], extra={"labels.json": b'{"add": ["bug"], "remove": {}}'})
    files, _ = sit_tree_files({"labelled": [record_files(["SummaryChanged"], text="T"), labels]})
    write_files(clone, {k: v for k, v in files.items() if k != ".sit/config.json"})
    state = open_store(str(clone), Options()).reduce("labelled")
    assert state["labels"] == ["bug"] and state["summary"] == "T" and "tagged" in state


@pytest.mark.parametrize(("mode", "expected"), [
    ("auto", {"id": "labelled", "seen": 2, "labels": ["bug"]}),
    ("js", {"id": "labelled", "seen": 2}),  # exactly the repository's reducers, as SIT runs them
])
def test_extensions_follow_a_repositorys_own_reducers_in_auto(workdir: Path, mode: str, expected: dict):
    """They see the record even when the last reducer returned undefined (no part of SIT's quirk)."""
    labels = record_files(["LabelsChanged"], extra={"labels.json": b'{"add": ["bug"], "remove": {}}'})
    files, _ = sit_tree_files({"labelled": [record_files(["SummaryChanged"], text="T"), labels]})
    write_files(workdir, files)
    write_files(workdir, {
        ".sit/reducers/a.js": b"module.exports = function (s) { s.seen = (s.seen || 0) + 1; return s; };",
        ".sit/reducers/b.js": b"module.exports = function (s) {};",
    })
    assert states(workdir, mode=mode) == [expected]
