"""Strict and lax precision/recall/F1 of beads against a gold alignment.

The convention is Vecalign's (after Sennrich & Volk 2011), which Bertalign and
SentAlign also report, so figures are comparable with theirs:

* strict: a bead is correct only if it equals a gold bead exactly;
* lax: a bead is also correct if one of its source sentences is linked by some
  gold bead to one of its target sentences;
* precision is over all predicted beads, one-sided beads included (these are
  right only where the gold has the same one-sided bead);
* recall is over the gold beads with both sides, matched against the predicted
  beads with both sides;
* counts are pooled over all documents before dividing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .beads import Bead

Key = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Counts:
    tp_strict: int = 0
    fp_strict: int = 0
    tp_lax: int = 0
    fp_lax: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp_strict + other.tp_strict, self.fp_strict + other.fp_strict,
                      self.tp_lax + other.tp_lax, self.fp_lax + other.fp_lax)


def _keys(beads: Iterable[Bead | Key]) -> list[Key]:
    return [b.key if isinstance(b, Bead) else (tuple(b[0]), tuple(b[1])) for b in beads]


def _precision_counts(gold: list[Key], test: list[Key]) -> Counts:
    gold_set = set(gold)
    tps = fps = tpl = fpl = 0
    for src, tgt in test:
        if not src and not tgt:
            continue
        if (src, tgt) in gold_set:
            tps += 1
            tpl += 1
            continue
        fps += 1
        s, t = set(src), set(tgt)
        if any(s.intersection(gs) and t.intersection(gt) for gs, gt in gold):
            tpl += 1
        else:
            fpl += 1
    return Counts(tps, fps, tpl, fpl)


@dataclass(frozen=True)
class Score:
    """Pooled strict and lax precision, recall and F1."""

    precision_strict: float
    recall_strict: float
    f1_strict: float
    precision_lax: float
    recall_lax: float
    f1_lax: float
    n_gold: int
    n_test: int

    def table(self) -> str:
        return (
            f"{'':8}{'precision':>10}{'recall':>10}{'F1':>10}\n"
            f"{'strict':8}{self.precision_strict:>10.3f}{self.recall_strict:>10.3f}{self.f1_strict:>10.3f}\n"
            f"{'lax':8}{self.precision_lax:>10.3f}{self.recall_lax:>10.3f}{self.f1_lax:>10.3f}\n"
            f"({self.n_test} predicted beads, {self.n_gold} gold beads)\n"
        )


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_alignments(gold_docs: Sequence[Iterable[Bead | Key]], test_docs: Sequence[Iterable[Bead | Key]]) -> Score:
    """Pooled scores over documents; ``gold_docs[k]`` and ``test_docs[k]`` are one document's beads."""
    if len(gold_docs) != len(test_docs):
        raise ValueError(f"{len(gold_docs)} gold documents but {len(test_docs)} test documents")
    p = r = Counts()
    n_gold = n_test = 0
    for g, t in zip(gold_docs, test_docs):
        g, t = _keys(g), _keys(t)
        n_gold += len(g)
        n_test += len(t)
        p = p + _precision_counts(g, t)
        both = lambda beads: [b for b in beads if b[0] and b[1]]  # noqa: E731
        r = r + _precision_counts(both(t), both(g))  # recall: precision of gold against test, two-sided only
    ps, pl = _ratio(p.tp_strict, p.tp_strict + p.fp_strict), _ratio(p.tp_lax, p.tp_lax + p.fp_lax)
    rs, rl = _ratio(r.tp_strict, r.tp_strict + r.fp_strict), _ratio(r.tp_lax, r.tp_lax + r.fp_lax)
    return Score(ps, rs, _f1(ps, rs), pl, rl, _f1(pl, rl), n_gold, n_test)


@dataclass(frozen=True)
class Diagnosis:
    """Where predicted beads go wrong, pooled over documents.

    ``confusion[(gold, predicted)]`` counts gold beads by their type and the type of the
    predicted bead holding most of their sentences (``-`` where the gold bead has none).
    ``spurious_one_sided``: predicted 1-0/0-1 beads whose sentence the gold aligns.
    ``over_merged``: predicted two-sided beads that take sentences from two or more gold beads.
    ``split``: gold two-sided beads whose sentences are spread over two or more predicted beads.
    """

    confusion: dict[tuple[str, str], int]
    spurious_one_sided: int
    over_merged: int
    split: int


def _kind(key: Key) -> str:
    return f"{len(key[0])}-{len(key[1])}"


def diagnose(gold_docs: Sequence[Iterable[Bead | Key]], test_docs: Sequence[Iterable[Bead | Key]]) -> Diagnosis:
    confusion: dict[tuple[str, str], int] = {}
    spurious = merged = split = 0
    for g, t in zip(gold_docs, test_docs):
        g, t = _keys(g), _keys(t)
        gold_of = {}
        for k, (s, tt) in enumerate(g):
            gold_of.update({("s", i): k for i in s} | {("t", j): k for j in tt})
        pred_of = {}
        for k, (s, tt) in enumerate(t):
            pred_of.update({("s", i): k for i in s} | {("t", j): k for j in tt})
        for src, tgt in t:
            owners = {gold_of[x] for x in [("s", i) for i in src] + [("t", j) for j in tgt] if x in gold_of}
            if not src or not tgt:
                spurious += any(g[k][0] and g[k][1] for k in owners)
            elif len(owners) >= 2:
                merged += 1
        for src, tgt in g:
            members = [("s", i) for i in src] + [("t", j) for j in tgt]
            preds = [pred_of[x] for x in members if x in pred_of]
            if src and tgt and len(set(preds)) >= 2:
                split += 1
            best = max(set(preds), key=lambda k: (preds.count(k), -k)) if preds else None
            key = (_kind((src, tgt)), _kind(t[best]) if best is not None else "-")
            confusion[key] = confusion.get(key, 0) + 1
    return Diagnosis(confusion, spurious, merged, split)
