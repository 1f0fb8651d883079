"""A survey question's figures as a PNG chart, labelled in the viewer's language: bars for
choices, a histogram with the mean for scales and numbers, the Borda order for rankings.

matplotlib is imported here, when a chart is drawn, never at start-up: Birge's idle memory must
stay under 120 MB and most processes never draw. The Agg backend renders without a display, and
charts are drawn on `Figure` objects (not pyplot's global state), so drawing in a worker thread
is safe.
"""

from __future__ import annotations

import functools
import io
import textwrap
from typing import Any

from bot.i18n import _
from bot.services import survey_forms as forms
from bot.services.surveys import QuestionResult

WIDTH, HEIGHT, DPI = 7.0, 4.2, 100
COLOR = "#2b6cb0"
ACCENT = "#c53030"


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


@functools.cache
def _font_chars() -> frozenset[int]:
    """The characters the charts' font has a glyph for."""
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(
        family=matplotlib.rcParams["font.family"]))
    return frozenset(FT2Font(path).get_charmap())


def drawable(text: str) -> str:
    """`text` without what the font cannot draw: the emoji of a label ("🆕 new", a choice's
    "👍") would be an empty box in the picture."""
    chars = _font_chars()
    return " ".join("".join(c for c in text if ord(c) in chars or c.isspace()).split())


def _wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(drawable(text), width)[:2]) or "—"


def _png(fig: Any, left: float = 0.1) -> bytes:
    """Fixed margins (tight_layout draws the figure twice: half the time of a chart)."""
    out = io.BytesIO()
    fig.subplots_adjust(left=left, right=0.96, top=0.86, bottom=0.14)
    fig.savefig(out, format="png")
    return out.getvalue()


def _whole_numbers(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def chart_kind(question: dict[str, Any]) -> str | None:
    return {"single": "bars", "multiple": "bars", "scale": "histogram", "number": "histogram",
            "ranking": "borda"}.get(question["type"])


def chart_png(result: QuestionResult, lang: str) -> bytes | None:
    """The PNG of one question's figures (None for text and date questions). Words come from
    the catalogs of the current locale; call it inside `in_locale(lang)` in a worker thread."""
    q = result.question
    kind = chart_kind(q)
    if kind is None:
        return None
    title = _wrap(forms.label(q["label"], lang), 70)
    names = {c["name"]: forms.label(c["label"], lang) for c in q.get("choices", [])}
    fig, ax = _figure()
    if kind == "bars":
        items = list(result.counts.items())
        labels = [_wrap(names.get(k, k)) for k, _v in items][::-1]
        values = [v for _k, v in items][::-1]
        bars = ax.barh(labels, values, color=COLOR)
        total = result.answered or 1
        for bar, value in zip(bars, values, strict=True):
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                    f" {value} ({value * 100 / total:.0f}%)", va="center", fontsize=9)
        ax.set_xlabel(_("Answers: {count}").format(count=result.answered))
        ax.set_xlim(0, max([*values, 1]) * 1.25)
        _whole_numbers(ax.xaxis)  # counts of answers: no "0.5"
    elif kind == "histogram":
        mean = result.mean
        if q["type"] == "scale":
            points = list(range(1, q["scale"] + 1))
            ax.bar(points, [result.counts.get(str(p), 0) for p in points], color=COLOR)
            ax.set_xticks(points)
            low, high = (drawable(forms.label(q.get(end), lang)) for end in ("low", "high"))
            if low or high:
                ax.set_xlabel(f"1 — {low or '…'}    {q['scale']} — {high or '…'}")
        else:
            if result.values:
                ax.hist(result.values, bins=min(20, max(5, len(set(result.values)))),
                        color=COLOR)
            if q.get("unit"):
                ax.set_xlabel(drawable(str(q["unit"])))
        if mean is not None:
            ax.axvline(mean, color=ACCENT, linewidth=2)
            ax.text(mean, ax.get_ylim()[1] * 0.95, " " + _("mean: {value}").format(
                value=f"{mean:.1f}"), color=ACCENT, va="top", fontsize=10)
        ax.set_ylabel(_("Answers: {count}").format(count=result.answered))
        _whole_numbers(ax.yaxis)
    else:
        order = result.borda[::-1]
        ax.barh([_wrap(names.get(k, k)) for k, _v in order], [v for _k, v in order],
                color=COLOR)
        for i, (_k, v) in enumerate(order):
            ax.text(v, i, f" {v:g}", va="center", fontsize=9)
        ax.set_xlabel(_("Score (Borda count); answers: {count}").format(count=result.answered))
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig, left=0.3 if kind in ("bars", "borda") else 0.1)
