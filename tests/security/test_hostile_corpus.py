"""A hostile corpus sent to every input surface: each input gets a 4xx (never a 5xx, never a 2xx) whose body
names the field or the problem, and nothing is stored or queued (no Scan, ScanEvent, Schedule, Endpoint,
Delivery, Asset or Finding row appears). The caller holds every scope on an OEM-enabled tenant, so every
refusal below is the validation's, not the scope check's. Webhook URLs are checked as in production
(loopback not allowed)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tenants.services import tenant_set_oem
from tests.conftest import make_tenant
from tests.security.matrix import content, counts

MiB = 1024 * 1024
NATIVE = "/api/v1/scans"
OEM = "/api/v1/oem/on-demand-scan"
OEM_STATUS = "/api/v1/oem/on-demand-scan/scan-status"
INGEST = "/api/ingest/v1/scan"
ME = "/scan-api/api/v1/scans"
START = "/api/v1/scans/start"
SCHEDULES = "/api/v1/scans/schedules"
WEBHOOKS = "/api/v1/webhooks"
ASSETS = "/api/v1/assets"
IMPORT = "/api/v1/scans/import"

HOMOGRAPH = "\u0430pple.com"  # Cyrillic 'а' (U+0430), then "pple.com"
HOMOGRAPH_PUNYCODE = "xn--pple-43d.com"
SHELL = ["127.0.0.1; id", "127.0.0.1 | nc evil 1", "`id`", "$(id)", "127.0.0.1 && id", "127.0.0.1\nid",
         "127.0.0.1\x00", "-oN /tmp/x", "--script=exploit", "../../etc/passwd"]
METADATA_URLS = ["http://169.254.169.254/latest/meta-data/", "https://10.0.0.1/hook", "file:///etc/passwd",
                 "gopher://127.0.0.1:6379/_FLUSHALL", "http://127.0.0.1:9/x", "http://[::1]/x",
                 "https://0x7f000001/", "http://user:pw@169.254.169.254/", "https://example.com/\r\nX-Injected: 1"]


def deep(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


def case(id_: str, path: str, body, *fragments: str, method: str = "post", raw: str | None = None,
         content_type: str = "application/json", marks=()):
    return pytest.param(path, method, body, raw, content_type, fragments, id=id_, marks=marks)




NATIVE_BASE = {"target": "127.0.0.1", "engine": "nmap", "authorized": True}
ME_BASE = {"target": "127.0.0.1", "scanType": "nmap"}
START_BASE = {"target": "127.0.0.1", "profile": "normal"}
SCHEDULE_BASE = {"target": "127.0.0.1", "scan_type": "quick", "frequency": "daily", "hour": 2}

CORPUS = [
    # --- native create ---------------------------------------------------------------------------------
    *[case(f"native-target-shell-{i}", NATIVE, {**NATIVE_BASE, "target": t}, "target") for i, t in enumerate(SHELL)],
    case("native-target-homograph", NATIVE, {**NATIVE_BASE, "target": HOMOGRAPH}, "loopback-only"),
    case("native-target-all-ipv4", NATIVE, {**NATIVE_BASE, "target": "0.0.0.0/0"}, "target"),
    case("native-target-all-ipv6", NATIVE, {**NATIVE_BASE, "target": "::/0"}, "target"),
    case("native-target-metadata", NATIVE, {**NATIVE_BASE, "target": "169.254.169.254"}, "target"),
    case("native-target-file-url", NATIVE, {**NATIVE_BASE, "target": "file:///etc/passwd"}, "target"),
    case("native-target-gopher", NATIVE, {**NATIVE_BASE, "target": "gopher://127.0.0.1:6379/_x"}, "target"),
    case("native-target-long", NATIVE, {**NATIVE_BASE, "target": "a" * 5000}, "target"),
    case("native-target-int", NATIVE, {**NATIVE_BASE, "target": 2130706433}, "target"),
    case("native-target-null", NATIVE, {**NATIVE_BASE, "target": None}, "target"),
    case("native-target-list", NATIVE, {**NATIVE_BASE, "target": ["127.0.0.1"]}, "target"),
    case("native-target-object", NATIVE, {**NATIVE_BASE, "target": {"$ne": ""}}, "target"),
    case("native-ports-option-injection", NATIVE, {**NATIVE_BASE, "options": {"ports": "-oN /tmp/x"}}, "ports"),
    case("native-ports-shell", NATIVE, {**NATIVE_BASE, "options": {"ports": "22;id"}}, "ports"),
    case("native-ports-out-of-range", NATIVE, {**NATIVE_BASE, "options": {"ports": "65536"}}, "ports"),
    case("native-ports-range-out", NATIVE, {**NATIVE_BASE, "options": {"ports": "0-70000"}}, "ports"),
    case("native-ports-negative", NATIVE, {**NATIVE_BASE, "options": {"ports": "-1"}}, "ports"),
    case("native-ports-script", NATIVE, {**NATIVE_BASE, "options": {"ports": "--script=x"}}, "ports"),
    case("native-timing-injection", NATIVE, {**NATIVE_BASE, "options": {"timing": "-T5 -oN /tmp/x"}}, "timing"),
    case("native-scripts-traversal", NATIVE, {**NATIVE_BASE, "options": {"scriptScan": True,
                                                                          "scripts": ["../../x"]}}, "scripts"),
    case("native-unknown-option", NATIVE, {**NATIVE_BASE, "options": {"extraArgs": "-oN /tmp/x"}}, "extraArgs"),
    case("native-options-string", NATIVE, {**NATIVE_BASE, "options": "-oN /tmp/x"}, "options"),
    case("native-options-list", NATIVE, {**NATIVE_BASE, "options": ["-oN"]}, "options"),
    case("native-timeout-negative", NATIVE, {**NATIVE_BASE, "timeout": -1}, "timeout"),
    case("native-timeout-huge", NATIVE, {**NATIVE_BASE, "timeout": 10 ** 12}, "timeout"),
    case("native-timeout-string", NATIVE, {**NATIVE_BASE, "timeout": "1; id"}, "timeout"),
    case("native-priority-injection", NATIVE, {**NATIVE_BASE, "priority": "high; DROP TABLE scans"}, "priority"),
    case("native-priority-object", NATIVE, {**NATIVE_BASE, "priority": {"$gt": ""}}, "priority"),
    case("native-priority-int", NATIVE, {**NATIVE_BASE, "priority": -1}, "priority"),
    case("native-tags-string", NATIVE, {**NATIVE_BASE, "tags": "x"}, "tags"),
    case("native-engine-path", NATIVE, {**NATIVE_BASE, "engine": "../nmap"}, "engine"),
    case("native-engine-shell", NATIVE, {**NATIVE_BASE, "engine": "nmap;id"}, "engine"),
    case("native-authorized-string", NATIVE, {**NATIVE_BASE, "authorized": "maybe"}, "authorized"),
    # --- seed 000 ----------------------------------------------------------------------------------------
    case("oem-homograph", OEM, {"type": "domain", "target": HOMOGRAPH}, "loopback-only"),
    case("oem-all-ipv4", OEM, {"type": "ip_range", "target": "0.0.0.0/0"}, "0.0.0.0/0"),
    case("oem-all-ipv6", OEM, {"type": "ip_range", "target": "::/0"}, "::/0"),
    case("oem-type-bogus", OEM, {"type": "bogus", "target": "acme.localhost"}, "type"),
    case("oem-type-list", OEM, {"type": ["domain"], "target": "acme.localhost"}, "type"),
    case("oem-target-shell", OEM, {"type": "domain", "target": "acme.localhost; id"}, "forbidden character ';'"),
    case("oem-target-option", OEM, {"type": "domain", "target": "-oN/tmp/x"}, "target"),
    case("oem-target-nul", OEM, {"type": "domain", "target": "acme\x00.localhost"}, "target"),
    case("oem-target-int", OEM, {"type": "domain", "target": 1}, "not a valid domain"),
    case("oem-tags-nested", OEM, {"type": "domain", "target": "acme.localhost", "query_tags": {"a": {"b": 1}}},
         "query_tags"),
    case("oem-tags-list", OEM, {"type": "domain", "target": "acme.localhost", "query_tags": ["x"]}, "query_tags"),
    case("oem-status-object", OEM_STATUS, {"scan_id": {"$ne": None}}, "scan_id"),
    case("oem-status-list", OEM_STATUS, {"scan_id": ["x"]}, "scan_id"),
    case("oem-status-long", OEM_STATUS, {"scan_id": "a" * 100}, "scan_id"),
    case("oem-status-nul", OEM_STATUS, {"scan_id": "\x00"}, "scan_id", "null characters"),
    # --- seed 001 ----------------------------------------------------------------------------------------
    *[case(f"ingest-target-shell-{i}", INGEST, {"target": t}, "target") for i, t in enumerate(SHELL[:6])],
    case("ingest-target-homograph", INGEST, {"target": HOMOGRAPH}, "loopback-only"),
    *[case(f"ingest-webhook-url-{i}", INGEST, {"target": "127.0.0.1", "webhook": {"url": u}}, "webhook")
      for i, u in enumerate(METADATA_URLS)],
    case("ingest-webhook-string", INGEST, {"target": "127.0.0.1", "webhook": "http://169.254.169.254/"},
         "webhook"),
    # --- seed 002 ----------------------------------------------------------------------------------------
    *[case(f"me-callback-{i}", ME, {**ME_BASE, "callbackUrl": u}, "callbackurl")
      for i, u in enumerate(METADATA_URLS)],
    case("me-nmap-ports-injection", ME, {**ME_BASE, "options": {"ports": "-oN /tmp/x"}}, "ports"),
    case("me-nmap-config-injection", ME, {**ME_BASE, "config": {"ports": "--script=x"}}, "ports"),
    case("me-nmap-unknown-option", ME, {**ME_BASE, "options": {"args": "-sV; id"}}, "args"),
    case("me-masscan-rate", ME, {**ME_BASE, "scanType": "masscan", "options": {"ports": "80", "rate": 10 ** 9}},
         "rate"),
    case("me-nuclei-templates", ME, {"target": "http://127.0.0.1/", "scanType": "nuclei",
                                     "options": {"templates": ["../../../etc"]}}, "templates"),
    case("me-zap-exclude-shell", ME, {"target": "http://127.0.0.1/", "scanType": "zap",
                                      "options": {"contextExclude": ["a;`id`"]}}, "contextexclude"),
    case("me-sqlmap-risk", ME, {"target": "http://127.0.0.1/?id=1", "scanType": "sqlmap",
                                "options": {"risk": 9}}, "risk"),
    case("me-trivy-skipdirs-traversal", ME, {"target": "127.0.0.1:5000/app:1", "scanType": "trivy",
                                             "options": {"skipDirs": ["../../etc"]}}, "skipdirs"),
    case("me-trivy-skipdirs-absolute", ME, {"target": "127.0.0.1:5000/app:1", "scanType": "trivy",
                                            "options": {"skipDirs": ["/etc"]}}, "skipdirs"),
    case("me-timeout-negative", ME, {**ME_BASE, "timeout": -5}, "timeout"),
    case("me-priority-bogus", ME, {**ME_BASE, "priority": "urgent"}, "priority"),
    case("me-target-type-bogus", ME, {**ME_BASE, "targetType": "bogus"}, "targettype"),
    case("me-scantype-shell", ME, {**ME_BASE, "scanType": "nmap;id"}, "scantype"),
    case("me-target-homograph", ME, {**ME_BASE, "target": HOMOGRAPH}, "loopback-only"),
    case("me-options-list", ME, {**ME_BASE, "options": ["-oN"]}, "options"),
    # --- seed 004 ----------------------------------------------------------------------------------------
    case("start-profile-bogus", START, {**START_BASE, "profile": "insane"}, "profile"),
    case("start-ports-out-of-range", START, {**START_BASE, "profile": "custom", "ports": [70000]}, "ports"),
    case("start-ports-negative", START, {**START_BASE, "profile": "custom", "ports": [-1]}, "ports"),
    case("start-ports-strings", START, {**START_BASE, "profile": "custom", "ports": ["-oN"]}, "ports"),
    case("start-timeout-negative", START, {**START_BASE, "profile": "custom", "ports": [80], "timeout_ms": -1}, "timeout_ms"),
    case("start-concurrency-huge", START, {**START_BASE, "profile": "custom", "ports": [80], "max_concurrent": 10 ** 9},
         "max_concurrent"),
    case("start-target-shell", START, {**START_BASE, "target": "127.0.0.1;id"}, "target"),
    case("start-target-all", START, {**START_BASE, "target": "0.0.0.0/0"}, "target"),
    case("start-site-id-long", START, {**START_BASE, "site_id": "x" * 5000}, "site_id"),
    # --- schedules -----------------------------------------------------------------------------------------
    case("schedule-hour-out", SCHEDULES, {**SCHEDULE_BASE, "hour": 25}, "hour"),
    case("schedule-minute-negative", SCHEDULES, {**SCHEDULE_BASE, "minute": -1}, "minute"),
    case("schedule-timezone-traversal", SCHEDULES, {**SCHEDULE_BASE, "timezone": "../../etc/passwd"}, "timezone"),
    case("schedule-frequency-cron", SCHEDULES, {**SCHEDULE_BASE, "frequency": "* * * * *"}, "frequency"),
    case("schedule-target-shell", SCHEDULES, {**SCHEDULE_BASE, "target": "127.0.0.1; id"}, "target"),
    case("schedule-target-homograph", SCHEDULES, {**SCHEDULE_BASE, "target": HOMOGRAPH}, "target"),
    case("schedule-day-of-month-huge", SCHEDULES, {**SCHEDULE_BASE, "frequency": "monthly",
                                                   "day_of_month": 10 ** 6}, "day_of_month"),
    # --- webhooks -----------------------------------------------------------------------------------------
    *[case(f"webhook-url-{i}", WEBHOOKS, {"url": u, "events": ["scan.completed"]}, "url")
      for i, u in enumerate(METADATA_URLS)],
    # --- assets -------------------------------------------------------------------------------------------
    case("asset-kind-bogus", ASSETS, {"kind": "planet", "value": "earth"}, "kind"),
    case("asset-cidr-all", ASSETS, {"kind": "cidr", "value": "0.0.0.0/0"}, "value"),
    case("asset-cidr-all-v6", ASSETS, {"kind": "cidr", "value": "::/0"}, "value"),
    case("asset-domain-shell", ASSETS, {"kind": "domain", "value": "a.example;id"}, "value"),
    case("asset-domain-nul", ASSETS, {"kind": "domain", "value": "a.example\x00"}, "value"),
    case("asset-url-file", ASSETS, {"kind": "url", "value": "file:///etc/passwd"}, "value"),
    case("asset-value-long", ASSETS, {"kind": "domain", "value": "a" * 5000 + ".example"}, "value"),
    # --- list query parameters -------------------------------------------------------------------------------
    case("list-per-page-huge", NATIVE, {"per_page": 10 ** 9}, "per_page", method="get"),
    case("list-page-negative", NATIVE, {"page": -1}, "page", method="get"),
    case("list-status-injection", NATIVE, {"status": "queued' OR 1=1 --"}, "status", method="get"),
    case("list-date-garbage", NATIVE, {"from_date": "$(id)"}, "from_date", method="get"),
    case("me-list-limit-huge", ME, {"limit": 10 ** 12}, "limit", method="get"),
    case("me-list-page-huge", ME, {"page": 10 ** 12}, "page", method="get"),
    case("findings-severity-bogus", "/api/v1/findings", {"severity": "ultra"}, "severity", method="get"),
    case("findings-cve-injection", "/api/v1/findings", {"cve": "CVE-1;id"}, "cve", method="get"),
    case("findings-export-format", "/api/v1/findings/export", {"format": "../../etc/passwd"}, "format",
         method="get"),
]

# Bodies that break the parser, sent to every JSON input surface.
RAW_SURFACES = [NATIVE, OEM, OEM_STATUS, INGEST, ME, START, SCHEDULES, WEBHOOKS, ASSETS]
RAW = [
    *[case(f"oversized-{p}", p, None, "large", raw='{"target": "' + "a" * (MiB + 10) + '"}',
           ) for p in RAW_SURFACES],
    *[case(f"deep-{p}", p, None, "nest", raw='{"target": ' + deep(10_000) + "}")
      for p in RAW_SURFACES],
    *[case(f"malformed-{p}", p, None, "json", raw='{"target": "127.0.0.1",') for p in RAW_SURFACES],
    *[case(f"binary-{p}", p, None, "json", raw="\udcff\x00\x01\x02") for p in RAW_SURFACES[:3]],
    *[case(f"text-plain-{p}", p, None, "media type", raw="target=127.0.0.1", content_type="text/plain")
      for p in RAW_SURFACES[:3]],
    *[case(f"top-level-array-{p}", p, None, "", raw="[1, 2]") for p in RAW_SURFACES],
]


@pytest.fixture
def hostile(db, settings):
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = False
    holder = make_tenant("acme", scopes=("oem",))
    tenant_set_oem(tenant_id=holder.tenant_id, enabled=True, credits=None)
    make_tenant("globex")
    client = APIClient(raise_request_exception=False)  # a crash is a 500 answer here, as in production
    client.credentials(HTTP_X_API_KEY=holder.key)
    return client


def send(client: APIClient, path: str, method: str, body, raw: str | None, content_type: str):
    if method == "get":
        return client.get(path, body)
    if raw is not None:
        data = raw.encode("utf-8", errors="surrogateescape")
        return client.generic("POST", path, data=data, content_type=content_type)
    return client.generic("POST", path, data=json.dumps(body), content_type="application/json")


def assert_refused(response, fragments: tuple[str, ...], before: dict[str, int]) -> str:
    text = content(response)
    assert 400 <= response.status_code < 500, (response.status_code, text[:400])
    for fragment in fragments:
        assert fragment.lower() in text.lower(), (fragment, text[:400])
    assert counts() == before
    return text


@pytest.mark.parametrize("path, method, body, raw, content_type, fragments", [*CORPUS, *RAW])
def test_hostile_input_is_a_4xx_naming_the_problem_and_nothing_is_stored(hostile, path, method, body, raw,
                                                                          content_type, fragments):
    before = counts()
    assert_refused(send(hostile, path, method, body, raw, content_type), fragments, before)


@pytest.mark.parametrize("path, body", [
    (NATIVE, {**NATIVE_BASE, "target": HOMOGRAPH}),
    (OEM, {"type": "domain", "target": HOMOGRAPH}),
    (INGEST, {"target": HOMOGRAPH}),
    (ME, {**ME_BASE, "target": HOMOGRAPH}),
    (START, {**START_BASE, "target": HOMOGRAPH}),
    (SCHEDULES, {**SCHEDULE_BASE, "target": HOMOGRAPH}),
])
def test_a_homograph_domain_is_refused_and_echoed_only_as_punycode(hostile, path, body):
    before = counts()
    text = assert_refused(send(hostile, path, "post", body, None, "application/json"), (), before)
    assert HOMOGRAPH not in text and HOMOGRAPH.encode("unicode_escape").decode() not in text
    assert "loopback-only" in text and HOMOGRAPH_PUNYCODE in text


# Header and event checks, with a receiver the URL check lets through (loopback allowed, as in development).
RECEIVER_CORPUS = [
    case("ingest-header-name-crlf", INGEST, {"target": "127.0.0.1", "webhook": {
        "url": "http://127.0.0.1:9/h", "headers": [{"key": "X-A\r\nX-Injected", "value": "1"}]}}, "header"),
    case("ingest-header-value-crlf", INGEST, {"target": "127.0.0.1", "webhook": {
        "url": "http://127.0.0.1:9/h", "headers": [{"key": "X-A", "value": "1\r\nX-Injected: 1"}]}}, "header"),
    case("ingest-header-value-lf", INGEST, {"target": "127.0.0.1", "webhook": {
        "url": "http://127.0.0.1:9/h", "headers": [{"key": "X-A", "value": "1\nX-Injected: 1"}]}}, "header"),
    case("ingest-header-value-nul", INGEST, {"target": "127.0.0.1", "webhook": {
        "url": "http://127.0.0.1:9/h", "headers": [{"key": "X-A", "value": "1\x00"}]}}, "header"),
    case("ingest-header-host", INGEST, {"target": "127.0.0.1", "webhook": {
        "url": "http://127.0.0.1:9/h", "headers": [{"key": "Host", "value": "169.254.169.254"}]}}, "host"),
    case("webhook-events-bogus", WEBHOOKS, {"url": "http://127.0.0.1:9/h", "events": ["*"]}, "events"),
    case("webhook-events-string", WEBHOOKS, {"url": "http://127.0.0.1:9/h", "events": "scan.completed"},
         "events"),
]


@pytest.mark.parametrize("path, method, body, raw, content_type, fragments", RECEIVER_CORPUS)
def test_hostile_webhook_headers_and_events_are_a_4xx_naming_them_and_nothing_is_stored(
        hostile, settings, path, method, body, raw, content_type, fragments):
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = True
    before = counts()
    assert_refused(send(hostile, path, method, body, raw, content_type), fragments, before)


IMPORTS = [
    pytest.param("nmap", "r.xml", b"\x00\x01\x02\xff" * 1000, "file", id="binary-as-nmap"),
    pytest.param("nmap", "r.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + b"a" * 1000 + b'">'
                 b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><nmaprun>&b;</nmaprun>', "file",
                 id="xml-entity-expansion"),
    pytest.param("nmap", "r.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                 b"<nmaprun>&e;</nmaprun>", "file", id="xml-external-entity"),
    pytest.param("nuclei", "r.jsonl", b'<?xml version="1.0"?><nmaprun/>', "file", id="nmap-report-as-nuclei"),
    pytest.param("nuclei", "r.jsonl", b"PK\x03\x04" + b"\x00" * 4000, "file", id="zip-as-nuclei"),
    pytest.param("nuclei", "r.jsonl", ("[" * 10_000 + "]" * 10_000).encode(), "file", id="deep-json-line"),
    pytest.param("../../nmap", "r.xml", b"<nmaprun/>", "engine", id="engine-traversal"),
    pytest.param("nmap;id", "r.xml", b"<nmaprun/>", "engine", id="engine-shell"),
    pytest.param("nmap", "r.xml", b"", "report", id="empty-file"),
]


@pytest.mark.parametrize("engine, name, data, fragment", IMPORTS)
def test_a_hostile_import_is_a_400_naming_the_problem_and_stores_nothing(hostile, engine, name, data, fragment):
    before = counts()
    response = hostile.post(IMPORT, {"engine": engine, "file": SimpleUploadedFile(name, data)}, format="multipart")
    assert_refused(response, (fragment,), before)


def test_an_import_above_the_size_limit_is_refused_and_stores_nothing(hostile, settings):
    settings.LANTERN_IMPORT_MAX_BYTES = 1024
    before = counts()
    response = hostile.post(IMPORT, {"engine": "nmap", "file": SimpleUploadedFile("r.xml", b"<nmaprun>" + b" " *
                                                                                   4096 + b"</nmaprun>")},
                            format="multipart")
    assert_refused(response, ("file",), before)


def test_the_corpus_has_at_least_a_hundred_inputs():
    assert len(CORPUS) + len(RAW) + len(RECEIVER_CORPUS) + len(IMPORTS) + 1 >= 100
