"""Writes the XLSForm fixtures of the survey tests (run it after changing them):

    .venv/bin/python tests/data/make_xlsforms.py

needs_survey.xlsx is the needs study of the seeds as a donor project would write it for
KoboToolbox; the bad_*.xlsx files each break one rule.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
HEAD = ["type", "name", "label::Кыргызча (ky)", "label::Русский (ru)", "label::English (en)",
        "required", "relevant", "constraint", "parameters"]
SURVEY = [
    ["start", "start", "", "", "", "", "", "", ""],
    ["select_one yn", "has_plan", "ПСЭР барбы?", "Есть ли у Вас ПСЭР?", "Do you have a plan?",
     "yes", "", "", ""],
    ["integer", "budget", "Жылдык бюджет, сом", "Годовой бюджет, сом", "Annual budget, som",
     "yes", "${has_plan} = 'yes'", ". >= 0 and . <= 1000000000", ""],
    ["range", "trust", "Жергиликтүү бийликке ишеним", "Доверие местной власти",
     "Trust in local government", "yes", "", "", "start=1 end=10 step=1"],
    ["select_multiple problems", "problems", "Негизги көйгөйлөр", "Главные проблемы",
     "Main problems", "yes", "", "count-selected(.) <= 2", ""],
    ["rank problems", "priority", "Артыкчылыктар", "Приоритеты", "Priorities", "yes", "", "",
     ""],
    ["decimal", "share", "Өз кирешелердин үлүшү, %", "Доля собственных доходов, %",
     "Own revenue share, %", "", "", ". >= 0 and . <= 100", ""],
    ["date", "meeting", "Акыркы жыйын", "Последнее собрание", "Last meeting", "", "", "", ""],
    ["text", "comment", "Сунуштар", "Предложения", "Suggestions", "", "", "", ""],
]
CHOICES = [
    ["list_name", "name", "label::Кыргызча (ky)", "label::Русский (ru)", "label::English (en)"],
    ["yn", "yes", "Ооба", "Да", "Yes"],
    ["yn", "no", "Жок", "Нет", "No"],
    ["problems", "water", "Таза суу", "Питьевая вода", "Drinking water"],
    ["problems", "roads", "Жолдор", "Дороги", "Roads"],
    ["problems", "waste", "Таштанды", "Мусор", "Waste"],
    ["problems", "school", "Мектеп", "Школа", "School"],
]


def write(name: str, survey: list[list[str]], head: list[str] = HEAD,
          choices: list[list[str]] = CHOICES) -> None:
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append(head)
    for row in survey:
        sheet.append(row)
    sheet2 = wb.create_sheet("choices")
    for row in choices:
        sheet2.append(row)
    settings = wb.create_sheet("settings")
    settings.append(["form_title::Кыргызча (ky)", "form_title::Русский (ru)", "form_id"])
    settings.append(["Муктаждыктарды изилдөө", "Изучение потребностей", "needs"])
    wb.save(HERE / name)


def main() -> None:
    write("needs_survey.xlsx", SURVEY)
    # No Russian label column.
    write("bad_no_label.xlsx", [r[:3] + r[4:] for r in SURVEY],
          head=HEAD[:3] + HEAD[4:])
    # The same name twice (row 4 repeats row 3's name).
    dup = [list(r) for r in SURVEY]
    dup[2][1] = "has_plan"
    write("bad_duplicate.xlsx", dup)
    # A condition on a question that does not exist (row 4).
    rel = [list(r) for r in SURVEY]
    rel[2][6] = "${nothing} = 'yes'"
    write("bad_relevant.xlsx", rel)
    # A type Birge cannot ask in a chat (row 3: a GPS point).
    geo = [list(r) for r in SURVEY]
    geo.insert(1, ["geopoint", "where", "Кайда", "Где", "Where", "", "", "", ""])
    write("bad_type.xlsx", geo)


if __name__ == "__main__":
    main()
