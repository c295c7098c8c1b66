"""The loopback-only policy of development and tests, and the deny-list that always applies.
It must decide without DNS: the tests make any lookup fail loudly."""

import socket

import pytest

from scans.policy import admit
from scans.targets import TargetError, parse_target


@pytest.fixture(autouse=True)
def no_dns(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the target policy must not resolve names")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)


@pytest.mark.parametrize("raw, kind, pinned", [
    ("127.0.0.1", None, "127.0.0.1"),
    ("127.8.9.10", None, "127.8.9.10"),
    ("::1", None, "::1"),
    ("127.0.0.0/24", None, None),
    ("::1", "network", None),
    ("localhost", None, "127.0.0.1"),
    ("app.localhost", None, "127.0.0.1"),
    ("http://127.0.0.1:8080/login", None, "127.0.0.1"),
    ("http://localhost/", None, "127.0.0.1"),
    ("scanme.lantern.test", None, "127.0.0.1"),
    ("localhost:5000/app:1", None, "127.0.0.1"),
])
def test_loopback_policy_admits_loopback_targets(raw, kind, pinned, settings):
    admitted = admit(parse_target(raw, kind))
    assert admitted.pinned_address == pinned


@pytest.mark.parametrize("raw, kind", [
    ("8.8.8.8", None), ("8.8.8.0/24", None), ("10.0.0.1", None), ("192.168.1.1", None), ("example.com", None),
    ("acme.com", None), ("https://app.example.com", None), ("127.0.0.0/7", None), ("0.0.0.0", None),
    ("2001:db8::1", None), ("::/0", None), ("nginx:latest", None), ("localhost.example.com", None),
])
def test_loopback_policy_refuses_everything_else(raw, kind):
    with pytest.raises(TargetError, match="loopback-only target policy|overlaps a denied network"):
        admit(parse_target(raw, kind))


@pytest.mark.parametrize("raw", ["169.254.169.254", "http://169.254.169.254/latest/meta-data/",
                                 "fd00:ec2::254", "169.254.0.0/16", "metadata.google.internal"])
def test_the_deny_list_applies_under_the_public_policy(raw, settings):
    settings.LANTERN_TARGET_POLICY = "public"
    with pytest.raises(TargetError, match="refused"):
        admit(parse_target(raw))


def test_public_policy_admits_an_ordinary_target_without_pinning(settings):
    settings.LANTERN_TARGET_POLICY = "public"
    assert admit(parse_target("example.com")).pinned_address is None
