"""Benchmark: surveys under load, their results and their charts.

1. Answering: 5,000 members (bulk-inserted into a migrated SQLite file; the tests go through the
   services) get a 12-question survey (made by `surveys.create_survey`, so the invitations go
   through the outbox). Birge runs as `birge run` against the Bot API emulator, both in their own
   processes; this driver plays the members through the emulator's control API at a fixed
   offered load (default 100 answers/s, open loop): a pool of members answer their questions one
   per `pool / rate` seconds each (buttons, toggles and Done, ranking taps, typed numbers, dates
   and texts, then Confirm), and a member who finishes is replaced by the next one. Reported:
   p50/p95/p99 from an answer to Birge's reply (the edited question or the next one), Birge's
   idle resident memory before and after, and how many members finished.
2. Results: 20,000 submitted responses (bulk-inserted, random answers) to a 12-question survey;
   times `surveys.results` (response rate by district and every question's figures), then each
   question's PNG chart (`bot.views.survey_charts`, matplotlib imported on the first chart, its
   import timed apart), sampling this process's resident memory while drawing.

Bounded: phase 1 stops after `--seconds` (default 60; 5,000 members × 13 answers at 100/s would
take about 11 minutes: `--seconds 700` runs them all; `--skip-results` stops after phase 1).
Not a test: it prints figures and exits.

    nice .venv/bin/python scripts/bench_surveys.py [--members 5000] [--rate 100] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from bench_updates import (  # noqa: E402
    Stats,
    free_port,
    start_emulator,
    stop,
    wait_http,
)

from bot.sandbox.client import EmulatorError  # noqa: E402

TOKEN = "123456:BENCH"
JSON = dict[str, Any]
TELEGRAM_BASE = 8_000_000


def L(ky: str, ru: str) -> dict[str, str]:
    return {"ky": ky, "ru": ru}


def options(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "label": L(f"{n} ky", f"{n} ru")} for n in names]


QUESTIONS: list[dict[str, Any]] = [
    {"name": "q1", "type": "single", "label": L("Бюджет?", "Бюджет?"),
     "choices": options("yes", "no", "partly")},
    {"name": "q2", "type": "scale", "scale": 10, "label": L("Ишеним", "Доверие"),
     "low": L("жок", "нет"), "high": L("толук", "полное")},
    {"name": "q3", "type": "number", "label": L("Калк", "Население"), "unit": "адам",
     "min": 0, "max": 1_000_000},
    {"name": "q4", "type": "multiple", "max_choices": 2, "label": L("Көйгөйлөр", "Проблемы"),
     "choices": options("water", "roads", "waste", "school")},
    {"name": "q5", "type": "ranking", "label": L("Артыкчылык", "Приоритеты"),
     "choices": options("water", "roads", "waste")},
    {"name": "q6", "type": "single", "label": L("Жыйын?", "Собрание?"),
     "choices": options("yes", "no")},
    {"name": "q7", "type": "scale", "scale": 5, "label": L("Кызматтар", "Услуги")},
    {"name": "q8", "type": "number", "label": L("Бюджет, сом", "Бюджет, сом"), "unit": "сом",
     "min": 0, "max": 10**10},
    {"name": "q9", "type": "date", "label": L("Качан?", "Когда?")},
    {"name": "q10", "type": "single", "label": L("Интернет?", "Интернет?"),
     "choices": options("good", "bad", "none")},
    {"name": "q11", "type": "multiple", "label": L("Каналдар", "Каналы"),
     "choices": options("tv", "radio", "telegram", "whatsapp")},
    {"name": "q12", "type": "text", "label": L("Сунуш", "Предложение")},
]


# --- data -------------------------------------------------------------------------------------


async def seed_members(db: Any, count: int, telegram_base: int) -> list[int]:
    """`count` active members spread over the reference districts (bulk insert)."""
    from sqlalchemy import insert, text

    from storage.enums import MemberStatus
    from storage.models import Member
    from storage.types import utcnow

    async with db.transaction() as s:
        conn = await s.connection()
        districts = (await conn.execute(text("SELECT id, region_id FROM district"))).all()
        start = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM member"))
                 ).scalar_one()
        rows = [{"telegram_id": telegram_base + i, "full_name": f"Мүчө {i}",
                 "language": ("ky", "ru")[i % 2], "position": "head_ao",
                 "status": MemberStatus.ACTIVE.value, "reachable": True,
                 "district_id": districts[i % len(districts)][0],
                 "region_id": districts[i % len(districts)][1], "created_at": utcnow()}
                for i in range(count)]
        for chunk in range(0, len(rows), 2000):
            await conn.execute(insert(Member), rows[chunk:chunk + 2000])
        ids = list((await conn.execute(text("SELECT id FROM member WHERE id > :s ORDER BY id"),
                                       {"s": start})).scalars())
    return ids


async def staff_member(db: Any) -> int:
    from bot.services import roles

    return await roles.bootstrap_admin(db, 7_999_999, "Bench Staff")


async def make_survey(db: Any, staff: int, district_ids: list[int] | None = None) -> int:
    from bot.services import surveys
    from bot.services.broadcasts import Audience
    from bot.services.surveys import SurveyDraft
    from storage.types import utcnow

    created = await surveys.create_survey(db, staff, SurveyDraft(
        title=L("Сынак сурамжылоо", "Тестовый опрос"), intro=L("Кириш сөз", "Вступление"),
        questions=QUESTIONS, deadline=utcnow() + timedelta(days=7),
        audience=Audience(districts=district_ids or [])))
    return created.survey_id


# --- phase 1: members answer through the emulator ------------------------------------------


class Answerer:
    """One member going through the survey, one answer at a time."""

    def __init__(self, person: Any, sid: int, rnd: random.Random) -> None:
        self.p = person
        self.sid = sid
        self.rnd = rnd
        self.plan = self._plan()
        self.seq = 0
        self.abandoned = False

    def _plan(self) -> list[tuple[str, Any]]:
        """(kind, payload) per action: ("press", data) or ("send", text)."""
        from bot.views.surveys import Sv

        def sv(action: str, q: int = -1, v: int = -1) -> str:
            return Sv(action=action, survey_id=self.sid, q=q, v=v).pack()

        rnd = self.rnd
        steps: list[tuple[str, Any]] = [("press", sv("open"))]
        for i, q in enumerate(QUESTIONS):
            kind = q["type"]
            if kind == "single":
                steps.append(("press", sv("pick", i, rnd.randrange(len(q["choices"])))))
            elif kind == "scale":
                steps.append(("press", sv("pick", i, rnd.randint(1, q["scale"]))))
            elif kind == "number":
                steps.append(("send", str(rnd.randint(0, 900_000))))
            elif kind == "date":
                steps.append(("send", f"{rnd.randint(1, 28):02d}.0{rnd.randint(1, 9)}.2026"))
            elif kind == "text":
                steps.append(("send", "Суу түтүгүн оңдоо керек."))
            elif kind == "multiple":
                steps.append(("press", sv("tog", i, rnd.randrange(len(q["choices"])))))
                steps.append(("press", sv("done", i)))
            elif kind == "ranking":
                for v in rnd.sample(range(len(q["choices"])), len(q["choices"])):
                    steps.append(("press", sv("rank", i, v)))
                steps.append(("press", sv("done", i)))
        steps.append(("press", sv("send")))
        return steps

    async def start(self) -> None:
        """Read what is already in the chat (the invitation): only later bot events count."""
        seen = await self.p.client.wait(self.p.user_id, after_seq=0, count=1000, timeout=0.05,
                                        kinds=("message", "edit"))
        self.seq = max([int(e["seq"]) for e in seen["events"]] or [0])

    async def step(self, stats: Stats, timeout: float = 10.0) -> bool:
        """One answer, timed until Birge's reply appears in this member's chat (the event
        sequence is read per chat, so other members' traffic never counts)."""
        kind, payload = self.plan.pop(0)
        client, uid = self.p.client, self.p.user_id
        started = time.perf_counter()
        try:
            if kind == "press":
                await client.press(uid, button=payload)
            else:
                await client.send(uid, payload)
        except EmulatorError:  # the button is not there: an earlier answer got no reply
            stats.timeouts += 1
            self.plan.clear()
            self.abandoned = True
            return False
        got = await client.wait(uid, after_seq=self.seq, count=1, timeout=timeout,
                                kinds=("message", "edit"))
        if not got["events"]:
            stats.timeouts += 1
            self.plan.clear()
            self.abandoned = True
            return False
        took = time.perf_counter() - started
        stats.latencies.append(took)
        if took > 0.5:
            action = str(payload).split(":")[1] if kind == "press" else "text"
            stats.slowest.append((took, f"{kind} {action}"))
        self.seq = max(int(e["seq"]) for e in got["events"])
        if os.environ.get("BENCH_DEBUG"):
            print(kind, payload, [str((e.get("message") or {}).get("text"))[:40]
                                  for e in got["events"]])
        return True


def start_birge(api: str, db_url: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api, "LOG_LEVEL": "WARNING",
           "DATABASE_URL": db_url, "SEND_RATE_PER_SECOND": "0",
           "QUIET_HOURS_START": "0", "QUIET_HOURS_END": "0"}
    return subprocess.Popen([sys.executable, "-m", "bot", "run", "--no-migrate"], env=env,
                            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def phase_answers(args: argparse.Namespace, workdir: Path) -> None:
    import aiohttp

    from bot.sandbox.client import EmulatorClient
    from storage.db import Database
    from storage.migrate import upgrade

    db_url = f"sqlite+aiosqlite:///{workdir / 'answers.db'}"
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port)
    birge: subprocess.Popen[bytes] | None = None
    try:
        await wait_http(api)
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=None))
        async with http, EmulatorClient(api, session=http) as client:
            members = await seed_members(db, args.members, TELEGRAM_BASE)
            people = []
            for i in range(len(members)):
                person = client.person(TELEGRAM_BASE + i, f"M{i}", language_code="ru")
                people.append(person)
            for chunk in range(0, len(people), 200):
                await asyncio.gather(*(p.register() for p in people[chunk:chunk + 200]))
            staff = await staff_member(db)
            birge = start_birge(api, db_url, workdir)
            await asyncio.sleep(3.0)
            if birge.poll() is not None:
                raise RuntimeError("Birge exited: " + (birge.stderr.read().decode()[-2000:]
                                                       if birge.stderr else ""))
            idle = psutil.Process(birge.pid).memory_info().rss / 2**20
            started = time.perf_counter()
            sid = await make_survey(db, staff)
            await wait_sent(db, len(members), 300)
            print(f"answers: {len(members)} members invited; invitations delivered through the "
                  f"outbox in {time.perf_counter() - started:.1f} s")
            procs = {"Birge": psutil.Process(birge.pid), "the emulator":
                     psutil.Process(emulator.pid), "this driver": psutil.Process()}
            cpu_before = {k: sum(p.cpu_times()[:2]) for k, p in procs.items()}
            stats, finished, answers, offered = await open_loop(people, sid, args)
            used = {k: sum(p.cpu_times()[:2]) - cpu_before[k] for k, p in procs.items()}
            cpu = used["Birge"]
            busy = psutil.Process(birge.pid).memory_info().rss / 2**20
            print(f"answers: {answers} answers in {args.seconds:.0f} s at {offered:.0f}/s "
                  f"offered by {args.pool} members at a time; {finished} members finished "
                  f"all {len(QUESTIONS)} questions and confirmed")
            print(f"answers: reply p50 {stats.pct(50):.1f} ms, p95 {stats.pct(95):.1f} ms, "
                  f"p99 {stats.pct(99):.1f} ms, timeouts {stats.timeouts} "
                  f"(target p95 <= 100 ms)")
            print(f"answers: Birge used {cpu:.1f} s of CPU, {1000 * cpu / max(answers, 1):.1f} ms "
                  f"per answer (one core serves at most {answers / max(cpu, 1e-9):.0f} answers/s)")
            print("answers: CPU per answer: " + ", ".join(
                f"{k} {1000 * v / max(answers, 1):.1f} ms" for k, v in used.items()))
            print(f"answers: Birge resident memory idle {idle:.0f} MB (target <= 120 MB), "
                  f"after the load {busy:.0f} MB")
            if stats.slowest:
                kinds: dict[str, int] = {}
                for _took, what in stats.slowest:
                    kinds[what] = kinds.get(what, 0) + 1
                print(f"answers: {len(stats.slowest)} replies over 0.5 s, by action: "
                      + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
            done = await submitted(db, sid)
            print(f"answers: {done} responses submitted in the database")
            if stats.timeouts:
                stop(birge)
                tail = birge.stderr.read().decode(errors="replace")[-1500:] if birge.stderr \
                    else ""
                print("answers: Birge's log at the end:\n" + tail)
    finally:
        if birge is not None:
            stop(birge)
        stop(emulator)
        await db.dispose()


async def wait_sent(db: Any, count: int, timeout: float) -> None:
    from sqlalchemy import text

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with db.read() as s:
            conn = await s.connection()
            sent = (await conn.execute(text(
                "SELECT count(*) FROM outbox WHERE kind = 'survey_invite' "
                "AND status = 'sent'"))).scalar_one()
        if sent >= count:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the invitations were not delivered in time")


async def submitted(db: Any, sid: int) -> int:
    from sqlalchemy import text

    async with db.read() as s:
        conn = await s.connection()
        return int((await conn.execute(text(
            "SELECT count(*) FROM survey_response WHERE survey_id = :s AND submitted_at "
            "IS NOT NULL"), {"s": sid})).scalar_one())


async def open_loop(people: list[Any], sid: int,
                    args: argparse.Namespace) -> tuple[Stats, int, int, float]:
    """`args.pool` members answer at once, each every pool/rate seconds; a member who
    finishes hands over to the next one who has not started."""
    stats = Stats()
    rnd = random.Random(11)
    queue = list(people)
    period = args.pool / args.rate
    started = time.perf_counter()
    deadline = started + args.seconds
    finished = answers = 0

    async def lane(i: int) -> None:
        nonlocal finished, answers
        await asyncio.sleep(period * i / args.pool)
        nxt = time.perf_counter()
        while queue and nxt < deadline:
            member = Answerer(queue.pop(0), sid, rnd)
            await member.start()
            while member.plan and nxt < deadline:
                if await member.step(stats):
                    answers += 1
                nxt += period
                await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
            if not member.plan and not member.abandoned:
                finished += 1

    await asyncio.gather(*(lane(i) for i in range(args.pool)))
    return stats, finished, answers, answers / (time.perf_counter() - started)


# --- phase 2: results and charts over 20,000 responses ------------------------------------


def random_answers(rnd: random.Random) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for q in QUESTIONS:
        kind = q["type"]
        names = [c["name"] for c in q.get("choices", [])]
        if kind == "single":
            found[q["name"]] = rnd.choice(names)
        elif kind == "multiple":
            found[q["name"]] = rnd.sample(names, rnd.randint(1, q.get("max_choices") or 3))
        elif kind == "ranking":
            found[q["name"]] = rnd.sample(names, len(names))
        elif kind == "scale":
            found[q["name"]] = min(q["scale"], max(1, int(rnd.gauss(q["scale"] * 0.6, 2))))
        elif kind == "number":
            found[q["name"]] = int(rnd.lognormvariate(9, 1.2))
        elif kind == "date":
            found[q["name"]] = f"2026-0{rnd.randint(1, 9)}-{rnd.randint(10, 28)}"
        else:
            found[q["name"]] = rnd.choice(("Суу керек.", "Жолдор.", "Мектеп оңдоо."))
    return found


class Sampler:
    """This process's resident memory, sampled every 5 ms while something runs."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._me = psutil.Process()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._me.memory_info().rss / 2**20)
            time.sleep(0.005)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def phase_results(args: argparse.Namespace, workdir: Path) -> None:
    from sqlalchemy import insert
    from sqlmodel import select

    from bot.i18n import get_i18n, in_locale
    from bot.services import surveys
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Member, SurveyResponse
    from storage.types import utcnow

    db_url = f"sqlite+aiosqlite:///{workdir / 'results.db'}"
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    try:
        get_i18n("ky")
        members = await seed_members(db, args.responses, 20_000_000)
        staff = await staff_member(db)
        sid = await make_survey(db, staff)
        rnd = random.Random(5)
        async with db.read() as s:
            places = {m.id: (m.district_id, m.region_id) for m in
                      (await s.exec(select(Member))).all()}
        now = utcnow()
        rows = [{"survey_id": sid, "key": f"m:{m}", "member_id": m,
                 "district_id": places[m][0], "region_id": places[m][1],
                 "answers": random_answers(rnd), "created_at": now, "updated_at": now,
                 "submitted_at": now} for m in members]
        async with db.transaction() as s:
            conn = await s.connection()
            for chunk in range(0, len(rows), 2000):
                await conn.execute(insert(SurveyResponse), rows[chunk:chunk + 2000])
        rss_before = psutil.Process().memory_info().rss / 2**20
        started = time.perf_counter()
        found = await surveys.results(db, staff, sid, "ru")
        took = time.perf_counter() - started
        print(f"results: {found.responded} responses of {found.invited} invited, "
              f"{len(found.by_place)} districts, {len(found.questions)} questions aggregated "
              f"in {took * 1000:.0f} ms (target <= 1000 ms)")
        assert "matplotlib" not in sys.modules, "matplotlib was imported before drawing"
        with Sampler() as sampler:
            started = time.perf_counter()
            import matplotlib

            matplotlib.use("Agg")
            from matplotlib.backends import backend_agg  # noqa: F401
            from matplotlib.figure import Figure  # noqa: F401

            from bot.views.survey_charts import chart_kind, chart_png
            imported = time.perf_counter() - started
            times: list[tuple[str, str, float, int]] = []
            for lang in ("ru", "ky"):
                for q in found.questions:
                    if chart_kind(q.question) is None:
                        continue
                    started = time.perf_counter()
                    with in_locale(lang):
                        png = chart_png(q, lang)
                    assert png is not None and png.startswith(b"\x89PNG")
                    times.append((q.question["name"], lang, time.perf_counter() - started,
                                  len(png)))
        print(f"charts: matplotlib (Agg) imported on the first chart in {imported * 1000:.0f} "
              f"ms")
        for name, lang, took, size in times:
            kind = chart_kind(next(q for q in QUESTIONS if q["name"] == name)) or ""
            print(f"charts: {name} ({kind}, {lang}) {took * 1000:.0f} ms, {size // 1024} KB")
        print(f"charts: slowest {max(t for _n, _l, t, _s in times) * 1000:.0f} ms "
              f"(target <= 300 ms each)")
        print(f"charts: resident memory of this process {rss_before:.0f} MB before drawing, "
              f"peak {sampler.peak:.0f} MB while drawing")
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0, help="offered answers/s")
    parser.add_argument("--pool", type=int, default=200, help="members answering at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="phase 1 length")
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--skip-answers", action="store_true")
    parser.add_argument("--skip-results", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_answers:
            await phase_answers(args, Path(tmp))
        if not args.skip_results:
            with contextlib.suppress(KeyboardInterrupt):
                await phase_results(args, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
