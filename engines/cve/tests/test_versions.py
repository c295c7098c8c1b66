import pytest

from engines.cve.versions import compare_versions, in_range, version_key, version_tokens


@pytest.mark.parametrize("older, newer", [
    ("1.2.9", "1.2.10"), ("1.9", "1.10"), ("1.0", "1.0.1"), ("1.0rc1", "1.0"), ("1.0-beta2", "1.0-rc1"),
    ("2.0b1", "2.0"), ("7.4", "7.4p1"), ("7.4p1", "7.4p2"), ("7.9p1", "8.0"), ("1.0.2", "1.0.2a"),
    ("1.0.2a", "1.0.2k"), ("1.0.2k", "1.1.0"), ("5.0.0-M1", "5.0.0"), ("1.16.1", "1.17.7"), ("0.6.18", "1.16.1"),
    ("2.4.49", "2.4.50"), ("1.2.3-dev", "1.2.3"), ("9.3", "9.3p2"),
])
def test_ordering(older, newer):
    assert compare_versions(older, newer) == -1
    assert compare_versions(newer, older) == 1


@pytest.mark.parametrize("left, right", [("1.2", "1.2.0"), ("1.2.0.0", "1.2"), ("V1.0", "v1.0"), ("1_2", "1.2")])
def test_equal(left, right):
    assert compare_versions(left, right) == 0


def test_tokens():
    assert version_tokens("7.4p1 Debian 10+deb9u7") == (7, 4, "p", 1, "debian", 10, "deb", 9, "u", 7)
    assert version_tokens("2.0b1") == (2, 0, "beta", 1)
    assert version_tokens("1.0.2b") == (1, 0, 2, "b")


def test_sorting_with_version_key():
    assert sorted(["1.10", "1.2", "1.2rc1", "1.2.1"], key=version_key) == ["1.2rc1", "1.2", "1.2.1", "1.10"]


@pytest.mark.parametrize("version, bounds, expected", [
    ("1.16.1", {"end_excluding": "1.17.7"}, True),
    ("1.17.7", {"end_excluding": "1.17.7"}, False),
    ("7.7", {"end_including": "7.7"}, True),
    ("7.7p1", {"end_including": "7.7"}, False),
    ("1.9.5", {"start_including": "1.9.5", "end_excluding": "1.16.1"}, True),
    ("1.9.5", {"start_excluding": "1.9.5"}, False),
    ("1.16.1", {"start_including": "1.9.5", "end_excluding": "1.16.1"}, False),
    ("3.0", {}, True),
])
def test_in_range(version, bounds, expected):
    assert in_range(version, **bounds) is expected
