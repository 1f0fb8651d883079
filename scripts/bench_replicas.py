"""Benchmark: Birge as several replicas on one PostgreSQL server, behind a load balancer.

Processes as in production: PostgreSQL (a throwaway local server from Debian's binaries, or
`--database`), the Bot API emulator (refusing above its cap with 429, and spreading its webhook
deliveries over the replicas as a load balancer would), N Birge replicas in webhook mode
(`birge run --no-migrate`, plus a test job ticking every few seconds) and this driver.

1. updates: members act as fast as the bot answers (closed loop), against 1 replica and then
   3 replicas: handled updates per second and reply latency (p50/p95);
2. broadcast: 10,000 recipients at the 30/s cap with 3 replicas while members use the bot:
   lost, duplicates, the sustained rate and the busiest second of the bot as a whole, 429s;
3. crash: a broadcast to 3,000 more recipients; one replica is SIGKILLed twice mid-broadcast
   (and started again): lost, duplicates;
4. slots: a job scheduled every `--tick` seconds runs on the lease holder through 2 and 3 and
   then until `--slot-minutes` (10) have passed, while replicas are SIGTERMed, SIGKILLed and
   started again (one a minute after 3): slots run, gaps, slots run twice.

Members are written straight into the database with bulk inserts. Not a test: it prints figures.

    .venv/bin/python scripts/bench_replicas.py [--database postgresql+asyncpg://...]
        [--recipients 10000] [--crash-recipients 3000] [--cap 30] [--seconds 20]
        [--slot-minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench_broadcast import add_staff  # noqa: E402
from bench_search import admin  # noqa: E402
from bench_updates import BirgeMember, closed_loop  # noqa: E402

from bot.sandbox.client import EmulatorClient  # noqa: E402
from bot.services import broadcasts  # noqa: E402
from bot.services.broadcasts import Audience, Draft  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.enums import BroadcastKind, MemberStatus, Position  # noqa: E402
from storage.local_postgres import LocalPostgres, free_port  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import JobRun, Member  # noqa: E402
from storage.types import utcnow  # noqa: E402
from tests.replicas.cluster import Cluster, Replica  # noqa: E402

BROADCAST_FIRST = 3_000_001
CRASH_FIRST = 5_000_001
ACTIVE_FIRST = 9_000_001


# --- the database ------------------------------------------------------------------------------


async def fresh_database(base: str, name: str) -> str:
    await admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(base, f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    return url


async def populate(url: str, first: int, count: int) -> list[int]:
    """`count` active members with Telegram ids from `first`; returns their member ids."""
    db = Database(url)
    try:
        async with db.transaction() as s:
            districts = list((await s.exec(  # type: ignore[call-overload]
                text("SELECT id, region_id FROM district"))).all())
            rows = []
            for i in range(count):
                district, region = districts[i % len(districts)]
                rows.append({
                    "telegram_id": first + i, "full_name": f"Member {i}",
                    "language": ("ky", "ru", "en")[i % 3], "position": Position.HEAD_AO.value,
                    "region_id": region, "district_id": district,
                    "status": MemberStatus.ACTIVE.value, "reachable": True,
                    "created_at": utcnow(),
                })
            for start in range(0, len(rows), 2000):
                await s.exec(insert(Member).values(rows[start:start + 2000]))
        async with db.read() as s:
            ids = (await s.exec(select(Member.id).where(
                col(Member.telegram_id) >= first, col(Member.telegram_id) < first + count)
                .order_by(col(Member.id)))).all()
        return [int(i or 0) for i in ids]
    finally:
        await db.dispose()


async def staff_member(url: str) -> int:
    db = Database(url)
    try:
        async with db.transaction() as s:
            return await add_staff(s)
    finally:
        await db.dispose()


async def send_broadcast(url: str, staff: int, title: str, member_ids: list[int]) -> int:
    db = Database(url)
    try:
        result = await broadcasts.submit_broadcast(db, staff, Draft(
            kind=BroadcastKind.LAW, title=title, text_ky=f"{title}: мыйзам.",
            text_ru=f"{title}: закон.", text_en=f"{title}: a law.",
            audience=Audience(members=member_ids)))
        return result.recipients
    finally:
        await db.dispose()


# --- the emulator -------------------------------------------------------------------------------


def start_emulator(port: int, cap: float | None) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bot.sandbox.emulator", "--port", str(port)]
    if cap:
        args += ["--rate-limit", str(cap)]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def register(client: EmulatorClient, first: int, count: int) -> None:
    sem = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        async with sem:
            await client.add_user(first + i, f"Member {i}", language_code="ru")

    await asyncio.gather(*(one(i) for i in range(count)))


async def copies(client: EmulatorClient, first: int, count: int) -> tuple[int, int]:
    per_chat: dict[str, int] = (await client.stats())["bot_messages"]
    got = [per_chat.get(str(first + i), 0) for i in range(count)]
    return sum(1 for c in got if c), sum(c - 1 for c in got if c > 1)


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, at in enumerate(times):
        while at - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def send_times(client: EmulatorClient, since: float) -> list[float]:
    """When the bot's messages reached the emulator (every chat: the bot as a whole)."""
    sent = ("sendmessage", "sendphoto", "senddocument", "editmessagetext",
            "editmessagereplymarkup", "copymessage", "forwardmessage")
    return [float(c["time"]) for c in await client.calls()
            if c["method"].lower() in sent and c["status"] == 200 and c["time"] >= since]


