"""Idle memory (issue 20): charts, exports, parsers, fuzzy matching, stemming and Alembic are
imported when first used, never by starting Birge."""

from __future__ import annotations

import json
import subprocess
import sys

from storage.migrate import head_from_files, head_revision

HEAVY = ("matplotlib", "numpy", "PIL", "openpyxl", "docx", "lxml", "pyxform", "icalendar",
         "rapidfuzz", "snowballstemmer", "alembic", "mako", "pygments")

START = """
import json, sys
import bot.cli, bot.app, bot.scheduler, bot.jobs, bot.delivery, bot.handlers  # noqa: F401
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_starting_birge_imports_no_heavy_module() -> None:
    out = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert sorted(loaded & set(HEAVY)) == []


def test_the_start_up_check_reads_the_same_head_as_alembic() -> None:
    assert head_from_files() == head_revision("sqlite+aiosqlite:///unused.db")
