"""Vendor/product names that differ between what scanners write and what the NVD uses.

nmap's service database still names nginx `igor_sysoev:nginx`, while the NVD files older nginx CVEs under
`nginx:nginx` and newer ones under `f5:nginx` (F5 bought NGINX in 2019). A lookup for any name of a group
searches all of them. Add a group when a product's CVEs are missed because of a rename.
"""

from __future__ import annotations

_GROUPS: tuple[frozenset[tuple[str, str]], ...] = (
    frozenset({("igor_sysoev", "nginx"), ("nginx", "nginx"), ("f5", "nginx")}),
    frozenset({("vsftpd", "vsftpd"), ("beasts", "vsftpd")}),
    frozenset({("mysql", "mysql"), ("oracle", "mysql")}),
    frozenset({("redis", "redis"), ("redislabs", "redis")}),
    frozenset({("microsoft", "iis"), ("microsoft", "internet_information_services")}),
    frozenset({("openbsd", "openssh"), ("openssh", "openssh")}),
)
_BY_NAME: dict[tuple[str, str], frozenset[tuple[str, str]]] = {name: group for group in _GROUPS for name in group}


def product_keys(key: tuple[str, str, str]) -> frozenset[tuple[str, str, str]]:
    """(part, vendor, product) and the same part under every alias of (vendor, product)."""
    part, vendor, product = key
    names = _BY_NAME.get((vendor, product), frozenset({(vendor, product)}))
    return frozenset((part, alias_vendor, alias_product) for alias_vendor, alias_product in names)
