"""Refresh the catalogs after changing strings.

Extracts every string in `bot/` and, for each language (ky, ru, en):
- adds the strings that no catalog file holds yet, empty, to `i18n/<lang>/LC_MESSAGES/<file>.po`
  (`--file surveys` puts them in `surveys.po`; the default is `birge.po`);
- drops from every file the strings the code no longer uses.

Each feature keeps its strings in its own file, so two features never edit the same catalog.
New strings arrive empty; `tests/test_i18n.py` fails until they are translated. There is no compile
step: Birge compiles the `.po` files in memory at start-up (`bot.i18n`).

    .venv/bin/python scripts/i18n.py [--file NAME]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.i18n import CATALOGS, DOMAIN, catalog_files  # noqa: E402

LANGS = ("ky", "ru", "en")


def extract() -> Catalog:
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "birge.pot"
        subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
             "-k", "_", "-k", "__", "-k", "ngettext:1,2", "-k", "pgettext:1c,2",
             "-k", "npgettext:1c,2,3", "--no-location", "--sort-output", "-o", str(pot), "."],
            cwd=ROOT, check=True, capture_output=True,
        )
        with pot.open("rb") as fh:
            return read_po(fh)


def key(msg_id: str | tuple[str, ...] | list[str], context: str | None) -> tuple[str, str | None]:
    return (msg_id if isinstance(msg_id, str) else msg_id[0], context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", default=DOMAIN, help="catalog file for new strings (no .po)")
    args = parser.parse_args()
    code = extract()
    wanted = {key(m.id, m.context): m for m in code if m.id}
    for lang in LANGS:
        folder = CATALOGS / lang / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{args.file}.po"
        files = catalog_files(lang)
        if target not in files:
            files.append(target)
        have: set[tuple[str, str | None]] = set()
        catalogs: dict[Path, Catalog] = {}
        for path in files:
            if path.exists():
                with path.open("rb") as fh:
                    cat = read_po(fh, locale=lang, domain=DOMAIN)
            else:
                cat = Catalog(locale=lang, domain=DOMAIN, project="Birge")
            for msg in list(cat):
                if msg.id and key(msg.id, msg.context) not in wanted:
                    cat.delete(msg.id, msg.context)
            have |= {key(m.id, m.context) for m in cat if m.id}
            catalogs[path] = cat
        for k, msg in wanted.items():
            if k not in have:
                empty = ("",) * 2 if isinstance(msg.id, tuple) else ""
                catalogs[target].add(msg.id, empty, context=msg.context)
        for path, cat in catalogs.items():
            if path == target or path.exists():
                with path.open("wb") as fh:
                    write_po(fh, cat, omit_header=False, sort_output=True, width=76)
    print(f"catalogs updated: {len(wanted)} messages in the code")


if __name__ == "__main__":
    main()
