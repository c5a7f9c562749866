"""Sentence segmentation that keeps offsets into the original text.

Line breaks are hard boundaries (scraped pages put one paragraph, heading or
caption on a line). Each non-blank line gets a paragraph id. A line is then:

* furniture (see :mod:`corpus.boilerplate`), one unit labelled ``boilerplate``;
* a heading: no sentence-final punctuation and short, or the document's short
  first line (its title), one unit labelled ``heading``;
* body text, split into sentences labelled ``text``: hazm's sentence
  tokenizer for Persian, rules for other languages (. ! ? ؟ … and the Arabic
  ``..``, closing quotes and brackets staying with the sentence they close,
  Moses' non-breaking prefixes from sacremoses for Latin-script languages).

Every unit's ``text`` is exactly ``document[start:end]``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from .boilerplate import Line, classify_lines, ends_sentence, split_furniture
from .documents import Document

LABELS = ("text", "heading", "boilerplate")
HEADING_MAX_WORDS = 20
TITLE_MAX_WORDS = 20

# A sentence ends after a run of terminators, optionally followed by closing
# quotes/brackets, then white space.
_CLOSERS = "'\"»”’)]"
_BOUNDARY = re.compile(rf"[.!?؟⸮…]+(?:\s?[{re.escape(_CLOSERS)}])*(?=\s+\S)")
_CLOSING_QUOTE_BOUNDARY = re.compile(rf"[.!?؟⸮…]+(?:\s?[{re.escape(_CLOSERS)}])+(?=\s+\S)")
# blanks, and the invisible format characters that carry nothing at a line's edge (a line of only these,
# or of bidi marks, is blank): BOM, LRM/RLM/ALM, zero-width space/joiners, word joiner, bidi embeddings
# and isolates
_STRIP = (" \t\r\n\f\v\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
          "\ufeff\u200e\u200f\u061c\u200b\u200c\u200d\u2060\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class Sentence:
    """A unit of a document: a sentence, a heading, or labelled furniture."""

    id: int  # position in the document, counting every unit
    start: int  # offsets into the original document text
    end: int
    text: str  # == document.text[start:end]
    paragraph: int  # id of the non-blank line it comes from
    label: str  # one of LABELS
    reason: str | None = None  # why it is boilerplate

    @property
    def alignable(self) -> bool:
        return self.label != "boilerplate"

    def to_dict(self) -> dict:
        return asdict(self)


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _STRIP:
        start += 1
    while end > start and text[end - 1] in _STRIP:
        end -= 1
    return start, end


def split_lines(text: str) -> list[Line]:
    """Non-blank lines with stripped spans; ``blank_before`` marks a preceding empty line."""
    lines: list[Line] = []
    pos, blank = 0, False
    for raw in text.splitlines(keepends=True):
        s, e = _strip_span(text, pos, pos + len(raw))
        if s < e:
            lines.append(Line(len(lines), s, e, text[s:e], blank_before=blank and bool(lines)))
            blank = False
        else:
            blank = True
        pos += len(raw)
    return lines


@lru_cache(maxsize=None)
def _nonbreaking(lang: str) -> tuple[frozenset[str], frozenset[str]]:
    """Moses non-breaking prefixes: (always, only before a number)."""
    from sacremoses.corpus import NonbreakingPrefixes

    nbp = NonbreakingPrefixes()
    if lang not in nbp.available_langs:
        return frozenset(), frozenset()
    always, numeric = set(), set()
    for w in nbp.words(lang):
        if "#NUMERIC_ONLY#" in w:
            numeric.add(w.split()[0])
        else:
            always.add(w.split()[0])
    return frozenset(always), frozenset(numeric)


def _keeps_going(line: str, dot: int, after: int, lang: str) -> bool:
    """Is the full stop at ``dot`` part of an abbreviation or ordinal rather than a boundary?"""
    if line[dot] != ".":
        return False
    if dot + 1 < len(line) and line[dot + 1] == ".":
        return False  # ".." and "..." end sentences (the Arabic ".." included)
    m = re.search(r"(\w+)$", line[:dot])
    if not m:
        return False
    word = m.group(1)
    nxt = line[after:].lstrip()[:1]
    if len(word) == 1 and word.isalpha() and (word.isupper() or lang in _CASELESS):
        return True  # initials: "J. Smith", "د. محمد"
    always, numeric = _nonbreaking(lang)
    if word in always:
        return True
    if word in numeric and nxt.isdigit():
        return True
    if word.isdigit() and nxt and nxt.islower():
        return True  # German ordinals: "am 3. März"... lower-case next word
    if nxt and nxt.islower() and nxt.isalpha() and line[dot - 1 : dot].isalpha() and lang not in _CASELESS:
        return True  # a lower-case word after a full stop: an unlisted abbreviation
    return False


_CASELESS = {"ar", "fa", "ur", "ps", "ku", "he", "zh", "ja", "ko", "th"}


def _rule_cuts(line: str, lang: str) -> list[int]:
    cuts = []
    for m in _BOUNDARY.finditer(line):
        dot = m.start() + len(m.group(0).rstrip(_CLOSERS + " ")) - 1
        if not _keeps_going(line, dot, m.end(), lang):
            cuts.append(m.end())
    return cuts


def _hazm_cuts(line: str) -> list[int]:
    """Persian: hazm's sentence tokenizer, located back in the line, plus closing-quote ends."""
    from hazm import SentenceTokenizer

    cuts, pos = [], 0
    for sent in _hazm_tokenizer(SentenceTokenizer).tokenize(line):
        start = line.find(sent, pos)
        if start < 0:  # hazm changed the text; fall back to rules for the rest
            return sorted(set(cuts) | {c for c in _rule_cuts(line, "fa") if c > pos})
        pos = start + len(sent)
        cuts.append(pos)
    cuts += [m.end() for m in _CLOSING_QUOTE_BOUNDARY.finditer(line)]
    return sorted(set(cuts))


