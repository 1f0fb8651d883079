"""Benchmark: how many updates Birge handles per second, and how fast it replies.

Three processes, as in production: the Bot API emulator, the bot under test (Birge via
`birge run`, or a bare aiogram echo bot), and this driver, which plays simulated members through
the emulator's control API. For each bot it measures

- throughput: simulated members act as fast as the bot answers (closed loop) for a fixed time;
  handled updates per second = actions that got their reply / elapsed;
- latency at a fixed offered load (default 100 updates/s, open loop): p50/p95/p99 from the
  member's action to the bot's reply;
- Birge's idle resident memory after start-up;
- (Birge only) every screen a member opens: `--walkers` members who joined open each command of
  WALK and press the first button of its answer; p50/p95 per screen and p95 over all;
- (Birge only) a burst: `--burst` (150) members brought to the consent step all press "I agree"
  within one second; the slowest reply.

Birge's members go through onboarding (language, name, position, region, district, municipality,
communities, consent) and then use the menu (/help, /profile, /language). The echo bot answers a
text with a text and a button press with an edit. Not a test: it prints figures and exits.

    .venv/bin/python scripts/bench_updates.py [--seconds 20] [--members 200] [--rate 100]
    .venv/bin/python scripts/bench_updates.py --year [--database postgresql+asyncpg://...]

--year first fills the database with a year's volume (scripts/year_data.py: 10,000 members,
100,000 questions with answers, 1,500,000 broadcast outbox rows, ...), prunes it as the daily
job would and prints the database size before and after; Birge is then measured on it.

--keep DIR (with --year, SQLite) keeps the filled, pruned year in DIR/year.db and runs on a fresh
copy of it each time (delete DIR when year_data.py changes); --phase (throughput, rate, walk,
burst; repeatable) runs only those.
The walk is printed twice: in lockstep (every walker opens the same screen at the same instant:
a burst) and paced (--pause MIN MAX seconds of reading before each screen and button, seeded per
member): the paced p95 is the figure for the target. The rate phase too: Birge first gets a
crowd that starts together and stays in lockstep (printed: every member consents in the same
second, a burst), then the crowd whose members start at different steps of joining and the
menu, as a steady rate finds them: its p95 is the figure for the target.

BENCH_TRACE=/tmp/trace.log runs Birge through scripts/bench_trace.py (collections, late event-loop
timers, slow statements, pool connections, the SQLite write queue, CPU every half second) and adds
every reply's start and latency to the same file.

--memory-only starts Birge, lets it answer one /help and prints only its idle resident memory
(measured as in the full run; seconds instead of minutes).

BENCH_PROFILE=/tmp/birge.prof runs Birge under cProfile and writes the profile there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import machine_speed
import psutil

from bot.flows.steps import read_nav
from bot.sandbox.client import EmulatorClient, Person

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH"
JSON = dict[str, Any]
# BENCH_TRACE=<file>: Birge runs under scripts/bench_trace.py (collections, slow event-loop steps,
# slow statements) and the replies that took this long are added to the same file.
TRACE = os.environ.get("BENCH_TRACE")
TRACE_REPLY_SECONDS = 0.0 if TRACE else 0.1
PHASES = ("throughput", "rate", "walk", "burst")

ECHO_BOT = """
import asyncio, sys
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

dp = Dispatcher()
kb = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="ok", callback_data="p:x")]])

@dp.message(F.text)
async def echo(message: Message) -> None:
    await message.answer(message.text, reply_markup=kb)

@dp.callback_query()
async def press(query: CallbackQuery) -> None:
    await query.answer()
    await query.message.edit_text(f"pressed {query.id}", reply_markup=kb)

async def main() -> None:
    bot = Bot(sys.argv[2], session=AiohttpSession(api=TelegramAPIServer.from_base(sys.argv[1])))
    await dp.start_polling(bot, handle_signals=True)

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_http(url: str, timeout: float = 60.0) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, aiohttp.ClientError):
                async with http.get(url + "/control/seq") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("emulator did not start")


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    timeouts: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)
    # (wall-clock start, seconds, what): replies of TRACE_REPLY_SECONDS or more, for BENCH_TRACE
    slow: list[tuple[float, float, str]] = field(default_factory=list)

    def add(self, began: float, took: float, what: str) -> None:
        self.latencies.append(took)
        if took >= TRACE_REPLY_SECONDS:
            self.slow.append((began, took, what))

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(len(data) * p / 100))] * 1000


