"""Loopback TLS servers for the live tests of the TLS engines (sslyze, sslscan, testssl.sh).

Certificates are made with the openssl command line (the same binary the servers run), so the tests need
nothing beyond what the TLS engines themselves need. An already-expired certificate cannot be made with
`openssl req -x509` (it has no start date), so `openssl ca -selfsign` with explicit dates is used, as in
engines/sslscan/tests/fixtures/PROVENANCE.md.

Servers are `openssl s_server -www` on 127.0.0.1 and a port that was free a moment before (never 2024, the
machine's own management port). Their output goes to a file, not a pipe: a scanner makes hundreds of
handshakes and s_server reports each failure, which would fill a pipe nobody reads and freeze the server.
Every server runs in its own process group and is killed when its context ends, whatever happened inside.

testssl.sh looks up names even with `--nodns none`, and this machine's resolver is not on loopback, so its
live test runs the server and the tool inside `network_namespace()`: a fresh namespace whose only interface
is `lo` (root only).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

NEVER_PORT = 2024
LOOPBACK = "127.0.0.1"
_LEGACY_ARGS = ("-min_protocol", "TLSv1", "-cipher", "ALL:@SECLEVEL=0")


@dataclass(frozen=True)
class Certificate:
    """A certificate and its key on disk, with what the tests expect a scanner to report about it."""

    cert_path: Path
    key_path: Path
    common_name: str
    organisation: str
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: datetime
    not_after: datetime

    @property
    def subject(self) -> str:
        """RFC 4514, most specific attribute first (how sslyze and the sslscan parser write names)."""
        organisation = f",O={self.organisation}" if self.organisation else ""
        return f"CN={self.common_name}{organisation}"

    @property
    def sans(self) -> tuple[str, ...]:
        return self.dns_names + self.ip_addresses


@dataclass(frozen=True)
class TlsServer:
    host: str
    port: int
    certificate: Certificate
    legacy: bool
    log_path: Path


def _openssl(*args: str, cwd: Path) -> str:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


def _subject_arg(common_name: str, organisation: str) -> str:
    return f"/O={organisation}/CN={common_name}" if organisation else f"/CN={common_name}"


def _san_extension(dns_names: tuple[str, ...], ip_addresses: tuple[str, ...]) -> str:
    entries = [f"DNS:{name}" for name in dns_names] + [f"IP:{address}" for address in ip_addresses]
    return "subjectAltName=" + ",".join(entries)


def _read_dates(cert_path: Path) -> tuple[datetime, datetime]:
    """The validity window as openssl wrote it (the certificate is the truth, not what was asked for)."""
    output = _openssl("x509", "-in", str(cert_path), "-noout", "-startdate", "-enddate",
                      "-dateopt", "iso_8601", cwd=cert_path.parent)
    values = dict(line.split("=", 1) for line in output.strip().splitlines())

    def read(text: str) -> datetime:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=timezone.utc)

    return read(values["notBefore"]), read(values["notAfter"])


def self_signed_certificate(directory: Path, *, common_name: str = "lantern.test",
                            organisation: str = "Lantern Test",
                            dns_names: tuple[str, ...] = ("lantern.test", "www.lantern.test"),
                            ip_addresses: tuple[str, ...] = (LOOPBACK,), days: int = 2) -> Certificate:
    """A currently valid self-signed RSA-2048 certificate (valid from now for `days` days)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"selfsigned-{secrets.token_hex(4)}"
    cert_path, key_path = stem.with_suffix(".crt"), stem.with_suffix(".key")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days), "-sha256",
             "-subj", _subject_arg(common_name, organisation),
             "-addext", _san_extension(dns_names, ip_addresses),
             "-keyout", str(key_path), "-out", str(cert_path), cwd=directory)
    not_before, not_after = _read_dates(cert_path)
    return Certificate(cert_path, key_path, common_name, organisation, dns_names, ip_addresses, not_before,
                       not_after)


_CA_CONFIG = """\
[ca]
default_ca = lantern_ca
[lantern_ca]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
[policy_any]
organizationName = optional
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
{dn}
"""


