"""The servers ownership checks are tested against, started by the tests on 127.0.0.1 and nowhere else:
an authoritative UDP DNS responder for TXT records and an HTTP server for the well-known file."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

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
    """Serves `files` (path -> (status, body, headers)) and records the Host header of every request."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.hosts: list[str] = []
        super().__init__((LOOPBACK, 0), _Handler)
        self.port = int(self.server_address[1])
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def put(self, path: str, body: str | bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
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


@pytest.fixture
def loopback_only(settings) -> None:
    """Verification may talk only to loopback: the pinned test name, and no resolver or web server unless a
    test starts one (the defaults point at closed loopback ports)."""
    settings.LANTERN_TARGET_POLICY = "loopback"
    settings.LANTERN_LOOPBACK_NAMES = [f"{OWNED_NAME}={LOOPBACK}", "scanme.lantern.test=127.0.0.1"]
    settings.LANTERN_VERIFY_DNS_SERVERS = [f"{LOOPBACK}:{closed_port()}"]
    settings.LANTERN_VERIFY_HTTP_PORTS = {"http": closed_port()}
    settings.LANTERN_VERIFY_TIMEOUT_S = 2.0


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
