"""PostgreSQL for the tests: one throwaway server per test run, one fresh database per test.

The server is `storage.local_postgres.LocalPostgres` (Debian's binaries, a temporary cluster on
127.0.0.1), or the server named by `BIRGE_TEST_POSTGRES_URL`. A template database is migrated
once; each test gets a copy (`CREATE DATABASE ... TEMPLATE`, about 0.15 s) that is dropped after.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from sqlalchemy.engine import make_url

from storage.local_postgres import LocalPostgres, PostgresUnavailable
from storage.migrate import upgrade

ENV_URL = "BIRGE_TEST_POSTGRES_URL"
TEMPLATE = "birge_test_template"


class TestServer:
    __test__ = False  # not a test class

    def __init__(self) -> None:
        self.local: LocalPostgres | None = None
        external = os.environ.get(ENV_URL, "").strip()
        if external:
            self.base = make_url(external).set(drivername="postgresql+asyncpg")
        else:
            self.local = LocalPostgres().start()
            self.base = make_url(self.local.url())
        self._admin: Any = None
        self._names = itertools.count(1)
        self._prefix = f"birge_test_{os.getpid()}_"
        self._template_ready = False

    def url(self, database: str) -> str:
        return self.base.set(database=database).render_as_string(hide_password=False)

    def _sql(self, statement: str) -> None:
        if self._admin is None:
            import psycopg

            dsn = self.base.set(drivername="postgresql", database="postgres")
            self._admin = psycopg.connect(dsn.render_as_string(hide_password=False),
                                          autocommit=True)
        self._admin.execute(statement)

    def _template(self) -> str:
        name = f"{self._prefix}template"
        if not self._template_ready:
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._sql(f'CREATE DATABASE "{name}"')
            upgrade(self.url(name))
            self._template_ready = True
        return name

    def empty_database(self) -> str:
        name = f"{self._prefix}{next(self._names)}"
        self._sql(f'CREATE DATABASE "{name}"')
        return name

    def migrated_database(self) -> str:
        template = self._template()
        name = f"{self._prefix}{next(self._names)}"
        self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return name

    def drop(self, name: str) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._admin is not None:
            if self.local is None and self._template_ready:
                self._admin.execute(f'DROP DATABASE IF EXISTS "{self._prefix}template" '
                                    "WITH (FORCE)")
            self._admin.close()
            self._admin = None
        if self.local is not None:
            self.local.stop()


def start() -> TestServer:
    """The server, or PostgresUnavailable naming why not."""
    try:
        import asyncpg  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable(f"the PostgreSQL drivers are not installed ({exc.name}); "
                                  "run: make setup") from None
    return TestServer()
