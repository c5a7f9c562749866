"""Bead scores: how much two runs of sentences look like translations of each other.

The score of a bead (source sentences [i0, i1), target sentences [j0, j1)) is
Bertalign's, with a wider local background:

    (cos(u, v) - background) x log2(1 + min/max of the two runs' lengths) ** p

where u and v embed the two runs and the background is the mean cosine of u
with the two target sentences on each side of the target run and of v with
the two source sentences on each side of the source run (Bertalign takes one
on each side). The background says how similar a wrong alignment nearby would
be; two neighbours a side estimate it with half the noise, which matters most
where neighbouring sentences share a topic (dialogue, literary prose).
The length factor is raised to a power p (Bertalign's is 1): a cosine of
mean-pooled runs changes little when a sentence is added to a run, so with the
plain factor a bead that takes a neighbour's sentence, or splits a 2-2 into
two 1-1, loses too little for getting its lengths wrong. How much lengths can
be trusted depends on the pair (languages, translator, how freely sentences
were split), so p is measured on it: ``length_spread`` over the median
absolute deviation of the anchor links' log length ratios, between 1 and
``length_power`` (0.3 and 1.5: full power where that deviation is 0.2 or
less, Bertalign's where it is 0.3 or more).

Everything else is measured in units of sigma, the median score of this
document pair's anchor links (confident 1-1 pairs), so that it scales with the
encoder and the pair instead of a constant tuned to one of them:

* leaving a sentence unaligned scores ``-skip`` x sigma, and each further
  sentence of a block of consecutive unaligned sentences on the same side
  ``gap_extend`` times that (affine gaps, :func:`align.search.band_search`):
  a paragraph left out or a run of photo captions is one omission;
* numbers anchor beads in any script once digits are folded: a bead whose
  two sides carry numbers gains ``number_weight`` x sigma x (Dice - 1/2);
* with a translation of the source, its embedding is mixed into the source
  side's vectors with a weight measured on the pair (see
  :func:`align.aligner.translation_weight`).

Headings (from segmentation) pair only with headings and never share a bead
side with body text. Runs of three or more sentences that were not embedded
are approximated from the overlapping embedded pairs inside them (see
:meth:`SpanEmbeddings.fill`).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from corpus.normalize import fold_text


@dataclass(frozen=True)
class SimilarityConfig:
    """Every setting of the bead score; defaults chosen by leave-one-set-out validation (scripts/cv_align.py)."""

    skip: float = 1.0  # leaving one sentence unaligned scores -skip x sigma
    gap_extend: float = 0.0  # each further sentence of a block of unaligned ones: this times that
    neighbours: int = 2  # sentences on each side of a run whose mean cosine is the local background
    length_penalty: bool = True  # multiply by log2(1 + min/max) of the runs' lengths ...
    length_power: float = 1.5  # ... raised to at most this power (Bertalign's is 1) ...
    length_spread: float = 0.3  # ... namely this over the anchors' spread of log length ratios, at least 1 (0: always length_power)
    number_weight: float = 1.0  # number agreement, in sigma units
    support: float = 0.1  # a merged side's weakest sentence, short of preferring the other run as an anchor does: sigmas per unit

    def as_dict(self) -> dict:
        return asdict(self)


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


class SpanEmbeddings:
    """Embeddings of every run of 1..max_side consecutive sentences of one document.

    ``spans[k][s]`` embeds sentences [s, s + k). Runs the caller did not embed
    are approximated from shorter ones (see :meth:`fill`).
    """

    def __init__(self, sentences: np.ndarray, max_side: int, lengths: np.ndarray | None = None):
        self.n, self.max_side = len(sentences), max_side
        self.spans: dict[int, np.ndarray] = {1: _normalise(sentences)}
        self.exact: set[int] = {1}
        # sizes embedded for some runs only (see set_runs): which runs of that size are exact;
        # beads may use only those, and chance levels come from the exact sizes
        self.partial: dict[int, np.ndarray] = {}
        # characters per sentence: e5 mean-pools over tokens, so longer parts weigh more in a run
        self.lengths = np.ones(self.n) if lengths is None else np.maximum(np.asarray(lengths, dtype=np.float64), 1.0)

    def set_exact(self, k: int, vectors: np.ndarray) -> None:
        self.spans[k] = _normalise(vectors)
        self.exact.add(k)

    def set_runs(self, k: int, starts: np.ndarray, vectors: np.ndarray) -> None:
        """Exact vectors for some runs of size ``k`` (after :meth:`fill`); from then on only
        the exact runs of that size are usable."""
        if k not in self.partial:
            self.spans[k] = self.spans[k].copy()
            self.partial[k] = np.zeros(len(self.spans[k]), dtype=bool)
        self.spans[k][starts] = _normalise(vectors)
        self.partial[k][starts] = True

    def fused(self, other: SpanEmbeddings, weight: float) -> SpanEmbeddings:
        """(1 - weight) x these runs + weight x the same runs of ``other`` (e.g. their translation), renormalised."""
        out = SpanEmbeddings(self.spans[1], self.max_side, self.lengths)
        for k, vecs in self.spans.items():
            out.spans[k] = mix(vecs, other.spans[k], weight)
        out.exact = set(self.exact)
        out.partial = {k: v.copy() for k, v in self.partial.items()}
        return out

    def fill(self) -> None:
        """Approximate the sizes nobody embedded, as length-weighted sums: of every
        overlapping exact pair in the run where pairs are exact (they keep some of
        the context between sentences), else of the sentence vectors."""
        ones = self.spans[1].astype(np.float64)
        w = self.lengths
        for k in range(2, self.max_side + 1):
            if k in self.spans:
                continue
            count = max(self.n - k + 1, 0)
            starts = np.arange(count)
            if 2 in self.exact and k > 2:
                pairs = self.spans[2].astype(np.float64)
                total = sum(pairs[starts + t] * (w[starts + t] + w[starts + t + 1])[:, None] for t in range(k - 1))
            else:
                total = sum(ones[starts + t] * w[starts + t][:, None] for t in range(k))
            self.spans[k] = _normalise(total) if count else np.zeros((0, ones.shape[1]), np.float32)


def span_texts(sentences: list[str], k: int, starts=None, sep: str = " ") -> list[str]:
    """The text of each run of ``k`` sentences (every run, or those starting at ``starts``)."""
    if starts is None:
        starts = range(len(sentences) - k + 1)
    return [sep.join(sentences[s : s + k]) for s in starts]


def mix(vectors: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) x ``vectors`` + weight x ``other`` (e.g. their translation's), renormalised."""
    return _normalise((1 - weight) * vectors + weight * other)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(texts: list[str], dim: int = 128) -> np.ndarray:
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for r, t in enumerate(texts):
        for num in _NUMBER.findall(fold_text(t)):
            out[r, zlib.crc32(num.replace(",", "").replace(".", "").encode()) % dim] += 1
    return out


