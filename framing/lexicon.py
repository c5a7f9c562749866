"""Words, figures and typed lexicon items of one text, on the folded matching view.

The typed differences (who is named, which figure, how a statement is
attributed, how certain it is, which loaded word) are found by comparing
*concepts* across the two versions: each language's lexicon file
(``framing/resources/<lang>.toml``) lists its surface forms for concepts whose
keys are shared by every language, so Persian "تایید کرد" and Arabic "أكد" are
both ``attribution/confirm``. Words are matched on :func:`corpus.normalize.fold`
so that letter variants, ZWNJs and digit alphabets do not matter; offsets
always point into the original text.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from corpus.normalize import fold_text

ITEM_KINDS = ("number", "source", "entity", "attribution", "hedge", "evaluative", "term")
_TABLES = {"number": "numbers", "term": "terms"}  # TOML table of a kind, where not the kind itself

# A word: letters and digits with their combining marks (harakat, tanween),
# joiners and tatweel inside it, so "شيئًا" and "می‌گوید" stay one word.
_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u200c\u200d\u0640"
WORD = re.compile(rf"[^\W_][^\W_{_MARKS}]*(?:[{_MARKS}]+[^\W_]*)*")
_NUMBER = re.compile(r"\d+(?:[.,٫٬]\d+)*")


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    folded: str
    variants: tuple[str, ...]  # the folded word and what is left after each clitic prefix


@dataclass(frozen=True)
class Form:
    kind: str
    concept: str
    words: tuple[str, ...]  # folded
    exact: bool  # whole words only
    ambiguous: bool  # confirms, never differs


@dataclass(frozen=True)
class Item:
    """A typed mention: words ``first:last`` of a text (offsets ``start:end``)."""

    kind: str
    concept: str
    first: int
    last: int
    start: int
    end: int
    ambiguous: bool = False


@dataclass(frozen=True)
class Concepts:
    """concepts.toml: labels, neutral concepts, contrast groups, entity relations."""

    labels: dict[str, dict[str, str]]
    neutral: dict[str, frozenset[str]]
    groups: dict[str, list[frozenset[str]]]
    same: dict[str, str]
    parent: dict[str, str]

    def label(self, kind: str, concept: str) -> str:
        return self.labels.get(kind, {}).get(concept, concept.replace("_", " "))

    def canonical(self, concept: str) -> str:
        return self.same.get(concept, concept)

    def ancestors(self, concept: str) -> set[str]:
        """Canonical names of everything ``concept`` is part of (not itself)."""
        out, c = set(), concept
        while c in self.parent and c not in out:
            c = self.parent[c]
            out.add(self.canonical(c))
        return out

    def group(self, kind: str, concept: str) -> frozenset[str]:
        for g in self.groups.get(kind, []):
            if concept in g:
                return g
        return frozenset({concept})


@dataclass
class Lexicon:
    """One language's word lists and typed forms (empty where no file exists)."""

    lang: str
    prefixes: tuple[str, ...] = ()
    stop: frozenset[str] = frozenset()
    aux: frozenset[str] = frozenset()
    forms: dict[str, list[Form]] = field(default_factory=dict)  # first letter of first word -> forms

    def words(self, text: str) -> list[Word]:
        out = []
        for m in WORD.finditer(text):
            f = fold_text(m.group())
            if not f:
                continue
            variants = [f] + [f[len(p):] for p in self.prefixes if f.startswith(p) and len(f) - len(p) >= 2]
            out.append(Word(m.start(), m.end(), f, tuple(dict.fromkeys(variants))))
        return out

    def is_function(self, w: Word) -> bool:
        """Stop word or auxiliary: never highlighted on its own."""
        return w.folded in self.stop or w.folded in self.aux

    def items(self, text: str, words: list[Word]) -> list[Item]:
        """Figures and lexicon mentions, longest match first, never overlapping."""
        out = _numbers(text, words)
        taken = {i for it in out for i in range(it.first, it.last)}
        i = 0
        while i < len(words):
            best = None
            if i not in taken:
                for v in words[i].variants:
                    for form in self.forms.get(v[:1], ()):
                        n = len(form.words)
                        if best is not None and n <= len(best.words):
                            continue
                        if i + n <= len(words) and not any(k in taken for k in range(i, i + n)) and all(
                            _word_matches(form, k, words[i + k]) for k in range(n)
                        ):
                            best = form
            if best is None:
                i += 1
                continue
            n = len(best.words)
            out.append(Item(best.kind, best.concept, i, i + n, words[i].start, words[i + n - 1].end, best.ambiguous))
            i += n
        return sorted(out, key=lambda it: it.first)


