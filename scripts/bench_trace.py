"""Run `birge` with a log of what can stall its replies (scripts/bench_updates.py, BENCH_TRACE).

    python scripts/bench_trace.py /tmp/trace.log run --no-migrate    # = birge run, traced

Each line of the log is `<unix time> <kind> <ms> <what>`:

- `gc`: a garbage collection of generation 0/1/2 and how long the process stood still for it;
- `callback`: one step of the event loop (a callback or a task's step) that ran 30 ms or more
  without giving the loop back, and what it was (asyncio's loop only: uvloop's steps are not
  Python objects);
- `lag`: a 10 ms timer that fired 20 ms or more late (the loop was busy or stalled: any loop);
- `thread`: a statement (or commit) that SQLite itself took 5 ms or more to run, in the
  connection's thread;
- `sql`: a statement that took 30 ms or more from being sent to SQLite's (or PostgreSQL's)
  driver until its answer (waiting for the single writer or a checkpoint shows up here);
- `job`: a scheduled job's run (bot/scheduler.py);
- `connect` / `close`: the pool opened or closed a database connection;
- `wait` / `hold`: a wait of 30 ms or more for SQLite's write queue (storage/db.py), a hold
  of 10 ms or more;
- `cpu`: every half second, the CPU the process used meanwhile (all its threads) and how busy
  the machine was.

Not part of Birge: the benchmark starts Birge through this file when BENCH_TRACE names a log,
so that a slow reply's time can be matched with what the process was doing then.
"""

from __future__ import annotations

import asyncio
import gc
import runpy
import sys
import threading
import time
from typing import Any, Literal, TextIO

SLOW = 0.03


def install(out: TextIO) -> None:
    def write(kind: str, took: float, what: str) -> None:
        out.write(f"{time.time():.3f} {kind} {took * 1000:.1f} {what[:300]}\n")
        out.flush()

    started: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started["gc"] = time.perf_counter()
        else:
            took = time.perf_counter() - started.pop("gc", time.perf_counter())
            if info["generation"] == 2 or took >= 0.005:
                write("gc", took, f"generation {info['generation']} collected "
                      f"{info['collected']}")

    gc.callbacks.append(on_gc)

    def machine() -> tuple[int, int]:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait

    def cpu_every_second() -> None:
        last, (total, idle) = time.process_time(), machine()
        while True:
            time.sleep(0.5)
            now, (total2, idle2) = time.process_time(), machine()
            busy = 1 - (idle2 - idle) / max(1, total2 - total)
            write("cpu", now - last, f"this process; machine busy {busy:.0%}")
            last, total, idle = now, total2, idle2

    threading.Thread(target=cpu_every_second, daemon=True, name="bench-trace-cpu").start()

    run = asyncio.events.Handle._run

    def timed_run(self: asyncio.events.Handle) -> None:
        began = time.perf_counter()
        run(self)
        took = time.perf_counter() - began
        if took >= SLOW:
            write("callback", took, repr(self))

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]

    import storage.db

    class TimedLock(asyncio.Lock):
        """The SQLite write queue (storage/db.py): how long a writer waited, how long it held."""

        held = 0.0

        async def acquire(self) -> Literal[True]:
            began = time.perf_counter()
            got = await super().acquire()
            self.held = time.perf_counter()
            if self.held - began >= SLOW:
                write("wait", self.held - began, "for the write lock")
            return got

        def release(self) -> None:
            took = time.perf_counter() - self.held
            super().release()
            if took >= 0.01:
                task = asyncio.current_task()
                write("hold", took, f"the write lock: {task.get_name() if task else '?'} "
                      f"{task.get_coro() if task else ''}")

    init = storage.db.Database.__init__

    def timed_init(self: storage.db.Database, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._write_lock = TimedLock()

    storage.db.Database.__init__ = timed_init  # type: ignore[method-assign]

    import aiosqlite.core

    execute = aiosqlite.core.Connection._execute

    async def timed_execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        def timed() -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.perf_counter() - began
                if took >= 0.005:
                    names = getattr(getattr(fn, "__code__", None), "co_freevars", ())
                    cells = dict(zip(names, getattr(fn, "__closure__", None) or (), strict=True))
                    what = cells["operation"].cell_contents if "operation" in cells else fn
                    write("thread", took, " ".join(str(what).split()))

        return await execute(self, timed)

    aiosqlite.core.Connection._execute = timed_execute  # type: ignore[method-assign]

    async def loop_lag() -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.01)
            late = time.perf_counter() - began - 0.01
            if late >= 0.02:
                write("lag", late, "the event loop answered a 10 ms timer this late")

    from bot.app import Birge

    run_polling = Birge.run_polling

    async def lagged(self: Birge) -> None:
        probe = asyncio.create_task(loop_lag(), name="bench-trace-lag")
        try:
            await run_polling(self)
        finally:
            probe.cancel()

    Birge.run_polling = lagged  # type: ignore[method-assign]

    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    @event.listens_for(Pool, "connect")
    def connected(dbapi_conn: Any, record: Any) -> None:
        write("connect", 0.0, "a new database connection")

    @event.listens_for(Pool, "close")
    def closed(dbapi_conn: Any, record: Any) -> None:
        write("close", 0.0, "a database connection closed")

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_trace", []).append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        took = time.perf_counter() - conn.info["bench_trace"].pop()
        if took >= SLOW:
            write("sql", took, " ".join(statement.split()))

    from bot.scheduler import Scheduler

    run_job = Scheduler.run_job

    async def timed_job(self: Scheduler, name: str, *args: Any, **kwargs: Any) -> bool:
        began = time.perf_counter()
        try:
            return await run_job(self, name, *args, **kwargs)
        finally:
            write("job", time.perf_counter() - began, name)

    Scheduler.run_job = timed_job  # type: ignore[method-assign]


def main() -> None:
    log = open(sys.argv[1], "a", buffering=1)  # open for the process's life
    install(log)
    sys.argv = ["birge", *sys.argv[2:]]
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
