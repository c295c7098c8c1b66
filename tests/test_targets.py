"""Target parsing: every type, normalisation, IDN, and refusals that name the reason."""

import pytest

from scans.targets import TargetError, TargetType, infer_type, parse_target


@pytest.mark.parametrize("raw, kind, value", [
    ("example.com", "domain", "example.com"),
    ("Example.COM.", "domain", "example.com"),
    ("sub.domain.example.co.uk", "domain", "sub.domain.example.co.uk"),
    ("bücher.example", "domain", "xn--bcher-kva.example"),
    ("пример.рф", "domain", "xn--e1afmkfd.xn--p1ai"),
    ("xn--bcher-kva.example", "domain", "xn--bcher-kva.example"),
    ("localhost", "host", "localhost"),
    ("127.0.0.1", "ip", "127.0.0.1"),
    ("::1", "ip", "::1"),
    ("2001:DB8::0001", "ip", "2001:db8::1"),
    ("10.0.0.0/24", "network", "10.0.0.0/24"),
    ("10.0.0.7/24", "network", "10.0.0.0/24"),
    ("2001:db8::/48", "network", "2001:db8::/48"),
    ("https://App.Example.com:8443/path?q=1&x=2", "url", "https://app.example.com:8443/path?q=1&x=2"),
    ("http://127.0.0.1", "url", "http://127.0.0.1/"),
    ("http://[::1]:8080/a", "url", "http://[::1]:8080/a"),
    ("registry.example.com/myapp:latest", "image", "registry.example.com/myapp:latest"),
    ("nginx:1.25", "image", "nginx:1.25"),
    ("localhost:5000/team/app@sha256:" + "a" * 64, "image", "localhost:5000/team/app@sha256:" + "a" * 64),
])
def test_it_infers_and_normalises_each_target_type(raw, kind, value):
    target = parse_target(raw)
    assert (target.type.value, target.value) == (kind, value)


def test_a_bare_ip_given_as_network_becomes_a_32_or_128():
    assert parse_target("8.8.8.8", "network").value == "8.8.8.8/32"
    assert parse_target("::1", "network").value == "::1/128"


def test_an_explicit_host_type_accepts_names_and_addresses():
    assert parse_target("server1.example.com", "host").type is TargetType.HOST
    assert parse_target("127.0.0.1", "host").host == "127.0.0.1"


def test_url_host_is_what_the_policy_sees():
    assert parse_target("https://bücher.example/x").host == "xn--bcher-kva.example"


@pytest.mark.parametrize("raw, kind, reason", [
    ("", None, "must not be empty"),
    ("a" * 2049, None, "longer than 2048"),
    ("-oN/tmp/x", None, "looks like a command-line option"),
    ("--script=evil", None, "looks like a command-line option"),
    ("127.0.0.1; rm -rf /", None, "forbidden character"),
    ("$(id).example.com", None, "forbidden character"),
    ("`id`.example.com", None, "forbidden character"),
    ("127.0.0.1\n-iL /etc/passwd", None, "forbidden character"),
    ("127.0.0.1\x00", None, "forbidden character"),
    ("example.com|nc", None, "forbidden character"),
    ("invalid-domain", "domain", "'invalid-domain' is not a valid domain"),
    ("localhost", "domain", "is not a valid domain"),
    ("-bad.example.com", "domain", "command-line option"),
    ("bad-.example.com", "domain", "is not a valid domain"),
    ("a..example.com", "domain", "is not a valid domain"),
    ("exa_mple.com", "domain", "is not a valid domain"),
    (("a" * 64) + ".com", "domain", "is not a valid domain"),
    ("example.123", "domain", "is not a valid domain"),
    ("300.1.1.1", "ip", "not a valid IP address"),
    ("10.0.0.0/33", "network", "not valid CIDR"),
    ("ftp://example.com/", "url", "not an http(s) URL"),
    ("http://user:pw@example.com/", "url", "credentials"),
    ("http:///nohost", "url", "has no host"),
    ("http://example.com:99999/", "url", "invalid port"),
    ("UPPER/Case:tag", "image", "not a valid container image reference"),
    ("example.com", "printer", "unknown target type"),
])
def test_it_refuses_bad_targets_with_the_reason(raw, kind, reason):
    with pytest.raises(TargetError) as caught:
        parse_target(raw, kind)
    assert reason in str(caught.value)


def test_a_non_string_target_is_refused():
    with pytest.raises(TargetError, match="must be a string"):
        parse_target(["127.0.0.1"])


def test_control_characters_are_escaped_in_the_message():
    with pytest.raises(TargetError) as caught:
        parse_target("a\x1bb.example.com")
    assert "\\x1b" in str(caught.value)


@pytest.mark.parametrize("raw, kind", [
    ("https://x.example", TargetType.URL), ("10.0.0.0/8", TargetType.NETWORK), ("10.1.2.3", TargetType.IP),
    ("repo/app", TargetType.IMAGE), ("app:1.0", TargetType.IMAGE), ("example.com", TargetType.DOMAIN),
    ("db01", TargetType.HOST),
])
def test_inference_table(raw, kind):
    assert infer_type(raw) is kind
