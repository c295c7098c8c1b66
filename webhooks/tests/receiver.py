"""A real HTTP receiver on 127.0.0.1 for webhook tests and the benchmark: a threaded http.server that
answers `fail_status` to its first `fail_times` requests and `status` afterwards, optionally after a delay,
and records what it got."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() when it arrived


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # read by listen() in the constructor, so it must be a class attribute
    daemon_threads = True
    block_on_close = False
    receiver: Receiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its keep-alive connection (a worker stopping) is not an error here."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    server: _Server

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        number = receiver.record(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                          time.monotonic()))
        status = receiver.fail_status if number <= receiver.fail_times else receiver.status
        if receiver.delay_s and receiver.stopping.wait(receiver.delay_s):
            return
        answer = b'{"ok": true}' if 200 <= status < 300 else b'{"error": "try later"}'
        try:
            self.send_response(status)
            for name, value in receiver.response_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        return


class Receiver:
    def __init__(self, *, status: int = 200, fail_times: int = 0, fail_status: int = 503,
                 delay_s: float = 0.0, response_headers: dict[str, str] | None = None,
                 record: bool = True) -> None:
        self.status, self.fail_times, self.fail_status = status, fail_times, fail_status
        self.delay_s = delay_s
        self.response_headers = response_headers or {}
        self.keep = record
        self.requests: list[Received] = []
        self.count = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def record(self, received: Received) -> int:
        with self._arrived:
            self.count += 1
            if self.keep:
                self.requests.append(received)
            self._arrived.notify_all()
            return self.count

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first `count` requests, waiting up to `timeout` seconds for them; AssertionError otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: self.count >= count, timeout=timeout):
                raise AssertionError(f"the receiver got {self.count} of {count} requests in {timeout} s")
            return list(self.requests[:count])

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