# --- what a simulated member does ------------------------------------------------------------


def callbacks(message: JSON, chosen: bool = True) -> list[str]:
    """The message's button data; without the buttons marked as chosen ("• All" on /search:
    pressing what is already chosen changes nothing, so nothing is sent back) unless `chosen`."""
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row
            if b.get("callback_data") and (chosen or not b.get("text", "").startswith("• "))]


class BirgeMember:
    """Walks onboarding, then cycles through the menu."""

    MENU = ("/help", "/profile", "/help", "/start")

    def __init__(self, person: Person, n: int) -> None:
        self.p = person
        self.n = n
        self.last: JSON | None = None
        self.actions = 0
        self.menu = itertools.cycle(self.MENU)

    def next_action(self) -> Callable[[], Awaitable[Any]]:
        msg = self.last
        if msg is None:
            return lambda: self.p.send("/start")
        data = callbacks(msg)
        text = str(msg.get("text") or "")
        if "p:language:ru" in data and "(1/" in text:
            return lambda: self.p.press("p:language:ru", msg)
        picks = [d for d in data if d.startswith("p:") and not d.startswith("p:consent")]
        if "p:consent:yes" in data:
            return lambda: self.p.press("p:consent:yes", msg)
        navs = {n.action: d for d in data if (n := read_nav(d)) is not None}
        if "done" in navs:
            return lambda: self.p.press(navs["done"], msg)
        if picks and "(" in text[:4]:
            choice = next((d for d in picks if not d.endswith(":other")), picks[0])
            return lambda: self.p.press(choice, msg)
        if data and len(navs) == len(data) and set(navs) <= {"back", "cancel"}:  # text asked
            name = f"Мүчө Номер{chr(0x0410 + self.n % 32)}"
            return lambda: self.p.send(name if "(2/" in text else "Айыл аймагы")
        self.joined = True
        return lambda: self.p.send(next(self.menu))

    joined = False

    def at_consent(self) -> bool:
        return self.last is not None and "p:consent:yes" in callbacks(self.last)


# What a member opens (issue 20: "every menu, card and list a member opens"): each command, then
# the first button of its answer (a card, a list's first item, a flow's first step).
WALK = ("/help", "/profile", "/settings", "/myquestions", "/search бюджет", "/library",
        "/groups", "/events", "/surveys", "/issues", "/decisions", "/legal", "/bulletin",
        "/privacy")


async def onboard(members: list[BirgeMember], until: Callable[[BirgeMember], bool],
                  stats: Stats, limit: int = 40) -> list[BirgeMember]:
    """Walk each member through onboarding until `until` holds; those who got there."""

    async def run(m: BirgeMember) -> None:
        for _ in range(limit):
            if until(m):
                return
            await act(m, stats)

    await asyncio.gather(*(run(m) for m in members))
    return [m for m in members if until(m)]


async def add_walkers(url: str, people: list[BirgeMember]) -> list[BirgeMember]:
    """The walkers are members already let in, as a year's members are: each in a district and
    a municipality, a practice community and three topic groups, so the screens they open show
    what a member sees (not a newcomer's "wait for approval")."""
    from datetime import UTC, datetime

    from sqlalchemy import insert, select
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (the tables below)
    from storage.db import Database
    from storage.enums import MemberStatus, Position

    t = SQLModel.metadata.tables
    db = Database(url)
    try:
        now = datetime.now(UTC)
        async with db.engine.begin() as conn:
            places = (await conn.execute(select(t["municipality"].c.id,
                                                t["municipality"].c.district_id))).all()
            region_of = dict((await conn.execute(select(t["district"].c.id,
                                                        t["district"].c.region_id))).all())
            groups = list((await conn.execute(select(t["topic_group"].c.id))).scalars())
            communities = list((await conn.execute(select(t["community"].c.id))).scalars())
            for i, m in enumerate(people):
                municipality, district = places[i % len(places)]
                member_id = (await conn.execute(insert(t["member"]).values(
                    telegram_id=m.p.user_id, full_name=f"Мүчө Номер{i}", language="ru",
                    position=Position.FINANCE.value, status=MemberStatus.ACTIVE.value,
                    region_id=region_of[district], district_id=district,
                    municipality_id=municipality, consent_at=now, reachable=True,
                    created_at=now, decided_at=now).returning(t["member"].c.id))).scalar_one()
                await conn.execute(insert(t["community_membership"]).values(
                    member_id=member_id, community_id=communities[i % len(communities)],
                    joined_at=now))
                for j in range(min(3, len(groups))):
                    await conn.execute(insert(t["group_member"]).values(
                        group_id=groups[(i + j * 4) % len(groups)], member_id=member_id,
                        joined_at=now))
    finally:
        await db.dispose()
    for m in people:
        m.joined = True
    return people


