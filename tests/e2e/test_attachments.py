"""A photo a member attaches comes back as a photo, wherever it is read: the staff open a national
issue's documents, a lawyer hears of the requester's message on a case and opens its documents.
Telegram refuses a photo's file id sent as a document, and so does the emulator."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from sqlmodel import select

from bot.delivery.attachments import Attachment, attachment, kind_of
from bot.sandbox.client import Person
from bot.sandbox.emulator import EmulatorServer
from bot.services import legal
from bot.views.callbacks import Iss, Lc, Menu
from storage.enums import AttachmentKind, OutboxStatus
from storage.models import NationalIssue
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    nav,
    outbox_rows,
    pick,
    press,
    said,
    t,
    wait_for,
)
from tests.e2e.journeys import member
from tests.e2e.test_legal import a_case, lawyer, lc

JPEG = bytes.fromhex("ffd8ffe000104a464946000101000001000100")  # a JPEG's first bytes


def photo_id(upload: dict[str, object]) -> str:
    """The file id of the largest size of a photo a person sent."""
    sizes = upload["photo"]
    assert isinstance(sizes, list)
    return str(sizes[-1]["file_id"])


async def photos_to(person: Person) -> list[str]:
    """File ids of the photos the bot sent to this person (largest size of each)."""
    return [photo_id(m) for m in await person.transcript() if m.get("from_bot") and "photo" in m]


async def documents_to(person: Person) -> list[str]:
    return [str(m["document"]["file_id"]) for m in await person.transcript()
            if m.get("from_bot") and "document" in m]


async def receives_photo(person: Person, file_id: str) -> None:
    async def arrived() -> bool:
        return file_id in await photos_to(person)

    await wait_for(arrived)


async def test_a_photo_attached_to_a_national_issue_reaches_the_staff_as_a_photo(
    birge: Running, people: PersonFactory
) -> None:
    boss = await people("Айгерим", "ru")
    await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
    bakyt, _ = await member(people, birge, "Бакыт Осмонов", "ru", "talas", "omuraliev")

    await bakyt.send("/start")
    await said(bakyt, t("ru", "Hello, {name}!"))
    await press(bakyt, Menu(item="raise").pack())
    await said(bakyt, t("ru", "Raise a problem to the national level."))
    await bakyt.send("Земельный налог уходит из местного бюджета")
    await said(bakyt, t("ru", "Which topic is it?"))
    await press(bakyt, pick("it", "land"))
    await said(bakyt, t("ru", "What is the problem?"))
    await bakyt.send("Земельный налог поступает в районный бюджет, айыл окмоту не получает его.")
    await said(bakyt, t("ru", "Which law, rule or practice causes it?"))
    await press(bakyt, nav("skip"))
    await said(bakyt, t("ru", "What do you propose?"))
    await bakyt.send("Зачислять земельный налог в местный бюджет полностью.")
    await said(bakyt, t("ru", "Which state body should act?"))
    await press(bakyt, pick("ib", await f.state_body_id(birge.db, "minfin")))
    await said(bakyt, t("ru", "Send evidence documents"))
    photo = photo_id(await bakyt.upload("photo", JPEG))
    await said(bakyt, t("ru", "Attached: {name}. Send more, or press Done.", name="photo.jpg"))
    await bakyt.upload("document", b"%PDF-1.4 act", filename="akt.pdf",
                       mime_type="application/pdf")
    await said(bakyt, t("ru", "Attached: {name}. Send more, or press Done.", name="akt.pdf"))
    await press(bakyt, nav("skip"))
    await said(bakyt, t("ru", "Is this issue sensitive?"))
    await press(bakyt, pick("is", "0"))
    await said(bakyt, t("ru", "Please check before raising it:"))
    await press(bakyt, pick("ic", "yes"))
    await said(bakyt, t("ru", "Your issue {id} is registered."))
    async with birge.db.read() as s:
        [issue] = (await s.exec(select(NationalIssue))).all()
    assert [(d["name"], d.get("kind")) for d in issue.documents] == [
        ("photo.jpg", "photo"), ("akt.pdf", "document")]
    assert issue.id is not None

    note = await said(boss, t("ru", "A new national issue to triage:"))
    await boss.press(Iss(action="o", issue_id=issue.id).pack(), note)
    card = await said(boss, f"P-{issue.id}")
    await boss.press(Iss(action="d", issue_id=issue.id).pack(), card)
    await receives_photo(boss, photo)
    assert photo not in await documents_to(boss)
    assert len(await documents_to(boss)) == 1  # the PDF, as a document


async def test_a_photo_on_a_legal_case_reaches_the_lawyer_as_a_photo(
    birge: Running, people: PersonFactory
) -> None:
    asel, asel_id = await member(people, birge, "Асель Маматова")
    erkin, _ = await lawyer(people, birge)
    case_id = await a_case(birge, asel_id)
    notice = await said(erkin, t("ru", "New legal request {code}"))
    await erkin.press(lc("take", case_id), notice)
    await said(asel, t("ru", "Your request {code} is now handled by a lawyer"))
    await erkin.press(lc("info", case_id))
    await said(erkin, t("ru", "What information do you need from the requester?"))
    await erkin.send("Пришлите, пожалуйста, само письмо налоговой.")
    await said(erkin, t("ru", "Attach documents if you wish"))
    await press(erkin, pick("cs", "send"))
    asked = await said(asel, t("ru", "The lawyer asks for more information"))

    await asel.press(lc("reply", case_id), asked)
    await said(asel, t("ru", "Send your message to the lawyer."))
    photo = photo_id(await asel.upload("photo", JPEG))
    await said(asel, t("ru", "Attached: {name}. Send more documents, or your text.",
                       name="photo.jpg"))
    await asel.send("Вот фото письма.")
    await said(asel, t("ru", "Attach documents if you wish"), "photo.jpg")
    await press(asel, pick("cs", "send"))
    await said(asel, t("ru", "Your message was added to the case"))

    # The notice of her message brings the photo along, as a photo.
    await said(erkin, "Вот фото письма.")
    await receives_photo(erkin, photo)
    assert not [row for row in await outbox_rows(birge.db) if row.status == OutboxStatus.FAILED]

    # And the case's Documents button shows it again, as a photo with its name.
    before = len(await photos_to(erkin))
    await erkin.press(lc("open", case_id))
    card = await said(erkin, f"L-{case_id}")
    await erkin.press(Lc(action="docs", case_id=case_id).pack(), card)

    async def again() -> bool:
        return len(await photos_to(erkin)) > before

    await wait_for(again)
    [doc] = (await legal.case_view(birge.db, asel_id, case_id)).documents
    assert doc.file_id == photo and doc.name == "photo.jpg"


@pytest.mark.parametrize("method", ["document", "photo"])
async def test_telegram_refuses_a_file_id_sent_as_another_kind(
    server: EmulatorServer, people: PersonFactory, method: str
) -> None:
    someone = await people("Нурлан", "ru")
    if method == "document":
        given = photo_id(await someone.upload("photo", JPEG))
        refusal = "can't use file of type Photo as Document"
    else:
        sent = await someone.upload("document", b"%PDF-1.4", filename="a.pdf")
        given = str(sent["document"]["file_id"])
        refusal = "can't use file of type Document as Photo"
    bot = Bot("123456:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    try:
        with pytest.raises(TelegramBadRequest, match=refusal):
            if method == "document":
                await bot.send_document(someone.user_id, given)
            else:
                await bot.send_photo(someone.user_id, given)
    finally:
        await bot.session.close()


def test_the_kind_is_the_one_kept_else_what_the_file_id_says() -> None:
    photo, document = "AgACAgIAAxkBAAIBY2Zx", "BQACAgIAAxkBAAIBZGZx"  # as Telegram makes them
    assert kind_of(photo) == AttachmentKind.PHOTO
    assert kind_of(document) == AttachmentKind.DOCUMENT
    assert kind_of("not a file id!") == AttachmentKind.DOCUMENT
    assert kind_of(document, "photo") == AttachmentKind.PHOTO  # what was kept comes first
    assert attachment({"file_id": photo, "name": "akt.jpg"}) == Attachment(
        photo, AttachmentKind.PHOTO, "akt.jpg")
