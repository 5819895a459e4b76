"""A seeded generator of small SIT repositories and of git histories over them.

``History(seed)`` builds a work tree with a few dozen items (every issue-tracking
record type and git-sit's own three, concurrent records sharing a ``.prev``, tied
and odd-precision timestamps, labels, comments, closing and reopening, records in
the flat and both legacy layouts, and a few damaged records: a wrong hash, a
dangling link, non-canonical link contents, odd file names, symlinks) and then runs git
operations on it: commits on ``main``, branches with records of their own, an item
deleted on a branch, an amended commit, a merge and tags. Everything is written
to disk and committed with real git, so each revision can also be checked out.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

from git_sit.config import DEFAULT_CONFIG_BYTES
from git_sit.record import compute_id, link_content, split_path
from tests.helpers import git

SIT = ".sit"
TYPES = ["SummaryChanged", "DetailsChanged", "Commented", "Closed", "Reopened", "LabelsChanged",
         "AssigneesChanged", "MilestoneChanged", "MergeRequested", "Merged",
         "MergeRequestVerificationSucceeded", "MergeRequestVerificationFailed"]
TIMES = ["2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000Z", "2024-03-01T10:00:00.5Z",
         "2024-03-01T10:00:00.250000Z", "2024-03-02T00:00:00Z", "2024-02-29T23:59:59.999999999Z",
         "2024-03-01T09:00:00Z"]
LABELS = ["bug", "ui", "docs", "Bug", "wontfix"]


def _normal(name: str) -> str:
    parts: list[str] = []
    for part in name.replace("\\", "/").split("/"):
        if part == "..":
            parts = parts[:-1]
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


class History:
    """A work tree at ``path`` whose history is generated from ``seed``."""

    def __init__(self, path: Path, seed: int, items: int = 70) -> None:
        self.path = path
        self.rng = random.Random(seed)
        self.records: dict[str, list[str]] = {}  # item → record IDs written on the current branch
        self.adds: dict[str, list[tuple[str, str]]] = {}  # item → (label, record ID) adds
        self.counter = 0
        self.symlinks: list[tuple[str, str]] = []
        self.bad_names: list[bytes] = []
        path.mkdir(parents=True)
        git(path, "init", "-q", "-b", "main")
        git(path, "config", "core.autocrlf", "false")
        (path / ".gitattributes").write_text(".sit/** -text\n")
        self._write(f"{SIT}/config.json", DEFAULT_CONFIG_BYTES)
        for n in range(items):
            self.new_item(f"{self.rng.getrandbits(32):08x}-0000-4000-8000-{n:012x}")
        self.damage()
        self.commit("initial")

    # -- writing -----------------------------------------------------------------
    def _write(self, rel: str, data: bytes) -> None:
        target = Path(os.fsencode(self.path / rel).decode("utf-8", "surrogateescape"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def record(self, item: str, types: list[str], prev: list[str] | None = None,
               extra: dict[str, bytes] | None = None, layout: str = "flat",
               link: bytes | None = None, tamper: bool = False, stamp: bool = True) -> str:
        """Write one record of ``item`` (on disk, not yet committed); return its ID."""
        self.counter += 1
        rng = self.rng
        files: dict[str, bytes] = {f".type/{t}": b"" for t in types}
        if prev is None:
            prev = self.leaves(item)
        files.update({f".prev/{p}": b"" for p in prev})
        if stamp:
            files[".timestamp"] = rng.choice(TIMES).encode()
        if rng.random() < 0.9:
            files[".authors"] = rng.choice([b"Ann <ann@example.com>", b"Bob", b"", b"Cy <c@x>\n"])
        files["text"] = rng.choice([f"text {self.counter}\n", f"  padded {self.counter}  \n",
                                    "", f"multi\nline {self.counter}\n"]).encode()
        if "LabelsChanged" in types or "AssigneesChanged" in types:
            files["labels.json" if "LabelsChanged" in types else "assignees.json"] = self._set_op(item)
        if "MilestoneChanged" in types:
            files["milestone.json"] = json.dumps(
                {"set": rng.choice(["v1", "v2", None]), "replaces": rng.sample(prev, min(1, len(prev)))},
                sort_keys=True).encode()
        if "Merged" in types and rng.random() < 0.7:
            files["record"] = (rng.choice(prev or ["NONE"]) + "\n").encode()
        files.update(extra or {})
        rid = compute_id((_normal(name), data) for name, data in files.items())
        if tamper:
            files["text"] = b"tampered\n"
        base = {"flat": f"{SIT}/records/{split_path(rid)}", "items": f"{SIT}/items/{item}/{rid}",
                "issues": f"{SIT}/issues/{item}/{rid}"}[layout]
        for name, data in files.items():
            self._write(f"{base}/{name}", data)
        if layout == "flat":
            self._write(f"{SIT}/items/{item}/{rid}", link_content(rid) if link is None else link)
        self.records.setdefault(item, []).append(rid)
        return rid

    def _set_op(self, item: str) -> bytes:
        rng = self.rng
        adds = self.adds.setdefault(item, [])
        op: dict[str, object] = {"add": rng.sample(LABELS, rng.randint(0, 2))}
        if adds and rng.random() < 0.5:
            name, rid = rng.choice(adds)
            op["remove"] = {name: [rid]}
        if rng.random() < 0.1:
            return b"{not json"
        return json.dumps(op, sort_keys=True, indent=2).encode() + b"\n"

    def leaves(self, item: str) -> list[str]:
        records = self.records.get(item, [])
        return records[-1:] if self.rng.random() < 0.8 else records[-2:]

    def new_item(self, item: str) -> None:
        rng = self.rng
        layout = rng.choice(["flat"] * 6 + ["items", "issues"])
        first = self.record(item, ["SummaryChanged"], prev=[], layout=layout)
        for _ in range(rng.randint(0, 4)):
            self.random_record(item)
        if rng.random() < 0.2:  # two records made concurrently on the same parent
            for _ in range(2):
                self.record(item, [rng.choice(["Commented", "Closed", "SummaryChanged"])], prev=[first])

    def random_record(self, item: str, layout: str = "flat") -> str:
        rng = self.rng
        types = rng.sample(TYPES, rng.choice([1, 1, 1, 2, 3]))
        return self.record(item, types, layout=layout, stamp=rng.random() < 0.9)

    def damage(self) -> None:
        """A few records that every reading path must skip or warn about the same way."""
        items = sorted(self.records)
        rng = self.rng
        self.record(rng.choice(items), ["Commented"], tamper=True)  # wrong hash
        victim = rng.choice(items)
        self.record(victim, ["Closed"], prev=[self.record(victim, ["Commented"], tamper=True)])
        self._write(f"{SIT}/items/{rng.choice(items)}/{'D' * 32}", link_content("D" * 32))  # dangling
        self.record(rng.choice(items), ["Commented"], link=b"../../records/nowhere")  # canonical fallback
        rid = compute_id([(".type/Commented", b""), ("text", b"x\n")])
        self._write(f"{SIT}/items/{rng.choice(items)}/{rid}", link_content(rid))  # target missing
        self.record(rng.choice(items), ["Reopened"], link=None)
        item = rng.choice(items)
        rid = self.record(item, ["Commented"])
        self._write(f"{SIT}/items/{item}/{rid}", link_content(rid).replace(b"/", b"\\") + b"\r\n")
        self.record(rng.choice(items), ["Commented"], extra={"sub dir/\u00e4 x.txt": b"\xff\xfe",
                                                               "a\\b": b"back"})
        self._write(f"{SIT}/items/{rng.choice(items)}/README", b"not a record\n")
        item = rng.choice(items)  # a link reached through a chain of link files
        rid = self.record(item, ["Commented"], link=b"../../links/CHAIN")
        self._write(f"{SIT}/links/CHAIN", f"../records/{split_path(rid)}".encode())
        item = rng.choice(items)  # a BOM before the link; a record both legacy and flat
        rid = self.record(item, ["Commented"])
        self._write(f"{SIT}/items/{item}/{rid}", b"\xef\xbb\xbf" + link_content(rid) + b"\n")
        rid = self.record(item, ["Closed"])
        for name in (".type/Closed", ".type/Commented"):  # a legacy copy under issues/, tampered
            self._write(f"{SIT}/issues/{item}/{rid}/{name}", b"")
        self.record(rng.choice(items), ["Commented"], extra={"\u00e9t\u00e9": b"e"})
        for odd in ("\u00e9-item", "ITEM-Upper", "item with space"):
            self.record(odd, ["SummaryChanged"], prev=[])
        self.symlinks.append((f"{SIT}/items/{rng.choice(items)}/{'S' * 32}", link_content("S" * 32).decode()))
        target = rng.choice(items)
        self.symlinks.append((f"{SIT}/items/zz-symlinked-item", target))
        rid = self.record(rng.choice(items), ["Commented"])
        self.symlinks.append((f"{SIT}/records/{split_path(rid)}/evil", "../../../../../config.json"))
        self.bad_names.append(f"{SIT}/items/{rng.choice(items)}".encode() + b"/\xff\xfe-not-utf8")
        rid = self.record("bad-\udcff-item", ["SummaryChanged"], prev=[])
        rid = self.record(rng.choice(items), ["Commented"])
        self.bad_names.append(f"{SIT}/records/{split_path(rid)}/".encode() + b"\xff.bin")
        for path, target_name in self.symlinks:
            full = self.path / path
            full.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target_name, full)
        for raw in self.bad_names:
            target_path = os.path.join(bytes(self.path), raw)
            os.makedirs(os.path.dirname(target_path), exist_ok=True)
            with open(target_path, "wb") as handle:
                handle.write(b"odd\n")
        self._write(f"{SIT}/items/{rng.choice(items)}/{'a' * 32}", b"lower-case name\n")
        rid = compute_id([(".type/Commented", b""), ("text", b"behind a symlink\n")])
        self._write(f"{SIT}/items/{rng.choice(items)}/{rid}", link_content(rid))  # a symlinked record
        record = self.path / SIT / "records" / split_path(rid)
        record.parent.mkdir(parents=True, exist_ok=True)
        os.symlink("../../elsewhere", record)

    # -- git ---------------------------------------------------------------------
    def commit(self, message: str, amend: bool = False) -> None:
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message, *(["--amend"] if amend else []))

    def checkout(self, rev: str, new: bool = False) -> None:
        git(self.path, "checkout", "-q", *(["-b"] if new else []), rev)

    def delete_item(self, item: str) -> None:
        shutil.rmtree(self.path / SIT / "items" / item, ignore_errors=True)
        shutil.rmtree(self.path / SIT / "issues" / item, ignore_errors=True)

    def items_on_disk(self) -> list[str]:
        found: set[str] = set()
        for parent in ("items", "issues"):
            directory = self.path / SIT / parent
            if directory.is_dir():
                found.update(p.name for p in directory.iterdir())
        return sorted(found)

    def evolve(self) -> list[str]:
        """Branch, add records, delete, amend, merge and tag; return the revisions made."""
        rng = self.rng
        revs = ["main"]
        git(self.path, "tag", "v0", "main")
        git(self.path, "tag", "-a", "-m", "annotated", "v0a", "main")
        revs += ["v0", "v0a"]
        self.checkout("feature", new=True)
        for item in rng.sample(self.items_on_disk(), 6):
            self.random_record(item)
        self.record(rng.choice(self.items_on_disk()), ["Closed", "Commented"], tamper=True)
        self.commit("feature 1")
        revs.append("feature~0")
        victim = rng.choice(self.items_on_disk())
        self.delete_item(victim)
        self.new_item(f"feedface-0000-4000-8000-{rng.getrandbits(40):012x}")
        self.commit("feature 2")
        revs.append("feature")
        self.checkout("main")
        for item in rng.sample(self.items_on_disk(), 5):
            self.random_record(item, layout=rng.choice(["flat", "flat", "items"]))
        self.commit("main 1")
        git(self.path, "tag", "v1", "main")
        revs.append("v1")
        self.random_record(rng.choice(self.items_on_disk()))
        self.commit("main 1 amended", amend=True)
        revs.append("main~0")
        git(self.path, "merge", "-q", "--no-edit", "feature")
        revs.append("main")
        self.checkout("release", new=True)
        self.checkout("main")
        for item in rng.sample(self.items_on_disk(), 3):
            self.random_record(item)
        self.commit("main 2")
        revs.append("release")
        self.checkout("js", new=True)  # repository reducers: other settings for every item
        self._write(f"{SIT}/reducers/count.js", b"module.exports = function (state, record) {\n"
                    b"  this.n = (this.n || 0) + 1; return Object.assign(state, {n: this.n});\n};\n")
        self.commit("js reducer")
        revs.append("js")
        self.checkout("main")
        self.checkout("late", new=True)  # only records/ changes: the dangling link resolves now
        for name in (".type/Commented", "text"):
            self._write(f"{SIT}/records/{split_path('D' * 32)}/{name}", b"late\n")
        (self.path / SIT / "links" / "CHAIN").unlink()
        self.commit("late records")
        revs.append("late")
        self.checkout("main")
        return [self.sha(rev) if rev.endswith("~0") else rev for rev in revs]

    def sha(self, rev: str) -> str:
        return git(self.path, "rev-parse", rev).strip()
