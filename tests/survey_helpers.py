"""Surveys built the way Birge builds them (through `bot.services.surveys`), for the tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.services import surveys
from bot.services.broadcasts import Audience
from bot.services.surveys import SurveyDraft
from storage.db import Database
from storage.types import utcnow


def L(ky: str, ru: str, en: str | None = None) -> dict[str, str]:
    return {"ky": ky, "ru": ru, **({"en": en} if en else {})}


def choice(name: str, ky: str, ru: str) -> dict[str, Any]:
    return {"name": name, "label": L(ky, ru)}


# The trust survey and the needs study of the seeds, in short.
QUESTIONS: list[dict[str, Any]] = [
    {"name": "budget", "type": "single", "label": L("Бюджет жетиштүүбү?", "Хватает ли бюджета?"),
     "choices": [choice("yes", "Ооба", "Да"), choice("no", "Жок", "Нет")]},
    {"name": "gap", "type": "number", "label": L("Канча жетишпейт?", "Сколько не хватает?"),
     "unit": "сом", "min": 0, "max": 100_000_000, "relevant": {"q": "budget", "value": "no"}},
    {"name": "trust", "type": "scale", "scale": 10,
     "label": L("Ишеним канчалык?", "Насколько Вы доверяете?"),
     "low": L("такыр жок", "совсем нет"), "high": L("толук", "полностью")},
    {"name": "problems", "type": "multiple", "max_choices": 2,
     "label": L("Кайсы көйгөйлөр?", "Какие проблемы?"),
     "choices": [choice("water", "Суу", "Вода"), choice("roads", "Жолдор", "Дороги"),
                 choice("waste", "Таштанды", "Мусор")]},
    {"name": "priority", "type": "ranking",
     "label": L("Артыкчылык боюнча иреттеңиз", "Расставьте по важности"),
     "choices": [choice("water", "Суу", "Вода"), choice("roads", "Жолдор", "Дороги"),
                 choice("waste", "Таштанды", "Мусор")]},
    {"name": "since", "type": "date", "label": L("Качантан бери?", "С какого времени?"),
     "required": False},
    {"name": "comment", "type": "text", "label": L("Пикириңиз", "Ваш комментарий"),
     "required": False},
]


def draft(audience: Audience | None = None, **kw: Any) -> SurveyDraft:
    values: dict[str, Any] = {
        "title": L("Муниципалитеттердин муктаждыктары", "Потребности муниципалитетов"),
        "intro": L("Сурамжылоого катышыңыз.", "Примите участие в опросе."),
        "questions": QUESTIONS, "deadline": utcnow() + timedelta(days=5),
        "audience": audience or Audience()}
    values.update(kw)
    return SurveyDraft(**values)


async def create(db: Database, actor_id: int, audience: Audience | None = None,
                 **kw: Any) -> int:
    return (await surveys.create_survey(db, actor_id, draft(audience, **kw))).survey_id


async def answer_all(db: Database, member_id: int, survey_id: int,
                     values: dict[str, Any]) -> surveys.Step:
    """Answer every shown question with `values` (a missing value skips it) and submit."""
    step = await surveys.begin(db, member_id, survey_id)
    while step.current is not None:
        name = step.current
        if name in values:
            step = await surveys.answer(db, member_id, survey_id, name, values[name])
        else:
            step = await surveys.skip(db, member_id, survey_id, name)
    return await surveys.submit(db, member_id, survey_id)
