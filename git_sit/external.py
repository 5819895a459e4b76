"""External commands: ``git sit NAME ARGS...`` runs ``sit-NAME`` as SIT does (SIT-FORMAT §7.3).

The search order is ``.sit/cli/sit-NAME``, each module's ``cli/sit-NAME`` (modules
sorted by entry name), ``sit-NAME`` on ``PATH``, and then ``sit-NAME.sh`` in the
same directories, run with ``sh`` (no execute bit needed). External commands are
programs on disk, so only the work tree's modules are searched. The command gets
``SIT_DIR`` (the repository's absolute path) and ``SIT`` (a command that runs
git-sit) in its environment.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence

from git_sit.errors import SitError
from git_sit.locate import locate
from git_sit.modules import find_modules


def find_external(name: str, sit_dir: str | None, module_dirs: Sequence[str],
                  path: str | None) -> list[str] | None:
    """The argv prefix that runs ``sit-NAME``, or ``None`` if there is none."""
    if not name or name.startswith("-") or "/" in name or "\\" in name or name in (".", ".."):
        return None
    program = f"sit-{name}"
    directories = [os.path.join(d, "cli") for d in ([sit_dir] if sit_dir else []) + list(module_dirs)]
    for directory in directories:
        candidate = os.path.join(directory, program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return [candidate]
    found = shutil.which(program, path=path)
    if found:
        return [os.path.abspath(found)]
    for directory in directories:
        candidate = os.path.join(directory, program + ".sh")
        if os.path.isfile(candidate):
            return ["sh", candidate]
    for directory in directories:  # nothing runs: say why one that is there does not
        candidate = os.path.join(directory, program)
        why = _not_runnable(candidate, program)
        if why is not None:
            raise SitError(f"{candidate} {why}.")
    return None


def _not_runnable(path: str, program: str) -> str | None:
    """Why a ``sit-NAME`` that is there cannot run; ``None`` if there is nothing there."""
    if not os.path.lexists(path):
        return None
    if not os.path.exists(path):
        return "is a symbolic link to nothing"
    if os.path.isdir(path):
        return "is a directory, not a program"
    return f"is not executable: chmod +x it, or rename it {program}.sh to run it with sh"


def sit_command(argv0: str, executable: str) -> str:
    """A command line that runs this git-sit (for ``$SIT`` in external commands)."""
    if os.path.basename(argv0).startswith("git-sit") and os.access(argv0, os.X_OK):
        return os.path.abspath(argv0)
    found = shutil.which("git-sit")
    return os.path.abspath(found) if found else f"{executable} -m git_sit"


def environment(base: Mapping[str, str], sit_dir: str | None, sit: str) -> dict[str, str]:
    """The environment of an external command."""
    env = dict(base)
    env["SIT"] = sit
    if sit_dir is not None:
        env["SIT_DIR"] = sit_dir
    return env


def locate_external(name: str, cwd: str) -> tuple[list[str], dict[str, str]] | None:
    """What to run for ``git sit NAME`` in ``cwd``, and its environment; ``None`` if unknown."""
    sit_dir: str | None = None
    module_dirs: list[str] = []
    try:
        found = locate(cwd)
    except SitError:
        found = None  # outside a SIT repository only PATH is searched
    if found is not None and isinstance(found.site.sit.handle, str):
        sit_dir = found.site.sit.handle
        module_dirs = [
            module.root.handle for module in find_modules(found.site)
            if module.root is not None and isinstance(module.root.handle, str)
        ]
    argv = find_external(name, sit_dir, module_dirs, os.environ.get("PATH"))
    if argv is None:
        return None
    return argv, environment(os.environ, sit_dir, sit_command(sys.argv[0], sys.executable))
