"""The words of a search: a query cut into stems, in Kyrgyz, Russian and English.

Each query word is cut to its stem (Russian by Snowball, Kyrgyz by a suffix stripper, English by
Snowball) and matched by bot/services/search.py as a word *prefix*, so "бюджет*" finds бюджеттик,
бюджетке, бюджета, бюджетный. Only letters and digits survive (`_WORD`): quotes, `NEAR`, `*`, `-`,
parentheses never reach FTS5 or PostgreSQL as syntax; stop words are dropped.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

QUERY_MAX_TERMS = 8
MIN_STEM = 4

STOP_WORDS = frozenset("""
и в во на по для как что это или но не ни из за от до при про под над без так там тут
где когда какой какая какие каким чтобы если уже еще ещё есть был была были быть его ее её
их они она оно мы вы он я у к с о об а же ли бы то все всё вот нужно можно надо
жана менен үчүн боюнча кандай эмне бул ошол деген керек болот болуп бар жок да дагы же
ким кайда качан канча мен сен биз силер алар ал эле гана ар бир кантип кандайча
эмнеге
the and for with what how
""".split())

# Kyrgyz case, possessive, plural and derivational endings in each vowel-harmony variant,
# longest first; stripped repeatedly while at least `MIN_STEM` letters remain.
_KY_SUFFIXES = sorted(set("""
лар лер лор лөр дар дер дор дөр тар тер тор төр
дын дин дун дүн тын тин тун түн нын нин нун нүн
га ге го гө ка ке ко кө на не но нө
да де до дө та те то тө нда нде ндо ндө
дан ден дон дөн тан тен тон төн нан нен нон нөн
ды ди ду дү ты ти ту тү ны ни ну нү
сы си су сү ым им ум үм ыбыз ибиз убуз үбүз
лык лик лук лүк дык дик дук дүк тык тик тук түк
чы чи чу чү ган ген гон гөн кан кен кон көн
ын ин ун үн быз биз буз бүз мын мин мун мүн
""".split()), key=len, reverse=True)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яёөүң]")
_KYRGYZ_LETTERS = re.compile(r"[өүң]")


@cache
def _stemmer(language: str) -> Any:
    """Snowball's stemmer, imported when a search first needs it (idle memory, issue 20)."""
    import snowballstemmer

    return snowballstemmer.stemmer(language)


def normalize(value: str) -> str:
    return value.lower().replace("ё", "е")


def _ky_stem(word: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in _KY_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
                word = word[: -len(suffix)]
                changed = True
                break
    # г/к and б/п alternate before a vowel (салык, салыгы): the stem stops before them.
    if word[-1:] in "гкбп" and len(word) > MIN_STEM:
        word = word[:-1]
    return word


# Adjective-forming endings Snowball leaves on (бюджетн-ый, земельн-ый, районн-ый, област-ной):
# without them the stem matches the noun and its Kyrgyz forms too (бюджет, бюджеттик).
_RU_ADJECTIVAL = ("нн", "н", "ск", "ов", "ев")


def _ru_stem(word: str) -> str:
    stemmed = str(_stemmer("russian").stemWord(word))
    for ending in _RU_ADJECTIVAL:
        if stemmed.endswith(ending) and len(stemmed) - len(ending) >= MIN_STEM + 1:
            return stemmed[: -len(ending)]
    return stemmed


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """The shortest safe stem of one lower-case word (never shorter than `MIN_STEM`)."""
    if len(word) <= MIN_STEM:
        return word
    if _CYRILLIC.search(word):
        candidates = [_ky_stem(word)]
        if not _KYRGYZ_LETTERS.search(word):
            candidates.append(_ru_stem(word))
    else:
        candidates = [_stemmer("english").stemWord(word)]
    best = min(candidates, key=len)
    return best if len(best) >= MIN_STEM else word[:MIN_STEM]


def terms(query: str, limit: int = QUERY_MAX_TERMS) -> list[str]:
    """The distinct stems of a query, in order; everything that is not a word is dropped."""
    seen: list[str] = []
    for word in _WORD.findall(normalize(query[:4000])):
        if len(word) < 3 or word in STOP_WORDS:
            continue
        s = stem(word)
        if s not in seen:
            seen.append(s)
        if len(seen) >= limit * 4:
            break
    return seen[:limit]
