"""The SSRF guard at registration (422, nothing stored) and at delivery (refused, never retried, nothing
sent), DNS rebinding, and the connection going to the exact address that was checked. No test resolves a
public name: literals, /etc/hosts (`localhost`) and a replaced resolver only."""

from __future__ import annotations

import ipaddress

import pytest

from config.errors import ValidationFailed
from webhooks import ssrf
from webhooks.errors import WebhookUrlRefused
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.services import endpoint_create, endpoint_ping, webhook_url_validate
from webhooks.tests.receiver import Receiver

WEBHOOKS = "/api/v1/webhooks"
REAL_RESOLVE = ssrf.resolve


@pytest.fixture
def production_like(settings):
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = False
    return settings


class FakeResolver:
    """Answers from a table, in turn per name, and counts the questions; address literals resolve as usual."""

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[ssrf.IPAddress]:
        if host not in self.answers:
            return REAL_RESOLVE(host, port)
        self.calls.append(host)
        turns = self.answers[host]
        answer = turns[min(len(self.calls_for(host)) - 1, len(turns) - 1)]
        return [ipaddress.ip_address(a) for a in answer]

    def calls_for(self, host: str) -> list[str]:
        return [c for c in self.calls if c == host]


@pytest.mark.parametrize("url, reason", [
    ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
    ("https://192.168.1.1/hook", "192.168.1.1 is a private address"),
    ("http://172.16.5.4:8080/", "a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("http://169.254.1.1/", "a link-local address"),
    ("http://100.64.0.7/", "a carrier-grade NAT (shared) address"),
    ("http://100.100.100.200/", "a cloud metadata address"),
    ("http://[::1]:8000/hook", "::1 is a loopback address"),
    ("http://127.0.0.1:8000/hook", "127.0.0.1 is a loopback address"),
    ("http://127.8.9.10/", "a loopback address"),
    ("http://localhost:8000/hook", "localhost resolves to 127.0.0.1, which is a loopback address"),
    ("http://0.0.0.0/", "an unspecified address"),
    ("http://224.0.0.1/", "a multicast address"),
    ("http://240.0.0.1/", "a reserved address"),
    ("http://[fe80::1]/", "a link-local address"),
    ("http://[fc00::1]/", "a private address"),
    ("http://[::ffff:10.0.0.1]/", "a private address"),
    ("http://[::ffff:127.0.0.1]/", "a loopback address"),
    ("http://[64:ff9b::a9fe:a9fe]/", "a cloud metadata address"),
    ("http://[2002:c0a8:101::1]/", "a private address"),
    ("http://metadata.google.internal/computeMetadata/v1/",
     "metadata.google.internal is a cloud metadata name"),
    ("http://2130706433/", "a loopback address"),
])
def test_registration_refuses_non_public_receivers_with_a_422(client_for, tenant_a, production_like, url,
                                                               reason):
    response = client_for(tenant_a).post(WEBHOOKS, {"url": url, "events": ["scan.completed"]}, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "url_refused" and error["field"] == "url"
    assert error["message"].startswith("webhook URL refused: ") and reason in error["message"]
    assert Endpoint.objects.count() == 0


def test_a_name_that_resolves_to_loopback_is_refused(client_for, tenant_a, production_like, monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", FakeResolver({"hooks.internal.test": [["8.8.8.8", "127.0.0.1"]]}))
    response = client_for(tenant_a).post(WEBHOOKS, {"url": "https://hooks.internal.test/h",
                                                    "events": ["scan.completed"]}, format="json")
    assert response.status_code == 422
    assert "hooks.internal.test resolves to 127.0.0.1, which is a loopback address" in \
        response.json()["error"]["message"]


@pytest.mark.parametrize("url, fragment", [
    ("ftp://127.0.0.1/x", "must start with https:// or http://"),
    ("file:///etc/passwd", "must start with https:// or http://"),
    ("http://user:pw@127.0.0.1/", "user name or password"),
    ("http:///nohost", "no host"),
    ("http://127.0.0.1/a b", "spaces or control characters"),
    ("http://127.0.0.1/\r\nX-Injected: 1", "spaces or control characters"),
    ("http://127.0.0.1:99999/", "port"),
    ("http://" + "a" * 2050, "2048"),
])
def test_malformed_urls_are_refused(client_for, tenant_a, url, fragment):
    response = client_for(tenant_a).post(WEBHOOKS, {"url": url, "events": ["scan.completed"]}, format="json")
    assert response.status_code in (400, 422)
    assert fragment in response.json()["error"]["message"]
    assert Endpoint.objects.count() == 0


def test_the_loopback_setting_allows_loopback_only(settings):
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = True
    assert webhook_url_validate("http://127.0.0.1:8000/h") == "http://127.0.0.1:8000/h"
    assert webhook_url_validate("http://127.4.5.6/h") == "http://127.4.5.6/h"
    assert webhook_url_validate("http://[::1]:8000/h") == "http://[::1]:8000/h"
    assert webhook_url_validate("http://localhost:8000/h") == "http://localhost:8000/h"
    for url in ("http://10.0.0.1/", "http://169.254.169.254/", "http://[::ffff:127.0.0.1]/",
                "http://[fe80::1]/"):
        with pytest.raises(WebhookUrlRefused):
            webhook_url_validate(url)


def test_callback_urls_must_be_https_except_loopback_when_allowed(settings, monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", FakeResolver({"hooks.example.test": [["8.8.8.8"]]}))
    with pytest.raises(WebhookUrlRefused, match="must use https://"):
        webhook_url_validate("http://hooks.example.test/cb", https_only=True, field="callbackUrl")
    url = "https://hooks.example.test/cb"
    assert webhook_url_validate(url, https_only=True) == url
    assert webhook_url_validate("http://127.0.0.1:9/cb", https_only=True) == "http://127.0.0.1:9/cb"
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(WebhookUrlRefused, match="must use https://"):
        webhook_url_validate("http://127.0.0.1:9/cb", https_only=True)


def test_a_public_address_is_accepted(production_like, monkeypatch):
    resolver = FakeResolver({"hooks.example.test": [["8.8.8.8", "2606:4700::1111"]]})
    monkeypatch.setattr(ssrf, "resolve", resolver)
    pinned = ssrf.url_pin("https://hooks.example.test:8443/in?x=1#frag")
    assert (pinned.address, pinned.host_header, pinned.request_url) == (
        "8.8.8.8", "hooks.example.test:8443", "https://8.8.8.8:8443/in?x=1")
    assert ssrf.address_refusal(ipaddress.ip_address("64:ff9b::808:808")) is None  # NAT64 of a public address


def test_dns_rebinding_is_refused_at_delivery_and_nothing_is_sent(tenant_a, production_like, monkeypatch,
                                                                   outbox):
    # given an endpoint whose name resolved to a public address when it was registered
    resolver = FakeResolver({"rebind.example.test": [["8.8.8.8"], ["127.0.0.1"]]})
    monkeypatch.setattr(ssrf, "resolve", resolver)
    endpoint = endpoint_create(tenant_id=tenant_a.tenant_id, url="http://rebind.example.test/h",
                               events=["scan.completed"]).endpoint
    # when the name answers 127.0.0.1 at delivery time
    with outbox.committed():
        delivery = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint.pk)
    outbox.run()
    # then the delivery is refused for good, without a retry and without a connection
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_error == ("refused: rebind.example.test resolves to 127.0.0.1, which is a loopback "
                                   "address")
    assert resolver.calls == ["rebind.example.test", "rebind.example.test"]
    assert outbox.queued == []


def test_delivery_connects_to_the_checked_address_with_the_names_host_header(tenant_a, monkeypatch, outbox):
    with Receiver() as receiver:
        resolver = FakeResolver({"hooks.lantern.test": [["127.0.0.1"]]})
        monkeypatch.setattr(ssrf, "resolve", resolver)
        url = f"http://hooks.lantern.test:{receiver.port}/in"
        endpoint = endpoint_create(tenant_id=tenant_a.tenant_id, url=url, events=["scan.completed"]).endpoint
        with outbox.committed():
            endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint.pk)
        outbox.run()
        (request,) = receiver.wait_for(1)
    assert request.headers["host"] == f"hooks.lantern.test:{receiver.port}" and request.path == "/in"
    assert resolver.calls == ["hooks.lantern.test", "hooks.lantern.test"]  # once to register, once to send


def test_a_stored_loopback_url_is_refused_at_delivery_in_production(tenant_a, settings, outbox):
    with Receiver() as receiver:
        endpoint = endpoint_create(tenant_id=tenant_a.tenant_id, url=receiver.url,
                                   events=["scan.completed"]).endpoint
        settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = False
        with outbox.committed():
            endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint.pk)
        outbox.run()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "127.0.0.1 is a loopback address" in delivery.last_error
    assert receiver.count == 0


def test_an_unresolvable_name_is_refused_at_registration_and_retried_at_delivery(tenant_a, monkeypatch,
                                                                                 outbox):
    resolver = FakeResolver({"flaky.example.test": [["8.8.8.8"]]})
    monkeypatch.setattr(ssrf, "resolve", resolver)
    endpoint = endpoint_create(tenant_id=tenant_a.tenant_id, url="https://flaky.example.test/h",
                               events=["scan.completed"]).endpoint

    def no_answer(host, port):
        raise ssrf.UrlUnresolvable(f"{host} does not resolve (test)")

    monkeypatch.setattr(ssrf, "resolve", no_answer)
    with pytest.raises(WebhookUrlRefused, match="flaky.example.test does not resolve"):
        webhook_url_validate("https://flaky.example.test/h")
    with outbox.committed():
        delivery = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint.pk)
    outbox.run_one()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, 1)
    assert "does not resolve" in delivery.last_error and len(outbox.queued) == 1


def test_resolve_reads_etc_hosts_for_localhost():
    assert ipaddress.ip_address("127.0.0.1") in ssrf.resolve("localhost", 80)
    assert ssrf.resolve("::1", 80) == [ipaddress.ip_address("::1")]


def test_validation_errors_are_domain_errors():
    assert issubclass(WebhookUrlRefused, Exception) and WebhookUrlRefused.status_code == 422
    assert ValidationFailed.status_code == 400