@lru_cache(maxsize=1)
def _hazm_tokenizer(cls):  # noqa: ANN001, ANN202 - built once, hazm is slow to import
    return cls()


def split_sentences(line: str, lang: str) -> list[tuple[int, int]]:
    """Sentence spans within one line of body text (stripped, covering all its words)."""
    cuts = _hazm_cuts(line) if lang == "fa" else _rule_cuts(line, lang)
    spans, start = [], 0
    for cut in [*cuts, len(line)]:
        s, e = _strip_span(line, start, cut)
        if s < e:
            if spans and not any(ch.isalnum() for ch in line[s:e]):
                spans[-1] = (spans[-1][0], e)  # a stray quote or bracket joins the sentence before
            else:
                spans.append((s, e))
        start = cut
    return spans


def _is_heading(text: str, lang: str, first: bool) -> bool:
    """Headings and captions lack final punctuation; a title may have it but is short and first."""
    words = len(text.split())
    if not ends_sentence(text):
        return words <= HEADING_MAX_WORDS
    return first and words <= TITLE_MAX_WORDS and len(split_sentences(text, lang)) <= 2


def segment(
    text: str,
    lang: str,
    *,
    outlet: str | None = None,
    presegmented: bool = False,
) -> list[Sentence]:
    """Split a document into labelled units with offsets into ``text``.

    With ``presegmented`` every line is one unit, kept as it is (its id is its
    line number; an empty line is kept as boilerplate ``empty-line``).
    """
    if presegmented:
        return _presegmented(text)
    lines = split_lines(text)
    furniture = classify_lines(lines, lang, outlet)
    units: list[Sentence] = []

    def add(start: int, end: int, paragraph: int, label: str, reason: str | None = None) -> None:
        start, end = _strip_span(text, start, end)
        if start < end:
            units.append(Sentence(len(units), start, end, text[start:end], paragraph, label, reason))

    seen_content = False
    for line in lines:
        if line.index in furniture:
            add(line.start, line.end, line.index, "boilerplate", furniture[line.index])
            continue
        for ps, pe, reason in split_furniture(line.text, lang, outlet):
            s, e = line.start + ps, line.start + pe
            if reason:
                add(s, e, line.index, "boilerplate", reason)
            elif _is_heading(text[s:e].strip(), lang, first=not seen_content):
                add(s, e, line.index, "heading")
            else:
                for ss, se in split_sentences(text[s:e], lang):
                    add(s + ss, s + se, line.index, "text")
            seen_content = seen_content or reason is None
    return units


def _presegmented(text: str) -> list[Sentence]:
    units, pos = [], 0
    for i, raw in enumerate(text.splitlines(keepends=True)):
        body = raw.rstrip("\r\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85")
        empty = not body.strip()
        units.append(
            Sentence(i, pos, pos + len(body), body, i, "boilerplate" if empty else "text", "empty-line" if empty else None)
        )
        pos += len(raw)
    return units


def segment_document(doc: Document, *, presegmented: bool = False) -> list[Sentence]:
    return segment(doc.text, doc.lang, outlet=doc.outlet, presegmented=presegmented)
