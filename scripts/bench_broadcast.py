"""Benchmark: a broadcast to 10,000 members through the emulator, under Telegram's limits.

Processes as in production: the Bot API emulator (refusing with 429 above its cap), Birge
(`birge run`) and this driver. For each run it prints the sustained sending rate as a fraction of
the cap, lost messages (recipients who got nothing), duplicates (recipients who got more than one
copy), and the p95 reply latency of members who use the bot while the broadcast is going out.

1. capped: 10,000 recipients at 30 messages/s (Telegram's limit) — about six minutes;
2. fast: the same at a much higher cap, to show the engine itself is not the limit;
3. crash: SIGKILL Birge twice in the middle of a broadcast, start it again each time.

--year fills each run's database with a year of Birge's data first (scripts/year_data.py: 10,000
members, 100,000 questions, 1,500,000 outbox rows, ...) and sends to the year's members (issue 20);
--database runs on PostgreSQL ('local' starts a throwaway server from Debian's binaries).

Members are written straight into the database with bulk inserts (a benchmark needs 10,000 of them
in seconds; the tests build members through the services). Not a test: it prints figures.

    .venv/bin/python scripts/bench_broadcast.py [--recipients 10000] [--cap 30] [--fast-cap 500]
        [--runs capped,fast,crash] [--year [SCALE]] [--database local|postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy import insert, text
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox.client import EmulatorClient
from bot.services import broadcasts
from bot.services.broadcasts import Audience, Draft
from storage.db import Database
from storage.enums import BroadcastKind, MemberStatus, Position, Role
from storage.migrate import upgrade
from storage.models import Member, RoleAssignment
from storage.types import utcnow

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH"
FIRST_ID = 3_000_001
ACTIVE_FIRST_ID = 9_000_001


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Run:
    name: str
    cap: float
    recipients: int
    delivered: int = 0
    lost: int = 0
    duplicates: int = 0
    rate: float = 0.0
    seconds: float = 0.0
    replies: list[float] = field(default_factory=list)
    reply_timeouts: int = 0
    kills: int = 0
    responses_429: int = 0

    def p95(self) -> float:
        if not self.replies:
            return float("nan")
        data = sorted(self.replies)
        return data[min(len(data) - 1, int(len(data) * 0.95))] * 1000

    def print(self) -> None:
        replies_rate = len(self.replies) / self.seconds if self.seconds else 0.0
        print(f"{self.name}: {self.delivered}/{self.recipients} delivered in "
              f"{self.seconds:.0f} s; sustained {self.rate:.1f} msg/s = "
              f"{self.rate / self.cap:.2f} of the {self.cap:.0f}/s cap; lost {self.lost}; "
              f"duplicates {self.duplicates}; 429s {self.responses_429}"
              + (f"; SIGKILLed {self.kills} times" if self.kills else ""), flush=True)
        if self.replies:
            print(f"{self.name}: with the replies sent meanwhile the bot used "
                  f"{(self.rate + replies_rate) / self.cap:.2f} of the cap", flush=True)
        if self.replies or self.reply_timeouts:
            print(f"{self.name}: replies to members using the bot meanwhile: "
                  f"{len(self.replies)} measured, p95 {self.p95():.0f} ms, "
                  f"max {max(self.replies) * 1000:.0f} ms, timeouts {self.reply_timeouts}",
                  flush=True)


async def add_staff(s: AsyncSession) -> int:
    """The Union staff member who sends the broadcast (no district: never a recipient)."""
    staff = Member(telegram_id=1, full_name="Bench Staff", position=Position.EXPERT,
                   status=MemberStatus.ACTIVE, language="ru")
    s.add(staff)
    await s.flush()
    assert staff.id is not None
    s.add(RoleAssignment(member_id=staff.id, role=Role.UNION_STAFF))
    return staff.id


async def populate(url: str, count: int) -> int:
    """`count` active members across the districts and languages, and one staff member."""
    db = Database(url)
    try:
        async with db.transaction() as s:
            districts = [(d, r) for d, r in (await s.exec(  # type: ignore[call-overload]
                text("SELECT id, region_id FROM district"))).all()]
            rows = []
            for i in range(count):
                district, region = districts[i % len(districts)]
                rows.append({
                    "telegram_id": FIRST_ID + i, "full_name": f"Member {i}",
                    "language": ("ky", "ru", "en")[i % 3], "position": Position.HEAD_AO.value,
                    "region_id": region, "district_id": district,
                    "status": MemberStatus.ACTIVE.value, "reachable": True,
                    "created_at": utcnow(),
                })
            for start in range(0, len(rows), 2000):
                await s.exec(insert(Member).values(rows[start:start + 2000]))
            return await add_staff(s)
    finally:
        await db.dispose()


async def send_broadcast(url: str, staff_id: int, title: str) -> int:
    db = Database(url)
    try:
        async with db.read() as s:
            districts = [d for (d,) in (await s.exec(  # type: ignore[call-overload]
                text("SELECT id FROM district"))).all()]
        # All 40 districts: exactly the generated members (the staff member has no district).
        result = await broadcasts.submit_broadcast(db, staff_id, Draft(
            kind=BroadcastKind.LAW, title=title,
            text_ky=f"{title}: мыйзам кабыл алынды.", text_ru=f"{title}: принят закон.",
            text_en=f"{title}: a law was adopted.", audience=Audience(districts=districts),
        ))
        return result.recipients
    finally:
        await db.dispose()


def start_birge(api: str, db_url: str, workdir: Path, cap: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api, "LOG_LEVEL": "WARNING",
           "DATABASE_URL": db_url, "SEND_RATE_PER_SECOND": str(cap),
           "SEND_RATE_PER_CHAT_PER_SECOND": "1", "OUTBOX_POLL_SECONDS": "0.5",
           "QUIET_HOURS_START": "0", "QUIET_HOURS_END": "0"}  # a broadcast at any hour
    return subprocess.Popen([sys.executable, "-m", "bot", "run", "--no-migrate"], env=env,
                            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_emulator(port: int, cap: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox.emulator", "--port", str(port),
         "--rate-limit", str(cap)], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)


async def register(client: EmulatorClient, ids: list[int]) -> None:
    sem = asyncio.Semaphore(64)

    async def one(i: int, telegram_id: int) -> None:
        async with sem:
            await client.add_user(telegram_id, f"Member {i}", language_code="ru")

    await asyncio.gather(*(one(i, t) for i, t in enumerate(ids)))


async def year_members(url: str, scale: float) -> tuple[int, list[int]]:
    """--year: fill the database with a year's volume (scripts/year_data.py); its active
    members in the districts are the recipients, and one staff member is added."""
    from year_data import fill_year

    db = Database(url)
    try:
        began = time.perf_counter()
        counts = await fill_year(db, scale=scale)
        print(f"year of data: {sum(counts.values()):,} rows in "
              f"{time.perf_counter() - began:.0f} s", flush=True)
        async with db.transaction() as s:
            ids = [t for (t,) in (await s.exec(  # type: ignore[call-overload]
                text("SELECT telegram_id FROM member WHERE status = 'active' "
                     "AND district_id IS NOT NULL ORDER BY id"))).all()]
            return await add_staff(s), ids
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def database(server: str | None, tmp: Path, name: str) -> AsyncIterator[str]:
    """A fresh migrated database for one run: a SQLite file, or `birge_bench_<name>` on the
    PostgreSQL server (dropped afterwards)."""
    if server is None:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    from bench_search import admin
    from sqlalchemy.engine import make_url

    dbname = f"birge_bench_{name}"
    url = make_url(server).set(database=dbname).render_as_string(hide_password=False)
    await admin(server, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    await admin(server, f'CREATE DATABASE "{dbname}"')
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        with contextlib.suppress(Exception):
            await admin(server, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


async def active_members(client: EmulatorClient, stop: asyncio.Event, run: Run,
                         count: int = 10) -> None:
    """People who use the bot while the broadcast goes out: each sends /help every 3–6 s
    (about 2.5 messages a second together, which Telegram's cap has to carry as well)."""

    async def one(n: int) -> None:
        person = client.person(ACTIVE_FIRST_ID + n, f"Active {n}", language_code="ru")
        await asyncio.sleep(random.random())
        while not stop.is_set():
            started = time.perf_counter()
            await person.send("/help")
            got = await person.replies(timeout=10, count=1, settle_ms=0)
            if got:
                run.replies.append(time.perf_counter() - started)
            else:
                run.reply_timeouts += 1
            await asyncio.sleep(3 + 3 * random.random())

    await asyncio.gather(*(one(n) for n in range(count)))


async def delivered_counts(client: EmulatorClient, ids: list[int]) -> tuple[int, int, int]:
    stats = await client.stats()
    per_chat: dict[str, int] = stats["bot_messages"]
    copies = [per_chat.get(str(t), 0) for t in ids]
    return (sum(1 for c in copies if c >= 1), sum(c - 1 for c in copies if c > 1),
            int(stats.get("responses_429", 0)))


async def one_run(name: str, cap: float, recipients: int, kills: int,
                  measure_replies: bool, server: str | None = None,
                  year: float = 0.0) -> Run:
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port, cap)
    run = Run(name, cap, recipients)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                 timeout=aiohttp.ClientTimeout(total=None))
    birge: subprocess.Popen[bytes] | None = None
    try:
        async with http, EmulatorClient(api, session=http) as client:
            for _ in range(100):
                with contextlib.suppress(Exception):
                    await client.seq()
                    break
                await asyncio.sleep(0.1)
            async with contextlib.AsyncExitStack() as stack:
                tmp = stack.enter_context(tempfile.TemporaryDirectory())
                db_url = await stack.enter_async_context(database(server, Path(tmp), name))
                if year:
                    staff_id, ids = await year_members(db_url, year)
                    recipients = run.recipients = len(ids)
                else:
                    staff_id = await populate(db_url, recipients)
                    ids = [FIRST_ID + i for i in range(recipients)]
                await register(client, ids)
                birge = start_birge(api, db_url, Path(tmp), cap)
                await asyncio.sleep(3)
                stop = asyncio.Event()
                actives = asyncio.create_task(active_members(client, stop, run)) \
                    if measure_replies else None
                total = await send_broadcast(db_url, staff_id, name)
                assert total == recipients, (total, recipients)
                started = time.perf_counter()
                samples: list[tuple[float, int]] = []
                kill_at = [recipients * (k + 1) / (kills + 2) for k in range(kills)]
                # A killed Birge's claimed rows wait for their claim to expire (30 s) first.
                deadline = started + recipients / cap * 3 + 60 + 40 * kills
                while time.perf_counter() < deadline:
                    # The emulator's stats walk every chat; asking often would stall it and
                    # bunch up Birge's messages (showing 429s that are the driver's doing).
                    await asyncio.sleep(1.0 if recipients <= 3000 else 5.0)
                    got, _dup, _429 = await delivered_counts(client, ids)
                    samples.append((time.perf_counter(), got))
                    if kill_at and got >= kill_at[0]:
                        kill_at.pop(0)
                        assert birge is not None
                        birge.send_signal(signal.SIGKILL)
                        birge.wait()
                        run.kills += 1
                        birge = start_birge(api, db_url, Path(tmp), cap)
                    if got >= recipients:
                        break
                await asyncio.sleep(3)  # anything still in flight lands (or duplicates show)
                stop.set()
                if actives is not None:
                    await actives
                run.delivered, run.duplicates, run.responses_429 = await delivered_counts(
                    client, ids)
                run.lost = recipients - run.delivered
                if os.environ.get("BENCH_SHOW_429"):
                    for call in await client.calls():
                        if call.get("status") == 429:
                            print("429:", round(call["time"] - time.time() + time.perf_counter()
                                               - started, 2), call["method"],
                                  call["params"].get("chat_id"), flush=True)
                lo = next((t for t, n in samples if n >= recipients * 0.05), started)
                hi = next((t for t, n in samples if n >= recipients * 0.95), samples[-1][0])
                lo_n = next((n for t, n in samples if t >= lo), 0)
                hi_n = next((n for t, n in samples if t >= hi), recipients)
                run.rate = (hi_n - lo_n) / (hi - lo) if hi > lo else 0.0
                run.seconds = samples[-1][0] - started
    finally:
        if birge is not None and birge.poll() is None:
            birge.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                birge.wait(10)
        emulator.terminate()
        emulator.wait(10)
    return run


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--cap", type=float, default=30.0)
    parser.add_argument("--fast-cap", type=float, default=500.0)
    parser.add_argument("--crash-recipients", type=int, default=3_000)
    parser.add_argument("--runs", default="capped,fast,crash",
                        help="which runs, comma-separated")
    parser.add_argument("--year", nargs="?", type=float, const=1.0, default=0.0,
                        help="first fill each run's database with a year's volume (times this "
                        "scale); the year's members are the recipients")
    parser.add_argument("--database", help="run on this PostgreSQL server "
                        "(postgresql+asyncpg://..., or 'local' for a throwaway one)")
    args = parser.parse_args()
    runs = set(args.runs.split(","))
    local = None
    server = args.database
    if server == "local":
        from storage.local_postgres import LocalPostgres

        local = LocalPostgres().start()
        server = local.url()
    print(f"machine: {os.cpu_count()} cores; "
          f"{'PostgreSQL' if server else 'SQLite'}{'; a year of data' if args.year else ''}",
          flush=True)
    try:
        if "capped" in runs:
            (await one_run("capped", args.cap, args.recipients, 0, True, server,
                           args.year)).print()
        if "fast" in runs:
            (await one_run("fast", args.fast_cap, args.recipients, 0, True, server,
                           args.year)).print()
        if "crash" in runs:
            (await one_run("crash", args.fast_cap / 5, args.crash_recipients, 2, False, server,
                           args.year)).print()
    finally:
        if local is not None:
            local.stop()


if __name__ == "__main__":
    asyncio.run(main())
