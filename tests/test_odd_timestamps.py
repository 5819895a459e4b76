"""Timestamps a pushed record may carry that calendar libraries refuse: every command still reads.

Found by exploratory testing: one record dated ``0000-01-01T00:00:00Z`` (valid RFC 3339)
made ``issue list`` and ``issue show`` fail with a traceback, and, on a MilestoneChanged
record, every read command. A day its month does not have is not an instant.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import commit_files, record_files, sit, sit_tree_files

ITEM = "0a5c8b68-994b-4156-967d-4a88807545c4"


def milestone(value: str, timestamp: str) -> dict[str, bytes]:
    files = record_files(["MilestoneChanged"], None, "A <a@b>", timestamp)
    files["milestone.json"] = json.dumps({"set": value, "replaces": []}).encode()
    return files


@pytest.mark.parametrize("timestamp", ["0000-01-01T00:00:00Z", "2026-02-31T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_every_read_command_reads_a_record_with_an_odd_timestamp(repo, workdir, timestamp):
    records = [record_files(["SummaryChanged"], "Odd", "A <a@b>", "2026-01-01T00:00:00Z"),
               milestone("v0", timestamp),
               record_files(["Commented"], "a comment", "A <a@b>", timestamp)]
    files, _ = sit_tree_files({ITEM: records})
    commit_files(repo, files, ref="main")
    for args in (["issue", "list"], ["issue", "list", "--sort", "created"], ["issue", "show", ITEM[:8]],
                 ["items", "-q", "milestone"], ["reduce", ITEM], ["status"], ["diff", "main", "main"]):
        run = sit(workdir, *args, "--rev", "main") if args[0] not in ("status", "diff") else sit(workdir, *args)
        assert run.code == 0 and "Traceback" not in run.err, (args, run.err)
    assert sit(workdir, "items", "--rev", "main", "-q", "milestone").out == "v0\n"
    shown = sit(workdir, "issue", "show", ITEM[:8], "--rev", "main").out
    if timestamp.startswith("0000"):
        assert "0000-01-01 00:00" in shown
