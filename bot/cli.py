"""The `birge` command: run the bot, migrate the database, bootstrap staff, import members.

Configuration problems end the program with one line naming the variable, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings


def _settings() -> Settings:
    return load_settings()


def _logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING,
                                                    logging.getLevelName(settings.log_level)))
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _check_database(url: str) -> None:
    """One line naming the cause (a missing driver, an unreachable server) instead of a
    traceback from deep inside the first query."""
    from storage.db import check_reachable

    asyncio.run(check_reachable(url))


def _run_async(coro_fn: Callable[[], Coroutine[Any, Any, int | None]]) -> int:
    return asyncio.run(coro_fn()) or 0


def _run_forever(coro: Coroutine[Any, Any, None]) -> None:
    """Run the bot on uvloop where it is installed (a faster event loop), else on asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    _logging(settings)
    if not settings.bot_token:
        # No bot registered yet: show Birge in the local sandbox instead (see `birge sandbox`).
        print("BOT_TOKEN is not set, so Birge starts in the local sandbox (nothing reaches "
              "Telegram); see README, \"Try it without Telegram\".", flush=True)
        return _sandbox(settings, port=_sandbox_port(), host="127.0.0.1", fresh=False,
                        database=None)
    from bot.app import Birge

    _check_database(settings.database_url)
    if args.migrate:
        from storage.migrate import upgrade

        upgrade(settings.database_url)
    app = Birge(settings)

    async def main() -> None:
        if settings.webhook_url:
            await app.run_webhook()
        else:
            await app.run_polling()

    _run_forever(main())
    return 0


# --- the sandbox (issue 8): Birge, the Bot API emulator and a chat page, with demo data ----


def _sandbox_port() -> int:
    raw = os.environ.get("SANDBOX_PORT", "").strip()
    if not raw:
        return 8080
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigError("SANDBOX_PORT: expected a port number such as 8080")
    return int(raw)


def _sandbox(settings: Settings | None, *, port: int, host: str, fresh: bool,
             database: str | None) -> int:
    from bot.sandbox.server import DEFAULT_DATABASE, SandboxConfig, serve

    target: Path | str
    if database and database.startswith("postgresql"):
        if not database.startswith("postgresql+asyncpg://"):
            raise ConfigError("--db: expected a file or a postgresql+asyncpg://... URL")
        target = database
        same = settings is not None and settings.database_url == database
    else:
        target = Path(database) if database else DEFAULT_DATABASE
        real = settings.sqlite_path() if settings is not None else None
        same = real is not None and real.resolve() == target.resolve()
    if same:
        raise ConfigError("--db: that is Birge's own database (DATABASE_URL); the sandbox "
                          "keeps a separate one")
    _run_forever(serve(SandboxConfig(host=host, port=port, database=target, fresh=fresh)))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    try:
        settings: Settings | None = _settings()
    except ConfigError:
        settings = None  # a bad BOT_TOKEN or DATABASE_URL does not concern the sandbox
    logging.basicConfig(level=settings.log_level if settings else "INFO",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    return _sandbox(settings, port=args.port, host=args.host, fresh=args.fresh,
                    database=args.db)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage.migrate import head_revision, upgrade

    settings = _settings()
    _check_database(settings.database_url)
    upgrade(settings.database_url)
    print(f"database is at revision {head_revision(settings.database_url)}")
    return 0


async def _open(settings: Settings) -> Any:
    from storage.db import Database, check_reachable
    from storage.migrate import is_up_to_date

    await check_reachable(settings.database_url)
    db = Database(settings.database_url)
    if not await is_up_to_date(db.engine, settings.database_url):
        await db.dispose()
        raise ConfigError("DATABASE_URL: the database is not migrated; run: birge db upgrade")
    return db


def cmd_admin_add(args: argparse.Namespace) -> int:
    from bot.services.roles import bootstrap_admin

    settings = _settings()

    async def main() -> int:
        db = await _open(settings)
        try:
            member_id = await bootstrap_admin(db, args.telegram_id, args.name)
        finally:
            await db.dispose()
        print(f"Telegram user {args.telegram_id} is Union staff (member #{member_id})")
        return 0

    return _run_async(main)


def cmd_members_import(args: argparse.Namespace) -> int:
    from bot.services.member_import import import_members

    settings = _settings()
    path = Path(args.file)
    if not path.exists():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    raw = path.read_bytes()

    async def main() -> int:
        db = await _open(settings)
        try:
            def progress(done: int, total: int) -> None:
                print(f"\r{done}/{total} rows", end="", file=sys.stderr, flush=True)

            report = await import_members(db, raw, skip_bad=args.skip_bad, progress=progress)
        finally:
            await db.dispose()
        print(file=sys.stderr)
        for err in report.errors:
            print(f"line {err.line}: {err.reason}", file=sys.stderr)
        if report.errors and not args.skip_bad:
            print(f"{len(report.errors)} bad rows; nothing imported "
                  "(fix them, or use --skip-bad to import the rest)", file=sys.stderr)
            return 1
        print(f"created {report.created}, updated {report.updated}, unchanged "
              f"{report.unchanged}, skipped {len(report.errors)}")
        return 0

    return _run_async(main)


def cmd_members_export(args: argparse.Namespace) -> int:
    from bot.services.member_import import export_members

    settings = _settings()

    async def main() -> str:
        db = await _open(settings)
        try:
            text = await export_members(db)
        finally:
            await db.dispose()
        return text

    text = asyncio.run(main())
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


class ProgressBar:
    """A one-line progress bar on stderr: `[#######.....] 120/450 rows`, redrawn in place on a
    terminal, printed every tenth (and at the end) otherwise."""

    WIDTH = 30

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.shown = -1
        self.last = ""

    def update(self, done: int, total: int) -> None:
        total = max(total, 1)
        tenth = done * 10 // total
        filled = done * self.WIDTH // total
        self.last = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} rows"
        if self.tty:
            self.stream.write("\r" + self.last)
            self.stream.flush()
        elif tenth != self.shown or done == total:
            self.shown = tenth
            self.stream.write(self.last + "\n")
            self.stream.flush()

    def done(self) -> None:
        if self.tty and self.last:
            self.stream.write("\n")
            self.stream.flush()