def _word_matches(form: Form, k: int, word: Word) -> bool:
    fw = form.words[k]
    variants = word.variants if k == 0 else (word.folded,)
    prefix_ok = not form.exact and (len(fw) >= 3 or (k > 0 and len(fw) >= 2))
    return any(v == fw or (prefix_ok and v.startswith(fw)) for v in variants)


def _number_value(raw: str) -> str:
    """Digits folded to ASCII; "1,000" and "1.000" are a thousand, "2,5" is 2.5."""
    parts = re.split(r"[.,٫٬]", fold_text(raw))
    if len(parts) > 1 and all(len(p) == 3 for p in parts[1:]):
        return str(int("".join(parts)))
    if len(parts) == 2:
        return f"{int(parts[0])}.{parts[1]}"
    return str(int("".join(parts)))


def _numbers(text: str, words: list[Word]) -> list[Item]:
    out = []
    for m in _NUMBER.finditer(text):
        idx = [i for i, w in enumerate(words) if w.start < m.end() and w.end > m.start()]
        if idx:
            out.append(Item("number", _number_value(m.group()), idx[0], idx[-1] + 1,
                            words[idx[0]].start, words[idx[-1]].end))
    return out


def _folded_words(form: str) -> tuple[str, ...]:
    return tuple(w for w in (fold_text(m.group()) for m in WORD.finditer(form)) if w)


def _parse(lang: str, data: dict) -> Lexicon:
    w = data.get("words", {})
    forms: dict[str, list[Form]] = defaultdict(list)
    for kind in ITEM_KINDS:
        for concept, surface in data.get(_TABLES.get(kind, kind), {}).items():
            for s in surface:
                ambiguous, exact = s.startswith("?"), s.endswith("$") or kind == "number"
                words = _folded_words(s.strip("?$"))
                if words:
                    forms[words[0][:1]].append(Form(kind, concept, words, exact, ambiguous))
    fold_all = lambda xs: frozenset(fold_text(x) for x in xs)  # noqa: E731
    return Lexicon(lang, tuple(sorted({fold_text(p) for p in w.get("prefixes", [])}, key=len, reverse=True)),
                   fold_all(w.get("stop", [])), fold_all(w.get("aux", [])), dict(forms))


def _read(name: str) -> dict | None:
    path = resources.files("framing") / "resources" / name
    if not path.is_file():
        return None
    return tomllib.loads(path.read_text("utf-8"))


@lru_cache(maxsize=None)
def load_lexicon(lang: str) -> Lexicon:
    """``framing/resources/<lang>.toml``; a language without a file gets figures only."""
    data = _read(f"{lang}.toml")
    return _parse(lang, data) if data is not None else Lexicon(lang)


@lru_cache(maxsize=1)
def load_concepts() -> Concepts:
    data = _read("concepts.toml") or {}
    return Concepts(
        labels=data.get("labels", {}),
        neutral={k: frozenset(v) for k, v in data.get("neutral", {}).items()},
        groups={k: [frozenset(g) for g in v] for k, v in data.get("groups", {}).items()},
        same=dict(data.get("same", {})),
        parent=dict(data.get("parent", {})),
    )
