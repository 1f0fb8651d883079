"""The shipped state bodies carry the names in force: the Government became the Cabinet of
Ministers in 2021; the Jogorku Kenesh of the 8th convocation (elected 30 November 2025) approved
its committees on 17 December 2025, local self-government going to the constitutional committee
(azattyk.org/a/33625499, inform.kz, 24.kg/english/354989); the agency for local self-government
and interethnic relations was replaced in November 2021 by the agency for civil service and local
self-government (Cabinet resolution No. 258, mkk.gov.kg); the cadastre is kept by the agency for
land resources, cadastre, geodesy and cartography (super.kg/kabar/news/438064, 24.kg 2025)."""

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
                     "Regional Policy", "аймактык саясат", "межэтнических", "этностор аралык",
                     "Interethnic", "судебно-правовым вопросам и Регламенту",
                     "State Service for Cadastre"):
            assert gone not in names, (row["code"], gone)


def test_the_committee_for_local_self_government_and_the_agency_are_current() -> None:
    found = bodies()
    lsg = found["jk-lsg-committee"]
    assert "местному самоуправлению" in lsg["name_ru"]
    assert "жергиликтүү өз алдынча башкаруу" in lsg["name_ky"]
    assert "Local Self-Government" in lsg["name_en"]
    agency = found["gamsumo"]  # the code other data refers to; the body is its successor
    assert agency["name_ru"].startswith("Государственное агентство по делам государственной "
                                        "службы и местного самоуправления при Кабинете Министров")
    assert agency["name_ky"].startswith("Кыргыз Республикасынын Министрлер Кабинетине караштуу "
                                        "Мамлекеттик кызмат жана жергиликтүү өз алдынча")
    assert "Civil Service and Local Self-Government" in agency["name_en"]
    assert "Land Resources, Cadastre, Geodesy and Cartography" in found["cadastre"]["name_en"]
    assert "Жер ресурстары, кадастр, геодезия жана картография" in found["cadastre"]["name_ky"]
    assert "Finance, Budget" in found["jk-budget-committee"]["name_en"]
    assert "Subsoil Use" in found["jk-agrarian-committee"]["name_en"]