async def set_backends(client: EmulatorClient, cluster: Cluster) -> None:
    await client.config(webhook_backends=cluster.backends())


# --- the runs -------------------------------------------------------------------------------------


async def updates_run(base: str, api: str, client: EmulatorClient, workdir: Path,
                      replicas: int, args: argparse.Namespace,
                      ids: itertools.count[int]) -> str:
    url = await fresh_database(base, f"bench_updates_{replicas}")
    cluster = Cluster(url, api, workdir, {"SEND_RATE_PER_SECOND": "1000",
                                          "SEND_RATE_PER_CHAT_PER_SECOND": "100",
                                          "DATABASE_POOL_SIZE": "10"})
    try:
        started = [cluster.start() for _ in range(replicas)]
        await set_backends(client, cluster)
        await cluster.ready(*started)
        await asyncio.sleep(2)
        crowd = [BirgeMember(client.person(next(ids), f"M{i}", language_code="ru"), i)
                 for i in range(args.members)]
        throughput, stats = await closed_loop(crowd, args.seconds)
    finally:
        cluster.stop_all()
    return (f"updates, {replicas} replica{'s' if replicas > 1 else ''}: {throughput:.0f} "
            f"updates/s at {args.members} members (p50 {stats.pct(50):.1f} ms, "
            f"p95 {stats.pct(95):.1f} ms, timeouts {stats.timeouts})")


async def active_members(client: EmulatorClient, stop: asyncio.Event,
                         replies: list[float], count: int = 10) -> None:
    """People using the bot meanwhile: /help every 3–6 s each."""

    async def one(n: int) -> None:
        person = client.person(ACTIVE_FIRST + n, f"Active {n}", language_code="ru")
        await asyncio.sleep(random.random())
        while not stop.is_set():
            began = time.perf_counter()
            await person.send("/help")
            if await person.replies(timeout=10, count=1, settle_ms=0):
                replies.append(time.perf_counter() - began)
            await asyncio.sleep(3 + 3 * random.random())

    await asyncio.gather(*(one(n) for n in range(count)))


def p95(values: list[float]) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, int(len(data) * 0.95))] * 1000 if data else float("nan")