def cmd_reference_import(args: argparse.Namespace) -> int:
    from bot.services.errors import InvalidInput
    from bot.services.reference import import_reference

    settings = _settings()
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot read it as UTF-8 CSV ({exc.__class__.__name__})", file=sys.stderr)
        return 2

    bar = ProgressBar(sys.stderr)

    async def main() -> int:
        db = await _open(settings)
        try:
            report = await import_reference(db, text, progress=bar.update)
        except InvalidInput as exc:
            bar.done()
            print(f"{path}: {exc.code} {exc.params}; nothing imported", file=sys.stderr)
            return 2
        finally:
            await db.dispose()
        bar.done()
        print(f"created {report.created}, updated {report.updated}")
        return 0

    return _run_async(main)


def cmd_reference_export(args: argparse.Namespace) -> int:
    from bot.services.reference import export_reference

    settings = _settings()

    async def main() -> int:
        db = await _open(settings)
        try:
            sys.stdout.write(await export_reference(db))
        finally:
            await db.dispose()
        return 0

    return _run_async(main)


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(1, total)
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done * 100 // max(1, total):3d}%"


def cmd_library_import(args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot.i18n import TIMEZONE
    from bot.services.library_import import import_library

    settings = _settings()
    path, files_dir = Path(args.file), Path(args.files)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    if not files_dir.is_dir():
        print(f"{files_dir}: no such folder", file=sys.stderr)
        return 2
    raw = path.read_bytes()

    async def main() -> int:
        db = await _open(settings)
        try:
            report = await import_library(
                db, raw, files_dir, datetime.now(TIMEZONE).date(), skip_bad=args.skip_bad,
                progress=lambda done, total: print(_bar(done, total), end="", file=sys.stderr,
                                                   flush=True))
        finally:
            await db.dispose()
        print(file=sys.stderr)
        for err in report.errors:
            print(f"line {err.line}: {err.reason}", file=sys.stderr)
        if report.errors and not args.skip_bad:
            print(f"{len(report.errors)} bad rows; nothing imported "
                  "(fix them, or use --skip-bad to import the rest)", file=sys.stderr)
            return 1
        print(f"created {report.created}, updated {report.updated}, unchanged "
              f"{report.unchanged}, skipped {len(report.errors)}")
        return 0

    return _run_async(main)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="birge", description="Birge, the LSG platform bot")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (long polling, or webhook if WEBHOOK_URL)")
    run.add_argument("--no-migrate", dest="migrate", action="store_false",
                     help="do not apply pending migrations first")
    run.set_defaults(fn=cmd_run)

    box = sub.add_parser("sandbox", help="try Birge in the browser without Telegram: the "
                         "emulator, Birge and a chat page with demo data")
    box.add_argument("--port", type=int, default=8080, help="chat page port (default 8080)")
    box.add_argument("--host", default="127.0.0.1", help="address to listen on")
    box.add_argument("--fresh", action="store_true", help="start from a clean sandbox database")
    box.add_argument("--db", help="sandbox database: a file (default data/sandbox.db) or a "
                     "postgresql+asyncpg://... URL")
    box.set_defaults(fn=cmd_sandbox)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", help="apply all migrations (idempotent)").set_defaults(
        fn=cmd_db_upgrade)

    admin = sub.add_parser("admin", help="staff").add_subparsers(dest="admin_cmd", required=True)
    add = admin.add_parser("add", help="make a Telegram user Union staff")
    add.add_argument("telegram_id", type=int)
    add.add_argument("--name", default="Admin")
    add.set_defaults(fn=cmd_admin_add)

    mem = sub.add_parser("members", help="members").add_subparsers(dest="members_cmd",
                                                                  required=True)
    imp = mem.add_parser("import", help="import members from a CSV file")
    imp.add_argument("file")
    imp.add_argument("--skip-bad", action="store_true", help="import good rows, skip bad ones")
    imp.set_defaults(fn=cmd_members_import)
    exp = mem.add_parser("export", help="export members as CSV")
    exp.add_argument("-o", "--output")
    exp.set_defaults(fn=cmd_members_export)

    lib = sub.add_parser("library", help="the library").add_subparsers(dest="library_cmd",
                                                                      required=True)
    limp = lib.add_parser("import", help="import legal acts, templates and methods from XLSX")
    limp.add_argument("file")
    limp.add_argument("--files", required=True, help="the folder holding the rows' files")
    limp.add_argument("--skip-bad", action="store_true", help="import good rows, skip bad ones")
    limp.set_defaults(fn=cmd_library_import)

    ref = sub.add_parser("reference", help="regions, districts, municipalities, communities")
    refs = ref.add_subparsers(dest="ref_cmd", required=True)
    rimp = refs.add_parser("import", help="upsert reference rows from CSV")
    rimp.add_argument("file")
    rimp.set_defaults(fn=cmd_reference_import)
    refs.add_parser("export", help="print reference data as CSV").set_defaults(
        fn=cmd_reference_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except ConfigError as exc:
        print(f"birge: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if type(exc).__name__ in ("NotMigrated", "DatabaseUnavailable", "AnotherPoller",
                                   "PollingLost"):
            print(f"birge: {exc}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
