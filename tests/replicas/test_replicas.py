"""Several Birge replicas (real processes, webhook mode) on one PostgreSQL server, behind the
emulator spreading updates over them like a load balancer: migrations run once, a conversation
continues on whichever replica gets the next step, each outbox row is sent once (also when a
replica is SIGKILLed), the bot as a whole keeps Telegram's rate, scheduled slots run once with
the lease taken over within seconds, and a cancelled broadcast stops everywhere within a second.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlmodel import col
from sqlmodel import select as sql_select

from bot.sandbox.client import EmulatorClient
from bot.sandbox.emulator import EmulatorServer
from bot.services import broadcasts, cache
from bot.services.broadcasts import Audience, Draft
from storage.bus import Bus
from storage.db import Database
from storage.enums import BroadcastKind, MemberStatus, Position
from storage.migrate import head_revision
from storage.models import JobRun, Member, SchedulerLease
from storage.types import utcnow
from tests import factories as f
from tests.e2e import journeys
from tests.e2e.conftest import said, t
from tests.replicas.cluster import Cluster

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

FIRST = 4_000_001
NAMES = ("Нурлан Абдылдаев", "Айгуль Садыкова", "Бакыт Токтогулов")


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer() as running:
        yield running


@pytest.fixture
async def tg(server: EmulatorServer) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(server.url) as control:
        yield control


def make_cluster(server: EmulatorServer, db_url: str, tmp_path: Path,
                 **env: str) -> Cluster:
    return Cluster(db_url, server.url, tmp_path, env)


@pytest.fixture
def stop_later() -> Iterator[list[Cluster]]:
    made: list[Cluster] = []
    yield made
    for cluster in made:
        cluster.stop_all()


async def start(server: EmulatorServer, cluster: Cluster, count: int,
                *args: str) -> None:
    started = [cluster.start(*args) for _ in range(count)]
    server.emulator.webhook_backends = cluster.backends()
    await cluster.ready(*started)


async def members(db: Database, count: int) -> list[int]:
    """`count` active members (Telegram ids from FIRST), written in bulk."""
    async with db.transaction() as s:
        district, region = (await s.exec(  # type: ignore[call-overload]
            text("SELECT id, region_id FROM district ORDER BY id LIMIT 1"))).one()
        await s.exec(insert(Member).values([{
            "telegram_id": FIRST + i, "full_name": f"Member {i}", "language": "ru",
            "position": Position.HEAD_AO.value, "region_id": region, "district_id": district,
            "status": MemberStatus.ACTIVE.value, "reachable": True, "created_at": utcnow(),
        } for i in range(count)]))
    return [FIRST + i for i in range(count)]


async def register(tg: EmulatorClient, ids: list[int]) -> None:
    for i in ids:
        await tg.add_user(i, f"Member {i}", language_code="ru")


async def broadcast(db: Database, title: str) -> tuple[int, int]:
    staff = await f.staff(db)
    async with db.read() as s:
        districts = [d for (d,) in (await s.exec(text("SELECT id FROM district"))).all()]  # type: ignore[call-overload]
    sent = await broadcasts.submit_broadcast(db, staff, Draft(
        kind=BroadcastKind.LAW, title=title, text_ky=f"{title} ky", text_ru=f"{title} ru",
        text_en=f"{title} en", audience=Audience(districts=districts)))
    assert sent.broadcast_id is not None
    return staff, sent.broadcast_id


def sends(server: EmulatorServer, ids: list[int]) -> tuple[dict[int, int], list[float]]:
    """Messages the bot sent to each of `ids`, and when (emulator's clock)."""
    wanted = set(ids)
    copies = dict.fromkeys(ids, 0)
    times: list[float] = []
    for call in server.emulator.calls("sendMessage"):
        chat = call["params"].get("chat_id")
        if call["status"] == 200 and chat is not None and int(chat) in wanted:
            copies[int(chat)] += 1
            times.append(float(call["time"]))
    return copies, times


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, at in enumerate(times):
        while at - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def changed(read: Callable[[], Awaitable[str | None]], old: str | None,
                  seconds: float = 30) -> str | None:
    """Poll `read()` until it gives something other than `old` (or None)."""
    deadline = time.monotonic() + seconds
    value = await read()
    while value in (None, old) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        value = await read()
    return value


async def until(predicate: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_replicas_started_together_migrate_once_and_all_answer(
    server: EmulatorServer, tg: EmulatorClient, empty_db_url: str, tmp_path: Path,
    stop_later: list[Cluster],
) -> None:
    cluster = make_cluster(server, empty_db_url, tmp_path)
    stop_later.append(cluster)
    # Three `birge run` (each migrating first) at once on an empty database.
    await start(server, cluster, 3, "run")
    db = Database(empty_db_url)
    try:
        async with db.read() as s:
            version = (await s.exec(text("SELECT version_num FROM alembic_version"))).all()  # type: ignore[call-overload]
            jobs = (await s.exec(text("SELECT count(*) FROM apscheduler_jobs"))).one()[0]  # type: ignore[call-overload]
        assert [v for (v,) in version] == [head_revision(empty_db_url)]
        assert jobs > 0
    finally:
        await db.dispose()
    for i in range(6):
        person = tg.person(FIRST + 100 + i, f"P{i}", language_code="ru")
        await person.register()
        await person.send("/start")
        await said(person, t("ru", "Choose your language."), timeout=10)
    delivery = server.emulator._webhook_delivery  # type: ignore[attr-defined]
    assert sorted(delivery.by_backend.values()) == [2, 2, 2]


async def test_a_newcomer_joins_whichever_replica_gets_each_step(
    server: EmulatorServer, tg: EmulatorClient, db_url: str, tmp_path: Path,
    stop_later: list[Cluster],
) -> None:
    cluster = make_cluster(server, db_url, tmp_path)
    stop_later.append(cluster)
    await start(server, cluster, 3)
    db = Database(db_url)
    try:
        for n in range(3):  # three onboardings, each step on the next replica in turn
            person = tg.person(FIRST + 200 + n, f"Newcomer {n}", language_code="ru")
            await person.register()
            await journeys.join(person, db, "ru", name=NAMES[n])
        async with db.read() as s:
            names = (await s.exec(select(Member.full_name).where(  # type: ignore[call-overload]
                Member.status == MemberStatus.PENDING))).all()
        assert sorted(n for (n,) in names) == sorted(NAMES)
    finally:
        await db.dispose()
    delivery = server.emulator._webhook_delivery  # type: ignore[attr-defined]
    assert len(delivery.by_backend) == 3  # every replica took part


async def test_three_replicas_send_each_row_once_within_the_bots_rate_even_when_one_is_killed(
    server: EmulatorServer, tg: EmulatorClient, db_url: str, tmp_path: Path,
    stop_later: list[Cluster],
) -> None:
    cap = 40
    cluster = make_cluster(server, db_url, tmp_path, SEND_RATE_PER_SECOND=str(cap),
                           SEND_RATE_PER_CHAT_PER_SECOND="1")
    stop_later.append(cluster)
    await start(server, cluster, 3)
    await tg.config(rate_limit_per_second=cap)  # the emulator refuses above the cap (429)
    db = Database(db_url)
    try:
        ids = await members(db, 240)
        await register(tg, ids)
        await broadcast(db, "Закон")
        # One replica dies mid-broadcast with rows claimed: the others send them.
        await until(lambda: sum(sends(server, ids)[0].values()) >= 60, 30)
        cluster.replicas[0].kill()
        server.emulator.webhook_backends = cluster.backends()
        await until(lambda: all(sends(server, ids)[0].values()), 40)
        await asyncio.sleep(1.0)
    finally:
        await db.dispose()
    copies, times = sends(server, ids)
    lost = [i for i, c in copies.items() if c == 0]
    duplicates = sum(c - 1 for c in copies.values() if c > 1)
    assert lost == []
    assert duplicates <= 20  # only rows on the wire when the replica died (its claim batch)
    assert busiest_second(times) <= cap
    # Refusals (429, then retried) only from jitter on a loaded machine: a few at most.
    assert server.emulator.stats()["rate_limited"] <= len(ids) // 50


async def test_each_scheduled_slot_runs_once_while_the_lease_moves(
    server: EmulatorServer, tg: EmulatorClient, db_url: str, tmp_path: Path,
    stop_later: list[Cluster],
) -> None:
    ticks = tmp_path / "ticks.txt"
    ticks.touch()
    cluster = make_cluster(server, db_url, tmp_path, BIRGE_TICK_SECONDS="1",
                           BIRGE_TICK_FILE=str(ticks))
    stop_later.append(cluster)
    await start(server, cluster, 2)
    db = Database(db_url)

    async def holder() -> str | None:
        async with db.read() as s:
            lease = await s.get(SchedulerLease, "scheduler")
            return lease.holder if lease else None

    try:
        await asyncio.sleep(3)
        first = await holder()
        assert first is not None
        leader = next(r for r in cluster.replicas if f":{r.process.pid}:" in first)
        leader.terminate()  # SIGTERM: the lease is released and taken over at once
        assert leader.wait(30) == 0
        took = time.monotonic()
        now = await changed(holder, first)
        assert now is not None and time.monotonic() - took < 4
        replacement = cluster.start()
        await cluster.ready(replacement)
        await asyncio.sleep(2)
        second = await holder()
        leader = next(r for r in cluster.replicas if r.alive() and f":{r.process.pid}:" in
                      str(second))
        leader.kill()  # SIGKILL: the lease expires and is taken over within seconds
        killed = time.monotonic()
        now = await changed(holder, second)
        assert now is not None and time.monotonic() - killed < 10
        await asyncio.sleep(3)
        async with db.read() as s:
            runs = (await s.exec(sql_select(JobRun).where(JobRun.name == "test.tick")
                                 .order_by(col(JobRun.slot)))).all()
    finally:
        await db.dispose()
    slots = [r.slot for r in runs]
    assert len(slots) >= 10
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(slots))
    lines = ticks.read_text().splitlines()
    # Every slot ran once: as many bodies as slots (the one in flight at SIGKILL may be re-run).
    assert len(slots) <= len(lines) <= len(slots) + 1
    assert len({line.split()[0] for line in lines}) >= 2  # more than one process ran them


async def test_a_cancelled_broadcast_stops_on_every_replica_within_a_second(
    server: EmulatorServer, tg: EmulatorClient, db_url: str, tmp_path: Path,
    stop_later: list[Cluster],
) -> None:
    cap = 10
    cluster = make_cluster(server, db_url, tmp_path, SEND_RATE_PER_SECOND=str(cap))
    stop_later.append(cluster)
    await start(server, cluster, 3)
    db = Database(db_url)
    bus = Bus(db_url, cache.apply_notice, cache.clear_all)  # this process is one more replica
    await bus.start()
    cache.publish_to(bus.publish)
    try:
        ids = await members(db, 150)
        await register(tg, ids)
        staff, broadcast_id = await broadcast(db, "Отменённый")
        await until(lambda: sum(sends(server, ids)[0].values()) >= 20, 30)
        await broadcasts.cancel_broadcast(db, staff, broadcast_id)
        cancelled = time.time()
        await asyncio.sleep(3)
    finally:
        cache.publish_to(None)
        await bus.stop()
        await db.dispose()
    _copies, times = sends(server, ids)
    late = [at for at in times if at > cancelled + 1.0]
    assert late == [], f"{len(late)} sent more than a second after the cancel"
