"""``sit.inbox.*`` settings: defaults, parsing, and failing closed on anything odd."""

from __future__ import annotations

import pytest

from git_sit.errors import InvalidConfig
from git_sit.inboxconfig import parse_settings


def test_defaults():
    settings = parse_settings([])
    assert settings.refs == ("refs/heads/*",)
    assert settings.rules.sit_paths == (".sit",)
    assert settings.rules.item_pattern.fullmatch("885a8af0-22ff-455c-89a6-68a13597dd53")
    assert not settings.rules.item_pattern.fullmatch("885A8AF0-22FF-455C-89A6-68A13597DD53")
    assert settings.rules.max_blob == 10 * 1024 * 1024
    assert settings.rules.max_records == 10_000
    assert settings.forward is None


def test_values_and_case_insensitive_keys():
    settings = parse_settings([
        ("sit.inbox.ref", "refs/heads/*"), ("sit.inbox.ref", "refs/inbox/*"),
        ("sit.inbox.path", ".sit"), ("sit.inbox.path", "./sub/.sit/"), ("sit.inbox.path", "."),
        ("sit.inbox.itempattern", "[a-z]+"),
        ("sit.inbox.maxBlobSize", "1k"), ("sit.inbox.maxblobsize", "2M"),
        ("sit.inbox.maxrecords", "5"),
        ("sit.inbox.forward", "upstream"),
    ])
    assert settings.refs == ("refs/heads/*", "refs/inbox/*")
    assert settings.rules.sit_paths == (".sit", "sub/.sit", ".")
    assert settings.rules.item_pattern.pattern == "[a-z]+"
    assert settings.rules.max_blob == 2 * 1024 * 1024  # the last value wins, as in git
    assert settings.rules.max_records == 5
    assert settings.forward == "upstream"


@pytest.mark.parametrize(("entries", "fragment"), [
    ([("sit.inbox.maxblob", "1")], "unknown inbox setting 'sit.inbox.maxblob'"),
    ([("sit.inbox.maxblobsize", "ten")], "sit.inbox.maxBlobSize = 'ten' must be a positive whole number"),
    ([("sit.inbox.maxblobsize", "0")], "positive"),
    ([("sit.inbox.maxrecords", "-1")], "sit.inbox.maxRecords"),
    ([("sit.inbox.itempattern", "[a-")], "not a valid regular expression"),
    ([("sit.inbox.ref", "heads/*")], "must be a ref pattern"),
    ([("sit.inbox.path", "../up")], "must be a relative path"),
    ([("sit.inbox.path", "/abs/.sit")], "must be a relative path"),
    ([("sit.inbox.forward", "--upload-pack=evil")], "must name a git remote"),
    ([("sit.inbox.forward", " ")], "must name a git remote"),
])
def test_invalid_settings_fail_closed(entries, fragment):
    with pytest.raises(InvalidConfig) as info:
        parse_settings(entries)
    assert fragment in str(info.value)
