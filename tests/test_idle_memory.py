"""Idle memory (issue 20): charts, exports, parsers, fuzzy matching, stemming and Alembic are
imported when first used, never by starting Birge; neither are PostgreSQL's drivers and dialect on
SQLite, nor the `unittest` framework aiogram would pull in for three sentinels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from storage.migrate import head_from_files, head_revision

HEAVY = ("matplotlib", "numpy", "PIL", "openpyxl", "docx", "lxml", "pyxform", "icalendar",
         "rapidfuzz", "snowballstemmer", "alembic", "mako", "pygments")

START = """
import json, sys
import bot.cli, bot.app, bot.scheduler, bot.jobs, bot.delivery, bot.handlers  # noqa: F401
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


# Birge as `birge run` builds it on SQLite: every feature's router (handlers are imported by
# `routers()`), the Bot, the Dispatcher, the outbox worker and the scheduler.
BUILD = """
import json, os, sys
os.environ.update(BOT_TOKEN="123456:IDLE", DATABASE_URL="sqlite+aiosqlite:///" + sys.argv[1])
from bot.app import Birge
from bot.config import Settings
app = Birge(Settings())
assert app.dp.sub_routers
print(json.dumps(sorted(sys.modules)))
"""

ON_SQLITE = ("sqlalchemy.dialects.postgresql", "asyncpg", "psycopg", "unittest")


def test_building_birge_on_sqlite_imports_no_heavy_module(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", BUILD, str(tmp_path / "idle.db")],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    heavy = [name for name in loaded
             if any(name == h or name.startswith(h + ".") for h in (*HEAVY, *ON_SQLITE))]
    assert heavy == []


def test_starting_birge_imports_no_heavy_module() -> None:
    out = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert sorted(loaded & set(HEAVY)) == []


def test_the_start_up_check_reads_the_same_head_as_alembic() -> None:
    assert head_from_files() == head_revision("sqlite+aiosqlite:///unused.db")


# The scheduler as the leader starts it: APScheduler, its job store and every feature's job.
SCHEDULE = """
import asyncio, json, os, sys
os.environ.update(BOT_TOKEN="123456:IDLE", DATABASE_URL=sys.argv[1])
from bot.config import Settings
from bot.jobs.registry import REGISTRY
from bot.scheduler import Scheduler
from storage.db import Database

async def main() -> None:
    db = Database(sys.argv[1])
    scheduler = Scheduler(db, Settings())
    await scheduler.start()
    try:
        assert scheduler.leader
        planned = [await scheduler.next_run(name) for name in REGISTRY]
        assert all(planned), planned
    finally:
        await scheduler.stop()
        await db.dispose()

asyncio.run(main())
print(json.dumps(sorted(sys.modules)))
"""


def test_the_scheduler_keeps_its_jobs_through_birges_own_driver(db_url: str) -> None:
    """APScheduler's job store used to need a second, synchronous driver: psycopg on
    PostgreSQL (~10 MB in every process). Now no process loads it."""
    out = subprocess.run([sys.executable, "-c", SCHEDULE, db_url], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert [name for name in loaded if name.split(".")[0] in ("psycopg", "psycopg2")] == []
    if db_url.startswith("sqlite"):
        assert "sqlalchemy.dialects.postgresql" not in loaded


# What the garbage collector still walks once Birge has started (`settle_memory`, called by
# `birge run` after start-up): in a fresh process, so the test run's own objects do not count.
SETTLED = """
import gc, json, os, sys
os.environ.update(BOT_TOKEN="123456:IDLE", DATABASE_URL="sqlite+aiosqlite:///" + sys.argv[1])
from bot.app import Birge, settle_memory
from bot.config import Settings
app = Birge(Settings())
gc.collect()
before = len(gc.get_objects())
settle_memory()
print(json.dumps([before, len(gc.get_objects()), gc.get_freeze_count(), gc.get_threshold()[2]]))
"""


def test_a_started_birge_keeps_its_start_up_objects_out_of_the_collectors_walks(
        tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", SETTLED, str(tmp_path / "idle.db")],
                         capture_output=True, text=True, check=True)
    before, walked, frozen, full_every = json.loads(out.stdout.strip().splitlines()[-1])
    assert before > 100_000  # aiogram, SQLAlchemy, the routers, the catalogs
    assert frozen >= before * 0.9
    assert walked < 2_000  # a full collection now walks only what came after
    assert full_every >= 100  # and comes after 100 middle-generation collections, not 10
