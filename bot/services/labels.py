"""Reading an id a member typed: "P-3", "Q-12", "B-5", "LIB-4" — also with Cyrillic letters that
look the same (a Russian or Kyrgyz keyboard types "Р-3" and "В-5")."""

from __future__ import annotations

# Cyrillic capitals that look like Latin ones, as people type them on a Cyrillic keyboard.
_LOOKALIKE = str.maketrans("АВЕКМНОРСТХУІ", "ABEKMHOPCTXYI")


def latin(text: str) -> str:
    """`text` in capitals with Cyrillic look-alike letters made Latin."""
    return text.strip().upper().translate(_LOOKALIKE)


def parse_label(value: str, prefix: str) -> int | None:
    """"P-3", "р-3", "p3", "#3" or "3" with prefix "P" → 3; anything else → None."""
    cleaned = latin(value).removeprefix(prefix).lstrip("-# ")
    return int(cleaned) if cleaned.isascii() and cleaned.isdigit() and len(cleaned) < 10 \
        else None
