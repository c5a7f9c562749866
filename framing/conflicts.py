"""What two linked claims of different outlets disagree on, typed.

A link (``align.links``) says that a sentence of one outlet reports the same
fact as a sentence of a reference version; this module says how they differ,
on the lexicons of :mod:`framing.lexicon` (so it works in one language or
across two, with no model):

* ``number``: figures that disagree once digits are folded (143 against 144),
  paired by magnitude, with the words they count on each side. A figure that
  is only a bound the other satisfies ("more than 100", "at least 140" against
  144) or an approximation within a tenth ("about 140") is a vaguer figure, not
  a conflict: it is reported as a ``number`` difference with that note;
* ``date``: a day of the same month given differently;
* ``entity``: a named person, place or group, or a named source, on one side only;
* ``attribution``: how the claim is attributed ("said", "claimed", "believes",
  "confirmed"), where the two sides differ;
* ``hedge``: a qualification ("without evidence", "possibly") on one side only;
* ``evaluative``: a loaded word ("terrorist", "militant") on one side only.

Every conflict carries the words of both sides (empty where one side has none)
and an English note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from corpus.schema import CONFLICT_KINDS

from .differences import Difference, side, typed_differences
from .lexicon import Item, load_concepts
_LOWER_BOUNDS = {"at_least", "more_than"}
_APPROXIMATE = {"about"}


@dataclass(frozen=True)
class Conflict:
    kind: str  # one of CONFLICT_KINDS
    text: str  # the words of the linked sentence
    ref_text: str  # the words of the reference sentence ("" where it has none)
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Figure:
    item: Item
    value: float
    qualifier: str | None  # hedge concept bounding it ("at_least", "about", ...)
    unit: str  # the word it counts, as written
    date: bool  # a day of a month


def _value(concept: str) -> float | None:
    try:
        return float(concept.replace(",", ""))
    except ValueError:
        return None


def _figures(s) -> list[_Figure]:
    """The figures of one side, each with its qualifier, unit word and whether it is a date."""
    items = s.items
    out = []
    for it in items:
        if it.kind != "number" or (v := _value(it.concept)) is None:
            continue
        near = [x for x in items if x is not it and it.first - 1 <= x.last and x.first <= it.last + 2]
        date = any(x.kind == "term" and abs(x.first - it.last) <= 1 for x in near)
        qualifier = next((x.concept for x in near if x.kind == "hedge"
                          and x.concept in _LOWER_BOUNDS | _APPROXIMATE), None)
        taken = {k for x in near for k in range(x.first, x.last)}
        unit = next((s.text[w.start:w.end] for k, w in enumerate(s.words[it.last:it.last + 3], it.last)
                     if k not in taken and not s.lex.is_function(w)), "")
        out.append(_Figure(it, v, qualifier, unit, date))
    return out


def _words(s, it: Item) -> str:
    return s.text[it.start:it.end]


def _compare_figures(A, B) -> tuple[list[Conflict], list[tuple[Item, str]]]:
    """Conflicts between A's and B's figures, and A's vaguer figures with their notes."""
    fa, fb = _figures(A), _figures(B)
    # figures both give agree, whatever counts them
    left_b = list(fb)
    only_a = []
    for f in fa:
        same = next((g for g in left_b if g.value == f.value and g.date == f.date), None)
        if same is not None:
            left_b.remove(same)
        else:
            only_a.append(f)
    conflicts: list[Conflict] = []
    vaguer: list[tuple[Item, str]] = []
    for f in sorted(only_a, key=lambda f: -f.value):
        # the counterpart: the other side's remaining figure of the same kind and magnitude
        cands = [g for g in left_b if g.date == f.date and g.value and 0.5 <= f.value / g.value <= 2]
        if not cands:
            continue
        g = min(cands, key=lambda g: abs(f.value - g.value))
        left_b.remove(g)
        a_txt, b_txt = _words(A, f.item), _words(B, g.item)
        if f.date:
            conflicts.append(Conflict("date", a_txt, b_txt, f"day {a_txt} in {A.lang} against {b_txt} in {B.lang}"))
            continue
        # a bound the other figure meets is vaguer, unless both are bounds of odd counts (at least 143
        # against at least 144: two different tallies)
        if f.qualifier in _LOWER_BOUNDS and g.value >= f.value and (g.qualifier is None or f.value % 10 == 0):
            vaguer.append((f.item, f"vaguer figure, not a conflict: {A.lang} gives a bound ({a_txt}) that "
                                   f"{B.lang}'s {b_txt} meets"))
            continue
        if g.qualifier in _LOWER_BOUNDS and f.value >= g.value and (f.qualifier is None or g.value % 10 == 0):
            vaguer.append((f.item, f"not a conflict: {B.lang} gives only a bound ({b_txt}) that {a_txt} meets"))
            continue
        if (f.qualifier in _APPROXIMATE or g.qualifier in _APPROXIMATE) and abs(f.value - g.value) <= 0.1 * g.value:
            vaguer.append((f.item, f"vaguer figure, not a conflict: about {a_txt} against {b_txt}"))
            continue
        units = f" ({f.unit or '?'} / {g.unit or '?'})" if f.unit or g.unit else ""
        conflicts.append(Conflict("number", a_txt, b_txt,
                                  f"the figures disagree: {a_txt} in {A.lang} against {b_txt} in {B.lang}{units}"))
    return conflicts, vaguer


