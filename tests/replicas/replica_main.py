"""One Birge replica for the replica tests and bench_replicas.py: `birge run` as in production,
plus a test job `test.tick` that runs every `BIRGE_TICK_SECONDS` (each slot once) and appends
one line per run to `BIRGE_TICK_FILE`."""

from __future__ import annotations

import asyncio
import os
import sys

from apscheduler.triggers.interval import IntervalTrigger

from bot.cli import main
from bot.jobs.registry import JobContext, scheduled

TICK_SECONDS = float(os.environ.get("BIRGE_TICK_SECONDS", "0") or 0)
TICK_FILE = os.environ.get("BIRGE_TICK_FILE", "")

if TICK_SECONDS > 0:

    @scheduled("test.tick", lambda s: IntervalTrigger(seconds=TICK_SECONDS, timezone=s.tz),
               every_slot=True)
    async def tick(ctx: JobContext) -> None:
        line = f"{os.getpid()} {ctx.now.isoformat()}\n"
        await asyncio.to_thread(_append, line)


def _append(line: str) -> None:
    with open(TICK_FILE, "a", encoding="utf-8") as out:
        out.write(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["run", "--no-migrate"]))
