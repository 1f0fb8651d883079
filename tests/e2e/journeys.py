"""Whole conversations reused by several end-to-end tests."""

from __future__ import annotations

from bot.sandbox.client import Person
from storage.db import Database
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, nav, pick, press, said, t


async def join(person: Person, db: Database, lang: str = "ru", *, name: str = "Нурлан Абдылдаев",
               position: str = "head_ao", district: str = "leylek",
               municipality: str | None = "katran", start: str = "/start",
               expect: str = "Thank you! Your application is waiting for approval") -> None:
    """A newcomer goes through onboarding, consents, and sees the outcome (`expect`)."""
    d = await f.district_id(db, district)
    await person.send(start)
    await said(person, t(lang, "Choose your language."))
    await press(person, pick("language", lang))
    await said(person, t(lang, "Please send your full name (first name and surname)."))
    await person.send(name)
    await said(person, t(lang, "What is your position?"))
    await press(person, pick("position", position))
    await said(person, t(lang, "Choose your region."))
    await press(person, pick("region", await f.region_of(db, d)))
    await said(person, t(lang, "Choose your district."))
    await press(person, pick("district", d))
    if municipality:
        await said(person, t(lang, "Choose your municipality."))
        await press(person, pick("municipality", await f.municipality_id(db, municipality)))
    await said(person, t(lang, "Which practice communities do you want to join?"))
    await press(person, nav("done"))
    await said(person, t(lang, "To take part, Birge keeps your name"))
    await press(person, pick("consent", "yes"))
    await said(person, t(lang, expect))


async def member(people: PersonFactory, birge: Running, name: str, lang: str = "ru",
                 district: str = "leylek", municipality: str | None = None,
                 **kw: object) -> tuple[Person, int]:
    """Someone who opened the bot, joined and was approved (through the services), and has read
    the approval; returns the person and their member id."""
    person = await people(name, lang)
    m = await f.member(birge.db, name, telegram_id=person.user_id, language=lang,
                       district=district, municipality=municipality,
                       **kw)  # type: ignore[arg-type]
    await said(person, t(lang, "Your application has been approved."))
    return person, m.id
