"""Page furniture: find it, label it, never delete it.

Scraped news pages carry related-link blocks, "most read" boxes, logos, the
site's name and URL, photo captions with credits glued on, desk labels. None
of it belongs to the report, so it must not be aligned; but the dataset keeps
every character of the page, so furniture is *labelled* (with a reason) rather
than removed. The rules are data: ``resources/boilerplate.toml``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .normalize import fold, fold_text

HEADLINE_MAX_WORDS = 25  # a related-link headline is never longer than this
FOOTER_MAX_WORDS = 6
_FINAL = re.compile(r"[.!?؟…]['\"»”’)\]]*$")


@dataclass(frozen=True)
class Line:
    """A non-blank line of a document: stripped span and its blank-line context."""

    index: int  # paragraph id: position among the non-blank lines
    start: int
    end: int
    text: str
    blank_before: bool


@dataclass(frozen=True)
class Rules:
    lines: dict[str, str]
    related: frozenset[str]
    footer: frozenset[str]
    credits: tuple[str, ...]
    url: re.Pattern[str]
    prefixes: tuple[tuple[str, str], ...]  # (regex template, reason)
    suffixes: tuple[tuple[str, str], ...]


@lru_cache(maxsize=None)
def rules_for(lang: str) -> Rules:
    data = tomllib.loads(resources.files("corpus").joinpath("resources/boilerplate.toml").read_text("utf-8"))
    common, own = data["*"], data.get(lang, {})

    def both(key: str) -> list:
        return list(common.get(key, [])) + list(own.get(key, []))

    lines = {fold_text(k): v for k, v in {**common.get("lines", {}), **own.get("lines", {})}.items()}
    return Rules(
        lines=lines,
        related=frozenset(fold_text(h) for h in both("related")),
        footer=frozenset(both("footer")),
        credits=tuple(sorted({fold_text(c) for c in both("credits")}, key=len, reverse=True)),
        url=re.compile(common["url"]),
        prefixes=tuple((p["pattern"], p["reason"]) for p in both("prefixes")),
        suffixes=tuple((p["pattern"], p["reason"]) for p in both("suffixes")),
    )


def _outlet_pattern(outlet: str | None) -> str | None:
    """Regex for the outlet name in folded text, tolerant of spaces and ZWNJs inside it."""
    if not outlet:
        return None
    letters = [c for c in fold_text(outlet) if not c.isspace()]
    return r"\s?".join(re.escape(c) for c in letters) if letters else None


def _words(text: str) -> int:
    return len(text.split())


def ends_sentence(text: str) -> bool:
    """Does the text end with sentence-final punctuation (closing quotes allowed)?"""
    return bool(_FINAL.search(text.rstrip()))


def _credit_caption(view: str, rules: Rules) -> str | None:
    """The caption part of a caption line that ends in a photo credit, else None."""
    if ends_sentence(view):
        return None
    for credit in rules.credits:
        for m in (
            re.search(r"(?<=\w)" + re.escape(credit) + r"$", view),  # glued: موسكورويترز
            re.search(r"\s*[(\[]\s*" + re.escape(credit) + r"\s*[)\]]$", view),  # (رويترز)
            re.search(r"\s*[|/©-]\s*" + re.escape(credit) + r"$", view),  # - رويترز
        ):
            if m and _words(view[: m.start()]) >= 2:
                return view[: m.start()].strip()
    return None


def classify_lines(lines: list[Line], lang: str, outlet: str | None = None) -> dict[int, str]:
    """Reasons for the whole lines that are furniture, keyed by ``Line.index``."""
    rules = rules_for(lang)
    outlet_re = _outlet_pattern(outlet)
    views = [fold_text(line.text) for line in lines]
    reasons: dict[int, str] = {}
    in_related = in_footer = False
    for i, (line, view) in enumerate(zip(lines, views)):
        reason = rules.lines.get(view)
        if view in rules.related:
            reason, in_related = "related-links", True
        elif in_related and line.blank_before and i > 0 and views[i - 1] not in rules.related:
            in_related = False  # the headline block ended at a blank line
        if reason is None and in_related:
            if _words(view) <= HEADLINE_MAX_WORDS:
                reason = "related-links"
            else:
                in_related = False
        if reason is None and rules.url.match(view):
            reason = "site-url"
        if reason is None and outlet_re and re.fullmatch(outlet_re, view):
            reason = "site-name"
        if reason is None and in_footer and _words(view) <= FOOTER_MAX_WORDS and not ends_sentence(view):
            reason = "footer"
        if reason is None and (caption := _credit_caption(view, rules)):
            reason = "photo-credit"
            if i > 0 and views[i - 1] == caption and lines[i - 1].index not in reasons:
                reasons[lines[i - 1].index] = "photo-caption"
        if reason in rules.footer:
            in_footer = True
        if reason:
            reasons[line.index] = reason
    return reasons


def split_furniture(text: str, lang: str, outlet: str | None = None) -> list[tuple[int, int, str | None]]:
    """Cut furniture off the start and end of one line of body text.

    Returns consecutive (start, end, reason) pieces covering ``text``;
    reason None marks the body. Used for desk labels (``گروه ديپلماسي:``), the
    outlet's own attribution (``به گزارش ... ،``) and a site name glued to a
    title or dateline.
    """
    rules = rules_for(lang)
    outlet_re = _outlet_pattern(outlet)
    view = fold(text)

    def patterns(templates: tuple[tuple[str, str], ...]) -> list[tuple[re.Pattern[str], str]]:
        out = []
        for t, reason in templates:
            if "{outlet}" in t:
                if not outlet_re:
                    continue
                t = t.replace("{outlet}", f"(?:{outlet_re})")
            out.append((re.compile(t), reason))
        return out

    head: list[tuple[int, int, str]] = []
    pos = 0  # in view
    changed = True
    while changed:
        changed = False
        for pat, reason in patterns(rules.prefixes):
            m = pat.match(view.text, pos)
            if m and pos < m.end() < len(view.text):
                head.append((pos, m.end(), reason))
                pos, changed = m.end(), True
    tail: tuple[int, int, str] | None = None
    for pat, reason in patterns(rules.suffixes):
        m = pat.search(view.text, pos)
        if m and m.start() > pos and _words(view.text[pos : m.start()]) >= 2:
            tail = (m.start(), len(view.text), reason)
            break

    pieces: list[tuple[int, int, str | None]] = []
    cursor = 0  # in original
    for vs, ve, reason in head:
        _, oe = view.span(vs, ve)
        pieces.append((cursor, oe, reason))
        cursor = oe
    if tail:
        os_, _ = view.span(tail[0], tail[1])
        pieces.append((cursor, os_, None))
        pieces.append((os_, len(text), tail[2]))
    else:
        pieces.append((cursor, len(text), None))
    return [(s, e, r) for s, e, r in pieces if text[s:e].strip()]