async def broadcast_run(url: str, staff: int, client: EmulatorClient, cluster: Cluster,
                        name: str, first: int, count: int, cap: float, kills: int) -> str:
    ids = await populate(url, first, count)
    await register(client, first, count)
    stop = asyncio.Event()
    replies: list[float] = []
    actives = asyncio.create_task(active_members(client, stop, replies))
    began_wall = time.time()
    began = time.perf_counter()
    total = await send_broadcast(url, staff, name, ids)
    assert total == count, (total, count)
    kill_at = [count * (k + 1) / (kills + 2) for k in range(kills)]
    killed = 0
    samples: list[tuple[float, int]] = []
    deadline = began + count / cap * 3 + 120
    while time.perf_counter() < deadline:
        await asyncio.sleep(2.0 if count <= 3000 else 5.0)
        got, _dup = await copies(client, first, count)
        samples.append((time.perf_counter(), got))
        if kill_at and got >= kill_at[0]:
            kill_at.pop(0)
            victim = next(r for r in cluster.replicas if r.alive())
            victim.kill()
            killed += 1
            fresh = cluster.start()
            await set_backends(client, cluster)
            await cluster.ready(fresh)
        if got >= count:
            break
    await asyncio.sleep(3)
    stop.set()
    await actives
    delivered, duplicates = await copies(client, first, count)
    stats = await client.stats()
    times = await send_times(client, began_wall)
    lo = next((t for t, n in samples if n >= count * 0.05), began)
    hi = next((t for t, n in samples if n >= count * 0.95), samples[-1][0])
    lo_n = next((n for t, n in samples if t >= lo), 0)
    hi_n = next((n for t, n in samples if t >= hi), count)
    rate = (hi_n - lo_n) / (hi - lo) if hi > lo else 0.0
    return (f"{name}: {delivered}/{count} delivered in {samples[-1][0] - began:.0f} s by "
            f"{len([r for r in cluster.replicas if r.alive()])} replicas; lost "
            f"{count - delivered}; duplicates {duplicates}; sustained {rate:.1f} msg/s = "
            f"{rate / cap:.2f} of the {cap:.0f}/s cap; the bot's busiest second (all "
            f"messages, every replica) {busiest_second(times)}; 429s "
            f"{stats.get('responses_429', 0)} (over the bot's cap "
            f"{stats.get('rate_limited_bot', 0)}, over a chat's 1/s "
            f"{stats.get('rate_limited_chat', 0)})"
            + (f"; SIGKILLed {killed} times" if killed else "")
            + f"\n{name}: replies to members using the bot meanwhile: {len(replies)}, "
              f"p95 {p95(replies):.0f} ms")