def _prefix(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((1, x.shape[1]), dtype=np.float64), np.cumsum(x, axis=0, dtype=np.float64)])


def _fenced_total(lengths: np.ndarray) -> float:
    """Sum of ``lengths``, each capped at Tukey's far-out fence (Q3 + 3 x IQR) of them."""
    if not len(lengths):
        return 0.0
    q1, q3 = np.percentile(lengths, [25, 75])
    return float(np.minimum(lengths, q3 + 3 * (q3 - q1)).sum())


def _break_counts(headings: np.ndarray | None) -> np.ndarray | None:
    """Prefix counts of breaks, a break before and after every heading (a heading stands alone)."""
    if headings is None:
        return None
    breaks = np.zeros(len(headings), dtype=np.int64)
    breaks[1:] = headings[1:] | headings[:-1]
    return np.concatenate([[0], np.cumsum(breaks)])



def _background(vecs: np.ndarray, ones: np.ndarray, start: np.ndarray, size: int, k: int) -> np.ndarray:
    """Mean cosine of each vector with the ``k`` sentences before its run and the ``k`` after it
    (those that exist; 0 where none does)."""
    return _background_of(lambda idx: np.einsum("kd,kd->k", vecs, ones[idx]), start, size, k, len(ones))


def _background_of(cosine, start: np.ndarray, size: int, k: int, count: int) -> np.ndarray:
    """:func:`_background`, given ``cosine(idx)``: each vector's cosine with sentence ``idx`` of the
    other side (an embedding product, or a lookup in :class:`_Cosines`)."""
    total = np.zeros(len(start))
    seen = np.zeros(len(start))
    for d in range(1, k + 1):
        for idx in (start - d, start + size - 1 + d):
            ok = (idx >= 0) & (idx < count)
            total += np.where(ok, cosine(np.clip(idx, 0, max(count - 1, 0))), 0.0)
            seen += ok
    return total / np.maximum(seen, 1)


