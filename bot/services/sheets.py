"""Plain tables as an XLSX workbook, written directly (no spreadsheet library).

For files a member waits for ("download my data"): openpyxl costs about 0.3 s to import on first
use and about 30 ms a workbook (styles, theme, cell objects), on the event loop every other
member shares. A workbook of plain rows needs only five small XML parts: one sheet per table,
text as inline strings, numbers and booleans as values, empty cells left out. Excel, LibreOffice
and openpyxl open it; staff reports with formats and charts keep using openpyxl.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

# Characters XML 1.0 cannot carry (control characters other than tab, newline, return).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_MAX_TEXT = 32_767  # a cell's limit in Excel

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>")
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
               'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    "<sheets>{sheets}</sheets></workbook>")
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{sheets}"
    '<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>')
_SHEET_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/'
              '2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>")
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               "<sheetData>")
_SHEET_TAIL = "</sheetData></worksheet>"


def column_letter(index: int) -> str:
    """A, B, … Z, AA, AB … for a 1-based column index."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    return escape(_ILLEGAL.sub("", value[:_MAX_TEXT]))


def _cell(ref: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = _text(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet(rows: Iterable[Sequence[Any]]) -> str:
    parts = [_SHEET_HEAD]
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{column_letter(c)}{r}", v) for c, v in enumerate(row, start=1))
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append(_SHEET_TAIL)
    return "".join(parts)


def _sheet_names(names: Iterable[str]) -> list[str]:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique, not empty."""
    out: list[str] = []
    for i, raw in enumerate(names, start=1):
        name = _SHEET_NAME.sub("_", _ILLEGAL.sub("", raw)).strip("'")[:31] or f"Sheet{i}"
        base, n = name, 2
        while name.lower() in (o.lower() for o in out):
            suffix = f" ({n})"
            name, n = base[:31 - len(suffix)] + suffix, n + 1
        out.append(name)
    return out


def workbook(tables: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """An XLSX file with one sheet per table (name -> rows of plain values), in order."""
    if not tables:
        tables = {"Sheet1": []}
    names = _sheet_names(tables)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        n = range(1, len(names) + 1)
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(n=i) for i in n)))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(sheets="".join(
            f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in zip(n, names, strict=True))))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(
            sheets="".join(_SHEET_REL.format(n=i) for i in n)))
        z.writestr("xl/styles.xml", _STYLES)
        for i, rows in zip(n, tables.values(), strict=True):
            z.writestr(f"xl/worksheets/sheet{i}.xml", _sheet(rows))
    return out.getvalue()
