"""Delivery over real TLS, on loopback only: an HTTPS receiver on 127.0.0.1 with a certificate from a
throwaway CA made here (trusted through LANTERN_WEBHOOK_CA_FILE), and a webhook to https://localhost:PORT/hook
sent by the normal delivery code (webhook_deliver, through the outbox fixture).

What the receiver records shows the DNS pinning of webhooks/transport.py end to end: the TCP connection
goes to the address the SSRF guard checked (127.0.0.1), while the TLS SNI, the certificate check and the
Host header carry the URL's name. `localhost` resolves through /etc/hosts (nsswitch "files" first), so no
DNS query leaves the machine and no packet goes anywhere but 127.0.0.1.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from webhooks import services, ssrf, transport
from webhooks.crypto import signature_verify
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from webhooks.services import deliveries_create_for_event, endpoint_create
from webhooks.ssrf import PinnedUrl
from webhooks.tests.receiver import Receiver, _Handler, _Server

LOOPBACK = "127.0.0.1"


# --- a throwaway PKI ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Authority:
    name: x509.Name
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    cert_file: Path


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=1))


def make_ca(directory: Path, label: str) -> Authority:
    """A self-signed CA certificate (cert file written to `directory`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Lantern test CA {label}")])
    certificate = (_validity(x509.CertificateBuilder()).subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    cert_file = directory / f"ca-{label}.crt"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return Authority(name, key, certificate, cert_file)


def make_server_certificate(directory: Path, authority: Authority, dns_name: str) -> tuple[Path, Path]:
    """A server certificate for `dns_name` (its only SAN) signed by `authority`: (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (_validity(x509.CertificateBuilder())
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)]))
                   .issuer_name(authority.name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       authority.key.public_key()), critical=False)
                   .sign(authority.key, hashes.SHA256()))
    stem = f"{dns_name}-{uuid.uuid4().hex[:8]}"
    cert_file, key_file = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


# --- an HTTPS receiver on 127.0.0.1 ---------------------------------------------------------------------

class _TlsServer(_Server):
    """receiver.py's server, each accepted connection wrapped in TLS in its own thread (a failed handshake
    ends that connection only)."""

    tls_context: ssl.SSLContext
    receiver: TlsReceiver

    def finish_request(self, request: Any, client_address: Any) -> None:
        receiver = self.receiver
        with receiver.lock:
            receiver.connected_to.append(request.getsockname()[0])  # the address the client connected to
        try:
            stream = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            with receiver.lock:
                receiver.handshake_errors.append(str(exc))
            return
        try:
            super().finish_request(stream, client_address)
        finally:
            stream.close()


class TlsReceiver(Receiver):
    """webhooks/tests/receiver.py's Receiver over HTTPS with the given certificate, on 127.0.0.1 (a free
    port). Records, besides the requests (whose headers hold Host), the local address of every accepted
    connection and the SNI server name of every handshake."""

    def __init__(self, cert_file: Path, key_file: Path, **options: Any) -> None:
        super().__init__(**options)
        self._server.server_close()  # the plain-HTTP server the base class made; replaced before it ran
        self.lock = threading.Lock()
        self.connected_to: list[str] = []
        self.sni_names: list[str | None] = []
        self.handshake_errors: list[str] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        context.sni_callback = self._sni
        self._server = _TlsServer((LOOPBACK, 0), _Handler)
        self._server.receiver = self
        self._server.tls_context = context
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def _sni(self, _socket: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext) -> None:
        with self.lock:
            self.sni_names.append(server_name)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}/hook"


# --- fixtures -------------------------------------------------------------------------------------------

@pytest.fixture
def trusted_ca(tmp_path, settings) -> Authority:
    """A throwaway CA, the only one deliveries trust in these tests."""
    authority = make_ca(tmp_path, "trusted")
    settings.LANTERN_WEBHOOK_CA_FILE = str(authority.cert_file)
    return authority


@pytest.fixture
def pinned_urls(monkeypatch) -> list[PinnedUrl]:
    """Every PinnedUrl the delivery code hands to webhooks/transport.post (which still sends)."""
    seen: list[PinnedUrl] = []

    def post(pinned: PinnedUrl, body: bytes, headers: dict[str, str]) -> transport.Outcome:
        seen.append(pinned)
        return transport.post(pinned, body, headers)

    monkeypatch.setattr(services, "post", post)
    return seen


@pytest.fixture(autouse=True)
def _close_new_clients() -> Iterator[None]:
    """Close the transport clients (and their keep-alive connections) a test made, so no handler thread of
    a stopped receiver is left waiting on them."""
    with transport._clients_lock:
        before = set(transport._clients)
    yield
    with transport._clients_lock:
        for key in set(transport._clients) - before:
            transport._clients.pop(key).close()


@pytest.fixture
def deliver(tenant_a, outbox):
    """Register an endpoint at `url`, queue one scan.completed for it and run `attempts` delivery tasks;
    (endpoint + secret, the delivery)."""
    def run(url: str, *, attempts: int = 100):
        created = endpoint_create(tenant_id=tenant_a.tenant_id, url=url, events=["scan.completed"])
        message = {"scan_id": str(uuid.uuid4()), "seq": 1, "event": "scan.completed",
                   "timestamp": "2026-03-06T10:00:00.000000Z", "data": {"status": "completed"}}
        with outbox.committed():
            deliveries_create_for_event(tenant_id=tenant_a.tenant_id, message=message)
        outbox.run(limit=attempts)
        return created, Delivery.objects.get(endpoint=created.endpoint)

    return run


# --- the tests ------------------------------------------------------------------------------------------

def test_localhost_resolves_to_loopback_only_through_the_guard(settings):
    # The premise of the tests below: the SSRF guard's resolver gives 127.0.0.1 for localhost (from
    # /etc/hosts), and loopback receivers are allowed in the test settings.
    assert settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK is True
    assert ssrf.resolve("localhost", 443) == [ipaddress.ip_address(LOOPBACK)]


def test_https_delivery_connects_to_the_pinned_address_and_presents_the_name(
        tmp_path, trusted_ca, deliver, pinned_urls):
    cert_file, key_file = make_server_certificate(tmp_path, trusted_ca, "localhost")
    with TlsReceiver(cert_file, key_file) as receiver:
        created, delivery = deliver(receiver.url)
        (request,) = receiver.wait_for(1)
    port = receiver.port
    # the guard pinned localhost to 127.0.0.1, and the transport connected there
    (pinned,) = pinned_urls
    assert (pinned.host, pinned.address, pinned.port) == ("localhost", LOOPBACK, port)
    assert pinned.request_url == f"https://{LOOPBACK}:{port}/hook"
    assert receiver.connected_to == [LOOPBACK]
    # ... while the handshake named localhost (SNI), the certificate for localhost verified, and Host said it
    assert receiver.sni_names == ["localhost"]
    assert receiver.handshake_errors == []
    assert request.headers["host"] == f"localhost:{port}"
    assert request.path == "/hook"
    # the delivery is done, and what arrived is signed by the endpoint's secret
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    assert delivery.last_error == ""
    assert signature_verify(request.headers["x-lantern-signature"], request.body, created.secret)
    assert not signature_verify(request.headers["x-lantern-signature"], request.body + b" ", created.secret)
    assert request.headers["x-lantern-delivery"] == str(delivery.pk)


@pytest.mark.parametrize(("issuer", "dns_name", "reason"), [
    ("trusted", "other.test", "Hostname mismatch, certificate is not valid for 'localhost'"),
    ("unknown", "localhost", "unable to get local issuer certificate"),
], ids=["trusted-ca-other-name", "unknown-ca-right-name"])
def test_a_certificate_not_valid_for_the_name_fails_the_attempt_and_is_retried(
        tmp_path, trusted_ca, deliver, pinned_urls, outbox, issuer, dns_name, reason):
    authority = trusted_ca if issuer == "trusted" else make_ca(tmp_path, "unknown")
    cert_file, key_file = make_server_certificate(tmp_path, authority, dns_name)
    with TlsReceiver(cert_file, key_file) as receiver:
        created, delivery = deliver(receiver.url, attempts=1)
    # the connection went to the pinned address and the handshake named localhost ...
    (pinned,) = pinned_urls
    assert (pinned.host, pinned.address) == ("localhost", LOOPBACK)
    assert receiver.connected_to == [LOOPBACK]
    assert receiver.sni_names == ["localhost"]
    # ... but the certificate did not verify for it, so no request was sent
    assert receiver.count == 0
    assert delivery.status == DeliveryStatus.RETRYING
    assert (delivery.attempts, delivery.last_status_code) == (1, None)
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error and reason in delivery.last_error
    assert delivery.next_attempt_at is not None and delivery.completed_at is None
    (attempt,) = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code) == (1, None)
    assert "CERTIFICATE_VERIFY_FAILED" in attempt.error and reason in attempt.error
    # the retry is queued, with a backoff countdown
    ((kwargs, countdown),) = outbox.queued
    assert kwargs["delivery_id"] == str(delivery.pk) and countdown is not None and countdown > 0
