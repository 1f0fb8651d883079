"""The `birge` command, run for real in a subprocess as an operator would run it.

Every command pays for Python start-up and imports, so the scenarios below run once per module, as
three independent chains side by side, and the tests read their results.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import Settings
from storage.local_postgres import free_port
from storage.migrate import head_revision

DATA = Path(__file__).parent / "data"
GOOD = DATA / "members_good.csv"  # UTF-8 with BOM, commas, Russian labels
BAD = DATA / "members_bad.csv"  # cp1251, semicolons, CRLF; lines 3, 5, 6 and 7 are bad


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def birge(cwd: Path, *args: str, **env: str) -> Run:
    """`python -m bot ARGS` in `cwd`, so no `.env` of the repo is read; settings from `env` only."""
    settings = {name.upper() for name in Settings.model_fields}
    environ = {k: v for k, v in os.environ.items() if k.upper() not in settings}
    environ.update(env)
    done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120)
    return Run(args, done.returncode, done.stdout, done.stderr)


def sqlite(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    def setup() -> dict[str, Run]:
        cwd = tmp_path_factory.mktemp("setup")
        url = sqlite(cwd / "x.db")
        return {
            "upgrade": birge(cwd, "db", "upgrade", DATABASE_URL=url),
            "upgrade again": birge(cwd, "db", "upgrade", DATABASE_URL=url),
            "admin": birge(cwd, "admin", "add", "12345", DATABASE_URL=url),
            "admin again": birge(cwd, "admin", "add", "12345", DATABASE_URL=url),
            "reference": birge(cwd, "reference", "export", DATABASE_URL=url),
        }

    def members() -> dict[str, Run]:
        cwd = tmp_path_factory.mktemp("members")
        url = sqlite(cwd / "x.db")
        out = cwd / "out.csv"
        done = {
            "members upgrade": birge(cwd, "db", "upgrade", DATABASE_URL=url),
            "import good": birge(cwd, "members", "import", str(GOOD), DATABASE_URL=url),
            "import bad": birge(cwd, "members", "import", str(BAD), DATABASE_URL=url),
            "export": birge(cwd, "members", "export", "-o", str(out), DATABASE_URL=url),
        }
        written = out.read_text("utf-8") if out.exists() else ""
        return done | {"export file": Run(("cat", str(out)), 0, written, "")}

    def config() -> dict[str, Run]:
        cwd = tmp_path_factory.mktemp("config")
        url = sqlite(cwd / "x.db")
        nowhere = f"postgresql+asyncpg://birge@127.0.0.1:{free_port()}/birge"
        # A Python path where Birge's PostgreSQL driver cannot be imported.
        hidden = cwd / "hidden"
        hidden.mkdir()
        (hidden / "asyncpg.py").write_text("raise ImportError(name='asyncpg')\n")
        return {
            "no server": birge(cwd, "run", DATABASE_URL=nowhere, BOT_TOKEN="123456:ABC"),
            "no server upgrade": birge(cwd, "db", "upgrade", DATABASE_URL=nowhere),
            "no driver": birge(cwd, "run", DATABASE_URL=nowhere, BOT_TOKEN="123456:ABC",
                               PYTHONPATH=str(hidden)),
            "mysql": birge(cwd, "db", "upgrade", DATABASE_URL="mysql://x"),
            "mars": birge(cwd, "db", "upgrade", DATABASE_URL=url, TIMEZONE="Mars/Olympus"),
            "garbage token": birge(cwd, "run", DATABASE_URL=url, BOT_TOKEN="garbage"),
            "unmigrated": birge(cwd, "members", "export", DATABASE_URL=url),
        }

    with ThreadPoolExecutor(max_workers=3) as pool:
        chains = [pool.submit(chain) for chain in (setup, members, config)]
        results: dict[str, Run] = {}
        for chain in chains:
            results.update(chain.result())
    return results


def assert_one_line_naming(run: Run, name: str) -> None:
    assert run.code == 2, run
    assert len(run.err_lines) == 1 and name in run.err_lines[0], run.err
    assert "Traceback" not in run.err and run.out == ""


def test_db_upgrade_is_idempotent_and_prints_the_revision(runs: dict[str, Run]):
    head = head_revision(sqlite(Path("unused.db")))
    assert head
    for key in ("upgrade", "upgrade again"):
        assert runs[key].code == 0, runs[key]
        assert head in runs[key].out


def test_admin_add_is_idempotent(runs: dict[str, Run]):
    first, again = runs["admin"], runs["admin again"]
    assert first.code == 0 and again.code == 0, (first, again)
    assert "12345" in first.out and first.out == again.out  # the same member both times


def test_reference_export_lists_the_40_districts(runs: dict[str, Run]):
    run = runs["reference"]
    assert run.code == 0, run
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert sum(1 for row in rows if row["kind"] == "district") == 40


def test_importing_a_good_file_reports_progress_and_counts(runs: dict[str, Run]):
    run = runs["import good"]
    assert run.code == 0, run
    assert "5/5 rows" in run.err
    assert run.out.strip() == "created 5, updated 0, unchanged 0, skipped 0"


def test_importing_a_bad_file_names_every_bad_line_and_imports_nothing(runs: dict[str, Run]):
    run = runs["import bad"]
    assert run.code == 1, run
    named = [line.split(":")[0] for line in run.err_lines if line.startswith("line ")]
    assert named == ["line 3", "line 5", "line 6", "line 7"]
    assert "Атлантида" in run.err and "boss" in run.err and "+996 555 123 456" in run.err
    assert "already led by Гульнара Токтосунова" in run.err
    assert "nothing imported" in run.err_lines[-1]
    assert "Traceback" not in run.err


def test_members_export_writes_the_file_with_only_the_good_import(runs: dict[str, Run]):
    run = runs["export"]
    assert run.code == 0 and run.out == "", run
    rows = list(csv.DictReader(io.StringIO(runs["export file"].out)))
    assert [r["telegram"] for r in rows] == [
        "@gulnara_t", "555000111", "@asel_m", "@nurlan_a", "@aigul_s"
    ]
    assert rows[0]["district"] == "leylek" and rows[0]["municipality"] == "katran"
    assert rows[0]["leads"] == "heads" and rows[1]["district"] == "talas"
    assert rows[3]["roles"] == "moderator" and rows[3]["position"] == "secretary"


def test_a_malformed_database_url_stops_with_one_line(runs: dict[str, Run]):
    assert_one_line_naming(runs["mysql"], "DATABASE_URL")


def test_an_unknown_time_zone_stops_with_one_line(runs: dict[str, Run]):
    assert_one_line_naming(runs["mars"], "TIMEZONE")


def test_an_unreachable_postgresql_server_stops_birge_with_one_line(runs: dict[str, Run]):
    for name in ("no server", "no server upgrade"):
        assert_one_line_naming(runs[name], "DATABASE_URL")
        assert "cannot reach PostgreSQL at 127.0.0.1" in runs[name].err


def test_a_missing_postgresql_driver_stops_birge_with_one_line(runs: dict[str, Run]):
    assert_one_line_naming(runs["no driver"], "DATABASE_URL")
    assert "asyncpg" in runs["no driver"].err and "[postgres]" in runs["no driver"].err


def test_a_malformed_bot_token_stops_run_with_one_line(runs: dict[str, Run]):
    assert_one_line_naming(runs["garbage token"], "BOT_TOKEN")


# `birge run` without a BOT_TOKEN starts the sandbox instead: tests/sandbox/test_sandbox_server.py


def test_an_unmigrated_database_says_to_run_db_upgrade(runs: dict[str, Run]):
    run = runs["unmigrated"]
    assert_one_line_naming(run, "DATABASE_URL")
    assert "birge db upgrade" in run.err
