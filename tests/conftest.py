"""Shared fixtures: a migrated database per test, on SQLite and on PostgreSQL.

Every test that takes `db_url` (or `db`, or anything built on them) runs twice, with the ids
`sqlite` and `postgresql`: `pytest -k sqlite` runs one backend. SQLite databases are copies of one
migrated file; PostgreSQL databases are copies of one migrated template on a throwaway server
(tests/postgres.py). Without PostgreSQL here the `postgresql` runs are skipped with the reason,
except under CI, where they fail (`make test` installs and starts the server).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.i18n import get_i18n
from bot.services import cache
from storage.db import Database
from storage.local_postgres import PostgresUnavailable
from storage.migrate import upgrade
from tests import postgres

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "birge.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


_server: postgres.TestServer | PostgresUnavailable | None = None


def pg_server() -> postgres.TestServer:
    """The test run's PostgreSQL server (started on first use), or a skip/fail naming why not."""
    global _server
    if _server is None:
        try:
            _server = postgres.start()
        except PostgresUnavailable as exc:
            _server = exc
    if isinstance(_server, PostgresUnavailable):
        reason = f"PostgreSQL unavailable: {_server}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests; `make test` installs "
                        "the server)")
        pytest.skip(reason)
    return _server


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if isinstance(_server, postgres.TestServer):
        _server.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _database(backend: str, tmp_path: Path, template: Path | None) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "birge.db"
        if template is not None:
            shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server = pg_server()
    name = server.migrated_database() if template is not None else server.empty_database()
    yield server.url(name)
    server.drop(name)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own for this test."""
    template = request.getfixturevalue("migrated_template") if backend == "sqlite" else Path()
    yield from _database(backend, tmp_path, template)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty (unmigrated) database of its own for this test."""
    yield from _database(backend, tmp_path, None)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture(autouse=True)
def i18n() -> Iterator[None]:
    get_i18n("ky")
    yield


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Each test has its own database, so nothing cached may leak from the previous one."""
    cache.clear_all()
    yield
    cache.clear_all()
