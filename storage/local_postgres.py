"""A throwaway PostgreSQL server for the tests and the benchmarks (never for production).

`make test` runs every database test on SQLite and on PostgreSQL. Debian's server binaries
(package `postgresql`, installed by `make postgres` when missing) are enough: `LocalPostgres`
runs `initdb` into a temporary directory, starts the server on 127.0.0.1 on a free port with its
socket in that directory, and deletes it all on `stop()`. PostgreSQL refuses to run as root, so
under root the server runs as the `postgres` user (created by Debian's package; created here if
absent). Durability is switched off (`fsync=off`): the data dies with the test run anyway.

`BIRGE_TEST_POSTGRES_URL=postgresql+asyncpg://user@host:port/db` points the tests at an existing
server instead (a role allowed to create databases).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVER_USER = "postgres"
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
    "listen_addresses": "127.0.0.1",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (install Debian's `postgresql`: `make postgres`)."""


def bindir() -> Path | None:
    """Where `initdb` and `pg_ctl` are: Debian keeps them off PATH, one directory per version."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name)
                      if Path(p).parent.parent.name.isdigit() else 0)
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    return Path(os.path.realpath(found)).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """None when we are not root (the server then runs as us)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SERVER_USER], check=True, capture_output=True)
    return SERVER_USER


class LocalPostgres:
    """One temporary cluster: `start()`, `url(database)`, `create_database()`, `stop()`."""

    def __init__(self, port: int | None = None) -> None:
        found = bindir()
        if found is None:
            raise PostgresUnavailable("PostgreSQL server binaries not found "
                                      "(install Debian's postgresql: make postgres)")
        self.bin = found
        self.port = port or free_port()
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="birge-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.started = False

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / args[0]), *args[1:]], check=check,
                              capture_output=True, text=True, user=self.user,
                              cwd=str(self.root), env={**os.environ, "LC_ALL": "C.UTF-8"})

    def start(self) -> LocalPostgres:
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        except subprocess.CalledProcessError as exc:
            raise PostgresUnavailable(f"initdb failed: {exc.stderr.strip()[-300:]}") from None
        options = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
        options += f" -p {self.port} -k {self.root}"
        done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                         "-o", options, "start", check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-500:] if self.log.exists() else ""
            raise PostgresUnavailable(f"the server did not start: {done.stderr.strip()} {log}")
        self.started = True
        atexit.register(self.stop)  # a run that ends without stop() leaves no server behind
        self._watch()
        return self

    def _watch(self) -> None:
        """A run killed by a signal skips atexit: a detached watcher stops the server then."""
        pidfile = self.data / "postmaster.pid"
        try:
            server = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        script = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
                  f"kill -INT {server} 2>/dev/null; sleep 3; rm -rf '{self.root}'")
        subprocess.Popen(["sh", "-c", script], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)

    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = self._run("psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p",
                         str(self.port), "-U", "postgres", "-d", database, "-v",
                         "ON_ERROR_STOP=1", "-c", sql)
        return done.stdout.strip()

    def create_database(self, name: str, template: str | None = None) -> str:
        extra = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        self.psql(f'CREATE DATABASE "{name}"{extra}')
        return self.url(name)

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                      check=False)
            self.started = False
        # The server ran as another user: remove its files as root (we own the parent).
        for _ in range(3):
            shutil.rmtree(self.root, ignore_errors=True)
            if not self.root.exists():
                break
            time.sleep(0.2)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()
