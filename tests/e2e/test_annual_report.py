"""The annual report through the real bot: staff create it for a year with the figures built
through the services, open the consultation round (a district leader comments), and the DOCX is
opened and its tables checked; a year with no data and a 20,000-character effect report are
refused, nothing written."""

from __future__ import annotations

import io

from docx import Document
from sqlmodel import select

from bot.services import annual_report, broadcasts, effect_reports, national_issues
from bot.services.broadcasts import Audience, Draft
from bot.services.errors import InvalidInput
from bot.views.reports import Ar
from storage.enums import BroadcastKind
from storage.models import AnnualReportComment, EffectReport
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, said, t, wait_for
from tests.e2e.journeys import member
from tests.e2e.test_vertical_loop import _download, tap


async def test_the_annual_report_docx_holds_the_years_figures_in_tables(
    birge: Running, people: PersonFactory, tg: object
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    leader, leader_id = await member(people, birge, "Асель Лидер", "ru", "leylek")
    from bot.services import roles
    from storage.enums import Role

    await roles.grant_role(db, None, leader_id, Role.DISTRICT_LEADER,
                           community_id=await f.community_id(db, "heads"),
                           district_id=await f.district_id(db, "leylek"))
    author = await f.member(db, "Бакыт", district="talas")
    issue = await f.national_issue(db, author.id, "Земельный налог")
    assert issue.id is not None
    await national_issues.forward(db, staff_id, issue.id, await f.state_body_id(db, "minfin"))
    await national_issues.record_response(db, staff_id, issue.id, "Поправки внесены.")
    year = utcnow().year

    await boss.send("/report 1999")
    await said(boss, t("ru", "Please send a year such as 2026."))
    try:
        await annual_report.start(db, staff_id, 2001)
        raise AssertionError("a report for a year with no data")
    except InvalidInput as exc:
        assert exc.code == "report_no_data"

    await boss.send(f"/report {year}")
    await said(boss, t("ru", "Annual report {year}: pick the indicator surveys", year=year))
    await tap(boss, Ar(action="create").pack())
    card = await said(boss, t("ru", "Annual report {year}: {status}", year=year,
                              status="проект"))
    assert card
    async with db.read() as s:
        from storage.models import AnnualReport

        report = (await s.exec(select(AnnualReport))).one()
    assert report.id is not None
    await tap(boss, Ar(action="consult", report_id=report.id).pack())
    notice = await said(leader, t("ru", "The draft of the Union's annual report"))
    await leader.press(Ar(action="comment", report_id=report.id).pack(), notice)
    await said(leader, t("ru", "Send your comment on the draft report."))
    await leader.send("Добавьте данные по Баткенской области.")
    await said(leader, t("ru", "Your comment was recorded. Thank you."))
    async with db.read() as s:
        assert len((await s.exec(select(AnnualReportComment))).all()) == 1

    await tap(boss, Ar(action="docx", report_id=report.id).pack())
    name = f"annual-report-{year}.docx"

    async def arrived() -> bool:
        names = {(m.get("document") or {}).get("file_name") for m in await boss.transcript()}
        return name in names

    await wait_for(arrived, timeout=30)
    doc = Document(io.BytesIO(await _download(boss, tg, name)))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")
                or p.style.name == "Title"]
    assert any("Годовой отчёт Союза МСУ" in h for h in headings)
    tables = [[[c.text for c in row.cells] for row in table.rows] for table in doc.tables]
    members_table = tables[0]
    assert members_table[0] == ["Область", "Участники", "Активны за 30 дней"]
    assert sum(int(row[1]) for row in members_table[1:]) >= 3
    outcomes = next(tb for tb in tables if tb[0][0] == "Проблема")
    assert any(f"P-{issue.id} Земельный налог" in row[0] and "Поправки внесены." in row[3]
               for row in outcomes[1:])
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Добавьте данные по Баткенской области." in text
    assert doc.inline_shapes  # the charts


async def test_an_effect_report_too_long_or_with_a_forbidden_file_writes_nothing(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    staff_id = await f.staff(db, None, "Сотрудник", language="ru")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.LAW, title="Закон о МСУ", text_ky="Мыйзам.", text_ru="Закон.",
        audience=Audience(districts=[await f.district_id(db, "leylek")])))
    await said(asel, "Закон.")
    assert await effect_reports.request(db, staff_id, sent.broadcast_id) == 1
    notice = await said(asel, "Закон о МСУ")
    from bot.views.positions import Ef

    await asel.press(Ef(action="report", broadcast_id=sent.broadcast_id).pack(), notice)
    await said(asel, t("ru", "What changed in your community with this law?"))
    await asel.send("я" * 20_000)
    await said(asel, t("ru", "That is too long: at most {limit} characters.", limit=2000))
    await asel.send("Местный бюджет получил доходы от аренды.")
    await said(asel, t("ru", "What problem did it bring, if any?"))
    await asel.send("Нет методики расчёта.")
    await said(asel, t("ru", "Any figures (money, people, days)?"))
    await asel.send("120 000 сом")
    await said(asel, t("ru", "Attach a document, or skip."))
    await asel.upload("document", b"MZ\x90\x00", filename="virus.exe",
                      mime_type="application/x-msdownload")
    await asel.replies(timeout=1.0)
    async with db.read() as s:
        assert not (await s.exec(select(EffectReport))).all()
    await asel.upload("document", b"%PDF-1.4 act", filename="akt.pdf",
                      mime_type="application/pdf")
    await said(asel, t("ru", "Your report was recorded. Thank you."))
    async with db.read() as s:
        rows = (await s.exec(select(EffectReport))).all()
    assert len(rows) == 1 and rows[0].figures == "120 000 сом" and rows[0].documents
    title, groups = await effect_reports.compiled(db, staff_id, sent.broadcast_id, "ru")
    assert title == "Закон о МСУ" and sum(len(g) for g in groups.values()) == 1
    assert asel_id
