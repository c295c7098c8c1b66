"""The registry is explicit and every entry loads: name, category, target types and a JSON-Schema-able
option schema whose defaults validate."""

import pytest

from engines.registry import ENGINES, UnknownEngine, get_engine

SEED_002_TARGETS = {
    "nmap": {"host", "ip", "network", "domain"}, "zap": {"url"}, "nuclei": {"url", "host", "domain"},
    "nikto": {"url"}, "sqlmap": {"url"}, "wapiti": {"url"}, "harvester": {"domain"}, "sublist3r": {"domain"},
    "trivy": {"url", "host"},
}


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_registered_engine_loads_and_describes_itself(name):
    engine = get_engine(name)
    assert engine.name == name and engine.category and engine.target_types
    schema = engine.schema.json_schema()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(engine.schema.names())


@pytest.mark.parametrize("name, targets", sorted(SEED_002_TARGETS.items()))
def test_seed_002_compatible_target_types_are_accepted(name, targets):
    assert targets <= get_engine(name).target_types


def test_every_seed_002_scan_type_but_sentinel_is_registered():
    assert set(SEED_002_TARGETS) <= set(ENGINES)


def test_an_unknown_engine_names_the_known_ones():
    with pytest.raises(UnknownEngine, match="known engines: harvester, masscan, nikto, nmap"):
        get_engine("openvas")
