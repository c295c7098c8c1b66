import pytest

from engines.cve.cpe import ANY, NA, Cpe, CpeError, component_matches, parse_cpe


def test_cpe_22_uri_from_nmap():
    assert parse_cpe("cpe:/a:igor_sysoev:nginx:1.16.1") == Cpe("a", "igor_sysoev", "nginx", "1.16.1")
    assert parse_cpe("cpe:/o:linux:linux_kernel") == Cpe("o", "linux", "linux_kernel")


def test_cpe_22_percent_encoding_na_and_packed_edition():
    cpe = parse_cpe("cpe:/a:Vendor:Prod%21uct:-::~~online~x64~~")
    assert (cpe.vendor, cpe.product, cpe.version, cpe.update) == ("vendor", "prod!uct", NA, ANY)
    assert (cpe.edition, cpe.sw_edition, cpe.target_sw, cpe.target_hw) == (ANY, "online", "x64", ANY)


def test_cpe_23_formatted_string_with_escapes():
    cpe = parse_cpe(r"cpe:2.3:a:openbsd:openssh:9.3:p1:*:*:*:*:*:*")
    assert cpe == Cpe("a", "openbsd", "openssh", "9.3", "p1")
    escaped = parse_cpe(r"cpe:2.3:a:acme:big\:app:1.0:*:*:*:*:*:*:*")
    assert escaped.product == "big:app"
    assert escaped.formatted() == r"cpe:2.3:a:acme:big\:app:1.0:*:*:*:*:*:*:*"


@pytest.mark.parametrize("value", ["nginx", "cpe:2.3:a:x", "cpe:/z:v:p", "cpe:/a::nginx", "cpe:2.3:a:*:p:*:*:*:*:*:*:*:*",
                                   "cpe:/a:1:2:3:4:5:6:7:8"])
def test_malformed_names_raise(value):
    with pytest.raises(CpeError):
        parse_cpe(value)


@pytest.mark.parametrize("criterion, value, expected", [
    (ANY, "x", True), ("x", ANY, True), (NA, NA, True), (NA, "x", False), ("x", NA, False), ("lts", "lts", True),
    ("lts", "esm", False), ("open*", "open_source", True),
])
def test_component_matching(criterion, value, expected):
    assert component_matches(criterion, value) is expected
