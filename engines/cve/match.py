"""Does a CVE apply to a detected product? Evaluates NVD configurations against CPE names.

Inputs: the detected product's CPE (nmap's cpe:/a:igor_sysoev:nginx:1.16.1), its version when the CPE has
none (the service's version string), and the other CPEs seen on the same host (the platform, e.g.
cpe:/o:linux:linux_kernel).

Rules:
* a vulnerable cpeMatch applies when its (part, vendor, product) is the detected one or a known alias
  (aliases.py), its non-version attributes match (cpe.component_matches), and its version matches: a range
  (versionStart/End Including/Excluding) around the detected version, a specific version equal to it (an
  OpenSSH-style update "p1" is part of the version: 9.3 + p1 = 9.3p1; a criterion with update ANY also takes
  9.3p1 for 9.3), or ANY version without bounds. An unknown detected version never matches a versioned
  criterion: no finding is better than a guessed one.
* nodes are three-valued: True, False, or None (unknown) for a node naming only non-vulnerable platform CPEs
  none of which was seen: the host's platform is often not detected, and "nginx running on Debian" must still
  match an nginx that runs on an undetected OS. OR = any True; AND = no False and some True.
* a configuration applies when its nodes do (OR: any, AND: all, unknown counting as satisfied), and a CVE
  applies when any configuration does, as long as some vulnerable cpeMatch of the detected product matched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from engines.cve.aliases import product_keys
from engines.cve.cpe import ANY, NA, Cpe, CpeError, component_matches, parse_cpe
from engines.cve.nvd import Configuration, CpeMatch, Node
from engines.cve.versions import compare_versions, in_range, version_tokens

_OTHER_FIELDS = ("edition", "language", "sw_edition", "target_sw", "target_hw", "other")


@dataclass(frozen=True, slots=True)
class Detected:
    """A product as a scanner saw it."""

    cpe: Cpe
    version: str  # the effective version; "" when unknown

    @classmethod
    def from_cpe(cls, value: str, *, fallback_version: str = "") -> Detected:
        """From a CPE string; the version comes from the CPE, else from `fallback_version`'s first word
        ("7.4p1 Debian 10+deb9u7" -> "7.4p1"). Raises CpeError."""
        cpe = parse_cpe(value)
        version = cpe.version if cpe.version not in (ANY, NA) else fallback_version.split(" ")[0].strip()
        return cls(cpe=cpe, version=version)


@lru_cache(maxsize=65536)
def _criterion(criteria: str) -> Cpe | None:
    try:
        return parse_cpe(criteria)
    except CpeError:
        return None


def _full(version: str, update: str) -> str:
    return version if update in (ANY, NA, "") else f"{version}{update}"


def _version_matches(criterion: Cpe, match: CpeMatch, detected: Detected) -> bool:
    bounds = (match.version_start_including, match.version_start_excluding, match.version_end_including,
              match.version_end_excluding)
    if criterion.version == ANY and not any(bounds):
        return True
    if criterion.version == NA:
        return detected.cpe.version == NA
    version = _full(detected.version, detected.cpe.update)
    if not version:
        return False
    if criterion.version == ANY:
        return in_range(version, start_including=bounds[0], start_excluding=bounds[1], end_including=bounds[2],
                        end_excluding=bounds[3])
    if criterion.update == ANY:
        wanted, seen = version_tokens(criterion.version), version_tokens(version)
        if seen[:len(wanted)] == wanted and (len(seen) == len(wanted) or isinstance(seen[len(wanted)], str)):
            return True
    return compare_versions(version, _full(criterion.version, criterion.update)) == 0


def cpe_match_applies(match: CpeMatch, detected: Detected, keys: frozenset[tuple[str, str, str]]) -> bool:
    """One cpeMatch against one detected product (whose alias keys are `keys`)."""
    criterion = _criterion(match.criteria)
    if criterion is None or criterion.key not in keys:
        return False
    if not all(component_matches(getattr(criterion, name), getattr(detected.cpe, name)) for name in _OTHER_FIELDS):
        return False
    return _version_matches(criterion, match, detected)


class _Evaluation:
    def __init__(self, product: Detected, platform: Iterable[Detected]):
        self.product = product
        self.keys = product_keys(product.cpe.key)
        self.platform = [(item, product_keys(item.cpe.key)) for item in platform]
        self.evidence: CpeMatch | None = None

    def entry(self, match: CpeMatch) -> bool:
        if match.vulnerable:
            if cpe_match_applies(match, self.product, self.keys):
                self.evidence = self.evidence or match
                return True
            return False
        return any(cpe_match_applies(match, item, keys) for item, keys in self.platform)

    def node(self, node: Node) -> bool | None:
        results = [self.entry(match) for match in node.matches]
        platform_only = not any(match.vulnerable for match in node.matches)
        if node.operator == "AND":
            value: bool | None = all(results) if results else None
        else:
            value = any(results) if results else None
        if platform_only and not value:
            return None  # the platform was not seen, which is not the same as seen and different
        return (not value) if node.negate and value is not None else value

    def configuration(self, configuration: Configuration) -> bool:
        values = [self.node(node) for node in configuration.nodes]
        if configuration.operator == "AND":
            applies = False not in values and True in values
        else:
            applies = True in values
        return (not applies) if configuration.negate else applies


def match_configurations(configurations: Iterable[Configuration], product: Detected,
                         platform: Iterable[Detected] = ()) -> CpeMatch | None:
    """The vulnerable cpeMatch that makes the CVE apply to `product`, or None when it does not apply."""
    evaluation = _Evaluation(product, platform)
    for configuration in configurations:
        evaluation.evidence = None
        if evaluation.configuration(configuration) and evaluation.evidence is not None:
            return evaluation.evidence
    return None
