"""/settings through the real bot: a member chooses a daily digest at 18:00, switches quiet hours
and a kind of notification off; forged buttons, stickers and newcomers get a short answer."""

from __future__ import annotations

from bot.services import settings
from bot.views.callbacks import Menu, Pref
from storage.enums import DigestFrequency, NoticeCategory
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, buttons, press, said, t


def pref(action: str, value: str = "") -> str:
    return Pref(action=action, value=value).pack()


async def test_a_finance_officer_chooses_a_daily_digest_at_18_and_no_national_issues(
    birge: Running, people: PersonFactory
) -> None:
    await birge.restart_with(quiet_hours_start=21, quiet_hours_end=8)
    asel = await people("Асель", "ru")
    m = await f.member(birge.db, "Асель Маматова", telegram_id=asel.user_id, language="ru")
    await said(asel, t("ru", "Your application has been approved."))
    await asel.send("/start")
    home = await said(asel, t("ru", "Hello, {name}! What would you like to do?",
                              name="Асель Маматова"))
    assert Menu(item="settings").pack() in [data for _, data in buttons(home)]
    await press(asel, Menu(item="settings").pack())
    screen = await said(asel, t("ru", "Settings"), "понедельник")  # weekly, Monday by default
    assert "09:00" in str(screen)
    await press(asel, pref("freq", "daily"))
    await said(asel, t("ru", "Digest: every day at {hour}:00", hour="09"))
    await press(asel, pref("pick", "hour"))
    await said(asel, t("ru", "At what time should the digest come (Bishkek time)?"))
    await press(asel, pref("hour", "18"))
    await said(asel, t("ru", "Digest: every day at {hour}:00", hour="18"))
    await press(asel, pref("quiet", "0"))
    await said(asel, t("ru", "Quiet hours {start}:00–{end}:00: {state}", start="21", end="08",
                       state=t("ru", "off")))
    await press(asel, pref("kind", "national=0"))
    screen = await said(asel, t("ru", "Notifications you get"))
    labels = [label for label, _ in buttons(screen)]
    assert "▫️ " + t("ru", "National issues") in labels
    assert "✅ " + t("ru", "New questions in my groups") in labels
    p = await settings.get_settings(birge.db, m.id)
    assert (p.frequency, p.hour, p.quiet_hours) == (DigestFrequency.DAILY, 18, False)
    assert p.muted == {NoticeCategory.NATIONAL}


async def test_forged_buttons_stickers_and_newcomers_get_a_short_answer(
    birge: Running, people: PersonFactory
) -> None:
    asel = await people("Асель", "ru")
    m = await f.member(birge.db, "Асель Маматова", telegram_id=asel.user_id, language="ru")
    await said(asel, t("ru", "Your application has been approved."))
    await asel.send("/settings")
    screen = await said(asel, t("ru", "Settings"))
    for forged in (pref("hour", "99"), pref("freq", "hourly"), pref("kind", "gossip=0"),
                   pref("day", "x"), pref("quiet", "maybe")):
        await asel.press_data(screen["message_id"], forged)
        assert t("ru", "That choice is not available.") in str(await asel.answer())
    assert await settings.get_settings(birge.db, m.id) == settings.Prefs()
    await asel.upload("sticker", b"data")
    await said(asel, t("ru", "I did not understand."))
    await asel.send("ежедневно пожалуйста")
    await said(asel, t("ru", "I did not understand."))

    newcomer = await people("Бакыт", "ru")
    await f.applicant(birge.db, "Бакыт Осмонов", telegram_id=newcomer.user_id)
    await newcomer.send("/settings")
    await said(newcomer, t("ru", "Settings are for approved members."))
