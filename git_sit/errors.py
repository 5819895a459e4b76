"""The one error family of git-sit.

Every expected failure (bad input, missing repository, unknown revision, a write
that cannot be done) is a ``SitError`` whose message is one complete sentence for
the user. The CLI turns it into ``error: <message>`` and exit status 1 in one
place; anything else escaping is a bug and shows a traceback.
"""

from __future__ import annotations


class SitError(Exception):
    """An expected failure with a one-line message for the user."""


class NotARepository(SitError):
    """No git repository, or no SIT repository in it."""


class NoSitRepository(NotARepository):
    """No SIT repository where one is looked for, and 'git sit init' would make one."""


class UnknownRevision(SitError):
    """A revision that does not resolve to a commit or tree."""


class UnknownItem(SitError):
    """An item ID (or prefix) that matches no item, or more than one."""


class InvalidConfig(SitError):
    """A repository ``config.json`` (or user config) that cannot be used."""


class InvalidRecord(SitError):
    """A record that cannot be read or does not verify."""


class MissingObject(SitError):
    """A git object the repository should have but does not (partial or damaged clone)."""


class BadExpression(SitError):
    """A JMESPath expression that does not compile or misbehaves."""


class WriteError(SitError):
    """A record or item could not be written; nothing was left behind."""
