"""The servers ownership checks are tested against, started by the tests on 127.0.0.1 and nowhere else:
an authoritative UDP DNS responder for TXT records and an HTTP server for the well-known file."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
OWNED_NAME = "owned.lantern.test"  # pinned to 127.0.0.1 through LANTERN_LOOPBACK_NAMES, never resolved


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class TxtResponder:
    """Answers TXT queries for the names in `records` (name -> texts); NXDOMAIN for every other name."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.queries: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOOPBACK, 0))
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            self.queries.append(name)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if name not in self.records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT and self.records[name]:
                response.answer.append(dns.rrset.from_text_list(
                    question.name, 60, "IN", "TXT", [f'"{text}"' for text in self.records[name]]))
            self._sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


class WellKnownServer(ThreadingHTTPServer):
    """Serves `files` (path -> (status, body, headers)) and records the Host header of every request; with
a TLS context it serves HTTPS and records the SNI name of every handshake."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.files: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.hosts: list[str] = []
        self.sni_names: list[str | None] = []
        super().__init__((LOOPBACK, 0), _Handler)
        self.port = int(self.server_address[1])
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _context: self.sni_names.append(name)  # type: ignore[func-returns-value]
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def put(self, path: str, body: str | bytes, *, status: int = 200,
            headers: dict[str, str] | None = None) -> None:
        self.files[path] = (status, body.encode() if isinstance(body, str) else body, headers or {})

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=2)


class _Handler(BaseHTTPRequestHandler):
    server: WellKnownServer

    def do_GET(self) -> None:
        self.server.hosts.append(self.headers.get("Host", ""))
        status, body, headers = self.server.files.get(self.path, (404, b"not found", {}))
        self.send_response(status)
        for name, value in {"Content-Type": "text/plain", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for `name` signed by its own key (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_web_server(settings, loopback_only, tmp_path) -> Iterator[WellKnownServer]:
    """An HTTPS well-known server for OWNED_NAME with a self-signed certificate (not trusted unless a test
    sets LANTERN_VERIFY_CA_FILE to server.ca_file)."""
    cert_file, key_file = self_signed_certificate(tmp_path, OWNED_NAME)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = WellKnownServer(tls=context)
    server.ca_file = str(cert_file)  # type: ignore[attr-defined]
    settings.LANTERN_VERIFY_HTTP_PORTS = {"https": server.port}
    yield server
    server.close()


@pytest.fixture
def loopback_only(settings) -> None:
    """Verification may talk only to loopback: the pinned test name, and no resolver or web server unless a
    test starts one (the defaults point at closed loopback ports)."""
    settings.LANTERN_TARGET_POLICY = "loopback"
    settings.LANTERN_LOOPBACK_NAMES = [f"{OWNED_NAME}={LOOPBACK}", "scanme.lantern.test=127.0.0.1"]
    settings.LANTERN_VERIFY_DNS_SERVERS = [f"{LOOPBACK}:{closed_port()}"]
    settings.LANTERN_VERIFY_HTTP_PORTS = {"http": closed_port()}
    settings.LANTERN_VERIFY_TIMEOUT_S = 2.0
    settings.LANTERN_VERIFY_CA_FILE = ""


@pytest.fixture
def dns_server(settings, loopback_only) -> Iterator[TxtResponder]:
    server = TxtResponder()
    settings.LANTERN_VERIFY_DNS_SERVERS = [f"{LOOPBACK}:{server.port}"]
    yield server
    server.close()


@pytest.fixture
def web_server(settings, loopback_only) -> Iterator[WellKnownServer]:
    server = WellKnownServer()
    settings.LANTERN_VERIFY_HTTP_PORTS = {"http": server.port}
    yield server
    server.close()
