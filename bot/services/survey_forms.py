"""A survey's questions as plain data: what each type holds, how an answer is checked, which
question comes next (simple branching), without any chat or database.

A question is a dict (stored in `Survey.questions`):

    {"name": "trust", "type": "scale", "label": {"ky": …, "ru": …, "en": …}, "required": True,
     "scale": 10, "low": {…}, "high": {…},                       # scale: 1–5 or 1–10, end labels
     "choices": [{"name": "water", "label": {…}}, …],            # single, multiple, ranking
     "max_choices": 3,                                            # multiple: at most this many
     "top": 3,                                                    # ranking: pick the top N
     "unit": "сом", "min": 0, "max": 1000000, "integer": True,    # number
     "relevant": {"q": "has_budget", "value": "yes"}}             # shown only if …

Answers are JSON values: single → a choice name; multiple and ranking → a list of choice names
(ranking in order, first = most important); scale and number → a number; text → a string;
date → "YYYY-MM-DD". `relevant` holds when the earlier answer equals `value`, or (for a multiple
choice) contains it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.services.errors import InvalidInput

TYPES = ("single", "multiple", "scale", "number", "text", "date", "ranking")
CHOICE_TYPES = ("single", "multiple", "ranking")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
LABEL_MAX = 300
CHOICE_LABEL_MAX = 60  # a button
CHOICES_MAX = 20
RANKING_MAX = 10
QUESTIONS_MAX = 60
TEXT_ANSWER_MAX = 1000
UNIT_MAX = 20
NUMBER_LIMIT = 10**12
LANGS = ("ky", "ru", "en")


def label(labels: dict[str, str] | None, language: str) -> str:
    """A label in the reader's language, falling back as broadcasts do (en → ru → ky)."""
    labels = labels or {}
    order = {"ky": ("ky", "ru", "en"), "ru": ("ru", "ky", "en"), "en": ("en", "ru", "ky")}
    for lang in order.get(language, ("ru", "ky", "en")):
        if labels.get(lang):
            return str(labels[lang])
    return ""


