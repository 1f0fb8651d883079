"""The charts of the annual report and of a survey's results draw every label they show."""

from __future__ import annotations

import warnings

from bot.i18n import in_locale
from bot.views.reports import bar_png, issue_state
from bot.views.survey_charts import drawable


def test_the_national_issues_chart_draws_its_state_labels_without_empty_boxes() -> None:
    with in_locale("ru"):
        labels = {issue_state(state): 2.0 for state in ("new", "responded")}
    assert any(not label[0].isalnum() for label in labels)  # each begins with its emoji
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = bar_png("Национальные проблемы по этапам", labels)
    assert png.startswith(b"\x89PNG")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing


def test_a_label_keeps_its_words_and_loses_only_what_the_font_cannot_draw() -> None:
    assert drawable("🆕 новые") == "новые"
    assert drawable("👍 Ооба, өтө жакшы ✓") == "Ооба, өтө жакшы ✓"
    assert drawable("📬 Answered\n(2026)") == "Answered (2026)"
