"""A long survey from a spreadsheet: XLSForm, the format of KoboToolbox and ODK.

pyxform (the maintained reference parser) reads the workbook and validates it as ODK would;
this module maps what Birge can ask in a chat onto `survey_forms` questions and refuses the
rest with the spreadsheet row and the reason:

- types `select_one L`, `select_multiple L`, `rank L`, `integer`, `decimal`, `text`, `date`,
  `range` (1–5 or 1–10, step 1);
- labels in `label::Кыргызча` / `label::Русский` (also `label::ky`, `label::Kyrgyz (ky)`, …),
  English optional; the choices sheet likewise;
- `required`; `relevant` of the simple forms `${q} = 'v'` and `selected(${q}, 'v')`;
  `constraint` of the forms `. >= A and . <= B` (numbers) and `count-selected(.) <= N`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from bot.services import survey_forms as forms
from bot.services.errors import InvalidInput

MAX_BYTES = 2 * 1024 * 1024
SKIPPED_TYPES = {"start", "end", "today", "deviceid", "username", "phonenumber", "audit",
                 "simserial", "subscriberid", "calculate_here"}
LANGUAGE_HINTS = {
    "ky": ("кыргызча", "kyrgyz", "(ky)", "::ky"),
    "ru": ("русский", "russian", "(ru)", "::ru"),
    "en": ("english", "англис", "(en)", "::en"),
}
_RELEVANT_EQ = re.compile(r"^\s*\$\{(\w+)\}\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|(-?\d+))\s*$")
_RELEVANT_SELECTED = re.compile(
    r"^\s*selected\(\s*\$\{(\w+)\}\s*,\s*(?:'([^']*)'|\"([^\"]*)\")\s*\)\s*$")
_RANGE = re.compile(r"^\s*\.\s*>=\s*(-?\d+(?:\.\d+)?)\s+and\s+\.\s*<=\s*(-?\d+(?:\.\d+)?)\s*$")
_COUNT = re.compile(r"^\s*count-selected\(\s*\.\s*\)\s*<=\s*(\d+)\s*$")
_TRUE = {"yes", "true", "true()", "1", "y", "да", "ооба"}


def _row_error(row: int, code: str, **params: Any) -> InvalidInput:
    return InvalidInput(code, row=row, **params)


def _language_columns(headers: list[str]) -> dict[str, str]:
    """label column per language: {"ky": "label::Кыргызча (ky)", …}."""
    found: dict[str, str] = {}
    for header in headers:
        low = header.lower()
        if not low.startswith("label::"):
            continue
        for lang, hints in LANGUAGE_HINTS.items():
            if lang not in found and any(h in low or low.endswith(h) for h in hints):
                found[lang] = header
    return found


def _labels(row: dict[str, Any], columns: dict[str, str]) -> dict[str, str]:
    return {lang: str(row.get(col) or "").strip() for lang, col in columns.items()}


def _read(data: bytes) -> Any:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    if len(data) > MAX_BYTES:
        raise InvalidInput("xlsform", reason="> 2 MB")
    try:
        return get_xlsform(data)
    except (PyXFormError, ValueError, KeyError, OSError) as exc:
        raise InvalidInput("xlsform", reason=str(exc)[:200]) from exc
    except Exception as exc:  # a corrupt file fails inside openpyxl or zipfile
        raise InvalidInput("xlsform", reason=type(exc).__name__) from exc


def _validate_with_pyxform(definition: Any) -> None:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json

    try:
        workbook_to_json(definition, form_name="data", warnings=[])
    except PyXFormError as exc:
        raise InvalidInput("xlsform", reason=str(exc)[:300]) from exc
    except Exception as exc:
        raise InvalidInput("xlsform", reason=type(exc).__name__) from exc


def parse_xlsform(data: bytes) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The form's title (per language, from `settings`) and its questions; InvalidInput with
    `row` for the first part Birge cannot ask."""
    definition = _read(data)
    survey_rows: list[dict[str, Any]] = list(definition.survey or [])
    if not survey_rows:
        raise InvalidInput("xlsform", reason="survey sheet")
    headers = sorted({str(k) for r in survey_rows for k in r if k})
    columns = _language_columns(headers)
    if "ky" not in columns or "ru" not in columns:
        raise _row_error(1, "xlsform_columns")
    choice_rows: list[dict[str, Any]] = list(definition.choices or [])
    choice_columns = _language_columns(sorted({str(k) for r in choice_rows for k in r if k}))
    lists: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in choice_rows:
        name = str(row.get("list_name") or row.get("list name") or "").strip()
        if name:
            lists[name].append({"name": str(row.get("name") or "").strip(),
                                "label": _labels(row, choice_columns)})
    questions: list[dict[str, Any]] = []
    rows_of: dict[str, int] = {}
    for index, row in enumerate(survey_rows):
        number = index + 2  # the header is row 1
        raw_type = " ".join(str(row.get("type") or "").split())
        if not raw_type or raw_type in SKIPPED_TYPES:
            continue
        kind, _, list_name = raw_type.partition(" ")
        name = str(row.get("name") or "").strip()
        if name in rows_of:
            raise _row_error(number, "survey_duplicate", where=name)
        q: dict[str, Any] = {"name": name, "label": _labels(row, columns),
                             "required": str(row.get("required") or "").strip().lower()
                             in _TRUE}
        if not q["label"].get("ky") or not q["label"].get("ru"):
            raise _row_error(number, "survey_label", where=name)
        constraint = str(row.get("constraint") or "").strip()
        if kind in ("select_one", "select_multiple", "rank"):
            choices = lists.get(list_name.split(" ")[0] if list_name else "")
            if not choices:
                raise _row_error(number, "xlsform_list", where=list_name or "—")
            q["type"] = {"select_one": "single", "select_multiple": "multiple",
                         "rank": "ranking"}[kind]
            q["choices"] = choices
            if constraint:
                m = _COUNT.match(constraint)
                if kind != "select_multiple" or m is None:
                    raise _row_error(number, "xlsform_constraint")
                q["max_choices"] = int(m.group(1))
        elif kind in ("integer", "decimal"):
            q["type"] = "number"
            q["integer"] = kind == "integer"
            if constraint:
                m = _RANGE.match(constraint)
                if m is None:
                    raise _row_error(number, "xlsform_constraint")
                q["min"], q["max"] = (float(m.group(1)), float(m.group(2)))
                if kind == "integer":
                    q["min"], q["max"] = int(q["min"]), int(q["max"])
            unit = str(row.get("unit") or row.get("body::unit") or "").strip()
            if unit:
                q["unit"] = unit
        elif kind in ("text", "date"):
            if constraint:
                raise _row_error(number, "xlsform_constraint")
            q["type"] = kind
        elif kind == "range":
            params = dict(p.split("=", 1) for p in str(row.get("parameters") or "").split()
                          if "=" in p)
            start, end, step = (params.get("start", "1"), params.get("end", "10"),
                                params.get("step", "1"))
            if start != "1" or step != "1" or end not in ("5", "10"):
                raise _row_error(number, "xlsform_range")
            q["type"] = "scale"
            q["scale"] = int(end)
        else:
            raise _row_error(number, "xlsform_type", where=raw_type[:40])
        relevant = str(row.get("relevant") or "").strip()
        if relevant:
            m = _RELEVANT_EQ.match(relevant) or _RELEVANT_SELECTED.match(relevant)
            if m is None:
                raise _row_error(number, "xlsform_relevant")
            target = m.group(1)
            value = next(g for g in m.groups()[1:] if g is not None)
            if target not in rows_of:
                raise _row_error(number, "survey_relevant", where=name)
            q["relevant"] = {"q": target, "value": value}
        rows_of[name] = number
        questions.append(q)
    _validate_with_pyxform(definition)
    try:
        cleaned = forms.clean_questions(questions)
    except InvalidInput as exc:
        where = str(exc.params.get("where", "")).split("/")[0]
        if where in rows_of:
            raise InvalidInput(exc.code, row=rows_of[where], **exc.params) from exc
        raise
    return _title(definition), cleaned


def _title(definition: Any) -> dict[str, str]:
    settings = (definition.settings or [{}])[0] if definition.settings else {}
    found: dict[str, str] = {}
    for key, value in settings.items():
        low = str(key).lower()
        if not low.startswith("form_title") or not value:
            continue
        lang = next((code for code, hints in LANGUAGE_HINTS.items()
                     if any(h in low for h in hints)), None)
        if lang:
            found[lang] = str(value).strip()
        else:
            found.setdefault("ky", str(value).strip())
            found.setdefault("ru", str(value).strip())
    return found
