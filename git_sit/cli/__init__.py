"""The command-line shell over the git-sit library: the only package that imports click.

``base`` holds the group, the shared options and the single place where a
``SitError`` becomes an error line and exit status 1; ``process`` is the entry
point and how the process exits; each other module adds
one family of commands, and is imported when one of its commands runs
(``base.COMMANDS``).
"""

from __future__ import annotations

from git_sit.cli.base import cli
from git_sit.cli.process import main

__all__ = ["cli", "main"]