def _labels(raw: Any, limit: int, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise InvalidInput("survey_label", where=where)
    found = {lang: " ".join(str(raw.get(lang) or "").split()) for lang in LANGS}
    if not found["ky"] or not found["ru"]:
        raise InvalidInput("survey_label", where=where)
    if any(len(v) > limit for v in found.values()):
        raise InvalidInput("survey_label_long", where=where, limit=limit)
    return {k: v for k, v in found.items() if v}


def _number(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InvalidInput("survey_range")
    return raw


def clean_question(raw: dict[str, Any], earlier: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One question checked and normalised; `earlier` are the questions before it by name."""
    name = str(raw.get("name") or "")
    if not NAME.fullmatch(name):
        raise InvalidInput("survey_name", where=name[:40])
    if name in earlier:
        raise InvalidInput("survey_duplicate", where=name)
    kind = raw.get("type")
    if kind not in TYPES:
        raise InvalidInput("survey_type", where=name)
    q: dict[str, Any] = {"name": name, "type": kind,
                         "label": _labels(raw.get("label"), LABEL_MAX, name),
                         "required": bool(raw.get("required", True))}
    if kind in CHOICE_TYPES:
        choices = raw.get("choices") or []
        if not isinstance(choices, list) or not 2 <= len(choices) <= CHOICES_MAX:
            raise InvalidInput("survey_choices", where=name, limit=CHOICES_MAX)
        seen: set[str] = set()
        cleaned = []
        for c in choices:
            cname = str((c or {}).get("name") or "")
            if not NAME.fullmatch(cname) and not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", cname):
                raise InvalidInput("survey_name", where=f"{name}/{cname[:40]}")
            if cname in seen:
                raise InvalidInput("survey_duplicate", where=f"{name}/{cname}")
            seen.add(cname)
            cleaned.append({"name": cname,
                            "label": _labels(c.get("label"), CHOICE_LABEL_MAX, f"{name}/{cname}")})
        q["choices"] = cleaned
        if kind == "multiple" and raw.get("max_choices"):
            top = int(raw["max_choices"])
            if not 1 <= top <= len(cleaned):
                raise InvalidInput("survey_max", where=name)
            q["max_choices"] = top
        if kind == "ranking":
            if len(cleaned) > RANKING_MAX:
                raise InvalidInput("survey_choices", where=name, limit=RANKING_MAX)
            if raw.get("top"):
                top = int(raw["top"])
                if not 1 <= top <= len(cleaned):
                    raise InvalidInput("survey_max", where=name)
                q["top"] = top
    elif kind == "scale":
        scale = int(raw.get("scale") or 5)
        if scale not in (5, 10):
            raise InvalidInput("survey_scale", where=name)
        q["scale"] = scale
        for end in ("low", "high"):
            if raw.get(end):
                q[end] = _labels(raw[end], CHOICE_LABEL_MAX, f"{name}/{end}")
    elif kind == "number":
        low, high = _number(raw.get("min")), _number(raw.get("max"))
        if low is not None and high is not None and low > high:
            raise InvalidInput("survey_range", where=name)
        q["min"], q["max"] = low, high
        q["integer"] = bool(raw.get("integer", True))
        unit = " ".join(str(raw.get("unit") or "").split())
        if len(unit) > UNIT_MAX:
            raise InvalidInput("survey_label_long", where=name, limit=UNIT_MAX)
        if unit:
            q["unit"] = unit
    relevant = raw.get("relevant")
    if relevant:
        target = earlier.get(str(relevant.get("q") or ""))
        value = str(relevant.get("value") or "")
        if target is None:
            raise InvalidInput("survey_relevant", where=name)
        if target["type"] in CHOICE_TYPES and value not in {c["name"] for c in
                                                             target["choices"]}:
            raise InvalidInput("survey_relevant", where=name)
        q["relevant"] = {"q": target["name"], "value": value}
    return q


def clean_questions(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not raw:
        raise InvalidInput("survey_empty")
    if len(raw) > QUESTIONS_MAX:
        raise InvalidInput("survey_too_many", limit=QUESTIONS_MAX)
    done: dict[str, dict[str, Any]] = {}
    for item in raw:
        q = clean_question(item, done)
        done[q["name"]] = q
    return list(done.values())


# --- following the questions -------------------------------------------------------------------


def shown(question: dict[str, Any], answers: dict[str, Any]) -> bool:
    rule = question.get("relevant")
    if not rule:
        return True
    given = answers.get(rule["q"])
    if isinstance(given, list):
        return rule["value"] in given
    return given is not None and str(given) == rule["value"]


def path(questions: list[dict[str, Any]], answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions this member is asked, given their answers so far."""
    return [q for q in questions if shown(q, answers)]


def by_name(questions: list[dict[str, Any]], name: str | None) -> dict[str, Any] | None:
    return next((q for q in questions if q["name"] == name), None)


def next_after(questions: list[dict[str, Any]], answers: dict[str, Any],
               name: str | None) -> str | None:
    """The next question shown after `name` (the first when None); None at the end."""
    names = [q["name"] for q in questions]
    start = names.index(name) + 1 if name in names else 0
    for q in questions[start:]:
        if shown(q, answers):
            return str(q["name"])
    return None


def before(questions: list[dict[str, Any]], answers: dict[str, Any], name: str) -> str | None:
    names = [q["name"] for q in questions]
    if name not in names:
        return None
    for q in reversed(questions[:names.index(name)]):
        if shown(q, answers):
            return str(q["name"])
    return None


def prune(questions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """Answers to questions no longer shown (a branch changed) are dropped."""
    visible = {q["name"] for q in path(questions, answers)}
    return {k: v for k, v in answers.items() if k in visible}


def missing_required(questions: list[dict[str, Any]], answers: dict[str, Any]) -> str | None:
    for q in path(questions, answers):
        if q["required"] and answers.get(q["name"]) in (None, "", []):
            return str(q["name"])
    return None


# --- checking one answer -----------------------------------------------------------------------


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def parse_number(question: dict[str, Any], text: str) -> int | float:
    """Digits only (a point for decimals): "5 000 сом" and "5,5" are refused with what to send."""
    raw = text.strip()
    if not _NUMBER.fullmatch(raw) or len(raw) > 16:
        raise InvalidInput("survey_number")
    value: int | float
    if question.get("integer", True):
        if "." in raw:
            raise InvalidInput("survey_integer")
        value = int(raw)
    else:
        value = float(raw)
    low, high = question.get("min"), question.get("max")
    if (low is not None and value < low) or (high is not None and value > high) \
            or abs(value) > NUMBER_LIMIT:
        raise InvalidInput("survey_out_of_range", low=_show(low), high=_show(high))
    return value


def _show(value: float | None) -> str:
    if value is None:
        return "…"
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_date(text: str) -> str:
    m = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*", text)
    if m is None:
        raise InvalidInput("survey_date")
    try:
        return date(int(m[3]), int(m[2]), int(m[1])).isoformat()
    except ValueError as exc:
        raise InvalidInput("survey_date") from exc


def parse_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("survey_text", limit=TEXT_ANSWER_MAX)
    if len(cleaned) > TEXT_ANSWER_MAX:
        raise InvalidInput("survey_text", limit=TEXT_ANSWER_MAX)
    return cleaned


def parse_typed(question: dict[str, Any], text: str) -> Any:
    """An answer typed as a message; choice and scale questions take buttons only."""
    kind = question["type"]
    if kind == "number":
        return parse_number(question, text)
    if kind == "date":
        return parse_date(text)
    if kind == "text":
        return parse_text(text)
    raise InvalidInput("survey_use_buttons")


def check_value(question: dict[str, Any], value: Any) -> Any:
    """A complete answer (from buttons, a poll or an import) checked against the question."""
    kind = question["type"]
    names = [c["name"] for c in question.get("choices", [])]
    if kind == "single":
        if value not in names:
            raise InvalidInput("survey_choice")
        return value
    if kind in ("multiple", "ranking"):
        if not isinstance(value, list) or not all(v in names for v in value):
            raise InvalidInput("survey_choice")
        if len(set(value)) != len(value):
            raise InvalidInput("survey_repeated")
        if kind == "multiple":
            if not value:
                raise InvalidInput("survey_choice")
            if question.get("max_choices") and len(value) > question["max_choices"]:
                raise InvalidInput("survey_too_many_choices", limit=question["max_choices"])
        else:
            wanted = question.get("top") or len(names)
            if len(value) != wanted:
                raise InvalidInput("survey_ranking_incomplete", count=wanted)
        return list(value)
    if kind == "scale":
        if isinstance(value, bool) or not isinstance(value, int) \
                or not 1 <= value <= question["scale"]:
            raise InvalidInput("survey_choice")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput("survey_number")
        return parse_number(question, str(value))
    if kind == "date":
        if not isinstance(value, str):
            raise InvalidInput("survey_date")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise InvalidInput("survey_date") from exc
    if kind == "text":
        return parse_text(str(value))
    raise InvalidInput("survey_choice")


def toggle(question: dict[str, Any], current: Any, choice: str) -> list[str]:
    """Multiple choice: a tap adds or removes an option (refused past the maximum)."""
    names = [c["name"] for c in question.get("choices", [])]
    if choice not in names:
        raise InvalidInput("survey_choice")
    chosen = [c for c in (current if isinstance(current, list) else []) if c in names]
    if choice in chosen:
        chosen.remove(choice)
    else:
        top = question.get("max_choices")
        if top and len(chosen) >= top:
            raise InvalidInput("survey_too_many_choices", limit=top)
        chosen.append(choice)
    return chosen


def rank_tap(question: dict[str, Any], current: Any, choice: str) -> list[str]:
    """Ranking: taps put options in order; a repeated option is refused."""
    names = [c["name"] for c in question.get("choices", [])]
    if choice not in names:
        raise InvalidInput("survey_choice")
    order = [c for c in (current if isinstance(current, list) else []) if c in names]
    if choice in order:
        raise InvalidInput("survey_repeated")
    wanted = question.get("top") or len(names)
    if len(order) >= wanted:
        raise InvalidInput("survey_ranking_full")
    return [*order, choice]
