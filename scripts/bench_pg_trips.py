"""Benchmark: what one ordinary update costs PostgreSQL, in statements and in Birge's CPU.

Starts a throwaway PostgreSQL server that logs every statement (log_min_duration_statement=0),
the emulator and Birge (as scripts/bench_updates.py does), then

- `--members` members join one at a time: Birge's CPU for each step of joining (the form's
  questions, the consent, the first command) and the statements per step;

- one member at a time sends `--actions` menu commands (/help, /profile, /help, /start): the
  statements per update from the server's log (BEGIN/COMMIT and pings are round trips too), by
  kind and by statement, and whether prepared statements are re-parsed (`parse` entries);
- the same members cycle the menu as fast as Birge answers for `--seconds`: updates/s and Birge's
  CPU per update.

    nice .venv/bin/python scripts/bench_pg_trips.py [--members 40] [--actions 60] [--seconds 10]

Birge polls here, and a polling Birge is one process (storage/sole.py): it keeps conversations in
memory, so an update makes no lock, state or mark round trip. What webhook replicas send per
update (the shared path) is counted by tests/storage/test_round_trips.py.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import bench_updates as bu

from bot.sandbox.client import EmulatorClient
from storage import local_postgres


async def run(args: argparse.Namespace) -> None:
    local_postgres.SETTINGS["log_min_duration_statement"] = "0"
    pg = local_postgres.LocalPostgres().start()
    try:
        pg.psql("CREATE DATABASE bench")
        bu.DATABASE_URL = pg.url("bench")
        port = bu.free_port()
        api = f"http://127.0.0.1:{port}"
        emulator = bu.start_emulator(port)
        try:
            await bu.wait_http(api)
            http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            async with http, EmulatorClient(api, session=http) as client:
                with tempfile.TemporaryDirectory() as tmp:
                    proc = bu.start_birge(api, Path(tmp))
                    try:
                        await bu.warm_up(client, proc)
                        ids = itertools.count(3_000_001)
                        members = [bu.BirgeMember(client.person(next(ids), f"M{i}",
                                                                language_code="ru"), i)
                                   for i in range(args.members)]
                        onboard_from = pg.log.stat().st_size
                        calls_before = await client.stats()
                        onboard_cpu = bu.cpu_seconds(proc.pid)
                        steps = bu.Stats()
                        per_step: dict[str, list[float]] = collections.defaultdict(list)
                        for m in members:  # one at a time: what a member's joining costs
                            while not m.joined:
                                step = str((m.last or {}).get("text") or "/start")[:14]
                                cpu_before = bu.cpu_seconds(proc.pid)
                                await bu.act(m, steps)
                                per_step[step].append(bu.cpu_seconds(proc.pid) - cpu_before)
                        onboard_cpu = bu.cpu_seconds(proc.pid) - onboard_cpu
                        await asyncio.sleep(0.5)
                        onboard_log = pg.log.read_text(errors="replace")[onboard_from:]
                        onboard_calls = calls_between(calls_before, await client.stats())
                        for m in members:  # every menu command once, before counting
                            for _ in range(len(bu.BirgeMember.MENU)):
                                await bu.act(m, bu.Stats())
                        await asyncio.sleep(1.5)
                        offset = pg.log.stat().st_size
                        calls_before = await client.stats()
                        for i in range(args.actions):
                            await bu.act(members[i % len(members)], bu.Stats())
                        await asyncio.sleep(0.5)
                        log = pg.log.read_text(errors="replace")[offset:]
                        menu_calls = calls_between(calls_before, await client.stats())
                        cpu = bu.cpu_seconds(proc.pid)
                        began = time.perf_counter()
                        rate, stats = await bu.closed_loop(members, args.seconds)
                        took = time.perf_counter() - began
                        cpu = bu.cpu_seconds(proc.pid) - cpu
                    finally:
                        bu.stop(proc)
        finally:
            bu.stop(emulator)
    finally:
        pg.stop()
    joins = len(steps.latencies)
    print(f"{args.members} members joining one at a time ({joins} steps): "
          f"{1000 * onboard_cpu / max(joins, 1):.2f} ms of Birge's CPU per step")
    for step, cpus in per_step.items():
        print(f"  after {step!r}: {1000 * sum(cpus) / len(cpus):.1f} ms of CPU "
              f"({len(cpus)} times)")
    tally(onboard_log, max(joins, 1), args.top, "onboarding steps")
    print_calls(onboard_calls, max(joins, 1))
    tally(log, args.actions, args.top, "menu commands one at a time")
    print_calls(menu_calls, args.actions)
    print(f"{args.members} members cycling the menu for {took:.0f} s: {rate:.0f} updates/s, "
          f"Birge {cpu / took:.2f} cores, {1000 * cpu / (rate * took):.2f} ms of Birge's CPU per "
          f"update, p50 {stats.pct(50):.1f} ms, p95 {stats.pct(95):.1f} ms, "
          f"timeouts {stats.timeouts}")


def calls_between(before: dict[str, Any], after: dict[str, Any]) -> collections.Counter[str]:
    """Bot API calls per method between two of the emulator's `stats` (getUpdates left out)."""
    def flat(stats: dict[str, Any]) -> collections.Counter[str]:
        return collections.Counter({method: sum(by_status.values())
                                    for method, by_status in stats["calls"].items()
                                    if method != "getUpdates"})
    return flat(after) - flat(before)


def print_calls(calls: collections.Counter[str], n: int) -> None:
    print("Bot API calls per update: " + ", ".join(
        f"{method} {count / n:.2f}" for method, count in calls.most_common()))


def tally(log: str, n: int, top: int, what: str) -> None:
    kinds: collections.Counter[str] = collections.Counter()
    statements: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in log.splitlines():
        found = re.search(r"duration: [\d.]+ ms\s+(\w+)( [^:]*)?:\s*(.*)", line)
        if found:
            kinds[found.group(1)] += 1
            sql = re.sub(r"-?\d{6,}", "N", found.group(3))  # one line for every lock key
            statements[(found.group(1), sql[:100])] += 1
    print(f"{n} {what}: {sum(kinds.values()) / n:.1f} log entries per "
          "update (a cached prepared statement is logged as bind + execute, one round trip)")
    print("per update by kind: " + ", ".join(f"{k} {v / n:.2f}" for k, v in kinds.items()))
    for (kind, sql), count in statements.most_common(top):
        print(f"  {count / n:5.2f} {kind:9} {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--actions", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=20, help="statements listed")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
