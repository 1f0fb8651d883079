"""Telegram-compatible text entity parsing for the Bot API emulator.

Why this exists: the real Bot API refuses badly formatted HTML / Markdown and counts
message length *after* markup is removed. The emulator must refuse (and measure) the
same way, so bots that forget ``html.escape`` fail in tests exactly as in production.
The HTML parser follows TDLib's ``parse_html`` rules and error texts.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["EntityParseError", "parse_text", "utf16_len"]

JSON = dict[str, Any]


class EntityParseError(ValueError):
    """Raised with a Telegram-style reason (goes after "can't parse entities: ")."""


_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_HTML_ENTITY_TYPE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL = re.compile(r"[<&]")
_NUMERIC_ENTITY = re.compile(r"#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});")
_NAMED_ENTITY = re.compile(r"([a-zA-Z]{2,4});")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (the unit Telegram uses for entity offsets)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity starting at ``text[pos] == '&'``; return (char, end)."""
    if pos + 1 < len(text) and text[pos + 1] == "#":
        m = _NUMERIC_ENTITY.match(text, pos + 1)
        if m is None:
            return None
        raw = m.group(1)
        code = int(raw[1:], 16) if raw[0] == "x" else int(raw)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), m.end()
    m = _NAMED_ENTITY.match(text, pos + 1)
    if m is None:
        return None
    char = _NAMED_ENTITIES.get(m.group(1))
    if char is None:
        return None
    return char, m.end()


def _parse_attributes(text: str, pos: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse ``name=value`` pairs until ``>``; return (attrs, index of '>')."""
    n = len(text)
    attrs: dict[str, str] = {}
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise EntityParseError(
                f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        if text[pos] == ">":
            return attrs, pos
        name_start = pos
        while pos < n and not text[pos].isspace() and text[pos] not in "=>":
            pos += 1
        name = text[name_start:pos].lower()
        if not name:
            at = _byte_offset(text, begin)
            raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {at}')
        while pos < n and text[pos].isspace():
            pos += 1
        if pos < n and text[pos] != "=":
            attrs[name] = ""  # bare attribute such as <blockquote expandable>
            continue
        pos += 1
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise EntityParseError(
                f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        value_chars: list[str] = []
        if text[pos] in "'\"":
            quote = text[pos]
            pos += 1
            while pos < n and text[pos] != quote:
                if text[pos] == "&":
                    decoded = _decode_entity(text, pos)
                    if decoded is not None:
                        value_chars.append(decoded[0])
                        pos = decoded[1]
                        continue
                value_chars.append(text[pos])
                pos += 1
            if pos < n:
                pos += 1
        else:
            while pos < n and (text[pos].isalnum() or text[pos] in ".-_"):
                value_chars.append(text[pos])
                pos += 1
        if pos >= n:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, name_start)}"
            )
        attrs[name] = "".join(value_chars)


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Strip supported HTML tags, decode entities and build Telegram entities."""
    out: list[str] = []
    offset = 0  # UTF-16 offset in the produced text
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[JSON] = []
    n = len(text)
    pos = 0
    while pos < n:
        m = _SPECIAL.search(text, pos)
        stop = n if m is None else m.start()
        if stop > pos:
            chunk = text[pos:stop]
            out.append(chunk)
            offset += utf16_len(chunk)
            pos = stop
            if pos >= n:
                break
        if text[pos] == "&":
            decoded = _decode_entity(text, pos)
            if decoded is None:
                out.append("&")
                offset += 1
                pos += 1
            else:
                out.append(decoded[0])
                offset += utf16_len(decoded[0])
                pos = decoded[1]
            continue
        begin = pos
        pos += 1
        if pos < n and text[pos] == "/":
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            end = pos + 1
            while end < n and not text[end].isspace() and text[end] != ">":
                end += 1
            end_name = text[pos + 1 : end]
            while end < n and text[end].isspace():
                end += 1
            if end >= n or text[end] != ">":
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            tag, attrs, start = stack.pop()
            if end_name and end_name != tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            _close_html_entity(entities, tag, attrs, start, offset)
            pos = end + 1
            continue
        end = pos
        while end < n and not text[end].isspace() and text[end] != ">":
            end += 1
        if end >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        tag = text[pos:end].lower()
        if tag not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, end = _parse_attributes(text, end, tag, begin)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        stack.append((tag, attrs, offset))
        pos = end + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_html_entity(
    entities: list[JSON], tag: str, attrs: dict[str, str], start: int, end: int
) -> None:
    length = end - start
    if length <= 0:
        return
    entity: JSON = {"type": _HTML_ENTITY_TYPE[tag], "offset": start, "length": length}
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            entity["type"] = "url"
        else:
            entity["url"] = href
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "code":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            entity["language"] = language[len("language-") :]
    elif tag == "pre":
        # <pre><code class="language-x">...</code></pre> becomes one pre entity with language.
        if entities:
            last = entities[-1]
            if last["type"] == "code" and last["offset"] == start and last["length"] == length:
                entities.pop()
                if "language" in last:
                    entity["language"] = last["language"]
    entities.append(entity)


_MDV2_FORMAT = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
}
_MDV2_RESERVED = frozenset("[]()>#+-=|{}.!")


def parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    """Basic MarkdownV2: escaping rules, reserved characters and unclosed markers."""
    out: list[str] = []
    opened: dict[str, int] = {}
    n = len(text)
    pos = 0
    link_depth = 0
    line_start = True
    while pos < n:
        c = text[pos]
        if c == "\\" and pos + 1 < n and 0 < ord(text[pos + 1]) <= 126:
            out.append(text[pos + 1])
            pos += 2
            line_start = False
            continue
        if c == "`":
            fence = "```" if text.startswith("```", pos) else "`"
            close = text.find(fence, pos + len(fence))
            while close != -1 and text[close - 1] == "\\":
                close = text.find(fence, close + 1)
            if close == -1:
                kind = "Pre" if fence == "```" else "Code"
                raise EntityParseError(
                    f"Can't find end of {kind} entity at byte offset {_byte_offset(text, pos)}"
                )
            body = text[pos + len(fence) : close]
            if fence == "```" and "\n" in body:
                body = body.split("\n", 1)[1]
            out.append(re.sub(r"\\([`\\])", r"\1", body))
            pos = close + len(fence)
            line_start = False
            continue
        marker = text[pos : pos + 2] if text.startswith(("__", "||"), pos) else c
        if marker in _MDV2_FORMAT:
            if marker in opened:
                del opened[marker]
            else:
                opened[marker] = pos
            pos += len(marker)
            continue
        if c == "[":
            link_depth += 1
            pos += 1
            continue
        if c == "]" and link_depth:
            link_depth -= 1
            if text.startswith("(", pos + 1):
                close = text.find(")", pos + 2)
                if close == -1:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, pos + 1)}"
                    )
                pos = close + 1
            else:
                pos += 1
            continue
        if c == ">" and line_start:
            pos += 1
            continue
        if c in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(c)
        line_start = c == "\n"
        pos += 1
    if opened:
        marker, at = min(opened.items(), key=lambda kv: kv[1])
        name = _MDV2_FORMAT[marker]
        raise EntityParseError(
            f"Can't find end of {name} entity at byte offset {_byte_offset(text, at)}"
        )
    if link_depth:
        raise EntityParseError("Can't find end of TextUrl entity")
    return "".join(out), []


def _unclosed_markdown(text: str, pos: int) -> EntityParseError:
    at = _byte_offset(text, pos)
    return EntityParseError(f"Can't find end of the entity starting at byte offset {at}")


def parse_markdown(text: str) -> tuple[str, list[JSON]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out: list[str] = []
    n = len(text)
    pos = 0
    while pos < n:
        c = text[pos]
        if c in "*_`[":
            if c == "`" and text.startswith("```", pos):
                close = text.find("```", pos + 3)
                width = 3
            elif c == "[":
                close = text.find("](", pos + 1)
                width = 1
            else:
                close = text.find(c, pos + 1)
                width = 1
            if close == -1:
                raise _unclosed_markdown(text, pos)
            if c == "[":
                url_end = text.find(")", close + 2)
                if url_end == -1:
                    raise _unclosed_markdown(text, pos)
                out.append(text[pos + 1 : close])
                pos = url_end + 1
            else:
                out.append(text[pos + width : close])
                pos = close + width
            continue
        out.append(c)
        pos += 1
    return "".join(out), []


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Return (plain text, entities) for ``parse_mode``; raise on bad markup/mode."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError("unsupported parse_mode")
