"""Is a text written in the language it claims? A small, explainable check.

Two tests, both driven by ``resources/languages.toml``:

1. Script: most letters must be in the script of the declared language
   (Arabic for fa/ar, Latin for de/fr, ...).
2. Neighbours: among the profiled languages sharing that script, the declared
   one must not be clearly beaten by another on distinctive letters (پ چ ژ گ
   for Persian, ة for Arabic, ä ö ü ß for German, ...) and function words.

Language identification proper is not the goal: this catches a swapped file or
a wrong ``--lang``, and says why in one line.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .errors import CorpusError
from .normalize import fold_text

MIN_LETTERS = 40  # below this a text is too short to judge its language
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    script: str
    letters: frozenset[str]
    raw_words: tuple[str, ...]  # as listed; folded on first use (:func:`_profile_words`)


@lru_cache(maxsize=1)
def _config() -> tuple[dict[str, str], dict[str, Profile]]:
    data = tomllib.loads(resources.files("corpus").joinpath("resources/languages.toml").read_text("utf-8"))
    scripts: dict[str, str] = data["scripts"]
    profiles = {
        code: Profile(
            code=code,
            name=p["name"],
            script=scripts[code],
            letters=frozenset(p["letters"]),
            raw_words=tuple(p["words"]),
        )
        for code, p in data["profiles"].items()
    }
    return scripts, profiles


@lru_cache(maxsize=None)
def _profile_words(code: str) -> frozenset[str]:
    """A profile's function words, folded: only when a document of its script is checked, since
    folding Arabic-script words imports hazm (seconds of start-up a Latin-script corpus need not pay)."""
    return frozenset(fold_text(w) for w in _config()[1][code].raw_words)


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    data = tomllib.loads(resources.files("corpus").joinpath("resources/languages.toml").read_text("utf-8"))
    return frozenset(data["codes"]["iso639_1"].split()) | frozenset(data["codes"]["iso639_3"].split())


_SUBTAG = re.compile(r"[A-Z][a-z]{3}|[A-Z]{2}|[0-9]{3}")  # BCP 47 script (Hant), region (BR, 419)


def code_problem(code: str) -> str | None:
    """Why ``code`` is not a language code diptych knows (ISO 639-1, or 639-3 where a language
    has no two-letter code, plus optional script/region subtags), or None when it is one."""
    base, *subtags = code.split("-")
    if base not in _codes():
        return f"language code {code!r} is not an ISO 639 code such as 'fa' or 'ar'"
    if len(subtags) > 2 or not all(_SUBTAG.fullmatch(t) for t in subtags):
        return f"language code {code!r}: {'-'.join(subtags)!r} is not a script or region subtag such as 'Hant' or 'BR'"
    return None


def require_code(code: str, source: object) -> str:
    """``code``, or a :class:`CorpusError` naming ``source`` when it is not a known language code."""
    problem = code_problem(code)
    if problem:
        raise CorpusError(source, problem)
    return code


def english_name(code: str) -> str:
    """The language's English name ("Arabic"), or the code where diptych has no profile for it."""
    p = _config()[1].get(code)
    return p.name if p else code


def language_name(code: str) -> str:
    name = english_name(code)
    return f"{name} ({code})" if name != code else code


@lru_cache(maxsize=4096)
def script_of(ch: str) -> str | None:
    """Unicode script of a letter, from its character name (ARABIC LETTER ... -> Arabic)."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    if not name:
        return None
    first = name.split()[0]
    if first == "CJK":
        return "Han"
    return first.capitalize()


def dominant_script(text: str) -> tuple[str | None, float, int]:
    """(script, share of letters in it, number of letters)."""
    counts = Counter(s for s in map(script_of, text) if s)
    total = sum(counts.values())
    if not total:
        return None, 0.0, 0
    script, n = counts.most_common(1)[0]
    return script, n / total, total


def _score(profile: Profile, text: str, letters: int, words: list[str]) -> float:
    """Evidence for a language: distinctive-letter rate + function-word rate."""
    distinct = sum(1 for ch in text if ch in profile.letters) / max(letters, 1)
    known = _profile_words(profile.code)
    func = sum(1 for w in words if w in known) / max(len(words), 1)
    return 10 * distinct + func


def detect_mismatch(text: str, lang: str) -> str | None:
    """Why ``text`` does not look like ``lang``, or None when it does (or cannot be told)."""
    scripts, profiles = _config()
    script, share, letters = dominant_script(text)
    if letters < MIN_LETTERS:
        return None
    expected = scripts.get(lang)
    if expected and script != expected and share > 0.5:
        return f"text is in {script} script, but {language_name(lang)} is written in {expected} script"
    if lang not in profiles:
        return None
    words = _WORD.findall(fold_text(text))
    mine = _score(profiles[lang], text, letters, words)
    rivals = [
        (_score(p, text, letters, words), p)
        for p in profiles.values()
        if p.code != lang and p.script == profiles[lang].script
    ]
    if not rivals:
        return None
    best, rival = max(rivals, key=lambda r: r[0])
    if best > 0.08 and best > 2 * mine:
        return (
            f"text looks like {language_name(rival.code)}, not the declared {language_name(lang)} "
            f"(evidence {best:.2f} vs {mine:.2f})"
        )
    return None


def check_language(text: str, lang: str, source: object) -> None:
    """Raise :class:`CorpusError` naming ``source`` when ``text`` is not in ``lang``."""
    require_code(lang, source)
    why = detect_mismatch(text, lang.split("-")[0])
    if why:
        raise CorpusError(source, why)
