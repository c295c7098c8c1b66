"""Make sure PostgreSQL and Redis answer, for `make up` and `make test`.

DATABASE_URL and REDIS_URL (defaults: the local PostgreSQL and Redis) are tried first. When one does not
answer and it is the default, a private server is started under var/ on its own port, installed from Debian
if its binaries are missing; when an explicit URL does not answer, this stops with a message saying so.
The URLs to use are written to var/services.env, which the Makefile's scripts source.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lantern"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PRIVATE_PG_PORT, PRIVATE_REDIS_PORT = 55432, 56379


def fail(message: str) -> None:
    print(f"lantern: {message}", file=sys.stderr)
    sys.exit(1)


def apt_install(*packages: str) -> None:
    script = f'source "{ROOT}/scripts/lib.sh"; apt_install {" ".join(packages)}'
    if subprocess.run(["bash", "-c", script]).returncode != 0:
        fail(f"could not install {' '.join(packages)}; install it by hand or point the URL at a running server")


def postgres_answers(url: str, dbname: str = "postgres") -> bool:
    parts = urlsplit(url)
    try:
        psycopg.connect(urlunsplit(parts._replace(path=f"/{dbname}")), connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def private_postgres() -> str:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        apt_install("postgresql")
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    bindir = Path(bins[-1]).parent
    data, sockets = VAR / "postgres", VAR / "postgres-run"
    url = f"postgres://postgres@127.0.0.1:{PRIVATE_PG_PORT}/lantern"
    if postgres_answers(url):
        return url
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        owner = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
        for path in (data, sockets):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, owner.pw_uid, owner.pw_gid)
        run_as = ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups", "--"]
    data.mkdir(parents=True, exist_ok=True)
    sockets.mkdir(parents=True, exist_ok=True)
    if not (data / "PG_VERSION").exists():
        print(f"lantern: creating a private PostgreSQL cluster in {data}")
        subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL)
    print(f"lantern: starting a private PostgreSQL on 127.0.0.1:{PRIVATE_PG_PORT}")
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(sockets / "postgres.log"), "-w",
                    "-o", f"-p {PRIVATE_PG_PORT} -c listen_addresses=127.0.0.1 -k {sockets}", "start"], check=True,
                   stdout=subprocess.DEVNULL)
    if not wait(lambda: postgres_answers(url), 30):
        fail(f"the private PostgreSQL did not start; see {sockets / 'postgres.log'}")
    return url


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def private_redis() -> str:
    if shutil.which("redis-server") is None:
        apt_install("redis-server")
    url = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"
    if redis_answers(url):
        return url
    (VAR / "redis").mkdir(parents=True, exist_ok=True)
    print(f"lantern: starting a private Redis on 127.0.0.1:{PRIVATE_REDIS_PORT}")
    subprocess.run(["redis-server", "--port", str(PRIVATE_REDIS_PORT), "--bind", "127.0.0.1", "--daemonize", "yes",
                    "--dir", str(VAR / "redis"), "--save", "", "--appendonly", "no",
                    "--logfile", str(VAR / "redis.log"), "--pidfile", str(VAR / "redis.pid")], check=True)
    if not wait(lambda: redis_answers(url), 15):
        fail(f"the private Redis did not start; see {VAR / 'redis.log'}")
    return url


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "lantern"
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            print(f"lantern: creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    VAR.mkdir(exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not postgres_answers(database_url):
        if database_url != DEFAULT_DATABASE_URL:
            fail(f"PostgreSQL at DATABASE_URL={database_url} does not answer; start it or unset DATABASE_URL")
        database_url = private_postgres()
    ensure_database(database_url)
    if not redis_answers(redis_url):
        if redis_url != DEFAULT_REDIS_URL:
            fail(f"Redis at REDIS_URL={redis_url} does not answer; start it or unset REDIS_URL")
        redis_url = private_redis()
    (VAR / "services.env").write_text(f"export DATABASE_URL='{database_url}'\nexport REDIS_URL='{redis_url}'\n")
    print(f"lantern: PostgreSQL {database_url} and Redis {redis_url} answer")


if __name__ == "__main__":
    main()
