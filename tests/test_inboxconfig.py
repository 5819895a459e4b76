"""``sit.inbox.*`` settings: defaults, parsing, and failing closed on anything odd."""

from __future__ import annotations

import pytest

from git_sit.errors import InvalidConfig
from git_sit.inboxconfig import keyring_path, parse_settings


def test_defaults():
    settings = parse_settings([])
    assert settings.refs == ("refs/heads/*",)
    assert settings.rules.sit_paths == (".sit",)
    assert settings.rules.item_pattern.fullmatch("885a8af0-22ff-455c-89a6-68a13597dd53")
    assert not settings.rules.item_pattern.fullmatch("885A8AF0-22FF-455C-89A6-68A13597DD53")
    assert settings.rules.max_blob == 10 * 1024 * 1024
    assert settings.rules.max_records == 10_000
    assert settings.rules.max_record_size == 32 * 1024 * 1024
    assert settings.rules.max_push_size == 256 * 1024 * 1024
    assert settings.forward is None


def test_values_and_case_insensitive_keys():
    settings = parse_settings([
        ("sit.inbox.ref", "refs/heads/*"), ("sit.inbox.ref", "refs/inbox/*"),
        ("sit.inbox.path", ".sit"), ("sit.inbox.path", "./sub/.sit/"), ("sit.inbox.path", "."),
        ("sit.inbox.itempattern", "[a-z]+"),
        ("sit.inbox.maxBlobSize", "1k"), ("sit.inbox.maxblobsize", "2M"),
        ("sit.inbox.maxrecords", "5"),
        ("sit.inbox.maxRecordSize", "64k"),
        ("sit.inbox.MAXPUSHSIZE", "1g"), ("sit.inbox.maxPushSize", "3m"),
        ("sit.inbox.forward", "upstream"),
    ])
    assert settings.refs == ("refs/heads/*", "refs/inbox/*")
    assert settings.rules.sit_paths == (".sit", "sub/.sit", ".")
    assert settings.rules.item_pattern.pattern == "[a-z]+"
    assert settings.rules.max_blob == 2 * 1024 * 1024  # the last value wins, as in git
    assert settings.rules.max_records == 5
    assert settings.rules.max_record_size == 64 * 1024
    assert settings.rules.max_push_size == 3 * 1024 * 1024
    assert settings.forward == "upstream"


@pytest.mark.parametrize(("entries", "fragment"), [
    ([("sit.inbox.maxblob", "1")], "unknown inbox setting 'sit.inbox.maxblob'"),
    ([("sit.inbox.maxblobsize", "ten")], "sit.inbox.maxBlobSize = 'ten' must be a positive whole number"),
    ([("sit.inbox.maxblobsize", "0")], "positive"),
    ([("sit.inbox.maxrecords", "-1")], "sit.inbox.maxRecords"),
    ([("sit.inbox.maxrecordsize", "1t")], "sit.inbox.maxRecordSize = '1t' must be a positive whole number"),
    ([("sit.inbox.maxpushsize", "0")], "sit.inbox.maxPushSize = '0' must be a positive whole number"),
    ([("sit.inbox.maxpushsize", "256 MiB")], "sit.inbox.maxPushSize = '256 MiB' must be a positive whole number"),
    ([("sit.inbox.maxpushsize", None)], "sit.inbox.maxPushSize has no value"),
    ([("sit.inbox.maxpush", "1m")], "unknown inbox setting 'sit.inbox.maxpush'"),
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


@pytest.mark.parametrize(("entries", "required", "keys"), [
    ([], False, None),
    ([("sit.inbox.requireSignature", "true"), ("sit.inbox.trustedKeys", "keys.asc")], True, "keys.asc"),
    ([("sit.inbox.requiresignature", None), ("sit.inbox.trustedkeys", "/k")], True, "/k"),  # bare key: true
    ([("sit.inbox.trustedKeys", "keys.asc")], True, "keys.asc"),  # a keyring alone requires signatures
    ([("sit.inbox.trustedKeys", "k"), ("sit.inbox.requireSignature", "off")], False, "k"),
    ([("sit.inbox.requireSignature", "no")], False, None),
])
def test_signature_settings(entries, required, keys):
    settings = parse_settings(entries)
    assert (settings.require_signature, settings.trusted_keys) == (required, keys)


@pytest.mark.parametrize(("entries", "fragment"), [
    ([("sit.inbox.requireSignature", "true")],
     "sit.inbox.requireSignature is true but sit.inbox.trustedKeys is not set"),
    ([("sit.inbox.requireSignature", "sometimes"), ("sit.inbox.trustedKeys", "k")],
     "sit.inbox.requireSignature = 'sometimes' must be a boolean"),
    ([("sit.inbox.trustedKeys", " ")], "sit.inbox.trustedKeys is empty"),
    ([("sit.inbox.trustedKeys", None)], "sit.inbox.trustedKeys has no value"),
    ([("sit.inbox.forward", None)], "sit.inbox.forward has no value"),
])
def test_invalid_signature_settings_fail_closed(entries, fragment):
    with pytest.raises(InvalidConfig) as info:
        parse_settings(entries)
    assert fragment in str(info.value)


def test_keyring_path_is_relative_to_the_git_dir(monkeypatch):
    monkeypatch.setenv("HOME", "/home/me")
    assert keyring_path("/srv/inbox.git", "trusted.asc") == "/srv/inbox.git/trusted.asc"
    assert keyring_path("/srv/inbox.git", "/etc/keys.asc") == "/etc/keys.asc"
    assert keyring_path("/srv/inbox.git", "~/keys.asc") == "/home/me/keys.asc"
