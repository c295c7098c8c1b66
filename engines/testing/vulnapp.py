"""A deliberately vulnerable web app for the live engine tests. Never expose it: it binds 127.0.0.1 only.

Live tests need a target whose flaws are known, so that "the tool found nothing" is a failure and not a
plausible answer. Standard library only (no framework to install), an in-memory SQLite database, and:

* ``/``: an index linking to the pages below, so crawlers find them.
* ``/item?id=1``: a real SQL injection. The query is built by string concatenation and run on SQLite;
  errors are echoed (``sqlite3.OperationalError: ...``) as error-based detectors expect.
* ``/search?q=...``: a reflected XSS. The parameter is echoed into the HTML unescaped.
* ``/slow?id=1``: answers after SLOW_S seconds (not linked, so crawlers skip it), so that timeout tests
  do not depend on how fast a tool happens to be.

The listen backlog is raised to 128 (Python's default of 5 makes parallel scanners lose SYNs and wait 1 s for
each retry, see shared/ENGINES.md), and each request runs in its own thread.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

NEVER_PORT = 2024  # the machine's management service: never serve or scan it
ITEMS = ((1, "lantern", 3), (2, "torch", 5), (3, "candle", 11))
SLOW_S = 30.0

INDEX = """<!doctype html>
<html><head><title>Vulnapp</title></head><body>
<h1>Vulnapp</h1>
<ul>
<li><a href="/item?id=1">Item 1</a></li>
<li><a href="/item?id=2">Item 2</a></li>
<li><a href="/search?q=lamp">Search</a></li>
</ul>
<form action="/search" method="get"><input type="text" name="q" value=""><input type="submit"></form>
</body></html>
"""


class _Database:
    """One in-memory connection shared by the request threads; the lock serialises access to it."""

    def __init__(self) -> None:
        self._connection = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price INTEGER)")
        self._connection.executemany("INSERT INTO items VALUES (?, ?, ?)", ITEMS)
        self._connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT, password TEXT)")
        self._connection.execute("INSERT INTO users VALUES (1, 'admin', 'hunter2')")

    def unsafe_query(self, sql: str) -> list[tuple[object, ...]]:
        with self._lock:
            return self._connection.execute(sql).fetchall()

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class _Handler(BaseHTTPRequestHandler):
    server: _VulnServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path == "/":
            self._send(200, INDEX)
        elif parts.path == "/item":
            self._item(params.get("id", "1"))
        elif parts.path == "/slow":
            if not self.server.stopping.wait(SLOW_S):
                self._item(params.get("id", "1"))
        elif parts.path == "/search":
            query = params.get("q", "")
            # Deliberately unescaped: the reflected XSS the scanners must find.
            self._send(200, f"<html><body><h1>Results for {query}</h1><p>No match.</p></body></html>")
        else:
            self._send(404, "<html><body>Not found</body></html>")

    def _item(self, item_id: str) -> None:
        # Deliberately concatenated: the SQL injection the scanners must find.
        sql = "SELECT id, name, price FROM items WHERE id = " + item_id
        try:
            rows = self.server.database.unsafe_query(sql)
        except sqlite3.Error as exc:
            self._send(500, f"<html><body><pre>sqlite3.{type(exc).__name__}: {exc}</pre></body></html>")
            return
        body = "".join(f"<li>{row[1]}: {row[2]}</li>" for row in rows) or "<li>no such item</li>"
        self._send(200, f"<html><body><ul>{body}</ul></body></html>")

    def _send(self, status: int, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: scanners send thousands of requests and the test output must stay readable."""


class _VulnServer(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.database = _Database()
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Scanners drop connections all the time (and killed tools drop them mid-answer): not an error
        worth a traceback. Anything else is still reported."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@contextmanager
def running_vulnapp() -> Iterator[str]:
    """Serve the vulnerable app on 127.0.0.1 and a free port; yields the base URL ("http://127.0.0.1:N")."""
    server = _VulnServer()
    if server.server_address[1] == NEVER_PORT:
        server.server_close()
        server = _VulnServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        server.database.close()
