"""Benchmark: the digests of 10,000 members over 100,000 questions, in one run of the digest job.

A child process generates the data with bulk inserts into a migrated SQLite file (a benchmark
needs 100,000 questions in seconds; the tests go through the services): 10,000 active members,
50 topic groups each member follows three of, 100,000 questions over the last 90 days (about 60%
answered, a fifth of those resolved) with their answers, and five broadcasts delivered to
everyone (one a draft law with a comment deadline in five days). This process then times, on a
fresh heap:

1. build: find who is due and collect every section for all of them (`due_members` +
   `build_digests`), the work the issue's target is about;
2. render: word every digest message in its member's language (what the delivery worker does);
3. send run: the whole job (`send_due_digests`: build, move the markers, write the outbox rows).

It prints the times and the peak resident memory of this process (targets: build ≤ 10 s,
≤ 300 MB). Not a test: it prints figures and stops by itself.

    .venv/bin/python scripts/bench_digest.py [--members 10000] [--questions 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text
from sqlmodel import col

TZ = ZoneInfo("Asia/Bishkek")
# A Monday, 09:05 in Bishkek: everyone with the default weekly digest is due.
NOW = datetime(2026, 11, 30, 9, 5, tzinfo=TZ).astimezone(UTC)
GROUPS = 50
FOLLOWS = 3
WORDS = ("бюджет", "жер", "салык", "трансферт", "кенеш", "айыл", "окмоту", "токтом", "мүлк",
         "ижара", "суу", "таштанды", "мектеп", "жол", "отчет", "сессия", "депутат", "аймак")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def generate(path: Path, members: int, questions: int) -> None:
    from storage.db import Database
    from storage.enums import BroadcastKind, BroadcastStatus, MemberStatus, OutboxStatus
    from storage.migrate import upgrade
    from storage.models import (
        Answer,
        Broadcast,
        GroupMember,
        Member,
        Outbox,
        Question,
        TopicGroup,
    )

    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    rnd = random.Random(7)
    now = NOW
    naive_now = NOW.replace(tzinfo=None)  # for the raw SQL statements
    async with db.transaction() as s:
        conn = await s.connection()
        have = (await conn.execute(text("SELECT count(*) FROM topic_group"))).scalar_one()
        await conn.execute(insert(TopicGroup), [
            {"code": f"bench-{i}", "name_ky": f"Топ {i}", "name_ru": f"Группа {i}",
             "name_en": f"Group {i}", "description_ky": "", "description_ru": "",
             "description_en": "", "sort": 100 + i, "created_at": now}
            for i in range(GROUPS - have)])
        group_ids = list((await conn.execute(text("SELECT id FROM topic_group"))).scalars())
        await conn.execute(insert(Member), [
            {"telegram_id": 5_000_000 + i, "full_name": f"Member {i}",
             "language": ("ky", "ru", "en")[i % 3], "position": "head_ao",
             "status": MemberStatus.ACTIVE.value, "reachable": True, "created_at": now}
            for i in range(members)])
        member_ids = list((await conn.execute(text("SELECT id FROM member"))).scalars())
        await conn.execute(insert(GroupMember), [
            {"group_id": g, "member_id": m, "joined_at": now}
            for m in member_ids for g in rnd.sample(group_ids, FOLLOWS)])
        # 10% chose a daily digest at 09:00, so they are due too.
        await conn.execute(text(
            "INSERT INTO member_settings (member_id, digest_frequency, digest_weekday, "
            "digest_hour, quiet_hours, muted, updated_at) SELECT id, 'daily', 0, 9, 1, '[]', "
            ":now FROM member WHERE id % 10 = 0"), {"now": naive_now})
        rows, answers = [], []
        for _ in range(questions):
            created = now - timedelta(seconds=rnd.randrange(90 * 86400))
            words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(8, 40)))
            status, answered_at, resolved_at = "open", None, None
            if rnd.random() < 0.6:
                answered_at = created + timedelta(hours=rnd.randrange(1, 72))
                status = "answered"
                if rnd.random() < 0.2:
                    resolved_at = answered_at + timedelta(hours=rnd.randrange(1, 48))
                    status = "resolved"
                if answered_at > now:
                    status, answered_at, resolved_at = "open", None, None
                elif resolved_at is not None and resolved_at > now:
                    status, resolved_at = "answered", None
            rows.append({"group_id": rnd.choice(group_ids), "asker_id": rnd.choice(member_ids),
                         "text": words.capitalize() + "?", "anonymous": False, "attachments": [],
                         "status": status, "created_at": created, "answered_at": answered_at,
                         "resolved_at": resolved_at})
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(Question), rows[start:start + 5000])
        answered = (await conn.execute(
            select(Question.id, Question.answered_at)  # type: ignore[call-overload]
            .where(col(Question.answered_at).is_not(None)))).all()
        for qid, at in answered:
            answers.append({"question_id": qid, "author_id": rnd.choice(member_ids),
                            "text": "Жооп", "attachments": [], "is_follow_up": False,
                            "useful_count": rnd.randrange(5), "created_at": at})
        for start in range(0, len(answers), 5000):
            await conn.execute(insert(Answer), answers[start:start + 5000])
        admin = member_ids[0]
        for b in range(5):
            draft = b == 4
            inserted = (await conn.execute(insert(Broadcast).values(
                kind=(BroadcastKind.DRAFT_LAW if draft else BroadcastKind.LAW).value,
                title=f"Мыйзам №{b + 1}", text_ky="Текст", text_ru="Текст", documents=[],
                audience={}, status=BroadcastStatus.SENDING.value, created_by_id=admin,
                created_at=now - timedelta(days=b + 1),
                started_at=now - timedelta(days=b + 1), recipients=members,
                comments_until=now + timedelta(days=5) if draft else None,
            ))).inserted_primary_key
            assert inserted is not None
            bid = inserted[0]
            out = [{"member_id": m, "broadcast_id": bid, "kind": "broadcast",
                    "payload": {"broadcast_id": bid}, "priority": 10,
                    "status": OutboxStatus.SENT.value, "attempts": 1,
                    "created_at": now - timedelta(days=b + 1)} for m in member_ids]
            for start in range(0, len(out), 5000):
                await conn.execute(insert(Outbox), out[start:start + 5000])
        # A third of the members acknowledged the first broadcast.
        await conn.execute(text(
            "INSERT INTO broadcast_response (broadcast_id, member_id, kind, created_at) "
            "SELECT 1, id, 'ack', :now FROM member WHERE id % 3 = 0"), {"now": naive_now})
    await db.dispose()


async def measure(path: Path) -> None:
    from bot.delivery.digest_notices import group_names
    from bot.i18n import get_i18n, in_locale
    from bot.services import digests
    from bot.views.digests import digest_text
    from storage.db import Database

    get_i18n("ky")
    db = Database(f"sqlite+aiosqlite:///{path}")
    before = peak_mb()

    started = time.perf_counter()
    due = await digests.due_members(db, NOW, TZ)
    built: dict[int, digests.Digest] = {}
    floor = min(d.reader.since for d in due)
    shared: dict[str, object] = {}
    for start in range(0, len(due), digests.BATCH):
        async with db.read() as s:
            built.update(await digests.build_digests(
                s, [d.reader for d in due[start:start + digests.BATCH]], NOW, floor, shared))
    build_s = time.perf_counter() - started
    build_peak = peak_mb()
    frequency = {d.reader.id: d.frequency for d in due}
    payloads = [(d.reader.language, p) for d in built.values() if not d.empty
                for p in d.messages(frequency[d.reader.id])]
    items = sum(f.count for d in built.values() for _, f in d.sections)

    started = time.perf_counter()
    groups = await group_names(db)
    longest = 0
    for lang, payload in payloads:
        with in_locale(lang):
            longest = max(longest, len(digest_text(payload, lang, groups)))
    render_s = time.perf_counter() - started
    del built, payloads

    started = time.perf_counter()
    run = await digests.send_due_digests(db, NOW, TZ)
    send_s = time.perf_counter() - started
    again = await digests.send_due_digests(db, NOW, TZ)
    await db.dispose()

    print(f"due members:           {len(due):,}")
    print(f"things found:          {items:,} (shown: at most {digests.SECTION_ITEMS} a section)")
    print(f"build (due + sections): {build_s:6.2f} s   peak RSS {build_peak:.0f} MB "
          f"(at start {before:.0f} MB)")
    print(f"render {run.messages:,} messages:  {render_s:6.2f} s   longest {longest} chars")
    print(f"whole job (build, markers, outbox): {send_s:6.2f} s — {run.sent:,} digests, "
          f"{run.empty:,} empty, {run.messages:,} messages")
    print(f"second run at once:    {again.due} due (each slot is sent once)")
    print(f"peak RSS overall:      {peak_mb():.0f} MB")
    ok = build_s <= 10 and build_peak <= 300
    print("targets (≤ 10 s, ≤ 300 MB):", "met" if ok else "MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        asyncio.run(generate(args.generate, args.members, args.questions))
        return
    print(f"machine: {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="birge-digest-") as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate", str(path), "--members",
                        str(args.members), "--questions", str(args.questions)], check=True,
                       cwd=Path(__file__).resolve().parents[1])
        print(f"generated {args.members:,} members, {args.questions:,} questions in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        asyncio.run(measure(path))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
