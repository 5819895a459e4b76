"""Asking for text in the user's editor, chosen as git chooses it.

The editor is ``$GIT_EDITOR``, else git config ``core.editor``, else ``$VISUAL``,
else ``$EDITOR``, else ``vi``; like git, the command is run by the shell with the
file name as its argument, so values such as ``code --wait`` work. The message
file lives in the git directory (git's ``COMMIT_EDITMSG`` habit), which exists in
bare repositories too.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping

from git_sit.errors import SitError

MESSAGE_FILE = "SIT_EDITMSG"


def editor_command(git_config: Callable[[str], str | None], environ: Mapping[str, str] | None = None) -> str:
    """The editor command line git would use."""
    env = os.environ if environ is None else environ
    for value in (env.get("GIT_EDITOR"), git_config("core.editor"), env.get("VISUAL"), env.get("EDITOR")):
        if value:
            return value
    return "vi"


def edit(template: str, git_dir: str, command: str) -> str:
    """Open ``command`` on a file holding ``template``; return what the user saved."""
    path = os.path.join(git_dir, MESSAGE_FILE)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(template)
    except OSError as exc:
        raise SitError(f"cannot write {path} for the editor: {exc.strerror}.") from None
    try:
        result = subprocess.run(["sh", "-c", f'{command} "$@"', command, path], check=False)
    except OSError as exc:
        raise SitError(f"cannot run the editor {command!r}: {exc.strerror}.") from None
    if result.returncode != 0:
        raise SitError(
            f"the editor {command!r} exited with status {result.returncode}; nothing was written."
        )
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise SitError(f"the editor saved {path} in an encoding other than UTF-8; nothing was "
                       "written (save it as UTF-8).") from None
    except OSError as exc:
        raise SitError(f"cannot read {path} after editing: {exc.strerror}.") from None