class _Cosines:
    """The cosines one block of DP rows needs, each computed once.

    A bead's background and its members' support are cosines of a run (or a
    sentence) of one side with single sentences of the other near the bead; the
    beads of one block of rows share most of them, and bead by bead they were
    recomputed for every bead type and neighbour (three quarters of the search's
    time). Tables hold cos(source run of ``a`` from s, target sentence j) and
    cos(source sentence s, target run of ``b`` from j) for each source index s
    the block can touch and the window of target indices its rows can. They are
    the same products as :func:`_background`'s, so every score is identical to
    the last bit (tests/test_search.py checks it).
    """

    def __init__(self, scorer: BeadScorer, rows: np.ndarray, cols: np.ndarray):
        self.scorer = scorer
        k, A, B = scorer.cfg.neighbours, scorer.src.max_side, scorer.tgt.max_side
        r_lo, r_hi = int(rows.min()), int(rows.max())
        big = np.iinfo(np.int64).max // 4
        cmin = np.full(r_hi - r_lo + 1, big, dtype=np.int64)  # rows not asked for touch nothing
        cmax = np.full(r_hi - r_lo + 1, -big, dtype=np.int64)
        cmin[rows - r_lo], cmax[rows - r_lo] = cols.min(axis=1), cols.max(axis=1)
        # a bead ending at row i touches source sentences i - A - k .. i - 1 + k and, at columns
        # c, target sentences c - B - k .. c - 1 + k; so source s is touched by rows s + 1 - k .. s + A + k
        self.s_lo = max(0, r_lo - A - k)
        s_hi = min(scorer.n - 1, r_hi - 1 + k)
        S = np.arange(self.s_lo, max(s_hi, self.s_lo - 1) + 1)
        lo_col, hi_col = np.full(len(S), big, dtype=np.int64), np.full(len(S), -big, dtype=np.int64)
        for t in range(1 - k, A + k + 1):
            i = np.clip(S + t, r_lo, r_hi) - r_lo
            inside = (S + t >= r_lo) & (S + t <= r_hi)
            lo_col = np.where(inside, np.minimum(lo_col, cmin[i]), lo_col)
            hi_col = np.where(inside, np.maximum(hi_col, cmax[i]), hi_col)
        touched = lo_col <= hi_col
        self.ws = np.where(touched, lo_col - B - k, 0)
        we = np.where(touched, hi_col - 1 + k, -1)
        self.width = max(int((we - self.ws).max()) + 1, 1) if len(S) else 1
        self.S = S
        self._tables: dict[tuple[str, int], np.ndarray] = {}

    def _table(self, side: str, size: int) -> np.ndarray:
        key = ("src", 1) if size == 1 else (side, size)  # sentence against sentence: one table
        if key not in self._tables:
            sc = self.scorer
            E, F = sc.src.spans[1], sc.tgt.spans[1]
            if key[0] == "src":
                X, Y, last = sc.src.spans[size][np.clip(self.S, 0, max(sc.n - size, 0))], F, sc.m - 1
            else:
                X, Y, last = E[self.S], sc.tgt.spans[size], sc.m - size
            J = np.clip(self.ws[:, None] + np.arange(self.width)[None, :], 0, max(last, 0))
            table = np.empty((len(self.S), self.width), dtype=np.float32)
            for w in range(self.width):
                table[:, w] = np.einsum("kd,kd->k", X, Y[J[:, w]])
            self._tables[key] = table
        return self._tables[key]

    def lookup(self, side: str, size: int, s: np.ndarray, j: np.ndarray) -> np.ndarray:
        """cos(source run of ``size`` at s, target sentence j) for side "src"; cos(source sentence s,
        target run of ``size`` at j) for side "tgt"."""
        r = s - self.s_lo
        return self._table(side, size)[r, np.clip(j - self.ws[r], 0, self.width - 1)]