async def walk(members: list[BirgeMember],
               paced: tuple[float, float] | None = None) -> dict[str, Stats]:
    """Every member opens every screen of WALK and the first button on it, one after another
    (the members in parallel); latency per screen. Without `paced` the members go in lockstep:
    all open the same screen at the same instant, so each waits behind the others (a burst).
    With `paced` (seconds, e.g. (1, 3)) each member reads for a random while (seeded per
    member) before each screen and button, as a member does."""
    screens: dict[str, Stats] = {}

    async def timed(key: str, action: Awaitable[Any], m: BirgeMember) -> None:
        stats = screens.setdefault(key, Stats())
        wall, started = time.time(), time.perf_counter()
        await action
        got = await m.p.replies(timeout=5.0, count=1, settle_ms=0)
        if not got:
            stats.timeouts += 1
            return
        stats.add(wall, time.perf_counter() - started, f"walk {key}")
        m.last = got[-1]

    async def run(i: int, m: BirgeMember) -> None:
        pause = random.Random(i)
        for command in WALK:
            if paced:
                await asyncio.sleep(pause.uniform(*paced))
            await timed(command, m.p.send(command), m)
            data = callbacks(m.last or {}, chosen=False)
            if data and m.last is not None:
                if paced:
                    await asyncio.sleep(pause.uniform(*paced))
                await timed(f"{command} → button", m.p.press(data[0], m.last), m)

    await asyncio.gather(*(run(i, m) for i, m in enumerate(members)))
    return screens


async def burst(members: list[BirgeMember], window: float = 1.0) -> Stats:
    """Every member presses "I agree" at a random moment within `window` seconds."""
    stats = Stats()

    async def run(m: BirgeMember) -> None:
        await asyncio.sleep(random.uniform(0, window))
        await act(m, stats)

    await asyncio.gather(*(run(m) for m in members))
    return stats


class EchoMember:
    def __init__(self, person: Person, n: int) -> None:
        self.p = person
        self.last: JSON | None = None
        self.actions = 0
        self.turn = 0

    def next_action(self) -> Callable[[], Awaitable[Any]]:
        self.turn += 1
        msg = self.last
        if msg is not None and self.turn % 2 == 0 and callbacks(msg):
            return lambda: self.p.press("p:x", msg)
        return lambda: self.p.send(f"hello {self.turn}")


async def act(member: BirgeMember | EchoMember, stats: Stats, timeout: float = 10.0) -> bool:
    action = member.next_action()
    member.actions += 1
    before = f"#{member.actions} " + str((member.last or {}).get("text") or "")[:12]
    wall, started = time.time(), time.perf_counter()
    await action()
    got = await member.p.replies(timeout=timeout, count=1, settle_ms=0)
    if not got:
        stats.timeouts += 1
        return False
    took = time.perf_counter() - started
    stats.add(wall, took, before)
    if took > 1.0:
        stats.slowest.append((took, before))
    member.last = got[-1]
    return True


async def closed_loop(members: list[Any], seconds: float) -> tuple[float, Stats]:
    stats = Stats()
    deadline = time.perf_counter() + seconds
    done = 0

    async def run(m: Any) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            if await act(m, stats):
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(run(m) for m in members))
    return done / (time.perf_counter() - started), stats


STAGGER_STEPS = 12  # /start, the 8 questions, consent, the menu: member i first takes i % 12


async def stagger(members: list[Any]) -> list[Any]:
    """Members at different steps, as a steady 100 updates/s finds them: member i first takes
    i % STAGGER_STEPS actions (untimed). A crowd that starts together stays in lockstep under
    `open_loop` (each acts once per period), so all of it consents in the same second: a burst
    of joins inside the steady rate, which the burst phase measures on its own."""

    async def advance(i: int, m: Any) -> None:
        for _ in range(i % STAGGER_STEPS):
            await act(m, Stats())

    await asyncio.gather(*(advance(i, m) for i, m in enumerate(members)))
    await asyncio.sleep(1.0)
    return members