def read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def slots_report(url: str, ticks: Path, tick: float, restarts: int) -> str:
    db = Database(url)
    try:
        async with db.read() as s:
            runs = (await s.exec(select(JobRun).where(JobRun.name == "test.tick")
                                 .order_by(col(JobRun.slot)))).all()
    finally:
        await db.dispose()
    slots = [r.slot for r in runs]
    if not slots:
        return "slots: none ran"
    gaps = sum(1 for a, b in itertools.pairwise(slots) if b - a != timedelta(seconds=tick))
    unfinished = sum(1 for r in runs if r.finished_at is None)
    lines = await asyncio.to_thread(read_lines, ticks)
    pids = {line.split()[0] for line in lines}
    span = (slots[-1] - slots[0]).total_seconds() / 60
    return (f"slots: a job every {tick:.0f} s over {span:.1f} minutes with {restarts} replica "
            f"restarts: {len(slots)} slots, each recorded once; gaps {gaps}; unfinished "
            f"{unfinished}; job bodies run {len(lines)} times by {len(pids)} processes "
            f"(twice: {len(lines) - len(slots)})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="postgresql+asyncpg://user@host:port/db of a role "
                        "that may create databases (default: a throwaway local server)")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--crash-recipients", type=int, default=3_000)
    parser.add_argument("--cap", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="closed-loop seconds")
    parser.add_argument("--members", type=int, default=100, help="closed-loop members")
    parser.add_argument("--tick", type=float, default=5.0, help="the test job's period")
    parser.add_argument("--runs", default="updates,broadcast,crash")
    parser.add_argument("--slot-minutes", type=float, default=10.0,
                        help="keep the replicas (restarted every minute) running at least this "
                        "long for the slots report")
    args = parser.parse_args()
    runs = set(args.runs.split(","))
    local = None if args.database else LocalPostgres().start()
    base = args.database or (local.url() if local else "")
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port, args.cap)
    print(f"machine: {os.cpu_count()} cores; PostgreSQL "
          f"{'local throwaway server' if local else make_url(base).host}", flush=True)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                 timeout=aiohttp.ClientTimeout(total=None))
    cluster: Cluster | None = None
    try:
        async with http, EmulatorClient(api, session=http) as client:
            for _ in range(100):
                with contextlib.suppress(Exception):
                    await client.seq()
                    break
                await asyncio.sleep(0.1)
            with tempfile.TemporaryDirectory() as tmp:
                workdir = Path(tmp)
                ids = itertools.count(100_001)
                if "updates" in runs:
                    await client.config(rate_limit_per_second=0)
                    for n in (1, 3):
                        print(await updates_run(base, api, client, workdir, n, args, ids),
                              flush=True)
                    await client.config(rate_limit_per_second=args.cap)
                if runs & {"broadcast", "crash"}:
                    url = await fresh_database(base, "bench_broadcast")
                    staff = await staff_member(url)
                    ticks = workdir / "ticks.txt"
                    cluster = Cluster(url, api, workdir, {
                        "SEND_RATE_PER_SECOND": str(args.cap),
                        "SEND_RATE_PER_CHAT_PER_SECOND": "1", "OUTBOX_CLAIM_SECONDS": "10",
                        "OUTBOX_POLL_SECONDS": "0.5", "BIRGE_TICK_SECONDS": str(args.tick),
                        "BIRGE_TICK_FILE": str(ticks)})
                    cluster_began = time.monotonic()
                    started: list[Replica] = [cluster.start() for _ in range(3)]
                    await set_backends(client, cluster)
                    await cluster.ready(*started)
                    restarts = 0
                    if "broadcast" in runs:
                        print(await broadcast_run(url, staff, client, cluster, "broadcast",
                                                  BROADCAST_FIRST, args.recipients, args.cap,
                                                  0), flush=True)
                    # Every replica is stopped (SIGTERM) and started again, one by one.
                    for replica in list(cluster.replicas):
                        if replica.alive():
                            replica.terminate()
                            replica.wait(60)
                            fresh = cluster.start()
                            await set_backends(client, cluster)
                            await cluster.ready(fresh)
                            restarts += 1
                    if "crash" in runs:
                        print(await broadcast_run(url, staff, client, cluster, "crash",
                                                  CRASH_FIRST, args.crash_recipients,
                                                  args.cap, 2), flush=True)
                        restarts += 2
                    # Slots over at least --slot-minutes: one replica after another is
                    # stopped every minute (SIGTERM and SIGKILL in turn) and started again.
                    kill = False
                    while time.monotonic() - cluster_began < args.slot_minutes * 60:
                        await asyncio.sleep(min(60.0, args.slot_minutes * 60
                                                - (time.monotonic() - cluster_began)))
                        if time.monotonic() - cluster_began >= args.slot_minutes * 60:
                            break
                        victim = next(r for r in cluster.replicas if r.alive())
                        if kill:
                            victim.kill()
                        else:
                            victim.terminate()
                            victim.wait(60)
                        kill = not kill
                        fresh = cluster.start()
                        await set_backends(client, cluster)
                        await cluster.ready(fresh)
                        restarts += 1
                    await asyncio.sleep(args.tick * 2)
                    cluster.stop_all()
                    print(await slots_report(url, ticks, args.tick, restarts), flush=True)
                    cluster = None
    finally:
        if cluster is not None:
            cluster.stop_all()
        emulator.terminate()
        emulator.wait(10)
        if local is not None:
            local.stop()




if __name__ == "__main__":
    asyncio.run(main())