def compare_claims(text: str, lang: str, ref_text: str, ref_lang: str, *, label: str | None = None,
                   ref_label: str | None = None, spans: Sequence[tuple[int, int]] = ()) -> tuple[list[Conflict], list[Difference]]:
    """The conflicts between a linked sentence and its reference sentence, and the linked
    sentence's typed differences (offsets into ``text``, ``lang`` = ``lang``; vaguer figures noted
    as such), with ``content`` ones from ``spans`` (word ranges of ``text`` the reference does not
    say: :func:`framing.differences.alignment_spans`). ``label`` and ``ref_label`` name the two
    sides in the notes (say, their outlets); they default to the languages."""
    A, B = side(text, lang, label), side(ref_text, ref_lang, ref_label)
    concepts = load_concepts()
    conflicts, vaguer = _compare_figures(A, B)
    diff_a, diff_b = typed_differences(A, B, spans)
    notes = {(it.start, it.end): note for it, note in vaguer}
    # the bound or "about" of a vaguer figure is said by its note, not again as a hedge
    bounds = {(x.start, x.end) for it, _ in vaguer for x in A.items if x.kind == "hedge"
              and it.first - 1 <= x.last and x.first <= it.last + 2}
    differences = []
    for d in diff_a:
        if (d.start, d.end) in bounds:
            continue
        if d.kind == "number" and (d.start, d.end) in notes:
            d = Difference(d.lang, d.start, d.end, d.text, d.kind, notes[(d.start, d.end)])
        differences.append(Difference(lang, d.start, d.end, d.text, d.kind, d.note))
    diff_a = [d for d in diff_a if (d.start, d.end) not in bounds]
    # one-sided names and sources, attribution, hedges, loaded words: from the typed differences
    items_b = B.items
    for d, mine in [(d, True) for d in diff_a] + [(d, False) for d in diff_b]:
        if d.kind in ("number", "content"):  # figures are compared above
            continue
        this = A if mine else B
        item = next((x for x in this.items if x.start == d.start and x.end == d.end), None)
        kind = d.kind
        other = ""
        if item is not None and kind in ("attribution", "hedge", "evaluative") and item.kind == kind:
            group = concepts.group(kind, item.concept)
            alt = [x for x in (items_b if mine else A.items) if x.kind == kind and x.concept in group]
            if alt and not mine:
                continue  # a contrast: already given from the linked sentence's side
            other = ", ".join(_words(B if mine else A, x) for x in alt)
        if item is not None and item.kind in ("entity", "source"):
            kind = "entity" if item.kind == "entity" else "attribution"
        conflicts.append(Conflict(kind, d.text if mine else other, other if mine else d.text, d.note))
    order = {k: n for n, k in enumerate(CONFLICT_KINDS)}
    conflicts.sort(key=lambda c: order[c.kind])
    return conflicts, differences


__all__ = ["CONFLICT_KINDS", "Conflict", "compare_claims"]