async def open_loop(members: list[Any], rate: float, seconds: float) -> tuple[float, Stats]:
    """Offer `rate` actions/s spread over the members (each waits for its reply first)."""
    stats = Stats()
    period = len(members) / rate
    started = time.perf_counter()
    steady = started + period  # every member has started by then
    deadline = started + seconds
    done = 0

    async def run(i: int, m: Any) -> None:
        nonlocal done
        await asyncio.sleep(period * i / len(members))
        nxt = time.perf_counter()
        while nxt < deadline:
            began = time.perf_counter()
            if await act(m, stats) and began >= steady:
                done += 1
            nxt += period
            await asyncio.sleep(max(0.0, nxt - time.perf_counter()))

    await asyncio.gather(*(run(i, m) for i, m in enumerate(members)))
    return done / (deadline - steady), stats


# --- the processes ---------------------------------------------------------------------------


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bot.sandbox.emulator", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --year / --database: Birge runs on this database (already filled) instead of a fresh file.
DATABASE_URL: str | None = None


async def year(url: str, workdir: Path) -> None:
    """Fill `url` with a year's volume (scripts/year_data.py), then prune it as the daily job
    would (bot/services/pruning.py) and print the database's size before and after."""
    from datetime import UTC, datetime

    from year_data import compact, database_size, fill_year

    from bot.config import Settings
    from bot.services import pruning
    from storage.db import Database

    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "upgrade", env=env, cwd=workdir,
        stdout=subprocess.DEVNULL)
    if await upgrade.wait():
        raise SystemExit("birge db upgrade failed")
    db = Database(url)
    try:
        began = time.perf_counter()
        counts = await fill_year(db, log=print)
        took = time.perf_counter() - began
        print(f"year of data: {sum(counts.values()):,} rows in {took:.0f} s (target < 120 s)")
        before = await database_size(db)
        s = Settings()
        began = time.perf_counter()
        done = await pruning.prune(db, datetime.now(UTC), outbox_days=s.prune_outbox_days,
                                   conversation_days=s.prune_conversation_days,
                                   audit_days=s.prune_audit_days,
                                   update_days=s.prune_update_days, batch=s.prune_batch_size)
        pruned_in = time.perf_counter() - began
        await compact(db)
        after = await database_size(db)
        print(f"pruning ({s.prune_outbox_days} days of outbox): {done.outbox:,} outbox rows, "
              f"{done.conversations:,} conversation states, {done.audit:,} audit rows "
              f"in {pruned_in:.0f} s")
        print(f"database size: {before / 2**20:.0f} MB before pruning, "
              f"{after / 2**20:.0f} MB after")
    finally:
        await db.dispose()


def birge_url(workdir: Path) -> str:
    return DATABASE_URL or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"