def expired_certificate(directory: Path, *, common_name: str = "expired.lantern.test",
                        organisation: str = "Lantern Test",
                        dns_names: tuple[str, ...] = ("expired.lantern.test",),
                        ip_addresses: tuple[str, ...] = (LOOPBACK,),
                        not_before: datetime = datetime(2020, 1, 1, tzinfo=timezone.utc),
                        not_after: datetime = datetime(2020, 1, 2, tzinfo=timezone.utc)) -> Certificate:
    """A self-signed certificate whose validity window is over (by default 2020-01-01 to 2020-01-02)."""
    ca_dir = directory / f"ca-{secrets.token_hex(4)}"
    (ca_dir / "newcerts").mkdir(parents=True)
    (ca_dir / "index.txt").write_text("")
    (ca_dir / "serial").write_text("1000\n")
    dn = "\n".join(([f"O = {organisation}"] if organisation else []) + [f"CN = {common_name}"])
    config = ca_dir / "ca.cnf"
    config.write_text(_CA_CONFIG.format(dir=ca_dir, dn=dn))
    key_path, csr_path, cert_path = ca_dir / "expired.key", ca_dir / "expired.csr", ca_dir / "expired.crt"
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key_path), "-out", str(csr_path),
             "-config", str(config), "-addext", _san_extension(dns_names, ip_addresses), cwd=ca_dir)
    _openssl("ca", "-batch", "-notext", "-config", str(config), "-selfsign", "-keyfile", str(key_path),
             "-in", str(csr_path), "-startdate", f"{not_before:%Y%m%d%H%M%S}Z",
             "-enddate", f"{not_after:%Y%m%d%H%M%S}Z", "-out", str(cert_path), cwd=ca_dir)
    start, end = _read_dates(cert_path)
    return Certificate(cert_path, key_path, common_name, organisation, dns_names, ip_addresses, start, end)


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nothing listens on right now (never 2024). Racy by nature; good enough for tests."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
        if port != NEVER_PORT:
            return port
    raise RuntimeError("no free port found")


@contextmanager
def job_workdir(prefix: str = "lantern-tls-") -> Iterator[Path]:
    """A fresh job directory directly under the system temp directory, removed afterwards. The runner hands
    the workdir to nobody, who cannot reach pytest's tmp_path (it sits under a 0700 directory of root's)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def network_namespace() -> Iterator[str]:
    """A new named network namespace with only `lo` up; deleted on exit. Root only."""
    name = f"lantern-tls-{os.getpid()}-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=30)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True,
                       capture_output=True, timeout=30)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=30)


def namespace_prefix(netns: str | None) -> list[str]:
    """The argv prefix that runs a command inside `netns` (nothing for the machine's own namespace)."""
    return ["ip", "netns", "exec", netns] if netns else []


@contextmanager
def tls_server(certificate: Certificate, *, legacy: bool = False, host: str = LOOPBACK,
               port: int | None = None, netns: str | None = None,
               startup_timeout_s: float = 15.0) -> Iterator[TlsServer]:
    """`openssl s_server -www` with `certificate` on host:port until the block ends.

    legacy=True also accepts TLS 1.0 and 1.1 and every cipher suite (SECLEVEL 0), the shape of an old server.
    The server is ready when it prints ACCEPT; it is killed (its whole process group) on the way out."""
    port = port or free_port(host)
    if port == NEVER_PORT:
        raise ValueError("port 2024 belongs to the machine's management service")
    log_path = certificate.cert_path.parent / f"s_server-{port}.log"
    argv = namespace_prefix(netns) + [
        "openssl", "s_server", "-accept", f"{host}:{port}", "-cert", str(certificate.cert_path),
        "-key", str(certificate.key_path), "-www", *(_LEGACY_ARGS if legacy else ())]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        _wait_until_accepting(process, log_path, startup_timeout_s)
        yield TlsServer(host=host, port=port, certificate=certificate, legacy=legacy, log_path=log_path)
    finally:
        _kill_group(process)


def _wait_until_accepting(process: subprocess.Popen[bytes], log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if b"ACCEPT" in log_path.read_bytes():
            return
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")
            raise RuntimeError(f"s_server exited with {process.returncode}: {log}")
        time.sleep(0.05)
    raise RuntimeError(f"s_server did not start within {timeout_s} s")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's group, a short grace, then SIGKILL to whatever is left; reaps the server."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=3)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