class BeadScorer:
    """The ``scores(a, b, rows, cols)`` callback of :func:`align.search.band_search`.

    ``anchors`` are lattice states (i, j) right after confident 1-1 links; their median
    score is sigma, the unit of the skip and number terms (see the module docstring).
    """

    def __init__(
        self,
        src: SpanEmbeddings,
        tgt: SpanEmbeddings,
        src_texts: list[str],
        tgt_texts: list[str],
        config: SimilarityConfig,
        anchors: list[tuple[int, int]] | None = None,
        src_headings: np.ndarray | None = None,
        tgt_headings: np.ndarray | None = None,
    ):
        self.src, self.tgt, self.cfg = src, tgt, config
        self.n, self.m = src.n, tgt.n
        len_s = np.array([len(t) for t in src_texts], dtype=np.float64)
        len_t = np.array([len(t) for t in tgt_texts], dtype=np.float64)
        self.ls, self.lt = np.concatenate([[0.0], np.cumsum(len_s)]), np.concatenate([[0.0], np.cumsum(len_t)])
        # the documents' length ratio, each sentence counted up to the far-out fence of its document's
        # lengths: a scraped page's one huge line must not rescale every bead of the pair
        ts, tt = _fenced_total(len_s), _fenced_total(len_t)
        self.ratio = ts / tt if self.n and self.m and tt else 1.0
        # headings pair with headings (or nothing), never with body sentences
        self.src_headings, self.tgt_headings = src_headings, tgt_headings
        # breaks[s]: no bead side may hold both sentence s-1 and s (a heading's edges)
        self.src_breaks = _break_counts(src_headings)
        self.tgt_breaks = _break_counts(tgt_headings)
        self.num_src = self.num_tgt = None
        if config.number_weight:
            ns, nt = _numbers(src_texts), _numbers(tgt_texts)
            if ns.any() and nt.any():  # no numbers on one side: nothing to agree on
                self.num_src, self.num_tgt = _prefix(ns), _prefix(nt)
                self.num_count_src, self.num_count_tgt = self.num_src.sum(1), self.num_tgt.sum(1)
        # the anchor links as sentence indices (a state (i, j) follows the link of sentences i-1, j-1)
        links = np.array([(i - 1, j - 1) for i, j in anchors or [] if 1 <= i <= self.n and 1 <= j <= self.m],
                         dtype=np.int64).reshape(-1, 2)
        self._cos: _Cosines | None = None  # the cosines of the block of rows last asked for (see __call__)
        self._cos_key: tuple | None = None
        self.power = self._power(len_s[links[:, 0]], len_t[links[:, 1]])
        self.sigma = self._sigma(links[:, 0], links[:, 1])
        self.member_ref = self._member_ref(links[:, 0], links[:, 1]) if config.support else 0.0

    def _power(self, ls: np.ndarray, lt: np.ndarray) -> float:
        """The length factor's power for this pair: the steeper the tighter its translated sentences' lengths
        agree (the median absolute deviation of the anchor links' log length ratios), from 1 to length_power."""
        cfg = self.cfg
        if not cfg.length_spread or len(ls) < 5:
            return cfg.length_power
        lr = np.log(np.maximum(ls, 1.0) / np.maximum(lt, 1.0))
        mad = float(np.median(np.abs(lr - np.median(lr))))
        return float(np.clip(cfg.length_spread / max(mad, 1e-6), min(1.0, cfg.length_power), cfg.length_power))

    def _sigma(self, i: np.ndarray, j: np.ndarray) -> float:
        """Median score of the anchor links: what a typical translated pair scores in this document pair."""
        if len(i) >= 3:
            vals = self.similarity(1, 1, i, j)
        elif self.n and self.m:  # too few anchors: each source sentence's best match
            E, F = self.src.spans[1], self.tgt.spans[1]
            j = (E @ F.T).argmax(1)
            vals = self.similarity(1, 1, np.arange(self.n), j)
        else:
            return 1.0
        vals = vals[np.isfinite(vals)]
        return float(max(np.median(vals), 1e-3)) if len(vals) else 1.0

    def _member_ref(self, i: np.ndarray, j: np.ndarray) -> float:
        """Median preference of an anchor link's sentences for their counterpart over the counterpart's
        neighbours (cosine minus background, each direction): what support looks like here."""
        if len(i) < 3:
            return 0.0
        E, F = self.src.spans[1], self.tgt.spans[1]
        k = self.cfg.neighbours
        cos = np.einsum("kd,kd->k", E[i], F[j])
        m = np.concatenate([cos - _background(E[i], F, j, 1, k), cos - _background(F[j], E, i, 1, k)])
        return float(max(np.median(m), 1e-4))

    def min_support(self, a: int, b: int, i0: np.ndarray, j0: np.ndarray, cos: _Cosines | None = None) -> np.ndarray:
        """The weakest support among the sentences of a bead's merged sides, in units of the anchors'
        (1 = as clearly as a typical anchor, 0 = no preference, negative = prefers the neighbours);
        clipped to [-2, 1]."""
        E, F = self.src.spans[1], self.tgt.spans[1]
        k = self.cfg.neighbours
        mm = np.full(len(i0), np.inf)
        if a > 1:
            v = self.tgt.spans[b][j0] if cos is None else None
            for t in range(a):
                if cos is None:
                    x = E[i0 + t]
                    own, bg = np.einsum("kd,kd->k", x, v), _background(x, F, j0, b, k)
                else:
                    own = cos.lookup("tgt", b, i0 + t, j0)
                    bg = _background_of(lambda idx, t=t: cos.lookup("src", 1, i0 + t, idx), j0, b, k, self.m)
                mm = np.minimum(mm, own - bg)
        if b > 1:
            u = self.src.spans[a][i0] if cos is None else None
            for t in range(b):
                if cos is None:
                    y = F[j0 + t]
                    own, bg = np.einsum("kd,kd->k", y, u), _background(y, E, i0, a, k)
                else:
                    own = cos.lookup("src", a, i0, j0 + t)
                    bg = _background_of(lambda idx, t=t: cos.lookup("src", 1, idx, j0 + t), i0, a, k, self.n)
                mm = np.minimum(mm, own - bg)
        return np.clip(mm / self.member_ref, -2, 1)

    def similarity(self, a: int, b: int, i0: np.ndarray, j0: np.ndarray, cos: _Cosines | None = None) -> np.ndarray:
        """(cos - local background) x length factor of beads src [i0, i0+a) x tgt [j0, j0+b)."""
        u, v = self.src.spans[a][i0], self.tgt.spans[b][j0]
        cosine = np.einsum("kd,kd->k", u, v).astype(np.float64)
        k = self.cfg.neighbours
        if cos is None:
            bg_u = _background(u, self.tgt.spans[1], j0, b, k)
            bg_v = _background(v, self.src.spans[1], i0, a, k)
        else:
            bg_u = _background_of(lambda idx: cos.lookup("src", a, i0, idx), j0, b, k, self.m)
            bg_v = _background_of(lambda idx: cos.lookup("tgt", b, idx, j0), i0, a, k, self.n)
        score = cosine - 0.5 * (bg_u + bg_v)
        if self.cfg.length_penalty:
            ls = self.ls[i0 + a] - self.ls[i0]
            lt = (self.lt[j0 + b] - self.lt[j0]) * self.ratio
            score *= np.log2(1 + np.minimum(ls, lt) / np.maximum(np.maximum(ls, lt), 1e-9)) ** self.power
        return score

    def pair_scores(self, a: int, b: int, i0: np.ndarray, j0: np.ndarray, cos: _Cosines | None = None) -> np.ndarray:
        """Scores of beads src [i0, i0+a) x tgt [j0, j0+b), vectorised over the arrays (``cos``: the
        precomputed cosines of the block of rows they belong to, if any)."""
        cfg = self.cfg
        usable = np.ones(len(i0), dtype=bool)  # sizes embedded in part: only the exact runs
        if a in self.src.partial:
            usable &= self.src.partial[a][i0]
        if b in self.tgt.partial:
            usable &= self.tgt.partial[b][j0]
        if not usable.all():
            out = np.full(len(i0), -np.inf)
            if usable.any():
                out[usable] = self.pair_scores(a, b, i0[usable], j0[usable], cos)
            return out
        score = self.similarity(a, b, i0, j0, cos)
        if cfg.support and self.member_ref and (a > 1 or b > 1):
            score = score - cfg.support * self.sigma * (1 - self.min_support(a, b, i0, j0, cos))
        i1, j1 = i0 + a, j0 + b
        if self.num_src is not None:
            # only beads with numbers on both sides (few): count first, compare those
            sx, sy = self.num_count_src[i1] - self.num_count_src[i0], self.num_count_tgt[j1] - self.num_count_tgt[j0]
            k = np.nonzero((sx > 0) & (sy > 0))[0]
            if len(k):
                x = self.num_src[i1[k]] - self.num_src[i0[k]]
                y = self.num_tgt[j1[k]] - self.num_tgt[j0[k]]
                dice = 2 * np.minimum(x, y).sum(-1) / (sx[k] + sy[k])
                score[k] += cfg.number_weight * self.sigma * (dice - 0.5)
        if self.src_headings is not None and self.tgt_headings is not None:
            score = np.where(self.src_headings[i0] != self.tgt_headings[j0], -np.inf, score)
        if self.src_breaks is not None and a > 1:  # crossing breaks between i0+1 .. i1-1
            score = np.where(self.src_breaks[i1] - self.src_breaks[i0 + 1] > 0, -np.inf, score)
        if self.tgt_breaks is not None and b > 1:
            score = np.where(self.tgt_breaks[j1] - self.tgt_breaks[j0 + 1] > 0, -np.inf, score)
        return score

    @property
    def skip_score(self) -> float:
        return -self.cfg.skip * self.sigma

    def bead_scores(self, beads: list[tuple[range, range]]) -> list[float | None]:
        """Scores of the two-sided beads of a path (None for one-sided ones), one vectorised call per
        bead type (one by one, they cost a tenth of a long document's search)."""
        out: list[float | None] = [None] * len(beads)
        groups: dict[tuple[int, int], list[int]] = {}
        for k, (src, tgt) in enumerate(beads):
            if len(src) and len(tgt):
                groups.setdefault((len(src), len(tgt)), []).append(k)
        for (a, b), ks in groups.items():
            vals = self.pair_scores(a, b, np.array([beads[k][0].start for k in ks], dtype=np.int64),
                                    np.array([beads[k][1].start for k in ks], dtype=np.int64))
            for k, v in zip(ks, vals):
                out[k] = float(v)
        return out

    def __call__(self, a: int, b: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if a == 0 or b == 0:
            return np.full(cols.shape, self.skip_score)
        out = np.full(cols.shape, -np.inf)
        i0 = rows - a
        ok = ((i0 >= 0) & (rows <= self.n))[:, None] & (cols - b >= 0) & (cols <= self.m)
        r, w = np.nonzero(ok)
        if len(r):
            # the search asks for every bead type of one block of rows in turn: share their cosines
            key = (int(rows[0]), int(rows[-1]), len(rows), int(cols[0, 0]), int(cols[-1, -1]), cols.shape[1])
            if self._cos_key != key:
                self._cos, self._cos_key = _Cosines(self, rows, cols), key
            out[r, w] = self.pair_scores(a, b, i0[r], cols[r, w] - b, self._cos)
        return out
