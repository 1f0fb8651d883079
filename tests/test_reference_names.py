"""The shipped state bodies carry the names in force: the Government became the Cabinet of
Ministers in 2021 and the Jogorku Kenesh of the 8th convocation (December 2025) renamed its
committees (24.kg, azattyk.org, 17 December 2025)."""

from __future__ import annotations

import csv
from pathlib import Path

STATE_BODIES = Path(__file__).resolve().parents[1] / "storage" / "reference" / "state_bodies.csv"


def bodies() -> dict[str, dict[str, str]]:
    with STATE_BODIES.open(encoding="utf-8") as fh:
        return {row["code"]: row for row in csv.DictReader(fh)}


def test_no_body_is_named_after_the_government_or_a_committee_that_is_gone() -> None:
    for row in bodies().values():
        names = " ".join((row["name_ky"], row["name_ru"], row["name_en"]))
        for gone in ("Правительств", "Өкмөт", " Government", "региональной политике",
                     "Regional Policy", "аймактык саясат"):
            assert gone not in names, (row["code"], gone)


def test_the_committee_for_local_self_government_and_the_agency_are_current() -> None:
    found = bodies()
    lsg = found["jk-lsg-committee"]
    assert "местному самоуправлению" in lsg["name_ru"]
    assert "жергиликтүү өз алдынча башкаруу" in lsg["name_ky"]
    assert "Local Self-Government" in lsg["name_en"]
    assert "при Кабинете Министров" in found["gamsumo"]["name_ru"]
    assert "Министрлер Кабинетине караштуу" in found["gamsumo"]["name_ky"]
    assert "Finance, Budget" in found["jk-budget-committee"]["name_en"]
    assert "Subsoil Use" in found["jk-agrarian-committee"]["name_en"]