def start_birge(api: str, workdir: Path) -> subprocess.Popen[bytes]:
    # The emulator has no send cap here, so neither does Birge: this measures handling updates,
    # not Telegram's 30 messages/s (scripts/bench_broadcast.py measures that).
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api, "LOG_LEVEL": "WARNING",
           "DATABASE_URL": birge_url(workdir),
           "SEND_RATE_PER_SECOND": "0"}
    birge = [sys.executable, "-m", "bot"]
    profile = [sys.executable, "-m", "cProfile", "-o", os.environ["BENCH_PROFILE"], "-m", "bot"] \
        if os.environ.get("BENCH_PROFILE") else birge
    if TRACE:
        profile = [sys.executable, str(ROOT / "scripts" / "bench_trace.py"), TRACE]
    subprocess.run([*birge, "db", "upgrade"], env=env, cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    # Birge's log goes to a file (a pipe nobody reads would stop Birge once it filled up);
    # `measure` counts the tracebacks in it.
    with open(workdir / LOG_NAME, "ab") as log:
        return subprocess.Popen([*profile, "run", "--no-migrate"], env=env, cwd=workdir,
                                stdout=subprocess.DEVNULL, stderr=log)


LOG_NAME = "birge-stderr.log"


def tracebacks(workdir: Path) -> int:
    path = workdir / LOG_NAME
    return path.read_text(errors="replace").count("Traceback") if path.exists() else 0


def start_echo(api: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", ECHO_BOT, api, TOKEN], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


async def warm_up(client: EmulatorClient, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the bot answers at all."""
    probe = client.person(1, "Probe", language_code="ru")
    for _ in range(100):
        if proc.poll() is not None:
            raise RuntimeError("the bot exited during start-up")
        await probe.send("/help")
        if await probe.replies(timeout=0.5):
            return
    raise RuntimeError("the bot never answered")


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def idle_memory(client: EmulatorClient, proc: subprocess.Popen[bytes]) -> float:
    """Resident memory (MB) once the bot has answered its first /help and rested a second."""
    await warm_up(client, proc)
    await asyncio.sleep(1.0)
    return float(psutil.Process(proc.pid).memory_info().rss / 2**20)


async def measure(kind: str, api: str, client: EmulatorClient, args: argparse.Namespace,
                  workdir: Path, ids: itertools.count[int], emulator_pid: int) -> dict[str, Any]:
    tracebacks_before = tracebacks(workdir)
    proc = start_birge(api, workdir) if kind == "birge" else start_echo(api)
    try:
        idle_rss = await idle_memory(client, proc)
        make = BirgeMember if kind == "birge" else EchoMember

        def crowd(n: int) -> list[Any]:
            return [make(client.person(next(ids), f"M{i}", language_code="ru"), i)
                    for i in range(n)]

        pids = {"bot": proc.pid, "emulator": emulator_pid, "driver": os.getpid()}
        extra: dict[str, Any] = {}
        phases = args.phase or PHASES
        if "throughput" in phases:
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            started = time.perf_counter()
            extra["throughput"], extra["closed"] = await closed_loop(crowd(args.members),
                                                                     args.seconds)
            elapsed = time.perf_counter() - started
            extra["cpu"] = {name: (cpu_seconds(pid) - before[name]) / elapsed
                            for name, pid in pids.items()}
        if "rate" in phases:
            if kind == "birge":  # first the lockstep crowd: printed, not the target's figure
                _, extra["open_lockstep"] = await open_loop(crowd(args.rate_members), args.rate,
                                                            args.seconds)
            crowd_at_steps = await stagger(crowd(args.rate_members))
            before_cpu = cpu_seconds(proc.pid)
            extra["rate"], extra["open"] = await open_loop(crowd_at_steps, args.rate,
                                                           args.seconds)
            replies = len(extra["open"].latencies)
            extra["rate_cpu"] = (cpu_seconds(proc.pid) - before_cpu) / max(1, replies) * 1000
        extra["busy_rss"] = psutil.Process(proc.pid).memory_info().rss / 2**20
        if kind == "birge" and "walk" in phases:
            walkers = await add_walkers(birge_url(workdir), crowd(args.walkers))
            extra["walkers"] = len(walkers)
            extra["walk"] = await walk(walkers)
            # Members of the same kind who have not walked yet: a walker's second press of a
            # setting it already chose changes nothing, and nothing is sent back to wait for.
            extra["paced"] = await walk(await add_walkers(birge_url(workdir),
                                                          crowd(args.walkers)), paced=args.pause)
        if kind == "birge" and "burst" in phases:
            ready = await onboard(crowd(args.burst), BirgeMember.at_consent, Stats())
            extra["ready"] = len(ready)
            extra["burst"] = await burst(ready)
    finally:
        stop(proc)
    if kind == "birge":
        extra["tracebacks"] = tracebacks(workdir) - tracebacks_before
    if TRACE:
        trace_replies(TRACE, kind, extra)
    return {"idle_rss": idle_rss, **extra}


def trace_replies(path: str, kind: str, extra: dict[str, Any]) -> None:
    """Every reply's start and latency, next to what Birge logged (scripts/bench_trace.py)."""
    with open(path, "a") as out:
        for key in ("closed", "open_lockstep", "open", "burst"):
            for began, took, what in extra[key].slow if key in extra else ():
                out.write(f"{began:.3f} reply {took * 1000:.1f} {kind} {key} {what!r}\n")
        for walked in ("walk", "paced"):
            for st in extra.get(walked, {}).values():
                for began, took, what in st.slow:
                    out.write(f"{began:.3f} reply {took * 1000:.1f} {kind} {walked} {what!r}\n")


def report_walk(name: str, r: dict[str, Any], key: str, args: argparse.Namespace) -> Stats:
    every = Stats()
    how = "in lockstep (all open the same screen at once: a burst)" if key == "walk" else \
        f"paced ({args.pause[0]:g}-{args.pause[1]:g} s of reading before each)"
    for screen, st in r[key].items():
        every.latencies += st.latencies
        every.timeouts += st.timeouts
        label = "lockstep" if key == "walk" else "paced"
        print(f"{name}: walk {label} {screen!r}: p50 {st.pct(50):.1f} ms, "
              f"p95 {st.pct(95):.1f} ms ({len(st.latencies)} opened, {st.timeouts} without a "
              f"reply in 5 s)")
    print(f"{name}: every screen {r['walkers']} members opened {how}: p50 {every.pct(50):.1f} ms, "
          f"p95 {every.pct(95):.1f} ms over {len(every.latencies)}"
          + (" (target <= 50 ms)" if key == "paced" else ""))
    return every


def report(name: str, r: dict[str, Any], args: argparse.Namespace) -> None:
    if "closed" in r:
        c = r["closed"]
        print(f"{name}: {r['throughput']:.0f} updates/s at {args.members} members "
              f"(p50 {c.pct(50):.1f} ms, p95 {c.pct(95):.1f} ms, p99 {c.pct(99):.1f} ms, "
              f"timeouts {c.timeouts})")
    if "open_lockstep" in r:
        o = r["open_lockstep"]
        print(f"{name}: at {args.rate:.0f} updates/s offered by {args.rate_members} members in "
              f"lockstep (all join at once, all consent in the same second: a burst): "
              f"p50 {o.pct(50):.1f} ms, p95 {o.pct(95):.1f} ms, p99 {o.pct(99):.1f} ms, "
              f"timeouts {o.timeouts}")
    if "open" in r:
        o = r["open"]
        print(f"{name}: at {r['rate']:.0f} updates/s offered by {args.rate_members} members at "
              f"different steps: p50 {o.pct(50):.1f} ms, p95 {o.pct(95):.1f} ms, "
              f"p99 {o.pct(99):.1f} ms, timeouts {o.timeouts}; the bot's CPU "
              f"{r['rate_cpu']:.2f} ms per reply")
    if "closed" in r:
        c = r["closed"]
        if c.slowest:
            slow = sorted(c.slowest, reverse=True)[:5]
            print(f"{name}: {len(c.slowest)} actions over 1 s; slowest after: "
                  + "; ".join(f"{t:.1f} s {w!r}" for t, w in slow))
        print(f"{name}: CPU use under full load (cores): "
              + ", ".join(f"{k} {v:.2f}" for k, v in r["cpu"].items())
              + f"; the bot's CPU per update {1000 * r['cpu']['bot'] / r['throughput']:.2f} ms")
    print(f"{name}: resident memory idle {r['idle_rss']:.0f} MB, after load {r['busy_rss']:.0f} MB")
    if "tracebacks" in r:
        print(f"{name}: tracebacks in its log over the whole run: {r['tracebacks']}")
    if "walk" in r:
        report_walk(name, r, "walk", args)
        report_walk(name, r, "paced", args)
    if "burst" in r:
        b = r["burst"]
        slowest = max(b.latencies) * 1000 if b.latencies else float("nan")
        print(f"{name}: {r['ready']} members consenting within one second: p50 {b.pct(50):.0f} ms, "
              f"slowest {slowest:.0f} ms, {b.timeouts} without a reply (target slowest <= 1000 ms)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--members", type=int, default=200, help="closed-loop members")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop updates/s")
    parser.add_argument("--rate-members", type=int, default=100)
    parser.add_argument("--walkers", type=int, default=20, help="members walking every screen")
    parser.add_argument("--burst", type=int, default=150, help="members consenting at once")
    parser.add_argument("--year", action="store_true",
                        help="first fill the database with a year's volume and prune it")
    parser.add_argument("--database", help="Birge's database URL (default: a new SQLite file); "
                        "'local' starts a throwaway PostgreSQL server")
    parser.add_argument("--year-only", action="store_true",
                        help="with --year: stop after filling and pruning")
    parser.add_argument("--memory-only", action="store_true",
                        help="only start Birge and print its idle resident memory")
    parser.add_argument("--phase", action="append", choices=PHASES,
                        help="run only this phase (repeatable; default all). The echo bot runs "
                        "only with 'throughput' (the ratio needs it)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="with --year on SQLite: keep the filled, pruned year in DIR/year.db "
                        "and reuse it next time (each run works on a fresh copy of it; delete "
                        "DIR when scripts/year_data.py changes)")
    parser.add_argument("--pause", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                        help="the paced walk's reading pause before each screen (seconds)")
    args = parser.parse_args()
    if args.keep and (not args.year or (args.database or "").startswith("postgresql")
                      or args.database == "local"):
        parser.error("--keep needs --year on SQLite (the default database)")
    if args.database == "local":
        from bench_search import admin
        from sqlalchemy.engine import make_url

        from storage.local_postgres import LocalPostgres

        local = LocalPostgres().start()
        try:
            await admin(local.url(), 'DROP DATABASE IF EXISTS "birge_bench_updates" WITH (FORCE)')
            await admin(local.url(), 'CREATE DATABASE "birge_bench_updates"')
            args.database = make_url(local.url()).set(database="birge_bench_updates") \
                .render_as_string(hide_password=False)
            print("database: PostgreSQL (a throwaway local server)", flush=True)
            await run(args)
        finally:
            local.stop()
        return
    await run(args)


async def run(args: argparse.Namespace) -> None:
    global DATABASE_URL
    if args.year and args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        kept = args.keep.resolve() / "year.db"
        if kept.exists():
            print(f"year of data: reusing {kept} (--keep)")
        else:
            await year(f"sqlite+aiosqlite:///{kept}", args.keep)
        if args.year_only:
            return
        DATABASE_URL = f"sqlite+aiosqlite:///{fresh_copy(kept)}"
        await measure_all(args)
        return
    if args.year:
        keep = tempfile.mkdtemp(prefix="birge-year-")
        DATABASE_URL = args.database or f"sqlite+aiosqlite:///{keep}/year.db"
        try:
            await year(DATABASE_URL, Path(keep))
            if not args.year_only:
                await measure_all(args)
        finally:
            shutil.rmtree(keep, ignore_errors=True)
        return
    if args.database:
        DATABASE_URL = args.database
    await measure_all(args)


def fresh_copy(kept: Path) -> Path:
    """A copy of the kept year to run on (year() leaves no WAL behind: compacted, disposed)."""
    work = kept.with_name("run.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(kept, work)
    return work


async def measure_all(args: argparse.Namespace) -> None:

    port = free_port()
    api = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port)
    ids = itertools.count(2_000_001)
    try:
        await wait_http(api)
        import aiohttp

        # One connection per simulated member: aiohttp's default pool of 100 would make members
        # wait for each other's long polls and show up as bot latency.
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=None))
        async with http, EmulatorClient(api, session=http) as client:
            with tempfile.TemporaryDirectory() as tmp:
                if args.memory_only:
                    proc = start_birge(api, Path(tmp))
                    try:
                        idle = await idle_memory(client, proc)
                    finally:
                        stop(proc)
                    print(f"Birge idle resident memory: {idle:.0f} MB (target <= 120 MB)")
                    return
                print(f"machine: {os.cpu_count()} cores; {args.seconds:.0f} s per phase")
                print(machine_speed.line("before"), flush=True)
                echo = None
                if not args.phase or "throughput" in args.phase:
                    echo = await measure("echo", api, client, args, Path(tmp), ids, emulator.pid)
                    report("echo bot", echo, args)
                birge = await measure("birge", api, client, args, Path(tmp), ids, emulator.pid)
                report("Birge", birge, args)
        if echo is not None:
            ratio = birge["throughput"] / echo["throughput"]
            print(f"Birge/echo throughput ratio: {ratio:.2f} (target >= 0.6)")
        if "open" in birge:
            print(f"Birge p95 at {birge['rate']:.0f} updates/s (members at different steps): "
                  f"{birge['open'].pct(95):.1f} ms "
                  f"(target <= 50 ms)")
        print(f"Birge idle resident memory: {birge['idle_rss']:.0f} MB (target <= 120 MB)")
        print(machine_speed.line("after"), flush=True)
    finally:
        stop(emulator)


if __name__ == "__main__":
    asyncio.run(main())
